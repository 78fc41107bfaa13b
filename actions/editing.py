"""Editing a plan's actions and their metrics. What may be edited, and how, is
priorities.editing.edit_mode: freely in a draft, with a reason in an active plan, never in
a closed one. What has returns is withdrawn (an action) or retired (a metric), never
deleted: its returns keep their figures."""

import re

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from priorities.editing import EditError, check_change, renumber, stamp
from priorities.models import Plan, Priority, Quarter

from .models import Action, Agency, Metric, QuarterlyReturn

__all__ = ["EditError"]

# How a plan prints several lead agencies: "Kent Police, KFRS and TWBC / CST; Clarion".
SEPARATORS = re.compile(r"\s*(?:,|;|/|&|\n|\band\b)\s*", re.IGNORECASE)

ACTION_FIELDS = (
    "description",
    "lead_agencies",
    "all_partners",
    "accountable_agency",
    "measure",
    "outcome",
)


def resolve_agency(name: str) -> Agency | None:
    """The active agency a printed name stands for: its name, short name or one of its
    other names, whatever the case; an agency merged into another stands for that one."""
    wanted = " ".join(name.split()).casefold()
    if not wanted:
        return None
    for agency in Agency.objects.select_related("merged_into"):
        names = [agency.name, agency.short_name, *agency.aliases]
        if wanted in {" ".join(n.split()).casefold() for n in names}:
            agency = agency.merged_into or agency
            return agency if agency.active else None
    return None


def resolve_lead_agencies(printed: str) -> tuple[list[Agency], list[str]]:
    """The agencies a plan's printed lead agencies resolve to, and the names that resolve
    to none (kept as printed only)."""
    found, unresolved = [], []
    for name in SEPARATORS.split(printed):
        name = name.strip(" .")
        if not name:
            continue
        agency = resolve_agency(name)
        if agency is None:
            unresolved.append(name)
        elif agency not in found:
            found.append(agency)
    return found, unresolved


def _plan(priority: Priority) -> Plan:
    return Plan.objects.select_for_update().get(pk=priority.plan_id)


def _has_returns(action: Action) -> bool:
    return QuarterlyReturn.objects.filter(action=action).exists()


def _metric_has_returns(metric: Metric) -> bool:
    return QuarterlyReturn.objects.filter(
        action_id=metric.action_id, values__has_key=str(metric.pk)
    ).exists()


def _set_fields(action: Action, fields: dict) -> list[Agency] | None:
    agencies = fields.pop("agencies", None)
    for name, value in fields.items():
        if name not in ACTION_FIELDS:
            raise TypeError(f"not an action field: {name}")
        setattr(action, name, value)
    return agencies


@transaction.atomic
def add_action(user, priority: Priority, *, reason: str = "", **fields) -> Action:
    """A new action at the end of its priority. Its agencies, when none are given, are
    those its printed lead agencies resolve to."""
    reason = check_change(_plan(priority), reason)
    last = Action.objects.filter(priority=priority).aggregate(last=Max("number"))["last"] or 0
    action = Action(priority=priority, number=last + 1)
    agencies = _set_fields(action, fields)
    stamp(action, user, reason, "Added")
    action.save()
    if not agencies:
        agencies, _ = resolve_lead_agencies(action.lead_agencies)
    action.agencies.set(agencies)
    return action


@transaction.atomic
def change_action(
    user, action: Action, *, priority: Priority | None = None, reason: str = "", **fields
) -> Action:
    """Save an action's words and agencies; a new priority (drafts only) moves it to the
    end of that priority, and the refs of both renumber themselves."""
    action = Action.objects.select_for_update().get(pk=action.pk)
    plan = _plan(action.priority)
    moving = priority is not None and priority.pk != action.priority_id
    reason = check_change(plan, reason, structural=moving)
    if moving and priority.plan_id != plan.pk:
        raise EditError("Choose a priority of the same plan")
    agencies = _set_fields(action, fields)
    old_priority = action.priority
    if moving:
        last = Action.objects.filter(priority=priority).aggregate(last=Max("number"))["last"]
        action.priority = priority
        action.number = (last or 0) + 1
    stamp(
        action, user, reason, f"Moved from priority {old_priority.number}" if moving else "Changed"
    )
    action.save()
    if agencies is not None and set(agencies) != set(action.agencies.all()):
        action.agencies.set(agencies)
    if moving:
        _renumber_actions(user, old_priority)
    return action


