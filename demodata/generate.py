"""Generated history at N times the seed's size, for the benchmark and the query-budget tests.

Scale N adds N × 71 actions spread over the Tunbridge Wells partnership's earlier plan years
(one closed plan a year, 2021/22 back to 2002/03 at most: up to scale 20 each plan repeats
the published plan's 71 actions, beyond that a plan holds several copies of them), each
with the published plan's 5 priorities, lead agencies and metrics and 4 closed quarters; a
return from every lead agency for every action and quarter, in every state; N × 5 users
(partners in agencies, a few managers and board members); and crime figures for Kent's 12
districts over up to 20 years, with county positions ranked from them.

Every row is found by its natural key (plan year and copy, username, area × crime type ×
year), so running it again at the same scale adds nothing and a higher scale adds only the
difference. It never writes a row of the seeded 2022/23 plan, nor the published crime
figures and county positions, and it leaves alone any plan it did not generate.

Rows go in with bulk_create, so generated rows have no simple-history records: the audit
trail records what people did, and nobody did this.
"""

import datetime
import random
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from actions.models import Action, Agency, Metric, QuarterlyReturn
from crimestats import positions
from crimestats.models import (
    Area,
    CountyPosition,
    CrimeFigure,
    CrimeType,
    PublishedYear,
    rate_per_thousand,
)
from csp import seed
from priorities.models import Partnership, Plan, Priority, Quarter

from . import demo_returns

LATEST_YEAR = 2021  # the year before the seeded 2022/23 plan
PLAN_YEARS = 20
CRIME_YEARS = 20
USERS_PER_SCALE = 5
BATCH_SIZE = 2000
MARKER = "generated history"

# How a closed year's returns ended up: mostly approved, a few of every other state.
STATES = (
    QuarterlyReturn.State.APPROVED,
    QuarterlyReturn.State.SENT_BACK,
    QuarterlyReturn.State.SUBMITTED,
    QuarterlyReturn.State.DRAFT,
)
STATE_WEIGHTS = (88, 5, 4, 3)

FIRST_NAMES = (  # noqa: SIM905
    "Alex Amira Ben Chloe Dev Elena Fatima George Hannah Imran Jack Kirsty Liam "
    "Maya Nadia Oliver Priya Rosa Sam Tom Uma Victor Will Yasmin Zoe"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Ahmed Baker Clarke Davies Evans Fisher Green Hughes Iqbal Jones Khan Lewis "
    "Morgan Nash Owen Patel Quinn Roberts Singh Taylor Underwood Vaughan Walker Young"
).split()


