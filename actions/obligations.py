"""Who owes a return, and what has come in: the one answer for every page, download, e-mail
and command.

The rule (DESIGN §9, issue 11):

- For each action and quarter a return is **owed** by each active lead agency the plan
  names (the action's agency links).
- An action that names no active lead agency is owed by its **accountable agency** where
  the manager chose one (``Action.accountable_agency``), else by the partnership's
  **coordinating agency**, so someone is always accountable.
- A **withdrawn** action (``Action.withdrawn_from``) is owed by nobody from the quarter it
  was withdrawn from; its returns stay and count as contributions.
- Where the plan says "All partners", "All relevant agencies" or "… and partners"
  (``Action.all_partners``), every other active agency may **contribute** a return. A
  contribution is optional: never missing, overdue or reminded. Once submitted it is
  reviewed and counted as received (and so as expected) like any other.
- A return that exists from an agency that does not owe it (an agency made inactive since,
  or no longer linked) is treated as a contribution too: counted once received, never
  missing.

Received means submitted or approved; missing means owed and not received; overdue means
missing after the due date. On time and late go by the latest submission.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.utils import timezone

from priorities.models import Partnership, Quarter

from .models import Action, Agency, QuarterlyReturn

State = QuarterlyReturn.State
NOT_STARTED = "not_started"
RECEIVED = (State.SUBMITTED, State.APPROVED)

ON_TIME, LATE, MISSING, NOT_DUE = "on_time", "late", "missing", "not_due"
TIMELINESS_LABELS = {ON_TIME: "On time", LATE: "Late", MISSING: "Missing", NOT_DUE: "Not due yet"}


def is_coordinating_agency() -> Q:
    """Picks out the partnership's coordinating agency (``Partnership.coordinating_agency``,
    set on the partnership page), which owes the returns of actions that name no lead
    agency. Agencies are not held per partnership, so this is whichever active agency
    coordinates a partnership: with one partnership per deployment, that partnership's."""
    return Q(Exists(Partnership.objects.filter(coordinating_agency=OuterRef("pk"))), active=True)


def coordinating_agency_among(agencies: Iterable[Agency]) -> Agency | None:
    """The coordinating agency, if among these (already read) agencies: the same rule as
    is_coordinating_agency, for rows in hand. Rows annotated ``with_coordinating`` answer
    without a query; otherwise one query reads which agencies coordinate."""
    agencies = list(agencies)
    if agencies and all(hasattr(agency, "coordinating") for agency in agencies):
        return next((a for a in agencies if a.active and a.coordinating), None)
    coordinating = set(Partnership.objects.values_list("coordinating_agency_id", flat=True))
    return next((a for a in agencies if a.active and a.pk in coordinating), None)


def with_coordinating(agencies):
    """The agencies, each marked ``coordinating`` (for coordinating_agency_among)."""
    return agencies.annotate(
        coordinating=ExpressionWrapper(is_coordinating_agency(), BooleanField())
    )


def is_past_due(quarter: Quarter, today: datetime.date) -> bool:
    return today > quarter.due


@dataclass(frozen=True)
class Obligation:
    """One agency's return for one action in one quarter: owed, or offered as a
    contribution; and how far it has got."""

    action: Action
    agency: Agency
    quarter: Quarter
    required: bool  # owed; otherwise an optional contribution
    today: datetime.date
    state: str = NOT_STARTED  # a QuarterlyReturn.State, or "not_started"
    submitted_at: datetime.datetime | None = None
    return_id: int | None = None

    @property
    def optional(self) -> bool:
        return not self.required

    @property
    def exists(self) -> bool:
        return self.return_id is not None

    @property
    def received(self) -> bool:
        return self.state in RECEIVED

    @property
    def approved(self) -> bool:
        return self.state == State.APPROVED

    @property
    def expected(self) -> bool:
        """Counted among the returns expected: owed, or a contribution that has come in."""
        return self.required or self.received

    @property
    def missing(self) -> bool:
        return self.required and not self.received

    @property
    def due(self) -> datetime.date:
        return self.quarter.due

    @property
    def overdue(self) -> bool:
        return self.missing and is_past_due(self.quarter, self.today)

    @property
    def timeliness(self) -> str:
        """On time or late once received; missing or not due yet while owed; nothing for
        a contribution not (yet) made."""
        if self.received:
            if self.submitted_at is None:
                return ""
            submitted_on = timezone.localdate(self.submitted_at)
            return ON_TIME if submitted_on <= self.quarter.due else LATE
        if not self.required:
            return ""
        return MISSING if is_past_due(self.quarter, self.today) else NOT_DUE

    @property
    def timeliness_label(self) -> str:
        return TIMELINESS_LABELS.get(self.timeliness, "")


def owers(leads: set[int], coordinator: Agency | None, accountable: int | None = None) -> set[int]:
    """The agencies (ids) that owe an action's return, given its active lead agencies and
    its accountable agency (its id, if active). owing_agencies says the same in SQL
    (tests/test_obligations.py holds them together)."""
    if leads:
        return leads
    if accountable:
        return {accountable}
    return {coordinator.pk} if coordinator else set()


def owing_agencies(action: Action):
    """The agencies that owe the action's return each quarter it is owed, as a queryset
    (one query when read): its active lead agencies; where it names none, its accountable
    agency if active, else the coordinating agency."""
    active_leads = Action.agencies.through.objects.filter(action=action, agency__active=True)
    active_accountable = Agency.objects.active().filter(pk=action.accountable_agency_id)
    fallback = Q(pk=action.accountable_agency_id) | (
        is_coordinating_agency() & ~Exists(active_accountable)
    )
    # pk__in rather than a join on actions, which would repeat an agency once per action.
    leads = Action.agencies.through.objects.filter(action=action).values("agency_id")
    return Agency.objects.active().filter(Q(pk__in=leads) | (fallback & ~Exists(active_leads)))


