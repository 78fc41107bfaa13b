"""The app holds the published plan and crime table exactly as printed."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from actions.models import Action, Agency, Metric
from crimestats.models import Area, CountyPosition, CrimeFigure, CrimeType
from crimestats.statistics import crime_table, home_area
from priorities.models import Plan, Priority

DOCUMENT = (
    Path(__file__).resolve().parent.parent / "fixtures" / "tunbridge-wells-csp-plan-2022-23.txt"
)
TEXT = DOCUMENT.read_text(encoding="utf-8")
ACTION_LINE = re.compile(r"^(\d\.\d+)\t(.*)$")


def printed_actions() -> dict[str, list[str]]:
    """ref → [action, lead agencies, measure, outcome] from the published table."""
    rows = {}
    for line in TEXT.splitlines():
        match = ACTION_LINE.match(line)
        if match:
            cells = match.group(2).split("\t")
            rows[match.group(1)] = [cell.strip() for cell in (cells + [""] * 4)[:4]]
    return rows


def printed_crime_table() -> list[list[str]]:
    lines = TEXT.splitlines()
    start = lines.index("Crime Type\tThis Year\tLast Year\t% Change\tNumber change\t2020\t2021")
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append(line.split("\t"))
    return rows


PRINTED = printed_actions()


def test_document_has_71_actions():
    assert len(PRINTED) == 71


@pytest.mark.django_db
def test_every_action_is_held_verbatim_in_plan_order():
    actions = list(Action.objects.in_plan(Plan.objects.get(financial_year=2022)).with_plan_order())
    assert [action.ref for action in actions] == list(PRINTED)
    for action in actions:
        description, lead_agencies, measure, outcome = PRINTED[action.ref]
        assert action.description == description, action.ref
        assert action.lead_agencies == lead_agencies, action.ref
        assert action.measure == measure, action.ref
        assert action.outcome == outcome, action.ref


@pytest.mark.django_db
def test_refs_sort_numerically_so_1_10_follows_1_9():
    refs = [a.ref for a in Action.objects.filter(priority__number=1).with_plan_order()]
    assert refs[8:11] == ["1.9", "1.10", "1.11"]


@pytest.mark.django_db
def test_plan_and_priorities():
    plan = Plan.objects.get(financial_year=2022)
    assert plan.label == "2022/23"
    assert str(plan.signed_off) == "2022-02-17"
    assert plan.assessment_period == "January 2021 to December 2021"
    priorities = list(plan.priorities.order_by("number"))
    assert [p.title for p in priorities] == [
        "Domestic Abuse",
        "Substance Misuse and Supply, and Alcohol Abuse (inc. violence-related issues and knife crime)",
        "Anti-social and High-risk Behaviour (including violence-related issues)",
        "Road Safety",
        "Violence, including VAWG and NTE-related issues",
    ]
    assert priorities[4].short_title == "Violence Against Women and Girls"
    for priority in priorities:
        assert f"Priority {priority.number}: {priority.title}" in TEXT
        assert f"{priority.number}. {priority.short_title}" in TEXT
        assert priority.recommendation in TEXT
        assert priority.rationale.split("\n\n")[0] in TEXT
    assert priorities[0].recommendation == (
        "We recommend Domestic Abuse is retained as a priority for 2022/23."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ref", "agencies"),
    [
        ("1.1", {"DAVSS"}),
        ("1.7", {"TWBC Community Safety Team", "Tunbridge Wells Borough Council"}),  # CST
        ("1.8", {"DAVSS", "Look Ahead", "TWBC Community Safety Team"}),  # Community Safety Team
        ("3.2", {"TWBC Community Safety Team", "KCC Early Help", "Kent Police"}),  # CST
        ("3.3", {"TWBC Community Safety Team", "KCC Early Help", "Kent Police", "TWBC CCTV"}),
        ("3.13", {"TWBC Culture Team", "KCC Early Help", "TWBC Community Safety Team"}),  # EH
        ("4.4", {"TWBC Community Safety Team", "Kent Fire and Rescue Service"}),  # KRFS typo
        ("5.2", {"Safe Town Partnership", "TWBC CCTV", "Kent Police"}),  # CCTV
        ("5.3", {"Safe Town Partnership", "TWBC CCTV", "Kent Police"}),  # STP
        ("5.19", {"Protection Against Stalking", "TWBC Community Safety Team", "Kent Police"}),
    ],
)
def test_printed_agency_names_link_to_canonical_agencies(ref, agencies):
    priority, number = (int(part) for part in ref.split("."))
    action = Action.objects.get(
        priority__plan__financial_year=2022, priority__number=priority, number=number
    )
    assert set(action.agencies.values_list("name", flat=True)) == agencies


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("CST", "TWBC Community Safety Team"),
        ("TWBC CST", "TWBC Community Safety Team"),
        ("Community Safety Team", "TWBC Community Safety Team"),
        ("KP", "Kent Police"),
        ("STP", "Safe Town Partnership"),
        ("KRFS", "Kent Fire and Rescue Service"),
        ("KFRS", "Kent Fire and Rescue Service"),
        ("EH", "KCC Early Help"),
        ("CCTV", "TWBC CCTV"),
        ("CCTV Ops", "TWBC CCTV"),
    ],
)
def test_aliases_name_one_canonical_agency(alias, canonical):
    matches = [
        agency.name
        for agency in Agency.objects.all()
        if alias in {agency.name, agency.short_name, *agency.aliases}
    ]
    assert matches == [canonical]


@pytest.mark.django_db
def test_all_partner_actions_are_open_to_every_agency():
    refs = {a.ref for a in Action.objects.filter(all_partners=True).with_plan_order()}
    assert {"3.12", "5.18", "5.21", "5.17", "4.9"} <= refs
    assert "3.1" not in refs  # "outreach partners" are named partners, not all of them


@pytest.mark.django_db
def test_countable_measures_have_metrics():
    metrics = list(
        Metric.objects.filter(action__priority__number=1, action__number=1).values_list(
            "name", "kind"
        )
    )
    assert metrics == [
        ("Helpline calls", "count"),
        ("Referrals managed", "count"),
        ("Programmes run", "count"),
    ]


@pytest.mark.django_db
def test_crime_table_reproduces_the_published_table_cell_by_cell():
    printed = printed_crime_table()
    assert len(printed) == 16
    rows = crime_table(home_area(), 2021)
    shown = [
        [
            row.crime_type.label,
            row.this_year_display,
            row.last_year_display,
            row.percent_change_display,
            row.change_display,
            row.previous_position_display,
            row.position_display,
        ]
        for row in rows
    ]
    assert shown == printed


@pytest.mark.django_db
def test_crime_hierarchy_and_kinds():
    assert CrimeType.objects.get(name="Drug Trafficking").parent.name == "Drug offences"
    assert CrimeType.objects.get(name="Drug Possession").parent.name == "Drug offences"
    assert CrimeType.objects.get(name="Victim-based crime").parent.name == "All crime"
    incidents = set(CrimeType.objects.filter(kind="incident").values_list("name", flat=True))
    assert incidents == {"ASB Incidents", "Domestic abuse incidents"}


@pytest.mark.django_db
def test_kent_districts():
    assert Area.objects.filter(county="Kent").count() == 12
    tunbridge_wells = Area.objects.get(ons_code="E07000116")
    assert (tunbridge_wells.name, tunbridge_wells.population) == ("Tunbridge Wells", 115300)
    assert Area.objects.get(ons_code="E07000112").name == "Folkestone and Hythe"


@pytest.mark.django_db
def test_tied_and_missing_positions_are_stored_as_such():
    trafficking = CountyPosition.objects.get(crime_type__name="Drug Trafficking", year=2021)
    assert (trafficking.position, trafficking.tied) == (3, True)
    assert (
        CountyPosition.objects.get(crime_type__name="Drug Trafficking", year=2020).position is None
    )


def table_counts() -> dict[str, int]:
    from simple_history.models import registered_models

    models = [
        Plan,
        Priority,
        Action,
        Agency,
        Metric,
        Area,
        CrimeType,
        CrimeFigure,
        CountyPosition,
        User,
    ]
    counts = {model.__name__: model.objects.count() for model in models}
    for model in registered_models.values():
        if hasattr(model, "history"):
            counts[f"history:{model.__name__}"] = model.history.count()
    return counts


@pytest.mark.django_db
def test_seeding_twice_changes_nothing():
    call_command("seed")
    before = table_counts()
    snapshot = list(Action.objects.values())
    call_command("seed")
    assert table_counts() == before
    assert list(Action.objects.values()) == snapshot


@pytest.mark.django_db
def test_demo_accounts_are_refused_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed", "--demo")
    assert not User.objects.filter(username="davss").exists()


@pytest.mark.django_db
def test_demo_accounts(settings):
    settings.DEBUG = True
    call_command("seed", "--demo")
    roles = dict(User.objects.values_list("username", "role"))
    assert roles["manager"] == "manager"
    assert roles["board"] == "board"
    assert User.objects.get(username="davss").agencies.get().name == "DAVSS"
    assert User.objects.get(username="police").agencies.get().name == "Kent Police"
    assert User.objects.get(username="lookahead").agencies.get().name == "Look Ahead"
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="board").check_password("csp-demo-2022")
