"""The board dashboard and the priority page: the numbers against the demo returns, worked
out again here from the returns themselves; the quarter selector; what each role sees; the
downloads; and a fixed number of queries whatever the number of actions and returns."""

import io
import json

import openpyxl
import pytest
from django.urls import reverse

from actions.models import Agency, QuarterlyReturn
from actions.states import rag_differs_note
from csp import exports
from priorities.models import Priority, Quarter

from .board_helpers import (
    RAG_LABELS,
    RECEIVED,
    action,
    body_rows,
    csv_rows,
    demo_plan,
    document,
    grow,
    headers,
    load_demo,
    priority_table_rows,
    quarter,
    sheet_rows,
    table,
    text,
    workbook,
)


@pytest.fixture
def users(db):
    return load_demo()


def get(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response


def dashboard_url(**params) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("dashboard") + (f"?{query}" if query else "")


# The numbers --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_dashboard_counts_and_rag_split_match_the_demo_returns(client, users, number):
    plan = demo_plan()
    response = get(client, users["board"], dashboard_url(quarter=number))
    priorities = table(response, "app-table--priorities")
    missing = "Missing"  # every quarter of the 2022/23 demo is past its due date
    assert headers(priorities) == [
        "Priority",
        "Returns expected",
        "Received",
        "Approved",
        missing,
        *RAG_LABELS.values(),
    ]
    expected = priority_table_rows(plan, quarter(number))
    assert body_rows(priorities) == expected
    if number == 4:  # Q4 is open and empty in the demo: everything expected is missing
        assert expected[-1][2:4] == ["0", "0"]
    else:
        assert int(expected[-1][3]) > 50  # approved returns to count


@pytest.mark.django_db
def test_dashboard_charts_carry_the_same_numbers_as_the_table(client, users):
    response = get(client, users["board"], dashboard_url(quarter=3))
    page = document(response)
    returns_chart = json.loads(page.get_element_by_id("returns-chart-data").text)
    rag_chart = json.loads(page.get_element_by_id("rag-chart-data").text)
    rows = priority_table_rows(demo_plan(), quarter(3))[:-1]
    # Each bar named by its priority (the start of the plan's heading), not "Priority 1".
    titles = [priority.title for priority in demo_plan().priorities.order_by("number")]
    for label, title in zip(returns_chart["labels"], titles, strict=True):
        assert " ".join(label).rstrip("…").rstrip(",") in title
    assert returns_chart["labels"][0] == ["Domestic Abuse"]
    assert [s["name"] for s in returns_chart["series"]] == ["Received", "Approved", "Missing"]
    assert [s["values"] for s in returns_chart["series"]] == [
        [int(row[column]) for row in rows] for column in (2, 3, 4)
    ]
    assert [s["name"] for s in rag_chart["series"]] == list(RAG_LABELS.values())
    assert [s["values"] for s in rag_chart["series"]] == [
        [int(row[column]) for row in rows] for column in range(5, 10)
    ]
    # Each chart is a named image pointing at its table, drawn by a script file.
    canvases = page.xpath("//canvas[@data-chart]")
    assert [c.get("data-chart") for c in canvases] == ["returns-chart-data", "rag-chart-data"]
    assert all(c.get("role") == "img" and "table below" in c.get("aria-label") for c in canvases)
    scripts = [s.get("src") for s in page.xpath("//script[@src]")]
    assert "/static/vendor/chart.js/chart.umd.min.js" in scripts
    assert "/static/js/charts.mjs" in scripts


def expected_turns(number: int) -> list[list[str]]:
    """(ref, agency, before, now, reason) for approved red/amber returns whose agency's
    approved return the quarter before was better."""
    severity = {"red": 2, "amber": 1}
    approved = {
        (r.action_id, r.agency_id, r.quarter.number): r
        for r in QuarterlyReturn.objects.filter(
            state="approved", quarter__plan=demo_plan()
        ).select_related("quarter", "action", "action__priority", "agency")
    }
    rows = []
    for (action_id, agency_id, q), r in approved.items():
        before = approved.get((action_id, agency_id, q - 1))
        if q != number or before is None:
            continue
        if severity.get(r.rag, 0) > severity.get(before.rag, 0):
            rows.append(
                (
                    (r.action.priority.number, r.action.number, r.agency.name),
                    [
                        r.action.ref,
                        r.agency.name,
                        RAG_LABELS[before.rag],
                        f"Now {RAG_LABELS[r.rag]}",
                        r.rag_reason,
                        rag_differs_note(r),
                    ],
                )
            )
    return [row for _, row in sorted(rows)]


@pytest.mark.django_db
@pytest.mark.parametrize("number", [2, 3])
def test_dashboard_lists_the_returns_that_turned_red_or_amber(client, users, number):
    response = get(client, users["board"], dashboard_url(quarter=number))
    changes = table(response, "app-table--changes")
    assert headers(changes) == [
        "Action",
        "Agency",
        quarter(number - 1).label,
        quarter(number).label,
        "Reason for status",
        "Against the figures",
    ]
    expected = expected_turns(number)
    assert len(expected) >= 3
    assert body_rows(changes) == expected


@pytest.mark.django_db
def test_the_first_quarter_has_nothing_to_turn_from(client, users):
    response = get(client, users["board"], dashboard_url(quarter=1))
    assert "first quarter of the plan: there is no earlier quarter" in response.content.decode()
    assert not document(response).xpath("//table[contains(@class, 'app-table--changes')]")


@pytest.mark.django_db
def test_dashboard_headline_is_all_crime_with_direction_in_words(client, users):
    content = get(client, users["board"], reverse("dashboard")).content.decode()
    assert "<strong>7,679</strong> crimes (previous year 7,830)" in content
    assert "Down 151 (-1.9%)" in content
    assert "County position: <strong>1</strong> of 12 Kent areas" in content


# The quarter selector -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw", ["", "abc", "0", "5", "-1", "3.5", "1e3", "%00", "9" * 5000, "%F0%9F%98%80"]
)
def test_a_malformed_quarter_gives_the_default_never_an_error(client, users, raw):
    response = get(client, users["board"], f"{reverse('dashboard')}?quarter={raw}")
    # The default is the reporting quarter, the latest closed: Q3 in the demo.
    assert document(response).xpath("//h1")[0].text_content().strip() == "Dashboard: Q3 2022/23"
    selected = document(response).xpath("//select[@name='quarter']/option[@selected]")
    assert [option.get("value") for option in selected] == ["3"]


