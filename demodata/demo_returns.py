"""Demo accounts and demo returns for trying the app. Never for production.

The demo follows the app's rules: Q1 to Q3 are closed and Q4 open; a return sent back in a
closed quarter carries a lock exception with the send-back reason (as ``send_back`` grants),
so its agency can correct it; each send-back reason is about the return it was sent back
for.
"""

import copy
import datetime
import random

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from actions import targets
from actions.models import Action, Agency, LockException, Metric, QuarterlyReturn
from actions.obligations import obligations
from actions.services import change_reason
from priorities.models import Plan

DEMO_PASSWORD = "csp-demo-2022"

DEMO_ACCOUNTS = [
    # username, role, first name, last name, agency, superuser
    ("manager", Role.MANAGER, "Terry", "Hughes", None, False),
    ("board", Role.BOARD, "Bola", "Adeyemi", None, False),
    ("davss", Role.PARTNER, "Dana", "Vickers", "DAVSS", False),
    ("police", Role.PARTNER, "Pat", "Owens", "Kent Police", False),
    ("lookahead", Role.PARTNER, "Lou", "Ahmed", "Look Ahead", False),
    ("admin", Role.MANAGER, "Ada", "Minton", None, True),
]


@transaction.atomic
def create_demo_accounts() -> list[User]:
    users = []
    for username, role, first, last, agency_name, superuser in DEMO_ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username)
            user.set_password(DEMO_PASSWORD)
        user.role = role
        user.first_name, user.last_name = first, last
        user.email = f"{username}@example.org"
        user.is_superuser = user.is_staff = superuser
        user.save()
        if agency_name:
            user.agencies.add(Agency.objects.get(name=agency_name))
        users.append(user)
    return users


# Demo returns ----------------------------------------------------------------------------

DEMO_YEAR = 2022
DEMO_QUARTERS = (1, 2, 3)  # Q4 stays open and empty, for trying the return form
# Per quarter: how likely a lead agency's return is approved, sent back, submitted (and
# waiting for review) or missing. The latest quarter has more waiting and more missing.
OUTCOMES = ("approved", "sent_back", "submitted", "missing")
OUTCOME_WEIGHTS = {
    1: (82, 6, 4, 8),
    2: (76, 8, 6, 10),
    3: (55, 10, 20, 15),
}
RAG_WEIGHTS = {
    QuarterlyReturn.RAG.GREEN: 72,
    QuarterlyReturn.RAG.AMBER: 20,
    QuarterlyReturn.RAG.RED: 8,
}
NARRATIVES = {
    QuarterlyReturn.RAG.GREEN: [
        "Delivery on track; activity in line with the plan for the quarter.",
        "Work progressing as planned with good partner attendance.",
        "On target. Feedback from participants has been positive.",
        "All planned sessions delivered; referrals steady compared with last quarter.",
    ],
    QuarterlyReturn.RAG.AMBER: [
        "Most planned activity delivered, with some sessions moved to next quarter.",
        "Progress slower than planned; recovery plan agreed with partners.",
        "Activity delivered in part; numbers below the level expected.",
    ],
    QuarterlyReturn.RAG.RED: [
        "Activity paused this quarter; see reason for status.",
        "Not delivered this quarter; the board will be updated at its next meeting.",
    ],
}
RAG_REASONS = {
    QuarterlyReturn.RAG.AMBER: [
        "Staff vacancy slowed delivery this quarter.",
        "Venue booking fell through; two sessions moved to next quarter.",
        "Referral numbers below the expected level.",
        "Waiting for data from the county team.",
    ],
    QuarterlyReturn.RAG.RED: [
        "Funding for the post has not yet been confirmed.",
        "Service paused while the contract is re-tendered.",
        "Officers redeployed to a major operation for most of the quarter.",
    ],
}
# Kept for the generated history's sent-back returns, which nobody reads.
SEND_BACK_COMMENTS = [
    "Please give this quarter's figures only; these look like year-to-date totals.",
    "The narrative does not say what changed since last quarter. Please add a sentence.",
    "Please give Tunbridge Wells figures only, not the West Kent total.",
]
TEXT_VALUES = [
    "School assemblies and community events",
    "Town centre, the Pantiles and Southborough",
    "Paddock Wood and Cranbrook",
    "Drop-in sessions at the Town Hall",
    "Joint patrols in the town centre",
]
# Believable quarterly counts: the first range whose words appear in the metric's name.
COUNT_RANGES = [
    (
        (1, 12),
        "programmes events operations campaigns projects bids sessions schools gangs "
        "locations kits deployments presentations arrested",
    ),
    ((60, 140), "calls"),
    ((80, 200), "hours"),
    ((20, 120), "students attendees people"),
    ((10, 60), "referrals individuals perpetrators engagements reports"),
]
DEFAULT_COUNT_RANGE = (5, 40)


