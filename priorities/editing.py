"""Editing a plan's priorities, and the one rule of what may be edited in a plan, and how.

``edit_mode(plan)`` is that rule (issue 12, DESIGN §9):

- ``free``: a draft. Anything may be added, changed, removed, reordered or moved, and refs
  renumber themselves.
- ``with_reason``: an active plan. Partners report against it, so its refs stay as they
  are: actions and metrics may be changed, added or (with no returns) removed, each with
  a reason kept in the history; what has returns is withdrawn or retired, never deleted.
  Priorities do not change.
- ``locked``: anything else (closed plans never change; a plan awaiting sign-off is the
  board's to read).

Each service checks the mode inside its transaction, sets who changed what and why on the
history, and raises ``EditError`` with a message for the page.
"""

from django.db import transaction
from django.db.models import Max

from .models import Plan, Priority

FREE, WITH_REASON, LOCKED = "free", "with_reason", "locked"
# simple-history's change reason column holds 100 characters; the reason field says so.
REASON_LENGTH = 100


class EditError(Exception):
    """A change the plan's state does not allow, with the words to show."""


def edit_mode(plan: Plan) -> str:
    """What may be edited in this plan, and how: ``free``, ``with_reason`` or ``locked``."""
    if plan.state == Plan.State.DRAFT:
        return FREE
    if plan.state == Plan.State.ACTIVE:
        return WITH_REASON
    return LOCKED


def locked_message(plan: Plan) -> str:
    return f"The {plan.label} plan is {plan.get_state_display().lower()}, so it cannot be changed."


def check_change(plan: Plan, reason: str = "", *, structural: bool = False) -> str:
    """Refuse a change the plan's edit mode does not allow; return the history's reason.

    ``structural`` changes (priorities, moving an action, renumbering) are for drafts only.
    """
    mode = edit_mode(plan)
    if mode == LOCKED:
        raise EditError(locked_message(plan))
    if structural and mode != FREE:
        raise EditError(
            f"The {plan.label} plan is active, so its priorities and refs stay as they are. "
            "Change its actions and metrics instead."
        )
    reason = " ".join(reason.split())
    if mode == WITH_REASON and not reason:
        raise EditError("Enter the reason for the change: the plan is active")
    return reason[:REASON_LENGTH]


def stamp(record, user, reason: str, default: str) -> None:
    """Who made the change and why, for the history row the next save writes."""
    record._history_user = user
    record._change_reason = reason or default


def renumber(items: list, field: str = "number") -> None:
    """Number items 1, 2, 3… in the order given, saving only those that change. The numbers
    are unique, so the changed ones step aside first (a plain UPDATE: no history row)."""
    changed = [item for index, item in enumerate(items, start=1) if getattr(item, field) != index]
    if not changed:
        return
    model = type(changed[0])
    for offset, item in enumerate(changed, start=1):
        model.objects.filter(pk=item.pk).update(**{field: 10_000 + offset})
    for index, item in enumerate(items, start=1):
        if getattr(item, field) != index:
            setattr(item, field, index)
            item.save()


def ordered_priorities(plan: Plan) -> list[Priority]:
    return list(Priority.objects.select_for_update().filter(plan=plan).order_by("number"))


@transaction.atomic
def add_priority(user, plan: Plan, *, number: int | None = None, **fields) -> Priority:
    """A new priority, at the end or at the number given (those after it move down)."""
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    check_change(plan, structural=True)
    others = ordered_priorities(plan)
    last = Priority.objects.filter(plan=plan).aggregate(last=Max("number"))["last"] or 0
    priority = Priority(plan=plan, number=last + 1, **fields)
    stamp(priority, user, "", "Added")
    priority.save()
    position = len(others) if number is None else max(0, min(number - 1, len(others)))
    others.insert(position, priority)
    for item in others:
        stamp(item, user, "", "Renumbered")
    stamp(priority, user, "", "Added")
    renumber(others)
    return priority


@transaction.atomic
def change_priority(user, priority: Priority, *, number: int | None = None, **fields) -> Priority:
    """Save a priority's words; a new number moves it there and renumbers the others."""
    plan = Plan.objects.select_for_update().get(pk=priority.plan_id)
    check_change(plan, structural=True)
    priority = Priority.objects.select_for_update().get(pk=priority.pk)
    for name, value in fields.items():
        setattr(priority, name, value)
    stamp(priority, user, "", "Changed")
    priority.save()
    if number is not None and number != priority.number:
        _move_to(user, priority, number)
    return priority


def _move_to(user, priority: Priority, number: int) -> None:
    others = [item for item in ordered_priorities(priority.plan) if item.pk != priority.pk]
    others.insert(max(0, min(number - 1, len(others))), priority)
    for item in others:
        stamp(item, user, "", "Renumbered")
    renumber(others)


@transaction.atomic
def move_priority(user, priority: Priority, step: int) -> Priority:
    """Move a priority up (-1) or down (+1) the plan; its actions' refs follow."""
    plan = Plan.objects.select_for_update().get(pk=priority.plan_id)
    check_change(plan, structural=True)
    priority = Priority.objects.get(pk=priority.pk)
    _move_to(user, priority, priority.number + step)
    priority.refresh_from_db()
    return priority


@transaction.atomic
def remove_priority(user, priority: Priority) -> None:
    """Remove a draft's priority with its actions and metrics; those after it move up."""
    plan = Plan.objects.select_for_update().get(pk=priority.plan_id)
    check_change(plan, structural=True)
    if priority.actions.filter(returns__isnull=False).exists():
        raise EditError("Returns have been made against this priority's actions, so it stays.")
    for action in priority.actions.all():
        stamp(action, user, "", f"Removed with priority {priority.number}")
        action.delete()
    stamp(priority, user, "", "Removed")
    priority.delete()
    remaining = ordered_priorities(plan)
    for item in remaining:
        stamp(item, user, "", "Renumbered")
    renumber(remaining)
