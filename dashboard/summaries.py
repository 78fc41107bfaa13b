"""The board's picture of the plan, as plain functions over the database.

Per priority: returns expected, received, approved and missing in a quarter, and the RAG
split of the approved returns; the actions that turned red or amber since the quarter
before; the completeness grid of every return's state and timeliness with each agency's
reporting rate; and each action's approved figures by quarter for the priority page.

Who owes a return, and what counts as received, approved, missing, on time or late, is
``actions.obligations``: these functions only add it up. Which quarter a page shows is
``priorities.quarters``.

Each function runs a fixed number of queries, whatever the number of actions, agencies or
returns.

Who may see what:
- RAG statuses, figures and narratives come from ``QuarterlyReturn.objects.visible_to(user)
  .approved()``: approved returns only, for every role (the board's picture is the approved
  one), and for a partner only their own agencies' returns.
- Counts of returns by state ("received", "approved", "missing") are not figures from the
  return, so they count every return for every role. A single return's state is shown as
  the viewer may know it (``actions.states.known_state``): the board, which sees approved
  returns only, reads "No approved return yet" for any other.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from actions import obligations as owing
from actions.models import Action, Agency, Metric, QuarterlyReturn
from actions.obligations import LATE, MISSING, ON_TIME, TIMELINESS_LABELS, is_past_due
from actions.states import known_state, state_label
from actions.targets import format_value
from priorities.models import Plan, Priority, Quarter

RAG = QuarterlyReturn.RAG
RAG_ORDER = (RAG.RED, RAG.AMBER, RAG.GREEN, RAG.COMPLETE, RAG.NOT_STARTED)
# How bad a RAG status is, for "turned red or amber": green, complete and not started are
# all fine, amber is worse, red worst. Red → amber is an improvement, not a turn.
SEVERITY = {RAG.RED: 2, RAG.AMBER: 1}


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


@dataclass(frozen=True)
class Direction:
    """Which way a priority moved since the quarter before."""

    key: str  # "better", "same", "worse" or "none"
    words: str
    arrow: str


BETTER = Direction("better", "Better", "↑")
SAME = Direction("same", "Same", "→")
WORSE = Direction("worse", "Worse", "↓")
NO_COMPARISON = Direction("none", "No earlier quarter to compare", "")


def rag_score(picture: PriorityPicture) -> float | None:
    """The share of approved returns on track (green or complete) less the share off track
    (red or amber), from -1 to 1; None with no approved return rated."""
    total = picture.rag_total
    if not total:
        return None
    good = picture.rag.get(RAG.GREEN, 0) + picture.rag.get(RAG.COMPLETE, 0)
    bad = picture.rag.get(RAG.RED, 0) + picture.rag.get(RAG.AMBER, 0)
    return (good - bad) / total


def direction(now: PriorityPicture, before: PriorityPicture | None) -> Direction:
    """Better, same or worse since the quarter before, from the RAG split of approved
    returns (``rag_score``): better when more of them are on track, worse when fewer. A
    move under 5 points of the score is the same."""
    current = rag_score(now)
    earlier = rag_score(before) if before is not None else None
    if current is None or earlier is None:
        return NO_COMPARISON
    if current - earlier > 0.05:
        return BETTER
    if earlier - current > 0.05:
        return WORSE
    return SAME


def priority_pictures(
    plan: Plan, quarter: Quarter, user, today=None, rows: list[owing.Obligation] | None = None
) -> list[PriorityPicture]:
    """Returns expected, received, approved and missing per priority in the quarter
    (actions.obligations: owed returns, and contributions once received; ``rows`` if
    already fetched), and the RAG split of the approved returns the user may see. Six
    queries."""
    pictures = {
        priority.pk: PriorityPicture(priority) for priority in plan.priorities.order_by("number")
    }
    if rows is None:
        rows = owing.obligations([quarter], today=today)
    for obligation in rows:
        if obligation.expected:
            picture = pictures[obligation.action.priority_id]
            picture.expected += 1
            picture.received += obligation.received
            picture.approved += obligation.approved

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


@dataclass
class BoardPicture:
    """The board home: each priority's RAG split in the reporting quarter, its direction
    since the quarter before, and the red and amber returns."""

    quarter: Quarter
    previous: Quarter | None
    rows: list[tuple[PriorityPicture, Direction]]
    exceptions: list[QuarterlyReturn]


def board_picture(plan: Plan, quarter: Quarter, previous: Quarter | None, user, today=None):
    """Ten queries at most: both quarters' obligations at once, each quarter's RAG split,
    and the exceptions."""
    both = [each for each in (previous, quarter) if each is not None]
    rows = owing.obligations(both, today=today)
    pictures = priority_pictures(
        plan, quarter, user, today, [row for row in rows if row.quarter.pk == quarter.pk]
    )
    before = {}
    if previous is not None:
        earlier = [row for row in rows if row.quarter.pk == previous.pk]
        before = {
            picture.priority.pk: picture
            for picture in priority_pictures(plan, previous, user, today, earlier)
        }
    exceptions = list(
        QuarterlyReturn.objects.visible_to(user)
        .approved()
        .filter(quarter=quarter, rag__in=[RAG.RED, RAG.AMBER])
        .with_context()
        .order_by("action__priority__number", "action__number", "agency__name")
    )
    return BoardPicture(
        quarter=quarter,
        previous=previous,
        rows=[
            (picture, direction(picture, before.get(picture.priority.pk))) for picture in pictures
        ],
        exceptions=exceptions,
    )


# Completeness: every return's state and timeliness ------------------------------------------

NOT_REQUIRED = "not_required"


@dataclass(frozen=True)
class Cell:
    """One agency's return for one action in one quarter, as the grid shows it to a user."""

    quarter: Quarter
    state: str  # as the user may know it (actions.states.known_state), or "not_required"
    timeliness: str = ""
    expected: bool = False
    received: bool = False
    submitted_on: datetime.date | None = None
    # Set only where the user may open the return (the board: approved ones).
    return_id: int | None = None

    @property
    def state_label(self) -> str:
        return "Not required" if self.state == NOT_REQUIRED else state_label(self.state)

    @property
    def timeliness_label(self) -> str:
        return TIMELINESS_LABELS.get(self.timeliness, "")

    @property
    def text(self) -> str:
        """The cell in words, as downloaded: "Approved, on time"."""
        if not self.timeliness:
            return self.state_label
        return f"{self.state_label}, {self.timeliness_label.lower()}"


