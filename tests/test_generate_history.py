"""generate_history: believable history at N times the seed, added only once per scale, and
never a change to the seeded 2022/23 plan or the published crime table."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count

from accounts.models import Role, User
from actions.models import Action, Agency, Metric, QuarterlyReturn
from crimestats.models import Area, CountyPosition, CrimeFigure, CrimeType
from demodata import demo_returns, generate
from priorities.models import Plan, Quarter

from .factories import PlanFactory

PLAN_DATA = json.loads(
    (Path(__file__).resolve().parent.parent / "fixtures" / "plan-2022-23.json").read_text(
        encoding="utf-8"
    )
)
PARTNERSHIP = PLAN_DATA["plan"]["partnership"]
LEAD_LINKS = sum(len(row["agencies"]) for row in PLAN_DATA["actions"])  # 142
METRICS = sum(len(row["metrics"]) for row in PLAN_DATA["actions"])  # 62


def generated_plans():
    return Plan.objects.filter(title__contains=generate.MARKER)


def generated_returns():
    return QuarterlyReturn.objects.filter(quarter__plan__in=generated_plans())


def sizes() -> dict[str, int]:
    return {
        "plans": Plan.objects.count(),
        "actions": Action.objects.count(),
        "links": Action.agencies.through.objects.count(),
        "metrics": Metric.objects.count(),
        "returns": QuarterlyReturn.objects.count(),
        "users": User.objects.count(),
        "memberships": Agency.members.through.objects.count(),
        "crime figures": CrimeFigure.objects.count(),
        "county positions": CountyPosition.objects.count(),
    }


def seeded_rows() -> dict:
    """Everything of the seeded 2022/23 plan and the published crime table, as values."""
    plan = Plan.objects.filter(financial_year=2022)
    return {
        "plan": list(plan.values()),
        "quarters": list(Quarter.objects.filter(plan__in=plan).order_by("pk").values()),
        "actions": list(Action.objects.filter(priority__plan__in=plan).order_by("pk").values()),
        "links": sorted(
            Action.agencies.through.objects.filter(action__priority__plan__in=plan).values_list(
                "action_id", "agency_id"
            )
        ),
        "metrics": list(
            Metric.objects.filter(action__priority__plan__in=plan).order_by("pk").values()
        ),
        "returns": list(
            QuarterlyReturn.objects.filter(quarter__plan__in=plan).order_by("pk").values()
        ),
        "figures": list(
            CrimeFigure.objects.filter(year__in=[2020, 2021], area__name="Tunbridge Wells")
            .order_by("pk")
            .values()
        ),
        "positions": list(
            CountyPosition.objects.order_by("pk").filter(year__in=[2020, 2021]).values()
        ),
    }


@pytest.mark.django_db
def test_scale_1_is_one_earlier_plan_of_the_seeds_shape():
    created = generate.generate(1)

    [plan] = generated_plans()
    assert (plan.partnership.name, plan.financial_year, plan.state) == (PARTNERSHIP, 2021, "closed")
    assert plan.label == "2021/22"
    assert list(plan.priorities.values_list("number", flat=True)) == [1, 2, 3, 4, 5]
    assert [(q.number, q.is_open) for q in plan.quarters.all()] == [(n, False) for n in range(1, 5)]
    actions = Action.objects.in_plan(plan)
    assert sorted(a.ref for a in actions) == sorted(row["ref"] for row in PLAN_DATA["actions"])
    assert Action.agencies.through.objects.filter(action__in=actions).count() == LEAD_LINKS
    assert Metric.objects.filter(action__in=actions).count() == METRICS
    assert created.counts["actions"] == 71


@pytest.mark.django_db
def test_every_lead_agency_has_a_return_for_every_action_and_quarter():
    generate.generate(1)
    [plan] = generated_plans()
    links = Action.agencies.through.objects.filter(action__priority__plan=plan)
    owed = {(link.action_id, link.agency_id, q.pk) for link in links for q in plan.quarters.all()}
    returned = set(generated_returns().values_list("action_id", "agency_id", "quarter_id"))
    assert len(owed) == 4 * LEAD_LINKS
    assert owed <= returned
    # "All partners" actions also have returns from agencies not named on them, though not
    # from every agency.
    extra = returned - owed
    assert extra
    assert {action_id for action_id, _, _ in extra} <= set(
        Action.objects.filter(priority__plan=plan, all_partners=True).values_list("pk", flat=True)
    )
    assert len(extra) < 4 * 7 * Agency.objects.active().count()


@pytest.mark.django_db
def test_returns_come_in_every_state_and_read_like_returns():
    generate.generate(1)
    returns = generated_returns()
    by_state = dict(returns.values("state").annotate(n=Count("pk")).values_list("state", "n"))
    assert set(by_state) == {"approved", "sent_back", "submitted", "draft"}
    assert by_state["approved"] > returns.count() * 0.8

    for returned in returns.select_related("quarter__plan"):
        if returned.state == "draft":
            assert returned.submitted_at is None
            continue
        assert returned.rag in {"green", "amber", "red"}
        assert returned.narrative.startswith("Generated history: ")
        assert returned.submitted_at.date() > returned.quarter.end
        if returned.state in ("approved", "sent_back"):
            assert returned.reviewed_at > returned.submitted_at
            assert returned.reviewed_by.role == Role.MANAGER
            assert returned.version == 2
        # Its own times, not the day the history was made.
        assert returned.created_at <= returned.submitted_at
        assert returned.created_at.year in (2021, 2022)
    sent_back = returns.filter(state="sent_back").first()
    assert sent_back.reviewer_comment in demo_returns.SEND_BACK_COMMENTS


@pytest.mark.django_db
def test_counts_are_of_the_metrics_own_kind():
    generate.generate(1)
    metrics = {
        m.pk: m.kind for m in Metric.objects.filter(action__priority__plan__in=generated_plans())
    }
    values = [
        (metrics[int(pk)], value)
        for values in generated_returns().exclude(state="draft").values_list("values", flat=True)
        for pk, value in values.items()
    ]
    assert values
    for kind, value in values:
        if kind == "count":
            assert isinstance(value, int) and 0 <= value < 1000
        elif kind == "yes_no":
            assert value in ("yes", "no")
        else:
            assert isinstance(value, str) and value


@pytest.mark.django_db
def test_users_are_five_per_scale_partners_in_agencies_and_a_few_managers_and_board():
    generate.generate(2)
    users = User.objects.filter(email__endswith="@example.org").exclude(
        username__in=[account[0] for account in demo_returns.DEMO_ACCOUNTS]
    )
    generated = [user for user in users if user.username.count(".") == 2]
    assert len(generated) == 10
    roles = [user.role for user in generated]
    assert roles.count(Role.MANAGER) == 1
    assert roles.count(Role.BOARD) == 1
    for user in generated:
        assert not user.has_usable_password()
        assert user.agencies.exists() == (user.role == Role.PARTNER)


@pytest.mark.django_db
def test_crime_figures_for_every_district_type_and_year_with_positions_ranked_from_them():
    seeded = CrimeFigure.objects.count()
    generate.generate(3)
    areas, crime_types = Area.objects.count(), CrimeType.objects.count()
    years = list(range(2018, 2022))  # scale 3: four years to 2021
    assert (areas, crime_types) == (12, 16)
    assert CrimeFigure.objects.count() == areas * crime_types * len(years)
    assert seeded == 32
    assert set(CrimeFigure.objects.values_list("year", flat=True)) == set(years)
    # Positions for the years nobody published any for, ranked by rate per 1,000.
    for year in (2018, 2019):
        all_crime = CrimeFigure.objects.filter(crime_type__name="All crime", year=year)
        rates = sorted(all_crime, key=lambda f: f.count / f.area.population)
        positions = {
            p.area_id: p.position
            for p in CountyPosition.objects.filter(crime_type__name="All crime", year=year)
        }
        assert [positions[f.area_id] for f in rates] == list(range(1, 13))
    # The parts add up.
    for figure in CrimeFigure.objects.filter(crime_type__name="Drug offences", year=2019):
        parts = CrimeFigure.objects.filter(
            area=figure.area, year=2019, crime_type__parent=figure.crime_type
        )
        assert figure.count == sum(part.count for part in parts)


@pytest.mark.django_db
def test_running_again_at_the_same_scale_adds_nothing():
    generate.generate(2)
    before = sizes()
    created = generate.generate(2)
    assert sizes() == before
    assert sum(created.counts.values()) == 0


@pytest.mark.django_db
def test_a_higher_scale_adds_the_difference():
    generate.generate(1)
    at_one = sizes()
    generate.generate(3)
    at_three = sizes()
    returns_per_copy = (
        at_one["returns"]
        - QuarterlyReturn.objects.filter(quarter__plan__financial_year=2022).count()
    )
    assert at_three["plans"] - at_one["plans"] == 2
    assert at_three["actions"] - at_one["actions"] == 2 * 71
    assert at_three["returns"] - at_one["returns"] == 2 * returns_per_copy
    assert at_three["users"] - at_one["users"] == 10
    assert sorted(generated_plans().values_list("financial_year", flat=True)) == [2019, 2020, 2021]


def test_beyond_twenty_years_plans_hold_more_copies_and_never_fewer():
    assert generate.plan_layout(1) == [(2021, 1)]
    assert generate.plan_layout(20)[-1] == (2002, 1)
    assert generate.plan_layout(21)[:2] == [(2021, 2), (2020, 1)]
    assert generate.plan_layout(100) == [(year, 5) for year in range(2021, 2001, -1)]
    for scale in range(1, 70):
        assert sum(copies for _, copies in generate.plan_layout(scale)) == scale
        now, then = dict(generate.plan_layout(scale)), dict(generate.plan_layout(scale + 1))
        assert all(then[year] >= copies for year, copies in now.items())


@pytest.mark.django_db
def test_a_second_copy_numbers_its_actions_after_the_first(monkeypatch):
    monkeypatch.setattr(generate, "PLAN_YEARS", 1)
    generate.generate(2)
    [plan] = generated_plans()
    refs = [action.ref for action in Action.objects.in_plan(plan).with_plan_order()]
    assert len(refs) == len(set(refs)) == 142
    assert refs[:14] == [f"1.{n}" for n in range(1, 15)]  # priority 1 has 13 actions
    assert refs[-1] == "5.44"  # priority 5 has 22


@pytest.mark.django_db
def test_the_seeded_plan_and_published_crime_table_are_never_touched():
    demo_returns.create_demo_accounts()
    demo_returns.create_demo_returns()
    before = seeded_rows()
    assert before["returns"] and len(before["figures"]) == 32 and len(before["actions"]) == 71
    generate.generate(3)
    assert seeded_rows() == before


@pytest.mark.django_db
def test_a_plan_it_did_not_generate_is_left_alone():
    PlanFactory(partnership__name=PARTNERSHIP, financial_year=2021, title="Plan 2021-22")
    generate.generate(2)
    real = Plan.objects.get(financial_year=2021)
    assert not Action.objects.in_plan(real).exists()
    assert sorted(generated_plans().values_list("financial_year", flat=True)) == [2020]


@pytest.fixture
def debug(settings):
    """The command runs in development (DEBUG on), as `make run` and the benchmark use it."""
    settings.DEBUG = True


@pytest.mark.django_db
def test_the_command_refuses_with_debug_off_unless_forced(settings, capsys):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="Refusing to generate history with DEBUG off"):
        call_command("generate_history", scale=1)
    assert not generated_plans().exists()
    call_command("generate_history", "--scale", "1", "--force")
    assert "History at scale 1: created" in capsys.readouterr().out
    assert generated_plans().count() == 1


@pytest.mark.django_db
def test_the_command_says_what_it_created(capsys, debug):
    call_command("generate_history", scale=1)
    out = capsys.readouterr().out
    assert "History at scale 1: created 5 users, 1 plans, 71 actions" in out
    call_command("generate_history", scale=1)
    assert "created 0 users, 0 crime figures, 0 county positions" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize("scale", ["0", "-3"])
def test_the_command_refuses_a_scale_below_1(scale, debug):
    with pytest.raises(CommandError, match="whole number from 1"):
        call_command("generate_history", "--scale", scale)


@pytest.mark.django_db
def test_without_the_seed_it_says_to_seed_first(debug):
    Agency.objects.all().delete()
    with pytest.raises(CommandError, match="manage.py seed"):
        call_command("generate_history", scale=1)
