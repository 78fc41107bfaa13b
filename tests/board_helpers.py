"""Helpers for the board pages' tests (dashboard, completeness, report): the demo data, the
figures worked out again in plain Python from QuarterlyReturn rows (never through
dashboard.summaries), a return planted with values the board must never see, and readers
for the pages and their downloads."""

import copy
import csv
import datetime
import io
import zipfile
from collections import Counter

import docx
import openpyxl
from django.utils import timezone
from lxml import html

from accounts.models import User
from actions.models import Action, Agency, Metric, QuarterlyReturn
from crimestats.models import Area, CountyPosition, CrimeFigure, CrimeType, PublishedYear
from demodata import demo_returns
from priorities.models import Plan, Quarter

from .factories import ActionFactory, AgencyFactory

RECEIVED = {"submitted", "approved"}
RAG_LABELS = {
    "red": "Red",
    "amber": "Amber",
    "green": "Green",
    "complete": "Complete",
    "not_started": "Not started",
}
SECRET_VALUE = 987654
SECRET_NARRATIVE = "UNAPPROVED-SECRET"
SECRET_REASON = "UNAPPROVED-REASON"


def load_demo() -> dict[str, User]:
    demo_returns.create_demo_accounts()
    demo_returns.create_demo_returns()
    return {user.username: user for user in User.objects.all()}


def demo_plan() -> Plan:
    return Plan.objects.get(financial_year=2022)


def quarter(number: int) -> Quarter:
    return Quarter.objects.select_related("plan").get(plan__financial_year=2022, number=number)


def action(ref: str) -> Action:
    priority, number = (int(part) for part in ref.split("."))
    return Action.objects.get(
        priority__plan__financial_year=2022, priority__number=priority, number=number
    )


# Worked out again, independently --------------------------------------------------------------


COORDINATING_AGENCY = "TWBC Community Safety Team"
STATE_WORDS = {
    "draft": "Draft",
    "submitted": "Waiting for review",
    "sent_back": "Sent back",
    "approved": "Approved",
}


def lead_pairs(plan: Plan) -> set[tuple[int, int]]:
    """(action id, agency id) for each return owed: each action and each of its active
    linked agencies; the coordinating agency for an action with none."""
    coordinator = Agency.objects.get(name=COORDINATING_AGENCY)
    pairs = set()
    for each in Action.objects.filter(priority__plan=plan).prefetch_related("agencies"):
        leads = {agency.pk for agency in each.agencies.all() if agency.active}
        pairs |= {(each.pk, agency_id) for agency_id in leads or {coordinator.pk}}
    return pairs


def priority_of(plan: Plan) -> dict[int, int]:
    return {
        each.pk: each.priority.number
        for each in Action.objects.filter(priority__plan=plan).select_related("priority")
    }


def expected_priority_rows(plan: Plan, in_quarter: Quarter) -> dict[int, dict]:
    """Per priority number: expected, received, approved, missing and the RAG split of the
    approved returns, from the returns themselves. Expected: each owed return, and each
    contribution once received."""
    priority = priority_of(plan)
    returns = list(QuarterlyReturn.objects.filter(quarter=in_quarter))
    owed = lead_pairs(plan)
    rows = {
        number: {"expected": 0, "received": 0, "approved": 0, "rag": Counter()}
        for number in sorted(set(priority.values()))
    }
    for action_id, _ in owed:
        rows[priority[action_id]]["expected"] += 1
    for r in returns:
        row = rows[priority[r.action_id]]
        if (r.action_id, r.agency_id) not in owed and r.state in RECEIVED:
            row["expected"] += 1
        row["received"] += r.state in RECEIVED
        row["approved"] += r.state == "approved"
        if r.state == "approved":
            row["rag"][r.rag] += 1
    for row in rows.values():
        row["missing"] = row["expected"] - row["received"]
    return rows


def priority_table_rows(plan: Plan, in_quarter: Quarter) -> list[list[str]]:
    """The dashboard's table as text: one row per priority, then the totals."""
    rows = []
    totals = [0] * 9
    for number, row in expected_priority_rows(plan, in_quarter).items():
        figures = [
            row["expected"],
            row["received"],
            row["approved"],
            row["missing"],
            *(row["rag"][rag] for rag in RAG_LABELS),
        ]
        totals = [a + b for a, b in zip(totals, figures, strict=True)]
        rows.append([plan.priorities.get(number=number).label, *map(str, figures)])
    rows.append(["All priorities", *map(str, totals)])
    return rows


