"""The board's picture of the plan, as plain functions over the database.

Per priority: returns expected, received, approved and missing in a quarter, and the RAG
split of the approved returns; the actions that turned red or amber since the quarter
before; the completeness grid of every return's state and timeliness with each agency's
reporting rate; and each action's approved figures by quarter for the priority page.

Each function runs a fixed number of queries, whatever the number of actions, agencies or
returns: counts are aggregated in the database, and where every return is needed (the grid)
it comes back in one query as plain values.

Who may see what:
- RAG statuses, figures and narratives come from ``QuarterlyReturn.objects.visible_to(user)
  .approved()``: approved returns only, for every role (the board's picture is the approved
  one), and for a partner only their own agencies' returns.
- Counts of returns by state ("received", "approved", "missing") and a return's state in the
  grid are not figures from the return, so they count every return for every role: the board
  may know that a return has been submitted and is waiting for review, not what it says.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery
from django.utils import timezone

from actions.models import Action, Agency, Metric, QuarterlyReturn
from csp.querystring import whole_number
from priorities.models import Plan, Priority, Quarter

State = QuarterlyReturn.State
RAG = QuarterlyReturn.RAG
# A return in one of these states has been received (as in actions.reporting).
RECEIVED = (State.SUBMITTED, State.APPROVED)
RAG_ORDER = (RAG.RED, RAG.AMBER, RAG.GREEN, RAG.COMPLETE, RAG.NOT_STARTED)
# How bad a RAG status is, for "turned red or amber": green, complete and not started are
# all fine, amber is worse, red worst. Red → amber is an improvement, not a turn.
SEVERITY = {RAG.RED: 2, RAG.AMBER: 1}

LeadLink = Action.agencies.through


# Quarters ----------------------------------------------------------------------------------


def plan_quarters(plan: Plan | None) -> list[Quarter]:
    if plan is None:
        return []
    return list(Quarter.objects.filter(plan=plan).select_related("plan").order_by("number"))


def default_quarter(quarters: list[Quarter], today: datetime.date | None = None):
    """The quarter the board is most likely reading: the latest with an approved return;
    before any is approved, the latest that has ended; early in the year, the first."""
    if not quarters:
        return None
    latest = (
        QuarterlyReturn.objects.approved()
        .filter(quarter__in=quarters)
        .aggregate(number=Max("quarter__number"))["number"]
    )
    by_number = {quarter.number: quarter for quarter in quarters}
    if latest in by_number:
        return by_number[latest]
    today = today or timezone.localdate()
    ended = [quarter for quarter in quarters if quarter.end < today]
    return ended[-1] if ended else quarters[0]


def chosen_quarter(quarters: list[Quarter], raw: str | None, today=None) -> Quarter | None:
    """The quarter asked for by number (?quarter=3); anything else gives the default."""
    by_number = {quarter.number: quarter for quarter in quarters}
    number = whole_number(raw)
    return by_number.get(number) or default_quarter(quarters, today)


def previous_quarter(quarters: list[Quarter], quarter: Quarter) -> Quarter | None:
    """The quarter before, in the same plan year (Q1 has none: the next year's plan has
    different actions)."""
    return next((other for other in quarters if other.number == quarter.number - 1), None)


def is_past_due(quarter: Quarter, today: datetime.date) -> bool:
    return today > quarter.due


# Per priority: returns and RAG ---------------------------------------------------------------


@dataclass
class PriorityPicture:
    """One priority in one quarter."""

    priority: Priority
    expected: int = 0
    received: int = 0
    approved: int = 0
    rag: dict[str, int] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        return self.expected - self.received

    @property
    def rag_counts(self) -> list[tuple[str, str, int]]:
        """(value, label, count) for each RAG status, worst first."""
        return [(rag.value, rag.label, self.rag.get(rag.value, 0)) for rag in RAG_ORDER]

    @property
    def rag_total(self) -> int:
        return sum(self.rag.get(rag.value, 0) for rag in RAG_ORDER)

    @property
    def rag_summary(self) -> str:
        """ "2 red, 1 amber, 9 green", leaving out the statuses none has."""
        return ", ".join(f"{count} {label.lower()}" for _, label, count in self.rag_counts if count)


def _lead_links(plan: Plan):
    """The returns each quarter is owed: one per action and each of its active lead agencies
    (for an action open to all partners, the agencies linked to it, as the reminders do)."""
    return LeadLink.objects.filter(action__priority__plan=plan, agency__active=True)


def priority_pictures(plan: Plan, quarter: Quarter, user) -> list[PriorityPicture]:
    """Returns expected, received, approved and missing per priority in the quarter, and the
    RAG split of the approved returns the user may see. Four queries.

    A return is expected from each active lead agency, and from any other agency that has
    started one (an action open to all partners); so received never exceeds expected.
    """
    pictures = {
        priority.pk: PriorityPicture(priority) for priority in plan.priorities.order_by("number")
    }
    for row in (
        _lead_links(plan).values("action__priority_id").annotate(links=Count("pk")).order_by()
    ):
        pictures[row["action__priority_id"]].expected += row["links"]

    # The plan's own lead links: over every plan's, PostgreSQL hashes all of them first.
    from_lead = _lead_links(plan).filter(
        action_id=OuterRef("action_id"), agency_id=OuterRef("agency_id")
    )
    for row in (
        QuarterlyReturn.objects.filter(quarter=quarter)
        .alias(from_lead=Exists(from_lead))
        .values("action__priority_id")
        .annotate(
            received=Count("pk", filter=Q(state__in=RECEIVED)),
            approved=Count("pk", filter=Q(state=State.APPROVED)),
            unlinked=Count("pk", filter=Q(from_lead=False)),
        )
        .order_by()
    ):
        picture = pictures[row["action__priority_id"]]
        picture.expected += row["unlinked"]
        picture.received = row["received"]
        picture.approved = row["approved"]

    for row in (
        QuarterlyReturn.objects.visible_to(user)
        .approved()
        .filter(quarter=quarter)
        .values("action__priority_id", "rag")
        .annotate(returns=Count("pk"))
        .order_by()
    ):
        pictures[row["action__priority_id"]].rag[row["rag"]] = row["returns"]
    return list(pictures.values())


@dataclass(frozen=True)
class RagChange:
    """An approved return whose RAG status is worse than the same agency's approved return
    for the action the quarter before."""

    quarterly_return: QuarterlyReturn
    previous_rag: str

    @property
    def previous_rag_label(self) -> str:
        return RAG(self.previous_rag).label if self.previous_rag in RAG.values else "Not given"


def turned_red_or_amber(quarter: Quarter, previous: Quarter | None, user) -> list[RagChange]:
    """Approved returns now red or amber whose agency's approved return for the action the
    quarter before was better (green, complete or not started; or amber, now red). A
    return with no approved one the quarter before has nothing to turn from: it shows in
    the report's exceptions, not here. One query."""
    if previous is None:
        return []
    approved = QuarterlyReturn.objects.visible_to(user).approved()
    before = approved.filter(
        quarter=previous, action_id=OuterRef("action_id"), agency_id=OuterRef("agency_id")
    ).order_by()
    returns = (
        approved.filter(quarter=quarter, rag__in=[RAG.RED, RAG.AMBER])
        .annotate(previous_rag=Subquery(before.values("rag")[:1]))
        .filter(previous_rag__isnull=False)
        .with_context()
        .order_by("action__priority__number", "action__number", "agency__name")
    )
    return [
        RagChange(quarterly_return, quarterly_return.previous_rag)
        for quarterly_return in returns
        if SEVERITY.get(quarterly_return.rag, 0) > SEVERITY.get(quarterly_return.previous_rag, 0)
    ]


