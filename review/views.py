from django.conf import settings
from django.contrib import messages
from django.db.models import Count, F, Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Role
from actions.models import QuarterlyReturn
from actions.services import ReturnError
from csp.permissions import Capability, may, may_edit_return, requires

from . import evidence as files
from . import services
from .conversation import evidence_of, record
from .forms import BulkApproveForm, CommentForm, EvidenceForm, FollowUpForm
from .models import Evidence, returns_in_conversation


def _in_conversation(request, pk: int) -> QuarterlyReturn:
    """The return, if this user may read its conversation: another agency's, or any return
    for the board, is a 404."""
    return get_object_or_404(returns_in_conversation(request.user).with_context(), pk=pk)


def _conversation_page(request, quarterly_return, comment_form=None, follow_up_form=None):
    context = record(quarterly_return, request.user) | {
        "action": quarterly_return.action,
        "comment_form": comment_form or CommentForm(),
    }
    if may(request.user, Capability.REVIEW_RETURNS):
        context["follow_up_form"] = follow_up_form or FollowUpForm(
            metrics=quarterly_return.action.metrics.all()
        )
    context["form_with_errors"] = (
        comment_form if comment_form is not None and comment_form.errors else follow_up_form
    )
    return render(request, "review/conversation.html", context)


@requires(Capability.READ_PLAN)
def return_conversation(request: HttpRequest, pk: int) -> HttpResponse:
    """The thread between the agency and the manager, with the follow-ups and the record of
    evidence added and removed."""
    return _conversation_page(request, _in_conversation(request, pk))


