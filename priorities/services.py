"""The plan's yearly cycle: start next year's plan, send it for sign-off, record the board's
decision, make it active (closing the year before).

In the shape of actions/services.py: each runs in one transaction, locks the plan row,
checks the state it starts from, raises PlanError with a message for the user when it
cannot go ahead, and records who did it and why in the history and the audit log.
"""

import datetime
import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import OuterRef

from csp import permissions

from .models import Partnership, Plan, Priority, Quarter

audit = logging.getLogger("csp.audit")
State = Plan.State


class PlanError(Exception):
    """A change to a plan that cannot happen; the message is for the user."""


def refuse_if_closed(plan: Plan) -> None:
    """Closed plans never change: every service that changes a plan or its parts asks."""
    if Plan.objects.filter(pk=plan.pk, state=State.CLOSED).exists():
        raise PlanError(f"The {plan.label} plan is closed, so it can no longer be changed.")


def _check_manager(user) -> None:
    if not permissions.may(user, permissions.Capability.MANAGE_PLANS):
        raise PlanError("Only the community safety manager can change plans.")


def _locked(plan: Plan) -> Plan:
    return Plan.objects.select_for_update().get(pk=plan.pk)


def _save(plan: Plan, user, reason: str, fields: list[str]) -> None:
    plan._history_user = user
    plan._change_reason = reason[:100]
    plan.save(update_fields=fields)
    audit.info("plan %s %s by %s: %s", plan.pk, plan.state, user.username, reason)


def _expect(plan: Plan, state: str, doing: str) -> None:
    if plan.state != state:
        raise PlanError(
            f"The {plan.label} plan is {plan.get_state_display().lower()}, so it cannot be "
            f"{doing}. Only a plan that is {State(state).label.lower()} can be."
        )


# Starting next year's plan ----------------------------------------------------------------


def is_complete(action) -> bool:
    """An action is complete when its latest approved return (latest quarter, then latest
    reviewed) reports the RAG status Complete. Carry-forward leaves complete actions out by
    default."""
    from actions.models import QuarterlyReturn

    latest = (
        QuarterlyReturn.objects.approved()
        .filter(action=action)
        .order_by("-quarter__number", "-reviewed_at", "-pk")
        .values_list("rag", flat=True)
        .first()
    )
    return latest == QuarterlyReturn.RAG.COMPLETE


def complete_action_ids(plan: Plan) -> set[int]:
    """The plan's complete actions (is_complete's rule, for the whole plan in one query)."""
    from actions.models import Action, QuarterlyReturn

    latest = (
        QuarterlyReturn.objects.approved()
        .filter(action=OuterRef("pk"))
        .order_by("-quarter__number", "-reviewed_at", "-pk")
        .values("rag")[:1]
    )
    return set(
        Action.objects.in_plan(plan)
        .annotate(latest_rag=latest)
        .filter(latest_rag=QuarterlyReturn.RAG.COMPLETE)
        .values_list("pk", flat=True)
    )


def next_year_defaults(plan: Plan) -> dict:
    """The assessment period the next plan starts with: the next calendar year after this
    plan's assessment."""
    year = plan.assessment_end.year + 1
    return {
        "assessment_start": datetime.date(year, 1, 1),
        "assessment_end": datetime.date(year, 12, 31),
    }


@transaction.atomic
def start_next_plan(
    user,
    plan: Plan,
    *,
    priorities: Iterable[Priority],
    actions: Iterable,
    assessment_start: datetime.date,
    assessment_end: datetime.date,
) -> Plan:
    """A draft for the year after ``plan`` with the chosen priorities and actions copied:
    priorities and actions renumber in order, each carried action keeps its lead agencies,
    measure, outcome and metrics and links to the action it continues."""
    from actions.models import Action, Metric

    _check_manager(user)
    plan = _locked(plan)
    year = plan.financial_year + 1
    if Plan.objects.filter(partnership_id=plan.partnership_id, financial_year=year).exists():
        raise PlanError(f"A plan for {year}/{(year + 1) % 100:02d} already exists.")
    if assessment_end < assessment_start:
        raise PlanError("The assessment period must end after it starts.")
    chosen_priorities = sorted(
        (p for p in priorities if p.plan_id == plan.pk), key=lambda p: p.number
    )
    if not chosen_priorities:
        raise PlanError("Choose at least one priority to carry forward.")
    chosen_actions = {a.pk for a in actions}

    draft = Plan(
        partnership_id=plan.partnership_id,
        financial_year=year,
        title=f"Community Safety Partnership Plan {year}-{(year + 1) % 100:02d}",
        assessment_start=assessment_start,
        assessment_end=assessment_end,
        return_due_days=plan.return_due_days,
        state=State.DRAFT,
    )
    draft._history_user = user
    draft._change_reason = f"Started from {plan.label}"
    draft.save()
    old_actions = (
        Action.objects.in_plan(plan)
        .filter(pk__in=chosen_actions)
        .order_by("priority__number", "number")
        .prefetch_related("agencies", "metrics")
    )
    by_priority: dict[int, list] = {}
    for action in old_actions:
        by_priority.setdefault(action.priority_id, []).append(action)

    for number, old_priority in enumerate(chosen_priorities, start=1):
        priority = Priority(
            plan=draft,
            number=number,
            title=old_priority.title,
            short_title=old_priority.short_title,
            rationale=old_priority.rationale,
            recommendation=old_priority.recommendation,
        )
        priority._history_user = user
        priority.save()
        for action_number, old in enumerate(by_priority.get(old_priority.pk, []), start=1):
            action = Action(
                priority=priority,
                number=action_number,
                description=old.description,
                lead_agencies=old.lead_agencies,
                all_partners=old.all_partners,
                measure=old.measure,
                outcome=old.outcome,
                target=old.target,
                continues=old,
            )
            action._history_user = user
            action._change_reason = f"Continues {old.ref} of {plan.label}"
            action.save()
            action.agencies.set(old.agencies.all())
            Metric.objects.bulk_create(
                Metric(action=action, name=metric.name, kind=metric.kind, order=metric.order)
                for metric in old.metrics.all()
            )
    audit.info("plan %s started from plan %s by %s", draft.pk, plan.pk, user.username)
    return draft