@pytest.mark.django_db
def test_the_page_opens_on_the_latest_closed_quarter_else_the_first_open(client, users):
    # Approvals move nothing: only closing a quarter does.
    QuarterlyReturn.objects.all().delete()
    response = get(client, users["board"], reverse("dashboard"))
    assert "Dashboard: Q3 2022/23" in text(document(response).xpath("//h1")[0])
    Quarter.objects.filter(plan=demo_plan()).update(closed_at=None)
    response = get(client, users["board"], reverse("dashboard"))
    assert "Dashboard: Q4 2022/23" in text(document(response).xpath("//h1")[0])  # first open
    Quarter.objects.filter(plan=demo_plan()).update(is_open=False)
    response = get(client, users["board"], reverse("dashboard"))
    assert "Dashboard: Q1 2022/23" in text(document(response).xpath("//h1")[0])  # none open


# Who sees what --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_partner_sees_the_counts_but_only_their_own_agencies_rag(client, users):
    response = get(client, users["davss"], dashboard_url(quarter=3))
    rows = body_rows(table(response, "app-table--priorities"))
    everyone = priority_table_rows(demo_plan(), quarter(3))
    # Counts of returns by state are the same for every role ...
    assert [row[:5] for row in rows] == [row[:5] for row in everyone]
    # ... RAG statuses are DAVSS's approved returns only.
    davss = Agency.objects.get(name="DAVSS")
    mine = QuarterlyReturn.objects.filter(quarter=quarter(3), agency=davss, state="approved")
    assert sum(int(n) for n in rows[-1][5:]) == mine.count() > 0
    assert "only from your agencies' returns" in response.content.decode()


@pytest.mark.django_db
def test_every_role_has_the_dashboard_in_its_navigation(client, users):
    for username, expected in [
        ("board", ["Home", "Dashboard", "Completeness", "Quarterly report"]),
        ("manager", ["Home", "Dashboard", "Review returns", "Quarters", "Completeness"]),
        ("davss", ["Your returns", "Dashboard"]),
    ]:
        response = get(client, users[username], reverse("home"))
        labels = [text(a) for a in document(response).xpath("//ul[@id='navigation']//a")]
        assert labels[: len(expected)] == expected, username
    davss_nav = get(client, users["davss"], reverse("home")).content.decode()
    assert reverse("completeness") not in davss_nav
    assert reverse("quarterly_report") not in davss_nav


@pytest.mark.django_db
def test_the_dashboard_only_reads(client, users):
    client.force_login(users["manager"])
    assert client.post(reverse("dashboard")).status_code == 405


# Downloads ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_dashboard_tables_download_with_the_columns_on_screen(client, users, export_format):
    board = users["board"]
    page = get(client, board, dashboard_url(quarter=3))
    for name, css_class in [
        ("priorities", "app-table--priorities"),
        ("rag-changes", "app-table--changes"),
    ]:
        on_screen = table(page, css_class)
        response = get(client, board, dashboard_url(quarter=3, download=name, format=export_format))
        assert response["Content-Disposition"] == (
            f'attachment; filename="dashboard-2022-q3-{name}.{export_format}"'
        )
        if export_format == "csv":
            rows = csv_rows(response)
        else:
            book = workbook(response)
            rows = [
                ["" if v is None else str(v) for v in row]
                for row in sheet_rows(book, book.sheetnames[0])
            ]
        assert rows[0] == headers(on_screen)
        screen_rows = body_rows(on_screen)
        if name == "rag-changes":  # the "Now" before the current status is for screen readers
            screen_rows = [[*row[:3], row[3].removeprefix("Now "), *row[4:]] for row in screen_rows]
        assert rows[1:] == screen_rows