def expected_cell(
    in_quarter: Quarter, r: QuarterlyReturn | None, lead: bool, today, board: bool = False
) -> str:
    """A completeness cell in words, worked out from the return (or its absence). The
    board knows only whether a return is approved."""
    if r is None and not lead:
        return "Not required"
    state = "Not started" if r is None else STATE_WORDS[r.state]
    if board and state != "Approved":
        state = "No approved return yet"
    if r is not None and r.state in RECEIVED:
        if r.submitted_at is None:
            return state
        on_time = timezone.localtime(r.submitted_at).date() <= in_quarter.due
        return f"{state} {'On time' if on_time else 'Late'}"
    if not lead:  # a contribution not (yet) made: optional, never missing
        return state
    return f"{state} {'Missing' if today > in_quarter.due else 'Not due yet'}"


def expected_grid(
    plan: Plan, today: datetime.date, board: bool = False
) -> dict[tuple[str, str], list[str]]:
    """(action ref, agency name) → the cell text for each quarter."""
    quarters = list(plan.quarters.order_by("number"))
    returns = {
        (r.action_id, r.agency_id, r.quarter_id): r
        for r in QuarterlyReturn.objects.filter(quarter__plan=plan)
    }
    leads = lead_pairs(plan)
    pairs = leads | {(a, g) for a, g, _ in returns}
    actions = {
        a.pk: a for a in Action.objects.filter(priority__plan=plan).select_related("priority")
    }
    agencies = {a.pk: a for a in Agency.objects.all()}
    return {
        (actions[a].ref, agencies[g].name): [
            expected_cell(q, returns.get((a, g, q.pk)), (a, g) in leads, today, board)
            for q in quarters
        ]
        for a, g in pairs
    }


def expected_rates(plan: Plan, today: datetime.date, chosen: Quarter) -> dict[str, list[str]]:
    """Agency name → [due, received, on time, late, missing, rate, not received in chosen]."""
    quarters = list(plan.quarters.order_by("number"))
    returns = {
        (r.action_id, r.agency_id, r.quarter_id): r
        for r in QuarterlyReturn.objects.filter(quarter__plan=plan)
    }
    leads = lead_pairs(plan)
    agencies = {a.pk: a.name for a in Agency.objects.all()}
    rates = {}
    for a, g in leads | {(a, g) for a, g, _ in returns}:
        row = rates.setdefault(agencies[g], [0, 0, 0, 0, 0])
        for q in quarters:
            r = returns.get((a, g, q.pk))
            received = r is not None and r.state in RECEIVED
            if not ((a, g) in leads or received):
                continue  # a contribution counts only once received
            if today > q.due:
                row[0] += 1
                row[1] += received
                if received and r.submitted_at is not None:
                    on_time = timezone.localtime(r.submitted_at).date() <= q.due
                    row[2] += on_time
                    row[3] += not on_time
            if q == chosen and not received:
                row[4] += 1
    return {
        name: [
            str(due),
            str(received),
            str(on_time),
            str(late),
            str(due - received),
            f"{round(100 * received / due)}%" if due else "No returns due yet",
            str(outstanding),
        ]
        for name, (due, received, on_time, late, outstanding) in rates.items()
    }


# The return the board must never see ----------------------------------------------------------


def plant_unapproved(plan: Plan, state: str = "submitted") -> QuarterlyReturn:
    """DAVSS's Q3 return for 1.1 replaced by one waiting for review, full of values that
    appear nowhere else: a count of 987654, a red status, and a narrative and reason only
    it has. Its Q2 return is made approved and green, so if it leaked it would also show as
    "turned red"."""
    one_one = action("1.1")
    davss = Agency.objects.get(name="DAVSS")
    q2, q3 = quarter(2), quarter(3)
    QuarterlyReturn.objects.filter(action=one_one, agency=davss, quarter__in=[q2, q3]).delete()
    metric = one_one.metrics.order_by("order", "pk").first()
    QuarterlyReturn.objects.create(
        action=one_one,
        agency=davss,
        quarter=q2,
        state="approved",
        rag="green",
        narrative="Approved and fine.",
        values={str(metric.pk): 12},
        submitted_at=timezone.make_aware(datetime.datetime(2022, 10, 3, 10)),
    )
    return QuarterlyReturn.objects.create(
        action=one_one,
        agency=davss,
        quarter=q3,
        state=state,
        rag="red",
        rag_reason=SECRET_REASON,
        narrative=SECRET_NARRATIVE,
        values={str(m.pk): SECRET_VALUE for m in one_one.metrics.all()},
        submitted_at=timezone.make_aware(datetime.datetime(2023, 1, 10, 10)),
    )


# Growing the plan, for query counts -----------------------------------------------------------