def obligations(
    quarters: Iterable[Quarter],
    *,
    agencies: Iterable[Agency] | None = None,
    actions: Iterable[Action] | None = None,
    offered: bool = False,
    today: datetime.date | None = None,
) -> list[Obligation]:
    """Every return owed in the quarters, and every contribution that exists, in plan
    order (quarter, priority, action, agency name).

    ``agencies`` keeps those agencies' rows only; ``actions`` those actions'. With
    ``offered``, contributions the agencies may make but have not started are listed too
    (the partner home). Four queries (three given the actions), whatever the number of
    actions or returns.
    """
    today = today or timezone.localdate()
    quarters = sorted(quarters, key=lambda q: (q.plan.financial_year, q.number))
    if not quarters:
        return []
    plans = {quarter.plan_id for quarter in quarters}
    agency_ids = None if agencies is None else {agency.pk for agency in agencies}
    if actions is None:
        action_list = list(Action.objects.filter(priority__plan__in=plans).with_plan_order())
    else:
        action_list = [action for action in actions if action.priority.plan_id in plans]
    by_pk = {action.pk: action for action in action_list}

    leads: dict[int, set[int]] = {pk: set() for pk in by_pk}
    for action_id, agency_id in Action.agencies.through.objects.filter(
        action_id__in=by_pk, agency__active=True
    ).values_list("action_id", "agency_id"):
        leads[action_id].add(agency_id)

    returns = QuarterlyReturn.objects.filter(quarter__in=quarters)
    if actions is not None:
        returns = returns.filter(action_id__in=by_pk)
    if agency_ids is not None:
        returns = returns.filter(agency_id__in=agency_ids)
    found = {
        (action_id, agency_id, quarter_id): (pk, state, submitted_at)
        for pk, action_id, agency_id, quarter_id, state, submitted_at in returns.values_list(
            "pk", "action_id", "agency_id", "quarter_id", "state", "submitted_at"
        )
    }

    started: dict[tuple[int, int], set[int]] = {}
    for action_id, agency_id, quarter_id in found:
        started.setdefault((action_id, quarter_id), set()).add(agency_id)
    # Every agency the rows may name, and the coordinating agency, in one query.
    wanted = {agency_id for ids in leads.values() for agency_id in ids}
    wanted |= {agency_id for _, agency_id, _ in found}
    wanted |= {a.accountable_agency_id for a in action_list if a.accountable_agency_id}
    named = Q(pk__in=wanted) | is_coordinating_agency()
    if offered and agency_ids:
        named |= Q(pk__in=agency_ids, active=True)
    agency_by_pk = (
        Agency.objects.filter(named)
        .annotate(coordinating=ExpressionWrapper(is_coordinating_agency(), BooleanField()))
        .in_bulk()
    )
    coordinator = next((a for a in agency_by_pk.values() if a.coordinating), None)
    owed = {
        action.pk: owers(leads[action.pk], coordinator, _active(agency_by_pk, action))
        for action in action_list
    }
    if agency_ids is not None:
        agency_by_pk = {pk: agency for pk, agency in agency_by_pk.items() if pk in agency_ids}

    rows = []
    for quarter in quarters:
        for action in action_list:
            if action.priority.plan_id != quarter.plan_id:
                continue
            required = owed[action.pk] if action.owed_in(quarter) else set()
            candidates = required | started.get((action.pk, quarter.pk), set())
            if offered and action.all_partners and agency_ids:
                candidates |= {
                    pk for pk in agency_ids if pk in agency_by_pk and agency_by_pk[pk].active
                }
            for agency_id in candidates:
                agency = agency_by_pk.get(agency_id)
                if agency is None:
                    continue
                pk, state, submitted_at = found.get(
                    (action.pk, agency_id, quarter.pk), (None, NOT_STARTED, None)
                )
                rows.append(
                    Obligation(
                        action=action,
                        agency=agency,
                        quarter=quarter,
                        required=agency_id in required,
                        today=today,
                        state=state,
                        submitted_at=submitted_at,
                        return_id=pk,
                    )
                )
    # Stable: quarters, then actions in plan order, then agencies by name.
    position = {action.pk: index for index, action in enumerate(action_list)}
    quarter_position = {quarter.pk: index for index, quarter in enumerate(quarters)}
    rows.sort(
        key=lambda row: (
            quarter_position[row.quarter.pk],
            position[row.action.pk],
            row.agency.name.lower(),
        )
    )
    return rows


def _active(agency_by_pk: dict, action: Action) -> int | None:
    """The action's accountable agency's id, if it is active."""
    agency = agency_by_pk.get(action.accountable_agency_id)
    return agency.pk if agency is not None and agency.active else None


@dataclass
class Tally:
    """Returns expected, received, approved and missing; on time and late."""

    expected: int = 0
    received: int = 0
    approved: int = 0
    missing: int = 0
    overdue: int = 0
    on_time: int = 0
    late: int = 0

    def add(self, obligation: Obligation) -> None:
        if not obligation.expected:
            return
        self.expected += 1
        self.received += obligation.received
        self.approved += obligation.approved
        self.missing += obligation.missing
        self.overdue += obligation.overdue
        self.on_time += obligation.timeliness == ON_TIME
        self.late += obligation.timeliness == LATE

    @classmethod
    def of(cls, rows: Iterable[Obligation]) -> "Tally":
        tally = cls()
        for row in rows:
            tally.add(row)
        return tally