@pytest.mark.django_db
def test_an_unknown_download_gives_the_page(client, users):
    for query in ["download=nope&format=csv", "download=priorities&format=pdf"]:
        response = get(client, users["board"], f"{reverse('dashboard')}?{query}")
        assert response["Content-Type"].startswith("text/html")


def test_exports_neutralise_formulas_and_keep_numbers():
    assert exports.neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert exports.neutralise("+44 1892") == "'+44 1892"
    assert exports.neutralise("-1.9%") == "'-1.9%"  # legitimate, and quoted all the same
    assert exports.neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert exports.neutralise("\tTab") == "'\tTab"
    assert exports.neutralise("=3") == "'=3"
    assert exports.neutralise("Green") == "Green"
    assert exports.neutralise(-151) == -151
    assert exports.neutralise(None) is None
    sheet = exports.Sheet("Test", ["Name", "Change"], [["=1+1", -5], ["ok", 3]])
    assert exports.csv_bytes(sheet).decode("utf-8-sig").splitlines() == [
        "Name,Change",
        "'=1+1,-5",
        "ok,3",
    ]
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes([sheet])))
    rows = [list(row) for row in book["Test"].iter_rows(values_only=True)]
    assert rows == [["Name", "Change"], ["'=1+1", -5], ["ok", 3]]
    assert book["Test"]["A2"].data_type == "s"  # text, not a formula


# The priority page ----------------------------------------------------------------------------


def expected_figures(priority: Priority) -> dict[str, list[list[str]]]:
    """Action ref → [measure, Q1..Q4] from the approved returns: counts summed, yes/no
    counted, as shown."""
    quarters = list(priority.plan.quarters.order_by("number"))
    approved = list(
        QuarterlyReturn.objects.filter(action__priority=priority, state="approved").select_related(
            "quarter"
        )
    )
    figures = {}
    for each in priority.actions.order_by("number").prefetch_related("metrics"):
        rows = []
        for metric in each.metrics.all():
            row = [metric.name]
            for q in quarters:
                values = [
                    r.values[str(metric.pk)]
                    for r in approved
                    if r.action_id == each.pk
                    and r.quarter_id == q.pk
                    and r.values.get(str(metric.pk)) is not None
                ]
                if not values:
                    row.append("–")
                elif metric.kind == "count":
                    row.append(f"{sum(values):,}")
                elif metric.kind == "yes_no":
                    row.append(
                        ("Yes" if values == ["yes"] else "No")
                        if len(values) == 1
                        else f"{values.count('yes')} yes, {values.count('no')} no"
                    )
                else:
                    row.append("; ".join(dict.fromkeys(values)))
            rows.append(row)
        if rows:
            figures[each.ref] = rows
    return figures


@pytest.mark.django_db
@pytest.mark.parametrize("number", [1, 3, 5])
def test_priority_page_shows_each_actions_approved_figures_by_quarter(client, users, number):
    priority = Priority.objects.get(plan=demo_plan(), number=number)
    response = get(client, users["board"], reverse("priority_detail", args=[priority.pk]))
    expected = expected_figures(priority)
    tables = document(response).xpath("//table[contains(@class, 'app-table--figures')]")
    shown = {
        text(t.xpath("./caption")[0]).removeprefix(
            "Approved figures by quarter, action "
        ): body_rows(t, hidden=False)
        for t in tables
    }
    assert shown == expected
    assert headers(tables[0]) == ["Measure", *(f"Q{n} 2022/23" for n in range(1, 5))]


@pytest.mark.django_db
def test_priority_page_shows_each_agencys_latest_approved_rag_and_narrative(client, users):
    one_one = action("1.1")
    latest = (
        QuarterlyReturn.objects.filter(action=one_one, state="approved")
        .select_related("agency", "quarter")
        .order_by("-quarter__number")
        .first()
    )
    response = get(client, users["board"], reverse("priority_detail", args=[one_one.priority.pk]))
    [section] = document(response).xpath(f"//section[@aria-labelledby='progress-{one_one.pk}']")
    rows = section.xpath(".//div[contains(@class, 'govuk-summary-list__row')]")
    shown = {text(row.xpath("./dt")[0]): text(row.xpath("./dd")[0]) for row in rows}
    agencies = {
        r.agency.name for r in QuarterlyReturn.objects.filter(action=one_one, state="approved")
    }
    assert len(shown) == len(agencies)
    value = shown[f"{latest.agency.name} {latest.quarter.label}"]
    assert value.startswith(RAG_LABELS[latest.rag])
    assert latest.narrative in value