def _renumber_actions(user, priority: Priority) -> None:
    actions = list(Action.objects.filter(priority=priority).order_by("number"))
    for action in actions:
        stamp(action, user, "", "Renumbered")
    renumber(actions)


@transaction.atomic
def remove_action(user, action: Action, *, reason: str = "") -> None:
    """Remove an action no return has been made against. In a draft the refs after it
    renumber; in an active plan refs stay as partners know them."""
    action = Action.objects.select_for_update().get(pk=action.pk)
    plan = _plan(action.priority)
    reason = check_change(plan, reason)
    if _has_returns(action):
        raise EditError(
            f"Returns have been made against {action.ref}, so it cannot be removed. "
            "Withdraw it instead: its returns stay."
        )
    priority = action.priority
    stamp(action, user, reason, "Removed")
    action.delete()
    if plan.state == Plan.State.DRAFT:
        _renumber_actions(user, priority)


def next_quarter(plan: Plan) -> int:
    """The first quarter after every quarter opened so far (5 when all four have been)."""
    opened = Quarter.objects.filter(plan=plan).exclude(is_open=False, closed_at__isnull=True)
    return (opened.aggregate(last=Max("number"))["last"] or 0) + 1


@transaction.atomic
def withdraw_action(user, action: Action, *, reason: str) -> Action:
    """Withdraw an action from the next quarter on: no return is owed from then
    (actions.obligations asks ``Action.owed_in``); the returns made stay."""
    action = Action.objects.select_for_update().get(pk=action.pk)
    plan = _plan(action.priority)
    reason = check_change(plan, reason)
    if not reason:
        raise EditError("Enter the reason for withdrawing the action")
    if action.withdrawn:
        raise EditError(f"{action.ref} has already been withdrawn.")
    action.withdrawn_from = next_quarter(plan)
    stamp(action, user, f"Withdrawn: {reason}"[:100], "Withdrawn")
    action.save()
    return action


# Metrics -----------------------------------------------------------------------------------


@transaction.atomic
def add_metric(user, action: Action, *, name: str, kind: str, order: int | None = None, reason=""):
    reason = check_change(_plan(action.priority), reason)
    if Metric.objects.filter(action=action, name__iexact=name).exists():
        raise EditError(f"{action.ref} already has a metric called {name}")
    if order is None:
        order = (Metric.objects.filter(action=action).aggregate(last=Max("order"))["last"] or 0) + 1
    metric = Metric(action=action, name=name, kind=kind, order=order)
    stamp(metric, user, reason, "Added")
    metric.save()
    return metric


@transaction.atomic
def change_metric(user, metric: Metric, *, name: str, kind: str, order: int, reason: str = ""):
    """Rename or reorder a metric; its kind changes only while no return holds it."""
    metric = Metric.objects.select_for_update().select_related("action__priority").get(pk=metric.pk)
    reason = check_change(_plan(metric.action.priority), reason)
    if kind != metric.kind and _metric_has_returns(metric):
        raise EditError(
            "Returns hold figures for this metric, so its kind cannot change. Retire it and "
            "add a new metric instead"
        )
    if (
        Metric.objects.filter(action=metric.action, name__iexact=name)
        .exclude(pk=metric.pk)
        .exists()
    ):
        raise EditError(f"{metric.action.ref} already has a metric called {name}")
    metric.name, metric.kind, metric.order = name, kind, order
    stamp(metric, user, reason, "Changed")
    metric.save()
    return metric


@transaction.atomic
def remove_metric(user, metric: Metric, *, reason: str = "") -> None:
    metric = Metric.objects.select_for_update().select_related("action__priority").get(pk=metric.pk)
    reason = check_change(_plan(metric.action.priority), reason)
    if _metric_has_returns(metric):
        raise EditError(
            "Returns hold figures for this metric, so it cannot be removed. Retire it "
            "instead: it stays on those returns and is no longer asked."
        )
    stamp(metric, user, reason, "Removed")
    metric.delete()


@transaction.atomic
def retire_metric(user, metric: Metric, *, reason: str = "") -> Metric:
    """No longer ask a metric on the return form; the returns that hold it keep it."""
    metric = Metric.objects.select_for_update().select_related("action__priority").get(pk=metric.pk)
    reason = check_change(_plan(metric.action.priority), reason)
    if not metric.asked:
        raise EditError(f"{metric.name} has already been retired.")
    metric.retired_at = timezone.now()
    stamp(metric, user, f"Retired: {reason}"[:100] if reason else "", "Retired")
    metric.save()
    return metric