# Completeness: every return's state and timeliness ------------------------------------------

NOT_STARTED = "not_started"
NOT_REQUIRED = "not_required"
STATE_LABELS = {
    NOT_STARTED: "Not started",
    NOT_REQUIRED: "Not required",
    **{state.value: state.label for state in State},
}

ON_TIME, LATE, MISSING, NOT_DUE = "on_time", "late", "missing", "not_due"
TIMELINESS_LABELS = {ON_TIME: "On time", LATE: "Late", MISSING: "Missing", NOT_DUE: "Not due yet"}


@dataclass(frozen=True)
class Cell:
    """One agency's return for one action in one quarter, as the grid shows it."""

    quarter: Quarter
    state: str
    timeliness: str = ""
    submitted_on: datetime.date | None = None
    # Set only where the user may open the return (the board: approved ones).
    return_id: int | None = None

    @property
    def expected(self) -> bool:
        return self.state != NOT_REQUIRED

    @property
    def received(self) -> bool:
        return self.state in RECEIVED

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def timeliness_label(self) -> str:
        return TIMELINESS_LABELS.get(self.timeliness, "")

    @property
    def text(self) -> str:
        """The cell in words, as downloaded: "Approved, on time"."""
        if not self.timeliness:
            return self.state_label
        return f"{self.state_label}, {self.timeliness_label.lower()}"