@pytest.mark.django_db
def test_priority_page_draws_a_trend_chart_from_the_same_totals(client, users):
    one_one = action("1.1")
    response = get(client, users["board"], reverse("priority_detail", args=[one_one.priority.pk]))
    chart = json.loads(document(response).get_element_by_id(f"trend-{one_one.pk}").text)
    figures = expected_figures(one_one.priority)["1.1"]
    assert [s["name"] for s in chart["series"]] == [row[0] for row in figures]
    assert [s["values"] for s in chart["series"]] == [
        [None if v == "–" else int(v.replace(",", "")) for v in row[1:]] for row in figures
    ]


def number_or_text(shown: str) -> str:
    """A count as downloaded, without the thousands separator; anything else as shown."""
    plain = shown.replace(",", "")
    return plain if plain.isdigit() else shown


@pytest.mark.django_db
@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_priority_figures_download(client, users, export_format):
    priority = Priority.objects.get(plan=demo_plan(), number=1)
    response = get(
        client,
        users["board"],
        f"{reverse('priority_detail', args=[priority.pk])}?format={export_format}",
    )
    if export_format == "csv":
        rows = csv_rows(response)
    else:
        book = workbook(response)
        rows = [
            ["" if v is None else str(v) for v in row]
            for row in sheet_rows(book, book.sheetnames[0])
        ]
    assert rows[0] == ["Action", "Measure", *(f"Q{n} 2022/23" for n in range(1, 5))]
    expected = [
        [ref, *("" if v == "–" else number_or_text(v) for v in row)]
        for ref, table_rows in expected_figures(priority).items()
        for row in table_rows
    ]
    assert rows[1:] == expected


# Query counts ---------------------------------------------------------------------------------

# Five of each budget are the session and the user (see tests/test_pages.py), one the
# partnership for the header.
DASHBOARD_BUDGET = 21  # obligations: actions, lead links, returns, agencies
PRIORITY_BUDGET = 11


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username, url, budget",
    [
        ("board", lambda: reverse("dashboard"), DASHBOARD_BUDGET),
        # A partner's page: 1 more on whether Death reviews is in their navigation.
        ("davss", lambda: reverse("dashboard") + "?quarter=2", DASHBOARD_BUDGET + 1),
        (
            "board",
            lambda: reverse("dashboard") + "?download=priorities&format=xlsx",
            DASHBOARD_BUDGET,
        ),
        (
            "board",
            lambda: reverse(
                "priority_detail",
                args=[Priority.objects.get(number=1, plan__financial_year=2022).pk],
            ),
            PRIORITY_BUDGET,
        ),
    ],
)
def test_query_count_does_not_grow_with_actions_and_returns(
    client, users, django_assert_max_num_queries, username, url, budget
):
    client.force_login(users[username])
    target = url()
    assert client.get(target).status_code == 200  # warm up: session, content types
    with django_assert_max_num_queries(budget, info="demo size") as small:
        small_response = client.get(target)
    before = QuarterlyReturn.objects.count()
    grow(demo_plan(), actions_per_priority=30)
    assert QuarterlyReturn.objects.count() >= before + 5 * 30 * 2 * 3
    with django_assert_max_num_queries(budget, info="with 150 more actions") as large:
        large_response = client.get(target)
    assert len(large) == len(small), "the page runs more queries for more actions and returns"
    assert len(large_response.content) > len(small_response.content)  # the growth shows


@pytest.mark.django_db
def test_received_counts_submitted_returns_and_approved_only_approved(client, users):
    """A return moving from submitted to approved moves one count and no other."""
    q3 = quarter(3)
    waiting = (
        QuarterlyReturn.objects.filter(quarter=q3, state="submitted")
        .select_related("action__priority")
        .first()
    )
    number = waiting.action.priority.number
    before = body_rows(
        table(get(client, users["board"], dashboard_url(quarter=3)), "app-table--priorities")
    )
    QuarterlyReturn.objects.filter(pk=waiting.pk).update(state="approved")
    after = body_rows(
        table(get(client, users["board"], dashboard_url(quarter=3)), "app-table--priorities")
    )
    row_before, row_after = before[number - 1], after[number - 1]
    assert row_after[1:3] == row_before[1:3]  # expected, received unchanged
    assert int(row_after[3]) == int(row_before[3]) + 1  # approved
    assert row_after[4] == row_before[4]  # missing
    rag_column = 5 + list(RAG_LABELS).index(waiting.rag)
    assert int(row_after[rag_column]) == int(row_before[rag_column]) + 1
    assert waiting.state in RECEIVED
