from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from csp.permissions import Capability, may, requires
from priorities.models import Plan

from .models import Action, Agency


@requires(Capability.READ_PLAN)
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_object_or_404(
        Action.objects.select_related("priority", "priority__plan").prefetch_related(
            "agencies", "metrics"
        ),
        pk=pk,
    )
    context = {"action": action}
    if may(request.user, Capability.EDIT_PLAN):
        context["history"] = action.history.select_related("history_user")[:20]
    return render(request, "actions/action_detail.html", context)


@requires(Capability.READ_PLAN)
def agency_list(request: HttpRequest) -> HttpResponse:
    plan = Plan.objects.current()
    agencies = Agency.objects.active().order_by("name")
    led = {}
    if plan:
        for agency_id in Action.objects.in_plan(plan).values_list("agencies", flat=True):
            led[agency_id] = led.get(agency_id, 0) + 1
    rows = [(agency, led.get(agency.pk, 0)) for agency in agencies]
    return render(request, "actions/agency_list.html", {"plan": plan, "rows": rows})


@requires(Capability.READ_PLAN)
def agency_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agency = get_object_or_404(Agency, pk=pk)
    plan = Plan.objects.current()
    actions = (
        Action.objects.in_plan(plan).filter(agencies=agency).with_plan_order() if plan else []
    )
    shared = Action.objects.in_plan(plan).filter(all_partners=True).exclude(agencies=agency)
    context = {
        "agency": agency,
        "plan": plan,
        "actions": actions,
        "all_partner_actions": shared.with_plan_order() if plan else [],
    }
    if may(request.user, Capability.EDIT_PLAN):
        context["history"] = agency.history.select_related("history_user")[:20]
    return render(request, "actions/agency_detail.html", context)
