"""Who owes a progress update on a death review's action, for which quarter, and who may
read one: the one answer for the partner home, the update form, reminders and completeness.

- The quarter: updates are written alongside the plan's returns, so for the quarter the
  returns are being entered for (priorities.quarters.open_for_entry): the newest open one.
- Who owes: the lead agency of every open action (not closed), whatever its target date.
- Who reads an update: the manager, and the users of the action's lead agency (who own the
  work); nobody else, the board included (it reads counts: board pages).
"""

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone

from priorities.models import Plan, Quarter
from priorities.quarters import open_for_entry, plan_quarters

from .models import ProgressUpdate, ReviewAction, UpdateEvidence
from .rules import action_is_overdue


def update_quarter(quarters: list[Quarter]) -> Quarter | None:
    """Of a plan's quarters, the one updates are written for: the newest open for returns;
    None while no quarter is open."""
    return max(open_for_entry(quarters), key=lambda quarter: quarter.number, default=None)


def current_update_quarter() -> Quarter | None:
    """The update quarter of the plan the partnership is working to."""
    return update_quarter(plan_quarters(Plan.objects.current()))


@dataclass(frozen=True)
class OwedUpdate:
    """An open action and its lead agency's update for the quarter (None: not started)."""

    action: ReviewAction
    quarter: Quarter | None
    update: ProgressUpdate | None
    overdue: bool  # past its target date (rules.action_is_overdue)

    @property
    def state(self) -> str:
        return self.update.state if self.update else "not_started"

    @property
    def outstanding(self) -> bool:
        """Still to submit: not started, a draft, or sent back."""
        return self.update is None or self.update.is_editable


def owed_updates(quarter: Quarter | None, agencies=None) -> list[OwedUpdate]:
    """Every open action, led by one of `agencies` (all agencies when None), with its
    update for the quarter. Two queries (one without a quarter)."""
    today = timezone.localdate()
    actions = (
        ReviewAction.objects.open()
        .select_related("recommendation__review", "lead_agency")
        .order_by("recommendation__review__reference", "recommendation__number", "number")
    )
    if agencies is not None:
        actions = actions.filter(lead_agency__in=list(agencies))
    if quarter is None:
        return [
            OwedUpdate(action, None, None, action_is_overdue(action, today)) for action in actions
        ]
    actions = actions.prefetch_related(
        Prefetch(
            "updates",
            queryset=ProgressUpdate.objects.filter(quarter=quarter).order_by(),
            to_attr="this_quarter",
        )
    )
    return [
        OwedUpdate(
            action,
            quarter,
            action.this_quarter[0] if action.this_quarter else None,
            action_is_overdue(action, today),
        )
        for action in actions
    ]


def outstanding_count(quarter: Quarter | None, agency) -> int:
    """How many updates the agency has still to submit for the quarter, for a reminder
    about that quarter's returns: none unless it is the quarter updates are written for."""
    if quarter is None or quarter != update_quarter(plan_quarters(quarter.plan)):
        return 0
    return sum(1 for row in owed_updates(quarter, [agency]) if row.outstanding)


def outstanding_counts(quarter: Quarter) -> dict[int, int]:
    """outstanding_count for every agency at once (for the daily reminders): {agency id:
    updates still to submit}; empty unless it is the quarter updates are written for."""
    if quarter != update_quarter(plan_quarters(quarter.plan)):
        return {}
    counts: dict[int, int] = {}
    for row in owed_updates(quarter):
        if row.outstanding:
            counts[row.action.lead_agency_id] = counts.get(row.action.lead_agency_id, 0) + 1
    return counts


def reportable_actions(user):
    """The actions this user may write updates on: the manager any, a partner those their
    agencies lead; nobody else any."""
    if not (user and user.is_authenticated and user.is_active):
        return ReviewAction.objects.none()
    if user.is_manager:
        return ReviewAction.objects.all()
    if user.is_partner:
        return ReviewAction.objects.filter(lead_agency__members=user)
    return ReviewAction.objects.none()


def updates_visible_to(user):
    """The updates this user may read: the manager every one, a partner their agencies'."""
    if not (user and user.is_authenticated and user.is_active):
        return ProgressUpdate.objects.none()
    if user.is_manager:
        return ProgressUpdate.objects.all()
    if user.is_partner:
        return ProgressUpdate.objects.filter(action__lead_agency__members=user)
    return ProgressUpdate.objects.none()


def evidence_visible_to(user):
    return UpdateEvidence.objects.filter(update__in=updates_visible_to(user))


@dataclass(frozen=True)
class AgencyOverdue:
    agency: object
    actions: list[ReviewAction]


def overdue_by_agency(today: datetime.date) -> list[AgencyOverdue]:
    """Open actions past their target date, by lead agency (most overdue first). One query."""
    by_agency: dict[int, AgencyOverdue] = {}
    for action in (
        ReviewAction.objects.overdue(today)
        .select_related("lead_agency", "recommendation__review")
        .order_by(
            "lead_agency__name",
            "recommendation__review__reference",
            "recommendation__number",
            "number",
        )
    ):
        by_agency.setdefault(
            action.lead_agency_id, AgencyOverdue(action.lead_agency, [])
        ).actions.append(action)
    return sorted(by_agency.values(), key=lambda row: (-len(row.actions), row.agency.name))


def closing_updates(agencies) -> list[ProgressUpdate]:
    """The approved updates that closed the agencies' actions, newest closure first: where
    a lead agency finds its closed actions and their evidence once they leave its list of
    open ones. One query."""
    return list(
        ProgressUpdate.objects.filter(
            action__lead_agency__in=list(agencies),
            action__closed_at__isnull=False,
            asks_to_close=True,
            state=ProgressUpdate.State.APPROVED,
        )
        .select_related("action__recommendation__review", "action__lead_agency")
        .order_by("-action__closed_at", "pk")
    )


def partner_home(agencies, open_quarters: list[Quarter]) -> dict:
    """The partner home's section: the agencies' open actions and this quarter's update on
    each, then their closed actions with the update whose evidence closed each
    (csp.views.home; templates/deathreviews/includes/progress_home.html)."""
    quarter = update_quarter(open_quarters)
    if not agencies:
        return {"quarter": quarter, "rows": [], "closed": []}
    return {
        "quarter": quarter,
        "rows": owed_updates(quarter, agencies),
        "closed": closing_updates(agencies),
    }


def waiting_for_review() -> int:
    """Submitted updates the manager has yet to review (the manager home's count)."""
    return ProgressUpdate.objects.filter(state=ProgressUpdate.State.SUBMITTED).count()
