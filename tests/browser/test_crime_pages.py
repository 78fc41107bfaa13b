"""Crime statistics in a real browser: the board reads the table and a crime type's trend
charts; the manager corrects a figure by keyboard and imports a year's table from a CSV
file through its preview. axe-core checks every page on the way."""

import re

import pytest
from playwright.sync_api import expect

from crimestats.models import CountyPosition, CrimeFigure

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMPORT_2022 = (
    "Crime type,Count,Previous count,County position\r\n"
    'All crime,"7,512","7,679",2\r\n'
    "Robbery,30,26,=4\r\n"
    "(Drug Trafficking),48,,--\r\n"
)


def menu(page):
    return page.get_by_role("navigation", name="Menu")


def chart_points(page, canvas_id: str) -> list:
    """What Chart.js drew on the canvas: its one dataset's values."""
    return page.evaluate(
        """(id) => {
            const chart = window.Chart.getChart(document.getElementById(id));
            return chart ? chart.data.datasets[0].data : null;
        }""",
        canvas_id,
    )


def test_the_board_reads_the_crime_table_and_a_crime_types_trend(
    page, axe, sign_in, board_member, artifacts
):
    sign_in(board_member)
    menu(page).get_by_role("link", name="Crime statistics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Crime statistics 2021")
    table = page.locator("table.app-crime-table")
    expect(table.locator("tbody tr")).to_have_count(16)
    expect(table.locator("tbody tr").first).to_contain_text("7,679")
    # The board has no entry or import.
    expect(page.get_by_role("button", name="Enter figures")).to_have_count(0)
    expect(page.get_by_role("button", name="Import CSV")).to_have_count(0)
    axe(page)

    table.get_by_role("link", name="All crime", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("All crime")
    # Both charts are drawn from the same figures as the table below them.
    expect(page.locator("#crime-count-chart")).to_be_visible()
    page.wait_for_function("() => window.Chart && window.Chart.getChart('crime-count-chart')")
    assert chart_points(page, "crime-count-chart") == [7830, 7679]
    assert chart_points(page, "crime-position-chart") == [1, 1]
    rows = page.locator("table.app-crime-trend tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_have_text(re.compile(r"2021\s+7,679\s+-151\s+-1.9%\s+66.60\s+1"))
    axe(page)
    page.screenshot(path=artifacts / "crime-type-all-crime.png", full_page=True)

    # A shared position and a year with none: the chart leaves a gap for "--".
    page.go_back()
    page.locator("table.app-crime-table").get_by_role("link", name="(Drug Trafficking)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Drug Trafficking")
    page.wait_for_function("() => window.Chart && window.Chart.getChart('crime-position-chart')")
    assert chart_points(page, "crime-position-chart") == [None, 3]
    expect(page.locator("table.app-crime-trend tbody tr").nth(0)).to_contain_text("--")
    expect(page.locator("table.app-crime-trend tbody tr").nth(1)).to_contain_text("=3")
    axe(page)


def test_the_manager_imports_a_year_from_a_csv_file(page, axe, sign_in, manager, artifacts):
    sign_in(manager)
    menu(page).get_by_role("link", name="Crime statistics").click()
    page.get_by_role("button", name="Import CSV").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Import crime figures from a CSV file"
    )
    axe(page)

    # A file with an unknown crime type: refused, row by row, nothing saved.
    page.get_by_label("Year the figures are for").fill("2022")
    page.get_by_label("CSV file").set_input_files(
        files=[
            {
                "name": "bad.csv",
                "mimeType": "text/csv",
                "buffer": (IMPORT_2022 + "Burglary,10,,1\r\n").encode(),
            }
        ]
    )
    page.get_by_role("button", name="Upload and preview").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Row 5: “Burglary” is not a crime type held here")
    expect(page.get_by_label("Year the figures are for")).to_have_value("2022")
    axe(page)
    assert not CrimeFigure.objects.filter(year=2022).exists()

    # The good file: previewed, still nothing saved.
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "crime-2022.csv", "mimeType": "text/csv", "buffer": IMPORT_2022.encode()}]
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check the 2022 figures before you import them"
    )
    preview = page.locator("main table tbody tr")
    expect(preview).to_have_count(3)
    expect(preview.nth(0)).to_contain_text("7,512 (new)")
    expect(preview.nth(0)).to_contain_text("7,679 (held already)")
    expect(preview.nth(1)).to_contain_text("Added")
    axe(page)
    page.screenshot(path=artifacts / "crime-import-preview.png", full_page=True)
    assert not CrimeFigure.objects.filter(year=2022).exists()

    # Confirmed: saved, and the crime table shows the new year against the last.
    page.get_by_role("button", name="Import 2022 figures").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "crime-2022.csv imported for 2022: 6 added."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Crime statistics 2022")
    first = page.locator("table.app-crime-table tbody tr").first
    expect(first).to_have_text(re.compile(r"All crime\s+7,512\s+7,679\s+-2.2%\s+-167\s+1\s+2"))
    axe(page)
    assert CrimeFigure.objects.filter(year=2022).count() == 3
    assert CountyPosition.objects.get(crime_type__name="Robbery", year=2022).display == "=4"

    # A draft until published: the manager sees it marked, then publishes it.
    expect(page.locator(".govuk-warning-text")).to_contain_text(
        "2022’s figures are a draft: only you can see them. Dashboards and reports use 2021"
    )
    page.get_by_role("button", name="Publish 2022 figures").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "2022 crime figures published"
    )
    expect(page.locator(".app-headline")).to_contain_text("Published figures for 2022")
    axe(page)


def test_the_manager_corrects_a_figure_by_keyboard(page, axe, sign_in, manager):
    sign_in(manager)
    page.goto("/crime/")
    page.get_by_role("button", name="Enter figures").click()
    page.get_by_role("link", name="Correct 2021 figures").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2021 crime figures")
    axe(page)

    # A bad count: the summary links to the field, which keeps what was typed.
    page.get_by_label("Count of Robbery in 2021").fill("twenty")
    page.get_by_label("Count of Robbery in 2021").press("Enter")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    axe(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    robbery = page.get_by_label("Count of Robbery in 2021")
    expect(robbery).to_be_focused()
    expect(robbery).to_have_value("twenty")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("27")
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "2021 crime figures saved: 1 corrected."
    )
    assert CrimeFigure.objects.get(crime_type__name="Robbery", year=2021).count == 27