@require_POST
@requires(Capability.ENTER_RETURNS)
def comment_create(request: HttpRequest, pk: int) -> HttpResponse:
    quarterly_return = _in_conversation(request, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(request.user, quarterly_return, form.cleaned_data["text"])
        except ReturnError as error:
            form.add_error("text", str(error))
        else:
            messages.success(request, "Comment added. The other side has been e-mailed.")
            return redirect(reverse("return_detail", args=[pk]) + "#conversation")
    return _conversation_page(request, quarterly_return, comment_form=form)


@require_POST
@requires(Capability.REVIEW_RETURNS)
def follow_up_create(request: HttpRequest, pk: int) -> HttpResponse:
    quarterly_return = _in_conversation(request, pk)
    form = FollowUpForm(request.POST, metrics=quarterly_return.action.metrics.all())
    if form.is_valid():
        try:
            services.raise_follow_up(
                request.user,
                quarterly_return,
                form.cleaned_data["metric"],
                form.cleaned_data["note"],
            )
        except ReturnError as error:
            form.add_error("metric", str(error))
        else:
            messages.success(
                request,
                f"{form.cleaned_data['metric'].name} marked for follow-up. "
                f"{quarterly_return.agency.name} has been e-mailed.",
            )
            return redirect(reverse("return_detail", args=[pk]) + "#conversation")
    return _conversation_page(request, quarterly_return, follow_up_form=form)


# Evidence ------------------------------------------------------------------------------------


def _evidence_page(request, quarterly_return, form=None):
    may_edit = may_edit_return(request.user, quarterly_return)
    attached = [item for item in evidence_of(quarterly_return) if item.removed_at is None]
    context = {
        "quarterly_return": quarterly_return,
        "action": quarterly_return.action,
        "evidence": attached,
        "may_edit": may_edit,
        "form": form or EvidenceForm(),
        "full": len(attached) >= settings.EVIDENCE_MAX_FILES,
    }
    return render(request, "review/evidence.html", context)


@requires(Capability.READ_PLAN)
def evidence_list(request: HttpRequest, pk: int) -> HttpResponse:
    quarterly_return = get_object_or_404(
        QuarterlyReturn.objects.visible_to(request.user).with_context(), pk=pk
    )
    return _evidence_page(request, quarterly_return)


@require_POST
@requires(Capability.ENTER_RETURNS)
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    quarterly_return = get_object_or_404(
        QuarterlyReturn.objects.visible_to(request.user).with_context(), pk=pk
    )
    form = EvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attached = services.attach_evidence(
                request.user,
                quarterly_return,
                form.cleaned_data["file"],
                form.cleaned_data["description"],
            )
        except ReturnError as error:
            form.add_error("file", str(error))
        else:
            messages.success(request, f"{attached.name} attached to the return.")
            return redirect("evidence_list", pk)
    return _evidence_page(request, quarterly_return, form)


def _attached(request, pk: int) -> Evidence:
    return get_object_or_404(
        Evidence.objects.visible_to(request.user)
        .attached()
        .select_related(
            "quarterly_return",
            "quarterly_return__action",
            "quarterly_return__agency",
            "quarterly_return__quarter",
        ),
        pk=pk,
    )


@requires(Capability.READ_PLAN)
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file, under the return's access rule, always as a download: never shown in the
    browser, under a name of our making, and with the type we found in its content."""
    attached = _attached(request, pk)
    try:
        stream = services.evidence_storage().open(attached.stored_name, "rb")
    except FileNotFoundError:
        messages.error(request, f"{attached.name} cannot be found in the evidence store.")
        return redirect("evidence_list", attached.quarterly_return_id)
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=attached.name,
        content_type=files.MEDIA_TYPES[attached.kind],
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@requires(Capability.ENTER_RETURNS)
def evidence_remove(request: HttpRequest, pk: int) -> HttpResponse:
    attached = _attached(request, pk)
    try:
        services.remove_evidence(request.user, attached)
    except ReturnError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{attached.name} removed from the return.")
    return redirect("evidence_list", attached.quarterly_return_id)


# Review at the manager's pace ----------------------------------------------------------------


@require_POST
@requires(Capability.REVIEW_RETURNS)
def bulk_approve(request: HttpRequest) -> HttpResponse:
    """From the review queue's ticks: first a page listing the returns to approve; its
    Approve button approves each (the versions shown, so a return changed meanwhile is
    refused and said so)."""
    form = BulkApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Tick the returns to approve, then choose Approve selected.")
        return redirect("review_queue")
    chosen = list(
        QuarterlyReturn.objects.visible_to(request.user)
        .awaiting_review()
        .with_context()
        .filter(pk__in=form.cleaned_data["returns"])
        .order_by("action__priority__number", "action__number", "agency__name")
    )
    if "confirm" not in request.POST:
        return render(request, "review/bulk_approve.html", {"returns": chosen})
    seen = {}
    for quarterly_return in chosen:
        version = request.POST.get(f"version_{quarterly_return.pk}", "")
        seen[quarterly_return.pk] = int(version) if version.isdigit() else -1
    approved, refused = services.approve_many(request.user, seen)
    if approved:
        messages.success(
            request,
            f"{len(approved)} return{'s' if len(approved) != 1 else ''} approved: "
            + ", ".join(f"{r.action.ref} {r.agency.short_name}" for r in approved)
            + ".",
        )
    for quarterly_return, why in refused:
        messages.error(
            request,
            f"{quarterly_return.action.ref} {quarterly_return.agency.short_name} was not "
            f"approved: {why}",
        )
    missing = len(form.cleaned_data["returns"]) - len(chosen)
    if missing:
        messages.error(
            request,
            f"{missing} of the returns ticked {'is' if missing == 1 else 'are'} no longer "
            "waiting for review, so not approved.",
        )
    return redirect("review_queue")


@requires(Capability.REVIEW_RETURNS)
def sent_back_list(request: HttpRequest) -> HttpResponse:
    """Returns sent back (or reopened) and waiting on their agency, longest waiting first."""
    returns = (
        QuarterlyReturn.objects.visible_to(request.user)
        .filter(state=QuarterlyReturn.State.SENT_BACK)
        .select_related("action__priority", "agency", "quarter__plan", "reviewed_by")
        # The agency's comments since it was sent back: it may be answering, not correcting.
        .annotate(
            replies=Count(
                "comments",
                filter=Q(comments__created_at__gt=F("reviewed_at"))
                & ~Q(comments__author__role=Role.MANAGER),
            )
        )
        .order_by("reviewed_at", "pk")
    )
    return render(request, "review/sent_back.html", {"returns": returns})