def classify(
    quarter: Quarter,
    state: str | None,
    submitted_at: datetime.datetime | None,
    expected: bool,
    today: datetime.date,
) -> tuple[str, str]:
    """(state, timeliness) of a return, or of a missing one (state None).

    On time: submitted (or approved) by the due date, going by its latest submission (a
    return sent back and resubmitted after the due date is late). Missing: past the due
    date and not submitted. A return not yet submitted before its due date is not due yet.
    """
    if state is None:
        if not expected:
            return NOT_REQUIRED, ""
        state = NOT_STARTED
    if state in RECEIVED:
        if submitted_at is None:
            return state, ""
        return state, ON_TIME if timezone.localdate(submitted_at) <= quarter.due else LATE
    return state, MISSING if is_past_due(quarter, today) else NOT_DUE


@dataclass
class GridRow:
    action: Action
    agency: Agency
    lead: bool
    cells: list[Cell]


@dataclass
class PriorityGrid:
    priority: Priority
    rows: list[GridRow]


@dataclass
class AgencyRate:
    """An agency's returns in the quarters whose due date has passed."""

    agency: Agency
    expected: int = 0
    received: int = 0
    on_time: int = 0
    late: int = 0
    # Actions whose return for the chosen quarter has not been received.
    outstanding: list[Action] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return self.expected - self.received

    @property
    def rate(self) -> int | None:
        """Returns received as a whole percentage of those due."""
        if not self.expected:
            return None
        return round(100 * self.received / self.expected)

    @property
    def rate_display(self) -> str:
        return "No returns due yet" if self.rate is None else f"{self.rate}%"


@dataclass
class Completeness:
    quarters: list[Quarter]
    quarter: Quarter | None
    priorities: list[PriorityGrid]
    agencies: list[AgencyRate]
    today: datetime.date

    @property
    def rows(self) -> list[tuple[Priority, GridRow]]:
        return [(grid.priority, row) for grid in self.priorities for row in grid.rows]


