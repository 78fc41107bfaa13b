"""Publishing the plan: the manager's publication page, the plan as a Word document and as
a printable page, and the public page, the only anonymous page with plan data. The public
page shows the published plan alone: never returns, narratives, their figures or people."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from csp.permissions import Capability, may, public, requires
from priorities import publication
from priorities.models import Plan

from .publication import DOCX_TYPE, published_plan, word_document


def _readable_plan(request, pk: int) -> Plan:
    """A draft is the manager's until it is sent for sign-off; any other plan anyone reads."""
    plan = get_object_or_404(Plan, pk=pk)
    if plan.state == Plan.State.DRAFT and not may(request.user, Capability.EDIT_PLAN):
        raise Http404
    return plan


@requires(Capability.EDIT_PLAN)
@require_safe
def plan_publication(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=pk)
    return render(
        request,
        "publication/manage.html",
        {"plan": plan, "publishable": plan.state in publication.PUBLISHABLE},
    )


@requires(Capability.EDIT_PLAN)
@require_POST
def plan_publish(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=pk)
    try:
        publication.publish(request.user, plan)
    except publication.PublicationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The {plan.label} plan is published: anyone can read it.")
    return redirect("plan_publication", pk=plan.pk)


@requires(Capability.EDIT_PLAN)
@require_POST
def plan_unpublish(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=pk)
    try:
        publication.unpublish(request.user, plan)
    except publication.PublicationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The {plan.label} plan’s public page is taken down.")
    return redirect("plan_publication", pk=plan.pk)


@requires(Capability.READ_PLAN)
def plan_document(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan as a Word document in the published plan's shape."""
    published = published_plan(_readable_plan(request, pk))
    response = HttpResponse(word_document(published, timezone.localdate()), content_type=DOCX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{published.stem}.docx"'
    return response


@requires(Capability.READ_PLAN)
def plan_printable(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan as a page to print (the print stylesheet drops the service's chrome)."""
    published = published_plan(_readable_plan(request, pk))
    return render(
        request,
        "publication/printable.html",
        {"published": published, "today": timezone.localdate()},
    )


def _public_page(request, plan: Plan) -> HttpResponse:
    others = Plan.objects.published().exclude(pk=plan.pk).order_by("-financial_year")
    return render(
        request,
        "publication/public.html",
        {"published": published_plan(plan), "others": others},
    )


@public
def public_plan(request: HttpRequest) -> HttpResponse:
    """The newest published plan, to anyone, signed in or not."""
    plan = Plan.objects.published().order_by("-financial_year").first()
    if plan is None:
        raise Http404("No plan is published yet.")
    return _public_page(request, plan)


@public
def public_plan_year(request: HttpRequest, year: int) -> HttpResponse:
    plan = Plan.objects.published().filter(financial_year=year).order_by("pk").first()
    if plan is None:
        raise Http404("No plan is published for that year.")
    return _public_page(request, plan)
