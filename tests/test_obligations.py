"""Who owes a return (actions.obligations) and which quarter a page shows
(priorities.quarters): one small plan, and every page, download and command agreeing on
it.

The world, a 2024/25 plan (the current one) with Q1 closed and Q2 open, the same returns
in both quarters:

    1.1  leads Alpha, Beta                 Alpha approved (on time), Beta waiting (late)
    1.2  leads Alpha, Gone (inactive)      Alpha sent back          Gone owes nothing
    1.3  "All partners", no lead           coordinating agency (CST) draft; Gamma approved
    1.4  lead Gone (inactive) only         owed by CST, not started
    2.1  lead Beta, "and partners"         Beta approved (on time); Gamma draft

Owed: 1.1 Alpha, 1.1 Beta, 1.2 Alpha, 1.3 CST, 1.4 CST, 2.1 Beta = 6; Gamma's approved
contribution to 1.3 counts once received, its draft on 2.1 never does. So each quarter:
7 expected, 4 received, 3 approved, 3 missing (1.2 Alpha, 1.3 CST, 1.4 CST), all overdue.
"""

import datetime
import io
import re

import docx
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from actions import obligations
from actions.models import Action, Agency, QuarterlyReturn
from priorities.models import Plan, Quarter
from priorities.quarters import reporting_quarter

from .board_helpers import all_tables, body_rows, document, table, text, workbook
from .conftest import partner
from .factories import ActionFactory, AgencyFactory, PlanFactory, PriorityFactory

TOTALS = {"expected": 7, "received": 4, "approved": 3, "missing": 3}
BY_AGENCY = {  # expected, received, approved, missing
    "Alpha": (2, 1, 1, 1),
    "Beta": (2, 2, 1, 0),
    "TWBC Community Safety Team": (2, 0, 0, 2),
    "Gamma": (1, 1, 1, 0),
    "Gone": (0, 0, 0, 0),
}
CST = "TWBC Community Safety Team"


def aware(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args))


@pytest.fixture
def world(db):
    plan = PlanFactory(financial_year=2024, state=Plan.State.ACTIVE)
    quarters = {n: Quarter.objects.create(plan=plan, number=n) for n in range(1, 5)}
    Quarter.objects.filter(pk=quarters[1].pk).update(closed_at=aware(2024, 9, 1, 9))
    Quarter.objects.filter(pk=quarters[2].pk).update(is_open=True)
    one = PriorityFactory(plan=plan, number=1)
    two = PriorityFactory(plan=plan, number=2)
    agencies = {name: AgencyFactory(name=name) for name in ("Alpha", "Beta", "Gamma", "Gone")}
    agencies["Gone"].active = False
    agencies["Gone"].save()
    agencies[CST] = Agency.objects.get(name=CST)
    actions = {}
    for ref, priority, leads, all_partners in [
        ("1.1", one, ["Alpha", "Beta"], False),
        ("1.2", one, ["Alpha", "Gone"], False),
        ("1.3", one, [], True),
        ("1.4", one, ["Gone"], False),
        ("2.1", two, ["Beta"], True),
    ]:
        action = ActionFactory(
            priority=priority, number=int(ref.split(".")[1]), all_partners=all_partners
        )
        action.agencies.set([agencies[name] for name in leads])
        actions[ref] = action
    for number, (on_time, late) in {
        1: (aware(2024, 7, 10, 10), aware(2024, 8, 15, 10)),
        2: (aware(2024, 10, 10, 10), aware(2024, 11, 10, 10)),
    }.items():
        for ref, name, state, submitted_at in [
            ("1.1", "Alpha", "approved", on_time),
            ("1.1", "Beta", "submitted", late),
            ("1.2", "Alpha", "sent_back", on_time),
            ("1.3", CST, "draft", None),
            ("1.3", "Gamma", "approved", on_time),
            ("2.1", "Beta", "approved", on_time),
            ("2.1", "Gamma", "draft", None),
        ]:
            QuarterlyReturn.objects.create(
                action=actions[ref],
                agency=agencies[name],
                quarter=quarters[number],
                state=state,
                rag="green",
                submitted_at=submitted_at,
            )
    return {"plan": plan, "quarters": quarters, "agencies": agencies, "actions": actions}


def signed_in(client, user):
    client.force_login(user)
    return client


def numbers(row: list[str]) -> dict[str, int]:
    """A priorities table's "All priorities" row as the four numbers."""
    return dict(zip(TOTALS, map(int, (value.replace(",", "") for value in row[1:5])), strict=True))


def tally(response) -> dict[str, int]:
    """The includes/obligation_tally.html sentence on a page, as numbers."""
    [sentence] = document(response).xpath("//p[@data-tally]")
    return {key: int(sentence.xpath(f".//span[@data-{key}]")[0].text) for key in TOTALS}