def completeness(
    plan: Plan,
    quarters: list[Quarter],
    user,
    quarter: Quarter | None = None,
    today: datetime.date | None = None,
) -> Completeness:
    """The grid of actions × quarters: each expected return's state and timeliness, grouped
    by priority, with each agency's reporting rate and what it has outstanding in
    ``quarter``. Five queries.

    Rows are each action's active lead agencies, and any other agency that has started a
    return for it (an action open to all partners); such an agency's return is "not
    required" in quarters where it has none.
    """
    today = today or timezone.localdate()
    actions = {action.pk: action for action in Action.objects.in_plan(plan).with_plan_order()}
    pairs = set(_lead_links(plan).values_list("action_id", "agency_id"))
    lead_pairs = set(pairs)
    returns = {}
    for pk, action_id, agency_id, quarter_id, state, submitted_at in QuarterlyReturn.objects.filter(
        quarter__in=quarters
    ).values_list("pk", "action_id", "agency_id", "quarter_id", "state", "submitted_at"):
        returns[(action_id, agency_id, quarter_id)] = (pk, state, submitted_at)
        pairs.add((action_id, agency_id))
    visible = set(
        QuarterlyReturn.objects.visible_to(user)
        .filter(quarter__in=quarters)
        .values_list("pk", flat=True)
    )
    agencies = Agency.objects.in_bulk({agency_id for _, agency_id in pairs})

    grids: dict[int, PriorityGrid] = {}
    rates: dict[int, AgencyRate] = {}
    ordered = sorted(
        (pair for pair in pairs if pair[0] in actions),
        key=lambda pair: (
            actions[pair[0]].priority.number,
            actions[pair[0]].number,
            agencies[pair[1]].name.lower(),
        ),
    )
    for action_id, agency_id in ordered:
        action, agency = actions[action_id], agencies[agency_id]
        lead = (action_id, agency_id) in lead_pairs
        rate = rates.setdefault(agency_id, AgencyRate(agency))
        cells = []
        for each in quarters:
            pk, state, submitted_at = returns.get((action_id, agency_id, each.pk), (None,) * 3)
            state, timeliness = classify(each, state, submitted_at, lead or pk is not None, today)
            cell = Cell(
                quarter=each,
                state=state,
                timeliness=timeliness,
                submitted_on=timezone.localdate(submitted_at) if submitted_at else None,
                return_id=pk if pk in visible else None,
            )
            cells.append(cell)
            if cell.expected and is_past_due(each, today):
                rate.expected += 1
                rate.received += cell.received
                rate.on_time += timeliness == ON_TIME
                rate.late += timeliness == LATE
            if quarter is not None and each == quarter and cell.expected and not cell.received:
                rate.outstanding.append(action)
        grid = grids.setdefault(action.priority_id, PriorityGrid(action.priority, []))
        grid.rows.append(GridRow(action, agency, lead, cells))

    return Completeness(
        quarters=quarters,
        quarter=quarter,
        priorities=list(grids.values()),
        agencies=sorted(rates.values(), key=lambda rate: rate.agency.name.lower()),
        today=today,
    )


def outstanding_actions(agency: Agency, quarter: Quarter) -> list[Action]:
    """The actions whose return the agency owes for the quarter and has not submitted:
    those it leads, and those it has started a return for. Two queries."""
    received = QuarterlyReturn.objects.filter(
        quarter=quarter, agency=agency, action_id=OuterRef("pk"), state__in=RECEIVED
    )
    started = QuarterlyReturn.objects.filter(
        quarter=quarter, agency=agency, action_id=OuterRef("pk")
    )
    led = LeadLink.objects.filter(action_id=OuterRef("pk"), agency=agency, agency__active=True)
    return list(
        Action.objects.in_plan(quarter.plan)
        .filter(Exists(led) | Exists(started))
        .exclude(Exists(received))
        .with_plan_order()
    )


# The quarterly report ---------------------------------------------------------------------


@dataclass
class PriorityReport:
    picture: PriorityPicture
    exceptions: list[QuarterlyReturn]  # approved returns rated red or amber
    overdue: list[tuple[GridRow, Cell]]  # expected, past due and not received
    narratives: list[QuarterlyReturn]  # approved returns with a narrative

    @property
    def priority(self) -> Priority:
        return self.picture.priority