def demo_base(metric: Metric, action_ref: str) -> int:
    """The level a metric runs at every quarter, drawn for the metric alone."""
    words = set(metric.name.lower().split())
    low, high = next(
        (bounds for bounds, names in COUNT_RANGES if words & set(names.split())),
        DEFAULT_COUNT_RANGE,
    )
    return random.Random(f"demo-metric:{action_ref}:{metric.name}").randint(low, high)


def demo_count(metric: Metric, action_ref: str, rng: random.Random) -> int:
    # Each metric runs at a similar level every quarter, varied by up to a quarter either way.
    return max(0, round(demo_base(metric, action_ref) * rng.uniform(0.75, 1.25)))


# Every third count metric gets a target, so the return form shows a suggested RAG.
DEMO_TARGET_EVERY = 3


def set_demo_targets(actions, manager: User) -> None:
    """Targets for some count metrics: a year's total near four quarters of the metric's
    level (so some returns fall short), or for each quarter; never changes one already set."""
    counts = [
        metric
        for action in actions
        for metric in action.metrics.all()
        if metric.kind == Metric.Kind.COUNT
    ]
    for index, metric in enumerate(counts):
        if index % DEMO_TARGET_EVERY or metric.target is not None:
            continue
        base = demo_base(metric, metric.action.ref)
        rng = random.Random(f"demo-target:{metric.action.ref}:{metric.name}")
        if rng.random() < 0.7:
            metric.target_period = Metric.TargetPeriod.YEAR
            metric.target = round(base * 4 * rng.uniform(0.9, 1.15))
        else:
            metric.target_period = Metric.TargetPeriod.QUARTER
            metric.target = round(base * rng.uniform(0.9, 1.15))
        metric.target_direction = Metric.Direction.HIGHER
        metric.amber_tolerance = 10
        metric._history_user = manager
        metric._change_reason = "Demo data: a target for the suggested RAG"
        metric.save()


def suggest_demo_rags(returns: list[QuarterlyReturn], metrics_of) -> None:
    """Each demo return's suggested RAG against the approved returns before it; most
    partners take it, a few keep their own with a reason (as the form asks)."""
    approved: dict[tuple, list] = {}
    for quarterly_return in sorted(returns, key=lambda r: r.quarter.number):
        key = (quarterly_return.action_id, quarterly_return.agency_id)
        metrics = metrics_of[quarterly_return.action_id]
        earlier = {}
        for before in approved.get(key, []):
            for metric_key, value in before.values.items():
                earlier.setdefault(metric_key, []).append(value)
        suggestion = targets.suggest(
            metrics, quarterly_return.quarter.number, quarterly_return.values, earlier
        )
        quarterly_return.suggested_rag = suggestion.rag
        if suggestion.rag and suggestion.rag != quarterly_return.rag:
            rng = random.Random(f"demo-suggested:{quarterly_return.quarter.number}:{key}")
            if rng.random() < 0.85:
                quarterly_return.rag = suggestion.rag
                quarterly_return.rag_reason = rng.choice(RAG_REASONS.get(suggestion.rag, [""]))
                quarterly_return.narrative = (
                    f"Demo figures: {rng.choice(NARRATIVES[suggestion.rag])}"
                )
            else:
                quarterly_return.rag_override_reason = rng.choice(OVERRIDE_REASONS)
        if quarterly_return.state == QuarterlyReturn.State.APPROVED:
            approved.setdefault(key, []).append(quarterly_return)


OVERRIDE_REASONS = [
    "The figures lag: referrals made late in the quarter are counted next quarter.",
    "Two large sessions were booked for next quarter, which will close the gap.",
    "The county team's figures for the quarter are not yet complete.",
]


def demo_values(action: Action, metrics: list[Metric], rng: random.Random) -> dict[str, object]:
    values = {}
    for metric in metrics:
        if metric.kind == Metric.Kind.COUNT:
            values[str(metric.pk)] = demo_count(metric, action.ref, rng)
        elif metric.kind == Metric.Kind.YES_NO:
            values[str(metric.pk)] = "yes" if rng.random() < 0.8 else "no"
        else:
            values[str(metric.pk)] = rng.choice(TEXT_VALUES)
    return values


def working_time(rng: random.Random, first: datetime.date, last: datetime.date):
    """An office-hours moment on a weekday from ``first`` to ``last`` (a span of five
    days or more always holds a weekday)."""
    days = [
        first + datetime.timedelta(days=offset)
        for offset in range((last - first).days + 1)
        if (first + datetime.timedelta(days=offset)).weekday() < 5
    ]
    moment = datetime.datetime.combine(
        rng.choice(days), datetime.time(rng.randint(9, 16), rng.randrange(0, 60, 5))
    )
    return timezone.make_aware(moment)