@dataclass
class Created:
    """What one run added, by kind of row."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, number: int) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + number

    def __str__(self) -> str:
        return ", ".join(f"{number} {kind}" for kind, number in self.counts.items()) or "nothing"


class HistoryError(Exception):
    pass


def generate(scale: int, progress: Callable[[str], None] | None = None) -> Created:
    """Bring the database up to ``scale`` times the seed. Needs the seed loaded."""
    if scale < 1:
        raise HistoryError("The scale is a whole number from 1.")
    template = Template.load()
    created = Created()
    users = ensure_users(scale, created)
    partnership = Partnership.objects.get(name=template.meta["partnership"])
    plans = {plan.financial_year: plan for plan in Plan.objects.filter(partnership=partnership)}
    layout = plan_layout(scale)
    for done, (year, copies) in enumerate(layout, start=1):
        plan = plans.get(year)
        if plan is not None and MARKER not in plan.title:
            if progress:
                progress(f"Left {plan} alone: it was not generated.")
            continue
        held = 0
        if plan is not None:
            held = Action.objects.in_plan(plan).count() // len(template.actions)
        for copy in range(held, copies):
            plan = add_copy(template, partnership, year, plan, copy, users, created)
        if progress and (done % 5 == 0 or done == len(layout)):
            progress(f"{done} of {len(layout)} plan years")
    ensure_crime_statistics(scale, created)
    if created.counts.get("returns") and connection.vendor == "postgresql":
        # A bulk load leaves the planner's statistics behind until autovacuum catches up;
        # a database that grew over years would have them, so plans are timed with them.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return created


# Plans -------------------------------------------------------------------------------------


def plan_layout(scale: int) -> list[tuple[int, int]]:
    """(financial year, copies of the published plan's 71 actions) of each generated plan:
    one copy a year for 20 years, then more copies per year. A higher scale never asks
    for fewer copies in a year."""
    years = min(scale, PLAN_YEARS)
    return [
        (LATEST_YEAR - index, scale // years + (1 if index < scale % years else 0))
        for index in range(years)
    ]


@dataclass(frozen=True)
class TemplateAction:
    ref: str
    priority_number: int
    number: int
    row: dict
    lead_ids: tuple[int, ...]
    reporter_ids: tuple[int, ...]  # the leads, and for "all partners" about half of the rest
    metrics: tuple[dict, ...]
    metric_bases: tuple[int | None, ...]


@dataclass(frozen=True)
class Template:
    """The published plan's shape, which every generated plan repeats."""

    meta: dict
    priorities: list[dict]
    actions: list[TemplateAction]
    actions_in: dict[int, int]  # priority number → how many actions it has

    @classmethod
    def load(cls) -> "Template":
        data = seed.read_json(seed.PLAN_FILE)
        agencies = dict(Agency.objects.values_list("name", "pk"))
        active = sorted(Agency.objects.active().values_list("name", "pk"))
        if not agencies:
            raise HistoryError("Load the published plan first: manage.py seed.")
        actions = []
        for index, row in enumerate(data["actions"]):
            priority_number, number = (int(part) for part in row["ref"].split("."))
            missing = [name for name in row["agencies"] if name not in agencies]
            if missing:
                raise HistoryError(f"No agency named {missing[0]!r}: run manage.py seed.")
            leads = tuple(agencies[name] for name in row["agencies"])
            reporters = leads
            if row["all_partners"]:
                # Any partner may report on an "all partners" action; about half do.
                reporters += tuple(
                    pk
                    for position, (_, pk) in enumerate(active)
                    if (position + index) % 2 == 0 and pk not in leads
                )
            actions.append(
                TemplateAction(
                    ref=row["ref"],
                    priority_number=priority_number,
                    number=number,
                    row=row,
                    lead_ids=leads,
                    reporter_ids=reporters,
                    metrics=tuple(row["metrics"]),
                    metric_bases=tuple(metric_base(row["ref"], m) for m in row["metrics"]),
                )
            )
        actions_in = {}
        for item in actions:
            actions_in[item.priority_number] = max(
                actions_in.get(item.priority_number, 0), item.number
            )
        return cls(
            meta=data["plan"],
            priorities=data["priorities"],
            actions=actions,
            actions_in=actions_in,
        )


def metric_base(ref: str, metric: dict) -> int | None:
    """The level a count metric runs at every quarter (as the demo returns draw it)."""
    if metric["kind"] != Metric.Kind.COUNT:
        return None
    words = set(metric["name"].lower().split())
    low, high = next(
        (bounds for bounds, names in demo_returns.COUNT_RANGES if words & set(names.split())),
        demo_returns.DEFAULT_COUNT_RANGE,
    )
    return random.Random(f"history-metric:{ref}:{metric['name']}").randint(low, high)


@transaction.atomic
def add_copy(
    template: Template,
    partnership: Partnership,
    year: int,
    plan: Plan | None,
    copy: int,
    users: "Users",
    created: Created,
) -> Plan:
    """One more copy of the published plan's actions in a plan year (creating the closed
    plan, its priorities and quarters first), with their metrics and returns."""
    if plan is None:
        plan = create_plan(template, partnership, year, created)
    rng = random.Random(f"history-plan:{partnership}:{year}:{copy}")
    quarters = list(plan.quarters.order_by("number"))
    priorities = {priority.number: priority for priority in plan.priorities.all()}
    actions = Action.objects.bulk_create(
        Action(
            priority=priorities[item.priority_number],
            # Copy 1 of priority 1's 13 actions is numbered 1.14 to 1.26, and so on.
            number=item.number + copy * template.actions_in[item.priority_number],
            description=item.row["description"],
            lead_agencies=item.row["lead_agencies"],
            all_partners=item.row["all_partners"],
            measure=item.row["measure"],
            outcome=item.row["outcome"],
        )
        for item in template.actions
    )
    Through = Action.agencies.through
    Through.objects.bulk_create(
        Through(action_id=action.pk, agency_id=agency_id)
        for action, item in zip(actions, template.actions, strict=True)
        for agency_id in item.lead_ids
    )
    metrics = Metric.objects.bulk_create(
        Metric(action=action, name=metric["name"], kind=metric["kind"], order=order)
        for action, item in zip(actions, template.actions, strict=True)
        for order, metric in enumerate(item.metrics, start=1)
    )
    metric_ids = {}
    for metric in metrics:
        metric_ids.setdefault(metric.action_id, []).append(metric.pk)

    returns = [
        history_return(rng, plan, quarter, action, item, agency_id, metric_ids, users)
        for quarter in quarters
        for action, item in zip(actions, template.actions, strict=True)
        for agency_id in item.reporter_ids
    ]
    with keeping_timestamps():
        QuarterlyReturn.objects.bulk_create(returns, batch_size=BATCH_SIZE)

    created.add("actions", len(actions))
    created.add("metrics", len(metrics))
    created.add("returns", len(returns))
    return plan


def create_plan(template: Template, partnership: Partnership, year: int, created: Created) -> Plan:
    plan = Plan.objects.create(
        partnership=partnership,
        financial_year=year,
        title=f"Community Safety Partnership Plan {year}-{(year + 1) % 100:02d} ({MARKER})",
        signed_off=datetime.date(year, 2, 17),
        assessment_start=datetime.date(year - 1, 1, 1),
        assessment_end=datetime.date(year - 1, 12, 31),
        state=Plan.State.CLOSED,
        return_due_days=template.meta["return_due_days"],
    )
    Quarter.objects.bulk_create(
        # A past year's quarters were all closed, its last one reported.
        Quarter(plan=plan, number=number, is_open=False, closed_at=timezone.now())
        for number in range(1, 5)
    )
    Priority.objects.bulk_create(
        Priority(
            plan=plan,
            number=row["number"],
            title=row["title"],
            short_title=row["short_title"],
            rationale=row["rationale"],
            recommendation=row["recommendation"],
        )
        for row in template.priorities
    )
    created.add("plans", 1)
    return plan


def history_return(rng, plan, quarter, action, item, agency_id, metric_ids, users):
    state = rng.choices(STATES, STATE_WEIGHTS)[0]
    submitter = users.member_of(agency_id, rng)
    reviewer = users.reviewer(rng)
    values = {}
    for metric_id, metric, base in zip(
        metric_ids.get(action.pk, []), item.metrics, item.metric_bases, strict=True
    ):
        if state == QuarterlyReturn.State.DRAFT and rng.random() < 0.5:
            continue  # a draft is half filled in
        if base is not None:
            values[str(metric_id)] = max(0, round(base * rng.uniform(0.75, 1.25)))
        elif metric["kind"] == Metric.Kind.YES_NO:
            values[str(metric_id)] = "yes" if rng.random() < 0.8 else "no"
        else:
            values[str(metric_id)] = rng.choice(demo_returns.TEXT_VALUES)

    quarter_end = plan.quarter_dates(quarter.number)[1]
    due = quarter_end + datetime.timedelta(days=plan.return_due_days)
    started = office_hours(rng, quarter_end + datetime.timedelta(days=1), 10)
    quarterly_return = QuarterlyReturn(
        action=action,
        agency_id=agency_id,
        quarter=quarter,
        values=values,
        state=state,
        created_by=submitter,
        updated_by=submitter,
        created_at=started,
        updated_at=started,
        version=1,
    )
    if state == QuarterlyReturn.State.DRAFT:
        return quarterly_return

    rag = rng.choices(list(demo_returns.RAG_WEIGHTS), list(demo_returns.RAG_WEIGHTS.values()))[0]
    quarterly_return.rag = rag
    quarterly_return.rag_reason = rng.choice(demo_returns.RAG_REASONS.get(rag, [""]))
    quarterly_return.narrative = f"Generated history: {rng.choice(demo_returns.NARRATIVES[rag])}"
    submitted_at = office_hours(
        rng, quarter_end + datetime.timedelta(days=2), (due - quarter_end).days
    )
    quarterly_return.submitted_by = submitter
    quarterly_return.submitted_at = quarterly_return.updated_at = submitted_at
    quarterly_return.created_at = min(started, submitted_at)
    if state == QuarterlyReturn.State.SUBMITTED:
        return quarterly_return

    reviewed_at = office_hours(rng, submitted_at.date() + datetime.timedelta(days=1), 8)
    quarterly_return.reviewed_by = quarterly_return.updated_by = reviewer
    quarterly_return.reviewed_at = quarterly_return.updated_at = reviewed_at
    quarterly_return.version = 2
    if state == QuarterlyReturn.State.SENT_BACK:
        quarterly_return.reviewer_comment = rng.choice(demo_returns.SEND_BACK_COMMENTS)
    return quarterly_return


def office_hours(rng: random.Random, first: datetime.date, days: int) -> datetime.datetime:
    """A weekday moment in office hours within ``days`` days from ``first``."""
    day = first + datetime.timedelta(days=rng.randrange(max(days, 1)))
    if day.weekday() >= 5:
        day += datetime.timedelta(days=7 - day.weekday())  # to the Monday
    moment = datetime.datetime.combine(
        day, datetime.time(rng.randint(9, 16), rng.randrange(0, 60, 5))
    )
    return timezone.make_aware(moment)


@contextmanager
def keeping_timestamps():
    """Let bulk_create keep the history's own created and updated times: auto_now would
    stamp every row with the moment it was generated."""
    fields = [QuarterlyReturn._meta.get_field(name) for name in ("created_at", "updated_at")]
    saved = [(each.auto_now, each.auto_now_add) for each in fields]
    for each in fields:
        each.auto_now = each.auto_now_add = False
    try:
        yield
    finally:
        for each, (auto_now, auto_now_add) in zip(fields, saved, strict=True):
            each.auto_now, each.auto_now_add = auto_now, auto_now_add


# Users -------------------------------------------------------------------------------------


@dataclass
class Users:
    """The generated users, to sign generated returns: partners submit their own agency's
    returns (the manager enters them for agencies without a generated partner), and a
    generated manager reviews."""

    members: dict[int, list[User]]
    managers: list[User]

    def member_of(self, agency_id: int, rng: random.Random) -> User | None:
        people = self.members.get(agency_id)
        if people:
            return rng.choice(people)
        return self.reviewer(rng)

    def reviewer(self, rng: random.Random) -> User | None:
        return rng.choice(self.managers) if self.managers else None


def username(index: int) -> tuple[str, str, str]:
    rng = random.Random(f"history-user:{index}")
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return f"{first}.{last}.{index}".lower(), first, last


def role_for(index: int) -> str:
    # Per ten people: one manager, one board member, eight partners.
    return {0: Role.MANAGER, 5: Role.BOARD}.get(index % 10, Role.PARTNER)


@transaction.atomic
def ensure_users(scale: int, created: Created) -> Users:
    wanted = {username(index)[0]: index for index in range(scale * USERS_PER_SCALE)}
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    agencies = list(Agency.objects.active().order_by("name").values_list("pk", flat=True))
    new_users = []
    for name, index in wanted.items():
        if name in existing:
            continue
        _, first, last = username(index)
        new_users.append(
            User(
                username=name,
                first_name=first,
                last_name=last,
                email=f"{name}@example.org",
                role=role_for(index),
                # Nobody signs in as a generated user; an unusable password costs no hashing.
                password=make_password(None),
            )
        )
    User.objects.bulk_create(new_users, batch_size=BATCH_SIZE)
    Membership = Agency.members.through
    memberships = []
    for user in new_users:
        if user.role != Role.PARTNER:
            continue
        rng = random.Random(f"history-membership:{user.username}")
        count = 2 if rng.random() < 0.2 else 1
        for agency_id in rng.sample(agencies, count):
            memberships.append(Membership(agency_id=agency_id, user_id=user.pk))
    Membership.objects.bulk_create(memberships, batch_size=BATCH_SIZE)
    created.add("users", len(new_users))

    users = list(User.objects.filter(username__in=wanted))
    by_pk = {user.pk: user for user in users}
    members: dict[int, list[User]] = {}
    for agency_id, user_id in Membership.objects.filter(user__in=users).values_list(
        "agency_id", "user_id"
    ):
        members.setdefault(agency_id, []).append(by_pk[user_id])
    return Users(
        members=members,
        managers=[user for user in users if user.role == Role.MANAGER],
    )


# Crime statistics --------------------------------------------------------------------------

DRUG_PARTS = ("Drug Trafficking", "Drug Possession")


def crime_years(scale: int) -> range:
    """Scale 1 fills in 2020 and 2021 for the other districts; each step adds a year
    further back, up to 20 years."""
    count = min(CRIME_YEARS, scale + 1)
    return range(LATEST_YEAR - count + 1, LATEST_YEAR + 1)


@transaction.atomic
def ensure_crime_statistics(scale: int, created: Created) -> None:
    """Crime figures for every district, crime type and year, believable against Tunbridge
    Wells's published ones, and county positions ranked from them for years without any."""
    areas = list(Area.objects.all())
    crime_types = {crime_type.name: crime_type for crime_type in CrimeType.objects.all()}
    home = next((area for area in areas if area.name == "Tunbridge Wells"), None)
    if home is None or not crime_types:
        raise HistoryError("Load the crime statistics first: manage.py seed.")
    published = dict(
        CrimeFigure.objects.filter(area=home, year=LATEST_YEAR).values_list(
            "crime_type__name", "count"
        )
    )
    existing = set(CrimeFigure.objects.values_list("area_id", "crime_type_id", "year"))
    years = crime_years(scale)

    figures = []
    for area in areas:
        area_rng = random.Random(f"history-area:{area.name}")
        level = 1.0 if area == home else area_rng.uniform(1.05, 1.7)
        for year in years:
            year_counts = district_counts(area, home, published, level, year)
            for name, count in year_counts.items():
                crime_type = crime_types[name]
                if (area.pk, crime_type.pk, year) not in existing:
                    figures.append(
                        CrimeFigure(area=area, crime_type=crime_type, year=year, count=count)
                    )
    CrimeFigure.objects.bulk_create(figures, batch_size=BATCH_SIZE)
    created.add("crime figures", len(figures))
    # History is published history: the board reads it (crimestats.publishing).
    PublishedYear.objects.bulk_create(
        [PublishedYear(area=area, year=year) for area in areas for year in years],
        ignore_conflicts=True,
    )

    # Rank only years nobody has published positions for: a published position stands.
    ranked_years = set(CountyPosition.objects.values_list("year", flat=True).distinct())
    stored = {
        (area_id, crime_type_id, year): count
        for area_id, crime_type_id, year, count in CrimeFigure.objects.filter(
            year__in=[year for year in years if year not in ranked_years]
        ).values_list("area_id", "crime_type_id", "year", "count")
    }
    ranked = []
    for year in years:
        if year in ranked_years:
            continue
        for crime_type in crime_types.values():
            rates = {
                area.pk: rate_per_thousand(stored[(area.pk, crime_type.pk, year)], area.population)
                for area in areas
                if (area.pk, crime_type.pk, year) in stored
            }
            for area_id, (position, tied) in positions.rank(rates).items():
                ranked.append(
                    CountyPosition(
                        area_id=area_id,
                        crime_type=crime_type,
                        year=year,
                        position=position,
                        tied=tied,
                    )
                )
    CountyPosition.objects.bulk_create(ranked, batch_size=BATCH_SIZE)
    created.add("county positions", len(ranked))


def district_counts(area, home, published, level, year) -> dict[str, int]:
    """One district's counts for one year: Tunbridge Wells's published rates scaled by the
    district's level, drifting a few per cent a year, with parts that add up."""
    rng = random.Random(f"history-crime:{area.name}:{year}")
    population_ratio = (area.population or 1) / (home.population or 1)
    drift = 1 + 0.015 * (LATEST_YEAR - year)
    counts = {}
    for name, published_count in published.items():
        if name in ("Victim-based crime", "Drug offences"):
            continue
        noise = rng.uniform(0.85, 1.15)
        counts[name] = max(0, round(published_count * population_ratio * level * drift * noise))
    if "All crime" in counts:
        counts["Victim-based crime"] = round(counts["All crime"] * rng.uniform(0.82, 0.88))
    if all(part in counts for part in DRUG_PARTS):
        counts["Drug offences"] = sum(counts[part] for part in DRUG_PARTS)
    return counts
