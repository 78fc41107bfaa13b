"""A board member reads the picture in a real browser: the dashboard with its charts drawn,
the completeness grid, the crime statistics and the quarterly report (on screen and as
printed), with axe-core checking every page; a screenshot of the dashboard is kept under
tests/artifacts/. The ``page`` fixture fails the test on any console error or failed load,
so a chart blocked by the Content-Security-Policy or a missing chart.js fails it."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from demodata.demo_returns import DEMO_PASSWORD
from priorities.models import Priority
from tests.board_helpers import load_demo
from tests.mail_servers import deliver_queued_mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def board(page):
    load_demo()
    return User.objects.get(username="board")


def menu(page):
    return page.get_by_role("navigation", name="Menu")


def drawn_charts(page) -> list[dict]:
    """Each chart canvas: whether Chart.js drew a chart on it, how many series and points
    it holds, and whether any pixel is painted."""
    return page.evaluate(
        """() => [...document.querySelectorAll("canvas[data-chart]")].map((canvas) => {
            const chart = window.Chart && window.Chart.getChart(canvas);
            const context = canvas.getContext("2d");
            const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
            return {
                id: canvas.dataset.chart,
                drawn: Boolean(chart),
                series: chart ? chart.data.datasets.length : 0,
                points: chart ? chart.data.datasets.reduce((n, d) => n + d.data.length, 0) : 0,
                painted,
            };
        })"""
    )


def test_board_reads_the_dashboard_with_its_charts(page, axe, sign_in, board, artifacts):
    sign_in(board, DEMO_PASSWORD)
    menu(page).get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url("/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard: Q3 2022/23")
    expect(page.locator(".app-headline")).to_contain_text("7,679")
    table = page.locator("table.app-table--priorities")
    expect(table.locator("tbody tr")).to_have_count(6)  # five priorities and the total

    charts = drawn_charts(page)
    assert [chart["id"] for chart in charts] == ["returns-chart-data", "rag-chart-data"]
    for chart in charts:
        assert chart["drawn"], chart
        assert chart["painted"] > 1000, chart
    assert charts[0]["series"] == 3 and charts[0]["points"] == 15
    assert charts[1]["series"] == 5 and charts[1]["points"] == 25
    axe(page)
    page.screenshot(path=artifacts / "dashboard.png", full_page=True)

    # The quarter selector, by keyboard: choose Q2 and press Enter on the button.
    page.get_by_label("Quarter").select_option("2")
    page.get_by_role("button", name="Show quarter").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url("/dashboard/?quarter=2")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard: Q2 2022/23")
    expect(page.get_by_role("heading", name="Turned red or amber since Q1 2022/23")).to_be_visible()
    assert all(chart["drawn"] and chart["painted"] for chart in drawn_charts(page))
    axe(page)


def test_board_reads_the_completeness_grid(page, axe, sign_in, board, artifacts):
    sign_in(board, DEMO_PASSWORD)
    menu(page).get_by_role("link", name="Completeness").click()
    expect(page).to_have_url("/completeness/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Completeness of returns")
    # One priority at a time, after the summary and the agencies' rates.
    grids = page.locator("table.app-table--completeness")
    expect(grids).to_have_count(1)
    first_row = grids.first.locator("tbody tr").first
    expect(first_row.locator("th").first).to_have_text("1.1")
    expect(page.locator("table.app-table--rates")).to_contain_text("DAVSS")
    page.get_by_role("navigation", name="Priorities").get_by_role("link", name="Priority 5").click()
    expect(grids).to_have_count(1)
    expect(grids.first.locator("caption")).to_contain_text("Priority 5")
    expect(page.get_by_role("button", name="Send reminder")).to_have_count(0)  # manager only
    axe(page)
    page.screenshot(path=artifacts / "completeness.png", full_page=True)


def test_board_reads_the_crime_statistics(page, axe, sign_in, board):
    sign_in(board, DEMO_PASSWORD)
    menu(page).get_by_role("link", name="Crime statistics").click()
    expect(page).to_have_url("/crime/")
    expect(page.locator("main table").first).to_contain_text("7,679")
    axe(page)


def test_board_reads_and_prints_the_quarterly_report(page, axe, sign_in, board, artifacts):
    sign_in(board, DEMO_PASSWORD)
    menu(page).get_by_role("link", name="Quarterly report").click()
    expect(page).to_have_url("/report/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Quarterly report: Q3 2022/23")
    expect(page.locator("section.app-report-priority")).to_have_count(5)
    # The script shows the print button where it can print.
    expect(page.get_by_role("button", name="Print this report")).to_be_visible()
    axe(page)
    page.screenshot(path=artifacts / "report.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download as a Word document (committee paper)").click()
    # No version issued yet: the live draft.
    assert download.value.suggested_filename == "board-report-2022-q3-draft.docx"

    # On paper: no navigation or controls, and each priority starts a new page.
    page.emulate_media(media="print")
    expect(page.locator(".govuk-service-navigation")).to_be_hidden()
    expect(page.get_by_role("button", name="Print this report")).to_be_hidden()
    expect(page.locator("p.app-print-only")).to_be_visible()
    breaks = page.locator("section.app-report-priority").evaluate_all(
        "sections => sections.map(s => getComputedStyle(s).breakBefore)"
    )
    assert breaks == ["page"] * 5
    page.screenshot(path=artifacts / "report-print.png", full_page=True)


def test_manager_writes_and_issues_the_committee_paper(page, axe, sign_in, board, artifacts):
    manager = User.objects.get(username="manager")
    sign_in(manager, DEMO_PASSWORD)
    page.goto("/report/")
    page.get_by_role("link", name="Write or issue the committee paper").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Committee paper: Q3 2022/23")
    expect(page.get_by_label("OFFICIAL", exact=True)).to_be_checked()
    page.get_by_label("Key messages").fill("Violence is down\nTwo returns are overdue")
    page.get_by_label("Date of the meeting").fill("2023-02-14")
    page.get_by_label("OFFICIAL-SENSITIVE").check()
    page.get_by_role("button", name="Save the paper").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("version 1, saved")
    axe(page)
    page.get_by_role("button", name="Issue version 1").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Version 1 of the")
    axe(page)
    page.screenshot(path=artifacts / "board-paper.png", full_page=True)
    page.goto("/report/")
    expect(page.locator(".app-board-paper-cover")).to_contain_text("Violence is down")
    expect(page.locator(".app-board-paper-cover")).to_contain_text("OFFICIAL-SENSITIVE")
    with page.expect_download() as download:
        page.get_by_role(
            "link", name="Download as a Word document (committee paper, version 1)"
        ).click()
    assert download.value.suggested_filename == "board-report-2022-q3-v1.docx"


def test_priority_page_draws_a_trend_chart_per_action(page, axe, sign_in, board):
    sign_in(board, DEMO_PASSWORD)
    priority = Priority.objects.get(plan__financial_year=2022, number=1)
    page.goto(f"/plan/priorities/{priority.pk}/")
    expect(page.get_by_role("heading", name="Progress by action")).to_be_visible()
    charts = drawn_charts(page)
    assert len(charts) >= 5
    assert all(chart["drawn"] and chart["painted"] > 100 for chart in charts), charts
    axe(page)


def test_manager_sends_a_reminder_from_the_grid(page, axe, sign_in, board, mailoutbox):
    manager = User.objects.get(username="manager")
    sign_in(manager, DEMO_PASSWORD)
    page.goto("/completeness/")
    rates = page.locator("table.app-table--rates")
    row = rates.locator("tbody tr").filter(has=page.get_by_role("rowheader", name="Look Ahead"))
    outstanding = int(row.locator("td").nth(6).inner_text())
    assert outstanding >= 1
    row.get_by_role("button", name="Send reminder to Look Ahead for Q3 2022/23").click()
    expect(page).to_have_url("/completeness/?quarter=3#reporting-rates")
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text(f"Reminder sent to Look Ahead about {outstanding} return")
    deliver_queued_mail()
    assert [mail.to for mail in mailoutbox] == [["lookahead@example.org"]]
    axe(page)