# The rule itself ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_rule_owed_by_leads_or_the_coordinating_agency_contributions_optional(world):
    rows = obligations.obligations([world["quarters"][1]])
    owed = {(row.action.ref, row.agency.name) for row in rows if row.required}
    assert owed == {
        ("1.1", "Alpha"),
        ("1.1", "Beta"),
        ("1.2", "Alpha"),
        ("1.3", CST),
        ("1.4", CST),
        ("2.1", "Beta"),
    }
    optional = {(row.action.ref, row.agency.name): row for row in rows if row.optional}
    assert set(optional) == {("1.3", "Gamma"), ("2.1", "Gamma")}
    assert not any(row.missing or row.overdue for row in optional.values())
    assert optional[("1.3", "Gamma")].expected  # counted once received
    assert not optional[("2.1", "Gamma")].expected  # a draft contribution is not
    tally = obligations.Tally.of(rows)
    assert (tally.expected, tally.received, tally.approved, tally.missing) == tuple(TOTALS.values())
    assert (tally.overdue, tally.on_time, tally.late) == (3, 3, 1)
    # Offered: every active agency may contribute to 1.3 and 2.1, the inactive one not.
    offered = obligations.obligations(
        [world["quarters"][2]],
        agencies=[world["agencies"]["Alpha"], world["agencies"]["Gone"]],
        offered=True,
    )
    assert {(row.action.ref, row.agency.name, row.required) for row in offered} == {
        ("1.1", "Alpha", True),
        ("1.2", "Alpha", True),
        ("1.3", "Alpha", False),
        ("2.1", "Alpha", False),
    }


@pytest.mark.django_db
def test_who_owes_reads_the_same_in_sql_and_in_python(world):
    """owing_agencies (the return form's and the action page's question) and obligations
    (every count) name the same agencies, for the world's actions and the published plan's."""
    quarters = [world["quarters"][1], Quarter.objects.get(plan__financial_year=2022, number=1)]
    by_action = {}
    for row in obligations.obligations(quarters):
        if row.required:
            by_action.setdefault(row.action.pk, set()).add(row.agency.name)
    actions = Action.objects.filter(priority__plan__in=[q.plan for q in quarters])
    assert len(by_action) == actions.count() == 5 + 71  # every action is owed by someone
    for action in actions:
        assert {a.name for a in obligations.owing_agencies(action)} == by_action[action.pk]
    seeded = {a.ref: by_action[a.pk] for a in actions if a.priority.plan.financial_year == 2022}
    assert seeded["3.12"] == seeded["5.18"] == seeded["5.21"] == {CST}


@pytest.mark.django_db
def test_the_reporting_quarter_is_the_latest_closed_else_the_first_open(world):
    quarters = list(world["plan"].quarters.order_by("number"))
    assert reporting_quarter(quarters).number == 1
    # Approving returns in the open quarter moves nothing.
    QuarterlyReturn.objects.filter(quarter__number=2, quarter__plan=world["plan"]).update(
        state="approved"
    )
    assert reporting_quarter(list(world["plan"].quarters.order_by("number"))).number == 1
    Quarter.objects.filter(plan=world["plan"]).update(closed_at=None)
    assert reporting_quarter(list(world["plan"].quarters.order_by("number"))).number == 2
    Quarter.objects.filter(plan=world["plan"]).update(is_open=False)
    assert reporting_quarter(list(world["plan"].quarters.order_by("number"))).number == 1


# Every page agrees ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("number", [1, 2])
def test_every_board_page_and_download_gives_the_same_numbers(
    client, world, manager, board_member, number
):
    query = {"quarter": number}
    for user in (manager, board_member):
        signed_in(client, user)
        dashboard = client.get(reverse("dashboard"), query)
        assert numbers(body_rows(table(dashboard, "app-table--priorities"))[-1]) == TOTALS
        report = client.get(reverse("quarterly_report"), query)
        assert numbers(body_rows(table(report, "app-table--summary"))[-1]) == TOTALS
        book = workbook(client.get(reverse("quarterly_report"), {**query, "format": "xlsx"}))
        last = [str(value) for value in list(book.worksheets[0].values)[-1]]
        assert numbers(last) == TOTALS
        paper = docx.Document(
            io.BytesIO(client.get(reverse("quarterly_report"), {**query, "format": "docx"}).content)
        )
        summary = next(t for t in paper.tables if t.rows[0].cells[0].text == "Priority")
        assert numbers([cell.text for cell in summary.rows[-1].cells]) == TOTALS
        overdue = [
            row[:2]
            for t in all_tables(report, "app-table--overdue")
            for row in body_rows(t, hidden=False)
        ]
        assert sorted(overdue) == [["1.2", "Alpha"], ["1.3", CST], ["1.4", CST]]


