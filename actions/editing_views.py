"""The manager's pages for editing a plan (issue 12): its priorities, actions and metrics.
What may be changed, and how, is priorities.editing.edit_mode; the services check it."""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from csp.kept_input import keeps_typed_input, restore
from csp.permissions import Capability, requires
from priorities import editing as plan_editing
from priorities.editing import FREE, LOCKED, EditError, edit_mode, locked_message
from priorities.models import Plan, Priority

from . import editing
from .editing_forms import ActionForm, MetricForm, PriorityForm, ReasonForm
from .models import Action, Metric


def _locked(request, plan: Plan) -> HttpResponse | None:
    """Back to the plan's edit page, with the reason, when the plan cannot change."""
    if edit_mode(plan) == LOCKED:
        messages.error(request, locked_message(plan))
        return redirect("edit_plan", plan.financial_year)
    return None


def _priorities_fixed(request, plan: Plan) -> HttpResponse | None:
    """Back to the plan's edit page, with the reason, unless its priorities may change
    (a draft's only: an active plan's refs stay as partners know them)."""
    if edit_mode(plan) != FREE:
        messages.error(
            request,
            locked_message(plan)
            if edit_mode(plan) == LOCKED
            else f"The {plan.label} plan is active, so its priorities stay as they are.",
        )
        return redirect("edit_plan", plan.financial_year)
    return None


def _posted(request):
    """The form's data when posted (even with no field: a draft's remove asks no reason)."""
    return request.POST if request.method == "POST" else None


def _back(plan: Plan) -> HttpResponse:
    return redirect("edit_plan", plan.financial_year)


@requires(Capability.EDIT_PLAN)
@require_safe
def edit_plan(request: HttpRequest, year: int) -> HttpResponse:
    """The plan's priorities, actions and metrics, each with its change links."""
    plan = get_object_or_404(Plan, financial_year=year)
    priorities = Priority.objects.filter(plan=plan).prefetch_related(
        Prefetch(
            "actions",
            queryset=Action.objects.order_by("number").prefetch_related("metrics"),
        )
    )
    return render(
        request,
        "editing/plan.html",
        {"plan": plan, "mode": edit_mode(plan), "priorities": priorities, "FREE": FREE},
    )


# Priorities --------------------------------------------------------------------------------


def _priority_page(request, plan, form, priority=None):
    return render(
        request, "editing/priority_form.html", {"plan": plan, "form": form, "priority": priority}
    )


@keeps_typed_input()
@requires(Capability.EDIT_PLAN)
def edit_priority_add(request: HttpRequest, year: int) -> HttpResponse:
    plan = get_object_or_404(Plan, financial_year=year)
    if (refused := _priorities_fixed(request, plan)) is not None:
        return refused
    if request.method == "POST":
        form = PriorityForm(request.POST)
        if form.is_valid():
            try:
                priority = plan_editing.add_priority(request.user, plan, **form.cleaned_data)
            except EditError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Priority {priority.number} added.")
                return _back(plan)
    else:
        form = PriorityForm(restore(request), initial={"number": plan.priorities.count() + 1})
    return _priority_page(request, plan, form)


@keeps_typed_input()
@requires(Capability.EDIT_PLAN)
def edit_priority(request: HttpRequest, pk: int) -> HttpResponse:
    priority = get_object_or_404(Priority.objects.select_related("plan"), pk=pk)
    plan = priority.plan
    if (refused := _priorities_fixed(request, plan)) is not None:
        return refused
    if request.method == "POST":
        form = PriorityForm(request.POST)
        if form.is_valid():
            try:
                priority = plan_editing.change_priority(request.user, priority, **form.cleaned_data)
            except EditError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Priority {priority.number} saved.")
                return _back(plan)
    else:
        form = PriorityForm(restore(request), initial=PriorityForm.initial_for(priority))
    return _priority_page(request, plan, form, priority)


@require_POST
@requires(Capability.EDIT_PLAN)
def edit_priority_move(request: HttpRequest, pk: int) -> HttpResponse:
    priority = get_object_or_404(Priority.objects.select_related("plan"), pk=pk)
    step = -1 if request.POST.get("direction") == "up" else 1
    try:
        moved = plan_editing.move_priority(request.user, priority, step)
    except EditError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{moved.title} is now priority {moved.number}.")
    return _back(priority.plan)


def _confirm(request, plan, form, *, title, body, button, cancel, warning=False):
    return render(
        request,
        "editing/confirm.html",
        {
            "plan": plan,
            "form": form,
            "title": title,
            "body": body,
            "button": button,
            "cancel": cancel,
            "warning": warning,
        },
    )