def send_back_reason(
    quarterly_return: QuarterlyReturn, metrics: list[Metric], rng: random.Random
) -> str:
    """A reason that fits the return: about its red or amber status, one of its figures
    (which is then left blank, or made a year-to-date total), or its narrative."""
    quarter = quarterly_return.quarter
    rag = quarterly_return.rag
    counts = [metric for metric in metrics if metric.kind == Metric.Kind.COUNT]
    choices = ["narrative"] + (["status"] if rag in (RAG.AMBER, RAG.RED) else [])
    if counts:
        choices += ["blank", "year_to_date"] if quarter.number > 1 else ["blank"]
    choice = rng.choice(choices)
    if choice == "status":
        return (
            f'The return is {rag.label.lower()} because "{quarterly_return.rag_reason}" '
            "Please say what is being done about it and when you expect the action to be "
            "back on track."
        )
    if choice in ("blank", "year_to_date"):
        metric = rng.choice(counts)
        key = str(metric.pk)
        if choice == "blank":
            quarterly_return.values.pop(key, None)
            return f'"{metric.name}" is blank. Please add the figure, even if it is 0.'
        # Made to look like the total since April, which is what the reason says.
        quarterly_return.values[key] = quarterly_return.values.get(key, 0) * quarter.number
        return (
            f'"{metric.name}" reads {quarterly_return.values[key]}, which looks like the '
            f"total since April. Please give the figure for {quarter.months} only."
        )
    return (
        f"The narrative does not say what was done in {quarter.months}. Please add a "
        "sentence or two on this quarter's activity."
    )


RAG = QuarterlyReturn.RAG


def demo_plan() -> Plan:
    from csp import seed

    partnership = seed.read_json(seed.PLAN_FILE)["plan"]["partnership"]
    return Plan.objects.get(partnership__name=partnership, financial_year=DEMO_YEAR)


@transaction.atomic
def create_demo_returns(plan: Plan | None = None) -> list[QuarterlyReturn]:
    """Believable returns for Q1 to Q3 of the 2022/23 plan, with Q4 left open and empty.

    Deterministic (each action, agency and quarter draws from its own fixed seed) and
    idempotent: a pair that already has a return for a quarter is left alone, so running
    it again creates nothing. Needs the demo accounts. Returns the returns it created.
    """
    plan = plan or demo_plan()
    users = {
        user.username: user
        for user in User.objects.filter(username__in=[account[0] for account in DEMO_ACCOUNTS])
    }
    if "manager" not in users:
        raise RuntimeError("Create the demo accounts (create_demo_accounts) first.")
    manager = users["manager"]
    # Partners submit their own agency's returns; the manager enters the rest on their behalf.
    submitter_for = {
        agency: users[username]
        for username, _, _, _, agency, _ in DEMO_ACCOUNTS
        if agency and username in users
    }

    quarters = {quarter.number: quarter for quarter in plan.quarters.all()}
    for number, quarter in quarters.items():
        if quarter.is_open != (number == 4) or (number < 4) != bool(quarter.closed_at):
            quarter.is_open = number == 4
            quarter.closed_at = None if number == 4 else timezone.now()
            quarter._change_reason = "Demo data: Q4 open, Q1 to Q3 closed"
            quarter._history_user = manager
            quarter.save(update_fields=["is_open", "closed_at"])

    actions = {
        action.pk: action
        for action in Action.objects.in_plan(plan).with_plan_order().prefetch_related("metrics")
    }
    set_demo_targets(actions.values(), manager)
    existing = set(
        QuarterlyReturn.objects.filter(quarter__plan=plan).values_list(
            "quarter_id", "action_id", "agency_id"
        )
    )

    created = []
    # A return from each agency that owes one (actions.obligations: the lead agencies, or
    # the coordinating agency where an action names none), in plan order.
    owed = obligations([quarters[number] for number in DEMO_QUARTERS])
    for row in (row for row in owed if row.required):
        number, quarter, agency = row.quarter.number, row.quarter, row.agency
        action = actions[row.action.pk]
        metrics = list(action.metrics.all())
        rng = random.Random(f"demo-return:{number}:{action.ref}:{agency.name}")
        outcome = rng.choices(OUTCOMES, OUTCOME_WEIGHTS[number])[0]
        if outcome == "missing" or (quarter.pk, action.pk, agency.pk) in existing:
            continue
        rag = rng.choices(list(RAG_WEIGHTS), list(RAG_WEIGHTS.values()))[0]
        submitter = submitter_for.get(agency.name, manager)
        # In the reporting window: after the quarter ends, and at least five days
        # before the returns are due, leaving the manager time to review.
        submitted_at = working_time(
            rng,
            quarter.end + datetime.timedelta(days=2),
            quarter.due - datetime.timedelta(days=5),
        )
        quarterly_return = QuarterlyReturn(
            action=action,
            agency=agency,
            quarter=quarter,
            values=demo_values(action, metrics, rng),
            narrative=f"Demo figures: {rng.choice(NARRATIVES[rag])}",
            rag=rag,
            rag_reason=rng.choice(RAG_REASONS.get(rag, [""])),
            state=QuarterlyReturn.State.SUBMITTED,
            created_by=submitter,
            updated_by=submitter,
            submitted_by=submitter,
            submitted_at=submitted_at,
            version=1,
        )
        if outcome != "submitted":
            # Reviewed within a week or so, and by the due date.
            submitted_on = submitted_at.date()
            quarterly_return.reviewed_at = working_time(
                rng,
                submitted_on + datetime.timedelta(days=1),
                min(submitted_on + datetime.timedelta(days=8), quarter.due),
            )
            quarterly_return.reviewed_by = quarterly_return.updated_by = manager
            quarterly_return.version = 2
            if outcome == "approved":
                quarterly_return.state = QuarterlyReturn.State.APPROVED
            else:
                quarterly_return.state = QuarterlyReturn.State.SENT_BACK
                quarterly_return.reviewer_comment = send_back_reason(quarterly_return, metrics, rng)
        created.append(quarterly_return)

    suggest_demo_rags(created, {pk: list(action.metrics.all()) for pk, action in actions.items()})
    QuarterlyReturn.objects.bulk_create(created, batch_size=500)
    # bulk_create stamps created_at and updated_at with now; bulk_update does not.
    for quarterly_return in created:
        quarterly_return.created_at = quarterly_return.submitted_at
        quarterly_return.updated_at = quarterly_return.reviewed_at or quarterly_return.submitted_at
    QuarterlyReturn.objects.bulk_update(created, ["created_at", "updated_at"], batch_size=500)
    write_demo_history(created)
    grant_correction_exceptions(created, manager)
    return created