@pytest.mark.django_db
@pytest.mark.parametrize("number", [1, 2])
def test_the_completeness_grid_gives_the_same_numbers(client, world, manager, number):
    response = signed_in(client, manager).get(
        reverse("completeness"), {"quarter": number, "priority": "all"}
    )
    cells = {
        tuple(row[:2]): row[1 + number]
        for t in all_tables(response, "app-table--completeness")
        for row in body_rows(t, hidden=False)
    }
    assert "Gone" not in {agency for _, agency in cells}  # inactive: owes nothing
    counted = [cell for cell in cells.values() if re.search("On time|Late|Missing", cell)]
    received = [cell for cell in counted if re.search("On time|Late", cell)]
    assert {
        "expected": len(counted),
        "received": len(received),
        "approved": sum(cell.startswith("Approved") for cell in received),
        "missing": sum(cell.endswith("Missing") for cell in counted),
    } == TOTALS
    assert cells[("2.1", "Gamma")] == "Draft"  # a contribution is never missing
    rates = {row[0]: row for row in body_rows(table(response, "app-table--rates"))}
    # "Not received for Qn", after the agency and six figures.
    assert {name: int(row[7]) for name, row in rates.items()} == {
        name: figures[3] for name, figures in BY_AGENCY.items() if name != "Gone"
    }


@pytest.mark.django_db
@pytest.mark.parametrize("number", [1, 2])
def test_the_action_and_agency_pages_give_the_same_numbers(client, world, davss_user, number):
    signed_in(client, davss_user)  # any reader
    by_action = [
        tally(client.get(reverse("action_detail", args=[action.pk]), {"quarter": number}))
        for action in world["actions"].values()
    ]
    assert {key: sum(t[key] for t in by_action) for key in TOTALS} == TOTALS
    by_agency = {
        name: tally(client.get(reverse("agency_detail", args=[agency.pk]), {"quarter": number}))
        for name, agency in world["agencies"].items()
    }
    assert {name: tuple(t.values()) for name, t in by_agency.items()} == BY_AGENCY
    assert {key: sum(t[key] for t in by_agency.values()) for key in TOTALS} == TOTALS


@pytest.mark.django_db
def test_the_partner_home_and_the_reminders_agree(client, world):
    """The open quarter, Q2: what each agency's home marks overdue is what the reminders
    command reminds it of, and what the other pages count missing."""
    overdue = {}
    for name, figures in BY_AGENCY.items():
        if name == "Gone":
            continue
        user = partner(f"user-{name.split()[0].lower()}", name)
        response = signed_in(client, user).get(reverse("home"))
        owed, *rest = document(response).xpath("//main//table/tbody")
        rows = [[text(cell) for cell in row.xpath("./td")] for row in owed.xpath("./tr")]
        rows = [row for row in rows if len(row) > 1]  # not the "owes no returns" row
        assert len(rows) == figures[0] - (name == "Gamma")  # Gamma owes none: contributes
        overdue[name] = sum("Overdue" in row[1] for row in rows)  # Due, after the action
        if name == "Gamma":
            contributions = [[text(c) for c in r.xpath("./td")] for r in rest[0].xpath("./tr")]
            assert [(row[0].split()[0], row[1]) for row in contributions] == [
                ("1.3", "Optional"),
                ("2.1", "Optional"),
            ]
    assert overdue == {name: f[3] for name, f in BY_AGENCY.items() if name != "Gone"}

    out = io.StringIO()
    call_command("send_return_reminders", "--dry-run", "--today=2024-11-15", stdout=out)
    lines = out.getvalue().splitlines()
    reminded = {
        match[1]: match[2].split(", ")
        for line in lines
        if (match := re.match(r"Would remind (.+?) \(.*\) of \d+ .+ for .+?: (.+)$", line))
    }
    assert reminded == {"Alpha": ["1.2"], CST: ["1.3", "1.4"]}
    assert "about 3 return(s)" in lines[-1]


# Which quarter a page opens on ----------------------------------------------------------------


@pytest.mark.django_db
def test_every_quarter_dependent_page_opens_on_the_reporting_quarter(
    client, world, manager, board_member
):
    """Q1 is closed: every page opens on it, says so, and has the picker on it, though Q2
    has approved returns (early ones, in the open quarter)."""
    action = world["actions"]["1.1"]
    pages = [
        reverse("dashboard"),
        reverse("completeness"),
        reverse("quarterly_report"),
        reverse("priority_detail", args=[action.priority.pk]),
        reverse("action_detail", args=[action.pk]),
        reverse("agency_detail", args=[world["agencies"]["Alpha"].pk]),
        reverse("plan"),
    ]
    for user in (manager, board_member):
        signed_in(client, user)
        for url in pages:
            page = document(client.get(url))
            selected = page.xpath("//select[@name='quarter']/option[@selected]")
            assert [option.get("value") for option in selected] == ["1"], url
            assert "Q1 2024/25" in text(page.xpath("//main")[0]), url