# Sign-off and activation ------------------------------------------------------------------


@transaction.atomic
def send_for_sign_off(user, plan: Plan) -> Plan:
    """The draft goes to the board, who read it with a "draft for sign-off" banner."""
    _check_manager(user)
    plan = _locked(plan)
    _expect(plan, State.DRAFT, "sent for sign-off")
    if not plan.priorities.exists():
        raise PlanError("The plan has no priorities yet: add some before sending it.")
    plan.state = State.AWAITING_SIGN_OFF
    _save(plan, user, "Sent for sign-off", ["state"])
    return plan


@transaction.atomic
def record_sign_off(
    user,
    plan: Plan,
    *,
    board_meeting: datetime.date,
    decision: str,
    sent_to_pcc: datetime.date | None,
) -> Plan:
    """The board meeting's date and decision, and the date the plan went to the PCC. A plan
    the board did not approve goes back to draft for changes."""
    _check_manager(user)
    plan = _locked(plan)
    _expect(plan, State.AWAITING_SIGN_OFF, "signed off")
    if sent_to_pcc and sent_to_pcc < board_meeting:
        raise PlanError("The plan cannot have been sent to the PCC before the board met.")
    plan.board_meeting = board_meeting
    plan.board_decision = decision
    plan.sent_to_pcc = sent_to_pcc
    fields = ["board_meeting", "board_decision", "sent_to_pcc", "signed_off", "state"]
    if decision == Plan.BoardDecision.NOT_APPROVED:
        plan.signed_off = None
        plan.state = State.DRAFT
    else:
        plan.signed_off = board_meeting
    decision_label = Plan.BoardDecision(decision).label
    _save(plan, user, f"Board {board_meeting:%d %B %Y}: {decision_label}", fields)
    return plan


def previous_active(plan: Plan) -> Plan | None:
    return (
        Plan.objects.active().filter(partnership_id=plan.partnership_id).exclude(pk=plan.pk).first()
    )


def returns_awaiting_review(plan: Plan) -> int:
    from actions.models import QuarterlyReturn

    return QuarterlyReturn.objects.awaiting_review().filter(quarter__plan=plan).count()


@transaction.atomic
def make_active(user, plan: Plan) -> Plan:
    """The signed-off plan becomes the partnership's active plan: its four quarters exist
    and Q1 opens for returns. The plan active until now becomes Closed: its open quarters
    close for entry (their closed_at is left as it was, so its reporting quarter and every
    figure stay as they were) and it takes no new returns. Refused while any of its returns
    await review: review them first."""
    _check_manager(user)
    plan = _locked(plan)
    _expect(plan, State.AWAITING_SIGN_OFF, "made active")
    if not plan.signed_off:
        raise PlanError("Record the board's sign-off before making the plan active.")
    previous = previous_active(plan)
    if previous is not None:
        previous = _locked(previous)
        waiting = returns_awaiting_review(previous)
        if waiting:
            raise PlanError(
                f"{waiting} return{'s' if waiting != 1 else ''} of the {previous.label} plan "
                f"{'are' if waiting != 1 else 'is'} awaiting review. Review "
                f"{'them' if waiting != 1 else 'it'} before making this plan active."
            )
        for quarter in previous.quarters.filter(is_open=True):
            quarter.is_open = False
            quarter._history_user = user
            quarter._change_reason = f"Closed: {plan.label} plan made active"
            quarter.save(update_fields=["is_open"])
        previous.state = State.CLOSED
        _save(previous, user, f"Closed: {plan.label} plan made active", ["state"])
    for number in range(1, 5):
        quarter, _ = Quarter.objects.get_or_create(plan=plan, number=number)
        if number == 1 and not quarter.is_open:
            quarter.is_open = True
            quarter.closed_at = None
            quarter._history_user = user
            quarter._change_reason = "Opened: plan made active"
            quarter.save(update_fields=["is_open", "closed_at"])
    plan.state = State.ACTIVE
    _save(plan, user, "Made active", ["state"])
    return plan


# The partnership ---------------------------------------------------------------------------


@transaction.atomic
def save_partnership(user, partnership: Partnership) -> Partnership:
    _check_manager(user)
    partnership._history_user = user
    partnership._change_reason = "Details changed"
    partnership.save()
    audit.info("partnership %s changed by %s", partnership.pk, user.username)
    return partnership
