"""The yearly cycle's pages: plans, a plan, start next year's plan, sign-off, make active,
and the partnership's details. Thin: the rules are priorities.services'."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from actions.models import Action
from csp.permissions import Capability, may, requires

from . import services
from .forms import PartnershipForm, SignOffForm, StartNextPlanForm
from .models import Partnership, Plan


def _plan_for(request, pk: int) -> Plan:
    return get_object_or_404(
        Plan.objects.visible_to(request.user).select_related("partnership"), pk=pk
    )


@requires(Capability.READ_PLANS)
def plan_list(request: HttpRequest) -> HttpResponse:
    """Every plan the user may read, with its state."""
    plans = Plan.objects.visible_to(request.user).select_related("partnership")
    return render(request, "priorities/plan_list.html", {"plans": plans})


@requires(Capability.READ_PLANS)
def plan_state(request: HttpRequest, pk: int) -> HttpResponse:
    """A plan's state, sign-off and priorities and actions; the manager's next step."""
    plan = _plan_for(request, pk)
    actions = Action.objects.in_plan(plan).with_plan_order().select_related("continues__priority")
    manage = may(request.user, Capability.MANAGE_PLANS)
    context = {
        "plan": plan,
        "actions": actions,
        "manage": manage,
        "previous": services.previous_active(plan) if manage else None,
        "has_next": Plan.objects.filter(
            partnership_id=plan.partnership_id, financial_year=plan.financial_year + 1
        ).exists(),
    }
    if manage and context["previous"]:
        context["waiting"] = services.returns_awaiting_review(context["previous"])
    return render(request, "priorities/plan_state.html", context)


@requires(Capability.MANAGE_PLANS)
def start_next_plan(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for(request, pk)
    if request.method == "POST":
        form = StartNextPlanForm(request.POST, plan=plan)
        if form.is_valid():
            try:
                draft = services.start_next_plan(
                    request.user,
                    plan,
                    priorities=form.cleaned_data["priorities"],
                    actions=form.cleaned_data["actions"],
                    assessment_start=form.cleaned_data["assessment_start"],
                    assessment_end=form.cleaned_data["assessment_end"],
                )
            except services.PlanError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"The {draft.label} plan has been started as a draft.")
                return redirect("plan_state", draft.pk)
    else:
        complete = services.complete_action_ids(plan)
        form = StartNextPlanForm(
            plan=plan,
            initial={
                "priorities": list(plan.priorities.values_list("pk", flat=True)),
                "actions": list(
                    Action.objects.in_plan(plan)
                    .exclude(pk__in=complete)
                    .values_list("pk", flat=True)
                ),
                **services.next_year_defaults(plan),
            },
        )
    return render(request, "priorities/start_next_plan.html", {"plan": plan, "form": form})


@require_POST
@requires(Capability.MANAGE_PLANS)
def send_for_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for(request, pk)
    try:
        services.send_for_sign_off(request.user, plan)
    except services.PlanError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The {plan.label} plan has been sent to the board for sign-off.")
    return redirect("plan_state", plan.pk)


@requires(Capability.MANAGE_PLANS)
def record_sign_off(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for(request, pk)
    if request.method == "POST":
        form = SignOffForm(request.POST)
        if form.is_valid():
            try:
                services.record_sign_off(
                    request.user,
                    plan,
                    board_meeting=form.cleaned_data["board_meeting"],
                    decision=form.cleaned_data["decision"],
                    sent_to_pcc=form.cleaned_data["sent_to_pcc"],
                )
            except services.PlanError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "The board's decision has been recorded.")
                return redirect("plan_state", plan.pk)
    else:
        form = SignOffForm(
            initial={
                "board_meeting": plan.board_meeting,
                "decision": plan.board_decision,
                "sent_to_pcc": plan.sent_to_pcc,
            }
        )
    return render(request, "priorities/sign_off.html", {"plan": plan, "form": form})


@require_POST
@requires(Capability.MANAGE_PLANS)
def make_active(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_for(request, pk)
    try:
        services.make_active(request.user, plan)
    except services.PlanError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The {plan.label} plan is now active and Q1 is open.")
    return redirect("plan_state", plan.pk)


@requires(Capability.MANAGE_PLANS)
def partnership_edit(request: HttpRequest) -> HttpResponse:
    """The partnership's details: one per deployment for now (Partnership.objects.deployed)."""
    partnership = Partnership.objects.deployed()
    if request.method == "POST":
        form = PartnershipForm(request.POST, instance=partnership)
        if form.is_valid():
            services.save_partnership(request.user, form.save(commit=False))
            messages.success(request, "The partnership's details have been saved.")
            return redirect("partnership_edit")
    else:
        form = PartnershipForm(instance=partnership)
    return render(request, "priorities/partnership_form.html", {"form": form})