def grant_correction_exceptions(returns: list[QuarterlyReturn], manager: User) -> None:
    """What ``send_back`` grants in a closed quarter: leave for the agency to correct the
    return until it is resubmitted, carrying the reason."""
    for quarterly_return in returns:
        if quarterly_return.state != QuarterlyReturn.State.SENT_BACK:
            continue
        if (
            quarterly_return.quarter.is_open
            or LockException.objects.filter(
                quarter=quarterly_return.quarter,
                action=quarterly_return.action,
                agency=quarterly_return.agency,
            ).exists()
        ):
            continue
        exception = LockException(
            quarter=quarterly_return.quarter,
            action=quarterly_return.action,
            agency=quarterly_return.agency,
            reason=f"Sent back: {quarterly_return.reviewer_comment}",
            granted_by=manager,
        )
        exception._history_user = manager
        exception._change_reason = "Sent back in a closed quarter"
        exception.save()
        LockException.objects.filter(pk=exception.pk).update(
            granted_at=quarterly_return.reviewed_at
        )


def write_demo_history(returns: list[QuarterlyReturn]) -> None:
    """The audit trail the workflow would have left: "Submitted" by whoever entered the
    return, then "Approved" or "Sent back: …" by the manager."""
    submissions, reviews = [], []
    for quarterly_return in returns:
        submission = copy.copy(quarterly_return)
        submission.state = QuarterlyReturn.State.SUBMITTED
        submission.version = 1
        submission.reviewer_comment = ""
        submission.reviewed_by = submission.reviewed_at = None
        submission.updated_by = quarterly_return.submitted_by
        submission.updated_at = quarterly_return.submitted_at
        submission._history_user = quarterly_return.submitted_by
        submission._history_date = quarterly_return.submitted_at
        submission._change_reason = "Submitted"
        submissions.append(submission)
        if quarterly_return.reviewed_at:
            review = copy.copy(quarterly_return)
            review._history_user = quarterly_return.reviewed_by
            review._history_date = quarterly_return.reviewed_at
            review._change_reason = (
                "Approved"
                if quarterly_return.state == QuarterlyReturn.State.APPROVED
                else change_reason(f"Sent back: {quarterly_return.reviewer_comment}")
            )
            reviews.append(review)
    QuarterlyReturn.history.bulk_history_create(submissions, batch_size=500)
    QuarterlyReturn.history.bulk_history_create(reviews, batch_size=500, update=True)