def grow(plan: Plan, actions_per_priority: int) -> None:
    """More actions in every priority, each led by DAVSS and a new agency, with a count
    metric, and returns in Q1 to Q3 in every state; and ten more years of crime figures
    and county positions for every area."""
    area_ids = list(Area.objects.values_list("pk", flat=True))
    crime_type_ids = list(CrimeType.objects.values_list("pk", flat=True))
    held = set(CrimeFigure.objects.values_list("year", flat=True))
    years = [year for year in range(2005, 2020) if year not in held][:10]
    CrimeFigure.objects.bulk_create(
        CrimeFigure(area_id=area, crime_type_id=crime_type, year=year, count=500 + year)
        for area in area_ids
        for crime_type in crime_type_ids
        for year in years
    )
    PublishedYear.objects.bulk_create(
        PublishedYear(area_id=area, year=year) for area in area_ids for year in years
    )
    CountyPosition.objects.bulk_create(
        CountyPosition(area_id=area, crime_type_id=crime_type, year=year, position=1 + i % 12)
        for i, area in enumerate(area_ids)
        for crime_type in crime_type_ids
        for year in years
    )
    davss = Agency.objects.get(name="DAVSS")
    new_agencies = AgencyFactory.create_batch(5)
    new_actions = Action.objects.bulk_create(
        ActionFactory.build(priority=priority, number=200 + i)
        for priority in plan.priorities.all()
        for i in range(actions_per_priority)
    )
    Through = Action.agencies.through
    Through.objects.bulk_create(
        [Through(action_id=a.pk, agency_id=davss.pk) for a in new_actions]
        + [
            Through(action_id=a.pk, agency_id=new_agencies[i % 5].pk)
            for i, a in enumerate(new_actions)
        ]
    )
    metrics = Metric.objects.bulk_create(Metric(action=a, name="Things done") for a in new_actions)
    states = ["approved", "submitted", "sent_back", "draft"]
    rags = ["green", "amber", "red"]
    submitted = timezone.make_aware(datetime.datetime(2022, 7, 5, 10))
    QuarterlyReturn.objects.bulk_create(
        QuarterlyReturn(
            action=a,
            agency=agency,
            quarter=quarter(number),
            state=states[(i + number) % 4],
            rag=rags[(i + number) % 3],
            narrative="Grown.",
            values={str(m.pk): i},
            submitted_at=submitted,
        )
        for i, (a, m) in enumerate(zip(new_actions, metrics, strict=True))
        for agency in (davss, new_agencies[i % 5])
        for number in (1, 2, 3)
    )


# Reading pages and downloads --------------------------------------------------------------------


def document(response):
    return html.fromstring(response.content.decode())


def text(element, *, hidden: bool = True) -> str:
    """An element's text, whitespace collapsed; with hidden=False, without what only
    screen readers hear (govuk-visually-hidden)."""
    if not hidden:
        element = copy.deepcopy(element)
        for extra in element.xpath(".//*[contains(@class, 'govuk-visually-hidden')]"):
            extra.drop_tree()
    return " ".join(" ".join(element.itertext()).split())


def table(response, css_class: str, index: int = 0):
    return document(response).xpath(f"//table[contains(@class, '{css_class}')]")[index]


def headers(element) -> list[str]:
    return [text(th) for th in element.xpath("./thead/tr/th")]


def body_rows(element, *, hidden: bool = True) -> list[list[str]]:
    return [
        [text(cell, hidden=hidden) for cell in row.xpath("./th|./td")]
        for row in element.xpath("./tbody/tr")
    ]


def all_tables(response, css_class: str):
    return document(response).xpath(f"//table[contains(@class, '{css_class}')]")


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def workbook(response) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(response.content))


def sheet_rows(book, title: str) -> list[list]:
    return [list(row) for row in book[title].iter_rows(values_only=True)]


def workbook_text(response) -> str:
    """Every cell of every sheet, and to be sure, every XML part of the file."""
    book = workbook(response)
    cells = " ".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        parts = " ".join(
            archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
        )
    return cells + " " + parts


def word_text(response) -> str:
    """Every paragraph and table cell of a Word document, and its raw XML."""
    paper = docx.Document(io.BytesIO(response.content))
    paragraphs = [p.text for p in paper.paragraphs]
    cells = [cell.text for t in paper.tables for row in t.rows for cell in row.cells]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        parts = " ".join(
            archive.read(name).decode("utf-8", "replace") for name in archive.namelist()
        )
    return "\n".join(paragraphs + cells) + "\n" + parts


def shown_rows(book, title: str) -> list[list]:
    """Each cell as the page words it: a fraction formatted as a percentage reads "75%"."""
    return [
        [
            f"{cell.value:.0%}"
            if "%" in cell.number_format and isinstance(cell.value, int | float)
            else cell.value
            for cell in row
        ]
        for row in book[title].iter_rows()
    ]