def cell_for(obligation: owing.Obligation | None, quarter: Quarter, user, visible) -> Cell:
    if obligation is None:
        return Cell(quarter=quarter, state=NOT_REQUIRED)
    submitted = obligation.submitted_at
    return Cell(
        quarter=quarter,
        state=known_state(obligation.state, user),
        timeliness=obligation.timeliness,
        expected=obligation.expected,
        received=obligation.received,
        submitted_on=timezone.localdate(submitted) if submitted else None,
        return_id=obligation.return_id if obligation.return_id in visible else None,
    )


@dataclass
class GridRow:
    action: Action
    agency: Agency
    lead: bool  # owes the return (a lead agency, or the coordinating agency)
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
    # Actions whose owed return for the chosen quarter has not been received.
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
    rows: list[owing.Obligation] | None = None,
) -> Completeness:
    """The grid of actions × quarters: each return's state and timeliness, grouped by
    priority, with each agency's reporting rate and what it has outstanding in
    ``quarter``. Five queries.

    Rows are the obligations of actions.obligations: each agency that owes the action's
    return, and each agency that has started a contribution; a contributor's return is
    "not required" in quarters where it has none.
    """
    today = today or timezone.localdate()
    if rows is None:
        rows = owing.obligations(quarters, today=today)
    visible = set(
        QuarterlyReturn.objects.visible_to(user)
        .filter(quarter__in=quarters)
        .values_list("pk", flat=True)
    )
    by_pair: dict[tuple[int, int], dict[int, owing.Obligation]] = {}
    for obligation in rows:
        pair = (obligation.action.pk, obligation.agency.pk)
        by_pair.setdefault(pair, {})[obligation.quarter.pk] = obligation
    actions = {obligation.action.pk: obligation.action for obligation in rows}
    agencies = {obligation.agency.pk: obligation.agency for obligation in rows}

    grids: dict[int, PriorityGrid] = {}
    rates: dict[int, AgencyRate] = {}
    ordered = sorted(
        by_pair,
        key=lambda pair: (
            actions[pair[0]].priority.number,
            actions[pair[0]].number,
            agencies[pair[1]].name.lower(),
        ),
    )
    for action_id, agency_id in ordered:
        action, agency = actions[action_id], agencies[agency_id]
        found = by_pair[(action_id, agency_id)]
        rate = rates.setdefault(agency_id, AgencyRate(agency))
        cells = []
        for each in quarters:
            obligation = found.get(each.pk)
            cells.append(cell_for(obligation, each, user, visible))
            if obligation is None or not obligation.expected:
                continue
            if is_past_due(each, today):
                rate.expected += 1
                rate.received += obligation.received
                rate.on_time += obligation.timeliness == ON_TIME
                rate.late += obligation.timeliness == LATE
            if quarter is not None and each == quarter and obligation.missing:
                rate.outstanding.append(action)
        lead = any(obligation.required for obligation in found.values())
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
    """The actions whose return the agency owes for the quarter and has not submitted
    (contributions are optional, so never outstanding)."""
    return [
        obligation.action
        for obligation in owing.obligations([quarter], agencies=[agency])
        if obligation.missing
    ]