@requires(Capability.EDIT_PLAN)
def edit_priority_remove(request: HttpRequest, pk: int) -> HttpResponse:
    priority = get_object_or_404(Priority.objects.select_related("plan"), pk=pk)
    plan = priority.plan
    if (refused := _priorities_fixed(request, plan)) is not None:
        return refused
    form = ReasonForm(_posted(request), mode=FREE)
    if request.method == "POST":
        try:
            plan_editing.remove_priority(request.user, priority)
        except EditError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Priority {priority.number} removed; the others renumbered.")
        return _back(plan)
    count = priority.actions.count()
    return _confirm(
        request,
        plan,
        form,
        title=f"Remove priority {priority.number}?",
        body=f"{priority.title}, with its {count} action{'s' if count != 1 else ''} and "
        "their metrics. The priorities after it move up.",
        button="Remove priority",
        cancel=_back(plan).url,
        warning=True,
    )


# Actions -----------------------------------------------------------------------------------


def _action_page(request, plan, form, action=None, priority=None):
    return render(
        request,
        "editing/action_form.html",
        {"plan": plan, "form": form, "action": action, "priority": priority},
    )


def _action_fields(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("reason", None)
    return data


@keeps_typed_input()
@requires(Capability.EDIT_PLAN)
def edit_action_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A new action at the end of a priority."""
    priority = get_object_or_404(Priority.objects.select_related("plan"), pk=pk)
    plan = priority.plan
    if (refused := _locked(request, plan)) is not None:
        return refused
    mode = edit_mode(plan)
    if request.method == "POST":
        # The initial priority stands in for the field an active plan fixes.
        form = ActionForm(request.POST, initial={"priority": priority}, plan=plan, mode=mode)
        if form.is_valid():
            fields = _action_fields(form)
            chosen = fields.pop("priority")
            try:
                action = editing.add_action(request.user, chosen, reason=form.reason(), **fields)
            except EditError as error:
                form.add_error(None, str(error))
            else:
                _, unresolved = editing.resolve_lead_agencies(action.lead_agencies)
                messages.success(
                    request,
                    f"Action {action.ref} added. Add the figures partners report each quarter."
                    + (f" Kept as printed only: {', '.join(unresolved)}." if unresolved else ""),
                )
                return redirect("edit_action", action.pk)
    else:
        # Typed as the session ended (csp/kept_input.py): back in the form, once.
        form = ActionForm(restore(request), initial={"priority": priority}, plan=plan, mode=mode)
    return _action_page(request, plan, form, priority=priority)


def _action(pk):
    return get_object_or_404(
        Action.objects.select_related("priority", "priority__plan", "accountable_agency"), pk=pk
    )


@keeps_typed_input()
@requires(Capability.EDIT_PLAN)
def edit_action(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action(pk)
    plan = action.priority.plan
    if (refused := _locked(request, plan)) is not None:
        return refused
    mode = edit_mode(plan)
    if request.method == "POST":
        form = ActionForm(request.POST, initial={"priority": action.priority}, plan=plan, mode=mode)
        if form.is_valid():
            fields = _action_fields(form)
            try:
                action = editing.change_action(request.user, action, reason=form.reason(), **fields)
            except EditError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Action {action.ref} saved.")
                return redirect("edit_action", action.pk)
    else:
        form = ActionForm(
            restore(request), initial=ActionForm.initial_for(action), plan=plan, mode=mode
        )
    return render(
        request,
        "editing/action_form.html",
        {
            "plan": plan,
            "form": form,
            "action": action,
            "priority": action.priority,
            "metrics": action.metrics.all(),
            "history": action.history.select_related("history_user")[:20],
        },
    )


@requires(Capability.EDIT_PLAN)
def edit_action_remove(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action(pk)
    plan = action.priority.plan
    if (refused := _locked(request, plan)) is not None:
        return refused
    form = ReasonForm(_posted(request), mode=edit_mode(plan))
    if request.method == "POST" and form.is_valid():
        try:
            editing.remove_action(request.user, action, reason=form.reason())
        except EditError as error:
            messages.error(request, str(error))
            return redirect("edit_action", action.pk)
        messages.success(request, f"Action {action.ref} removed.")
        return _back(plan)
    return _confirm(
        request,
        plan,
        form,
        title=f"Remove action {action.ref}?",
        body=action.description,
        button="Remove action",
        cancel=redirect("edit_action", action.pk).url,
        warning=True,
    )


@requires(Capability.EDIT_PLAN)
def edit_action_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action(pk)
    plan = action.priority.plan
    if (refused := _locked(request, plan)) is not None:
        return refused
    form = ReasonForm(_posted(request), mode=edit_mode(plan), required=True)
    if request.method == "POST" and form.is_valid():
        try:
            editing.withdraw_action(request.user, action, reason=form.reason())
        except EditError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Action {action.ref} withdrawn. Its returns stay.")
            return redirect("action_detail", action.pk)
    quarter = editing.next_quarter(plan)
    return _confirm(
        request,
        plan,
        form,
        title=f"Withdraw action {action.ref}?",
        body=(
            f"No return is owed for it from Q{quarter} {plan.label}. "
            if quarter <= 4
            else "Every quarter of the year has opened, so the returns owed stay owed. "
        )
        + "The returns already made stay, and the plan shows it as withdrawn.",
        button="Withdraw action",
        cancel=redirect("edit_action", action.pk).url,
    )


# Metrics -----------------------------------------------------------------------------------


def _metric_page(request, action, form, metric=None):
    return render(
        request,
        "editing/metric_form.html",
        {"plan": action.priority.plan, "action": action, "form": form, "metric": metric},
    )


def _metric_fields(form) -> dict:
    data = form.cleaned_data
    return {"name": data["name"].strip(), "kind": data["kind"], "order": data["order"]}


@requires(Capability.EDIT_PLAN)
def edit_metric_add(request: HttpRequest, pk: int) -> HttpResponse:
    action = _action(pk)
    plan = action.priority.plan
    if (refused := _locked(request, plan)) is not None:
        return refused
    mode = edit_mode(plan)
    if request.method == "POST":
        form = MetricForm(request.POST, mode=mode)
        if form.is_valid():
            try:
                metric = editing.add_metric(
                    request.user, action, reason=form.reason(), **_metric_fields(form)
                )
            except EditError as error:
                form.add_error("name", str(error))
            else:
                messages.success(request, f"Metric “{metric.name}” added to {action.ref}.")
                return redirect("edit_action", action.pk)
    else:
        form = MetricForm(mode=mode, initial={"kind": Metric.Kind.COUNT})
    return _metric_page(request, action, form)


def _metric(pk):
    return get_object_or_404(Metric.objects.select_related("action__priority__plan"), pk=pk)


@requires(Capability.EDIT_PLAN)
def edit_metric(request: HttpRequest, pk: int) -> HttpResponse:
    metric = _metric(pk)
    action = metric.action
    plan = action.priority.plan
    if (refused := _locked(request, plan)) is not None:
        return refused
    mode = edit_mode(plan)
    if request.method == "POST":
        form = MetricForm(request.POST, mode=mode)
        if form.is_valid():
            fields = _metric_fields(form)
            fields["order"] = metric.order if fields["order"] is None else fields["order"]
            try:
                editing.change_metric(request.user, metric, reason=form.reason(), **fields)
            except EditError as error:
                form.add_error("kind" if "kind" in str(error) else "name", str(error))
            else:
                messages.success(request, f"Metric “{fields['name']}” saved.")
                return redirect("edit_action", action.pk)
    else:
        form = MetricForm(
            mode=mode, initial={"name": metric.name, "kind": metric.kind, "order": metric.order}
        )
    return _metric_page(request, action, form, metric)


def _metric_confirm(request, pk, *, verb: str, service, body: str) -> HttpResponse:
    metric = _metric(pk)
    action = metric.action
    plan = action.priority.plan
    if (refused := _locked(request, plan)) is not None:
        return refused
    form = ReasonForm(_posted(request), mode=edit_mode(plan))
    if request.method == "POST" and form.is_valid():
        try:
            service(request.user, metric, reason=form.reason())
        except EditError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Metric “{metric.name}” {verb.lower()}d.")
        return redirect("edit_action", action.pk)
    return _confirm(
        request,
        plan,
        form,
        title=f"{verb} the metric “{metric.name}”?",
        body=body,
        button=f"{verb} metric",
        cancel=redirect("edit_action", action.pk).url,
        warning=verb == "Remove",
    )


@requires(Capability.EDIT_PLAN)
def edit_metric_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _metric_confirm(
        request,
        pk,
        verb="Remove",
        service=editing.remove_metric,
        body="Partners will no longer be asked for it. A metric returns hold figures for "
        "cannot be removed: retire it instead.",
    )


@requires(Capability.EDIT_PLAN)
def edit_metric_retire(request: HttpRequest, pk: int) -> HttpResponse:
    return _metric_confirm(
        request,
        pk,
        verb="Retire",
        service=editing.retire_metric,
        body="The return form no longer asks for it from now on. The figures returns "
        "already hold for it stay on those returns.",
    )