def quarterly_report(plan: Plan, quarter: Quarter, user, today=None) -> list[PriorityReport]:
    """Per priority: the picture, the exceptions (red, amber, overdue) and the approved
    narratives. Ten queries."""
    today = today or timezone.localdate()
    pictures = priority_pictures(plan, quarter, user)
    grid = completeness(plan, [quarter], user, today=today)
    approved = list(
        QuarterlyReturn.objects.visible_to(user)
        .approved()
        .filter(quarter=quarter)
        .with_context()
        .order_by("action__priority__number", "action__number", "agency__name")
    )
    by_priority = defaultdict(list)
    for quarterly_return in approved:
        by_priority[quarterly_return.action.priority_id].append(quarterly_return)
    overdue = defaultdict(list)
    for priority, row in grid.rows:
        cell = row.cells[0]
        if cell.timeliness == MISSING:
            overdue[priority.pk].append((row, cell))
    return [
        PriorityReport(
            picture=picture,
            exceptions=[
                r for r in by_priority[picture.priority.pk] if r.rag in (RAG.RED, RAG.AMBER)
            ],
            overdue=overdue[picture.priority.pk],
            narratives=[r for r in by_priority[picture.priority.pk] if r.narrative.strip()],
        )
        for picture in pictures
    ]


# The priority page: each action's approved figures by quarter -------------------------------


@dataclass
class MetricRow:
    metric: Metric
    by_quarter: list[str]  # as shown, one per quarter
    totals: list[int | None]  # for count metrics: the sum of the approved returns' counts


@dataclass
class ActionProgress:
    action: Action
    latest: list[QuarterlyReturn]  # each agency's latest approved return
    metrics: list[MetricRow]

    @property
    def chart_rows(self) -> list[MetricRow]:
        return [row for row in self.metrics if any(total is not None for total in row.totals)]


def _shown(metric: Metric, values: list) -> tuple[str, int | None]:
    """Several agencies' values for one metric in one quarter, as one cell."""
    if not values:
        return "–", None
    if metric.kind == Metric.Kind.COUNT:
        counts = [value for value in values if isinstance(value, int)]
        if not counts:
            return "–", None
        total = sum(counts)
        return f"{total:,}", total
    if metric.kind == Metric.Kind.YES_NO:
        yes, no = values.count("yes"), values.count("no")
        if len(values) == 1:
            return ("Yes" if yes else "No"), None
        return f"{yes} yes, {no} no", None
    return "; ".join(dict.fromkeys(str(value) for value in values)), None


def priority_progress(priority: Priority, quarters: list[Quarter], user) -> list[ActionProgress]:
    """Each action of the priority with each agency's latest approved RAG and narrative, and
    every metric's approved values by quarter (counts added up across agencies). Three
    queries."""
    actions = list(
        priority.actions.select_related("priority").prefetch_related("metrics").order_by("number")
    )
    returns = list(
        QuarterlyReturn.objects.visible_to(user)
        .approved()
        .filter(action__priority=priority, quarter__in=quarters)
        .select_related("agency", "quarter", "quarter__plan")
        .order_by("action_id", "agency__name", "quarter__number")
    )
    by_action = defaultdict(list)
    for quarterly_return in returns:
        by_action[quarterly_return.action_id].append(quarterly_return)

    progress = []
    for action in actions:
        action_returns = by_action[action.pk]
        latest = {}
        for quarterly_return in action_returns:  # ordered by quarter: the last one wins
            latest[quarterly_return.agency_id] = quarterly_return
        rows = []
        for metric in action.metrics.all():
            shown, totals = [], []
            for quarter in quarters:
                values = [
                    r.values.get(str(metric.pk))
                    for r in action_returns
                    if r.quarter_id == quarter.pk and r.values.get(str(metric.pk)) is not None
                ]
                text, total = _shown(metric, values)
                shown.append(text)
                totals.append(total)
            rows.append(MetricRow(metric, shown, totals))
        progress.append(ActionProgress(action, list(latest.values()), rows))
    return progress