# The quarterly report ---------------------------------------------------------------------


@dataclass
class PriorityReport:
    picture: PriorityPicture
    exceptions: list[QuarterlyReturn]  # approved: red or amber, or differing from the figures
    overdue: list[tuple[GridRow, Cell]]  # expected, past due and not received
    narratives: list[QuarterlyReturn]  # approved returns with a narrative

    @property
    def priority(self) -> Priority:
        return self.picture.priority


def quarterly_report(plan: Plan, quarter: Quarter, user, today=None) -> list[PriorityReport]:
    """Per priority: the picture, the exceptions (red, amber, overdue) and the approved
    narratives. Eight queries."""
    today = today or timezone.localdate()
    rows = owing.obligations([quarter], today=today)
    pictures = priority_pictures(plan, quarter, user, today, rows)
    grid = completeness(plan, [quarter], user, today=today, rows=rows)
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
        if cell.timeliness == MISSING:  # owed, past due and not received
            overdue[priority.pk].append((row, cell))
    return [
        PriorityReport(
            picture=picture,
            exceptions=[
                r
                for r in by_priority[picture.priority.pk]
                if r.rag in (RAG.RED, RAG.AMBER) or r.rag_differs
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


def progress_status(progress: list[ActionProgress]) -> PriorityPicture | None:
    """The priority page's opening summary: its actions' latest approved RAG statuses (each
    agency's, as at the page's quarter), counted like the dashboard's picture."""
    if not progress:
        return None
    status = PriorityPicture(progress[0].action.priority)
    for item in progress:
        for quarterly_return in item.latest:
            status.rag[quarterly_return.rag] = status.rag.get(quarterly_return.rag, 0) + 1
    status.expected = len(progress)
    status.received = sum(1 for item in progress if item.latest)
    return status


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
    if metric.kind == Metric.Kind.MONEY:
        amounts = [value for value in values if isinstance(value, int)]
        return (format_value(metric, sum(amounts)), None) if amounts else ("–", None)
    if metric.kind == Metric.Kind.PERCENTAGE:
        return "; ".join(format_value(metric, value) for value in values), None
    if metric.kind == Metric.Kind.YES_NO:
        yes, no = values.count("yes"), values.count("no")
        if len(values) == 1:
            return ("Yes" if yes else "No"), None
        return f"{yes} yes, {no} no", None
    return "; ".join(dict.fromkeys(str(value) for value in values)), None


def priority_progress(
    priority: Priority, quarters: list[Quarter], user, upto: Quarter | None = None
) -> list[ActionProgress]:
    """Each action of the priority with each agency's latest approved RAG and narrative up
    to ``upto`` (the page's quarter; default the last), and every metric's approved values
    by quarter (counts added up across agencies). Three queries."""
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
            if upto is None or quarterly_return.quarter.number <= upto.number:
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
