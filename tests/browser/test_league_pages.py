"""The league table, county positions and neighbourhoods pages, and the manager's import
journey, in Chromium: each page checked with axe, the chart drawn from its JSON, and the
upload → preview → confirm journey done with the keyboard-reachable controls."""

import re
from pathlib import Path

import pytest

from crimestats.models import RecordedOffenceCount, Source
from tests.test_crime_imports import HO, POLICE, import_files

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def imported(seeded):
    import_files(Source.HOME_OFFICE, HO / "prc-csp-kent-test.xlsx")
    import_files(
        Source.POLICE_UK, POLICE / "kent-2021-01-to-03.zip", POLICE / "2021-04-kent-street.csv"
    )


def test_league_table_with_its_chart_passes_axe(
    page, sign_in, axe, board_member, imported, artifacts
):
    sign_in(board_member)
    page.get_by_role("link", name="League table").first.click()
    page.wait_for_url("**/league/")
    assert page.get_by_role("heading", level=1).inner_text() == "League table: All crime, 2021"
    # The chart is drawn by static/js/league-chart.mjs from the json_script data.
    drawn = page.evaluate(
        "() => { const c = document.querySelector('canvas[data-league-chart]');"
        " const chart = window.Chart && window.Chart.getChart(c);"
        " return chart ? chart.data.labels.length : 0; }"
    )
    assert drawn == 12
    axe(page)
    page.screenshot(path=artifacts / "league-table.png", full_page=True)

    # Choose another crime type and the financial year basis, by keyboard-usable controls.
    page.get_by_label("Crime type").select_option(label="Shoplifting")
    page.get_by_label("Years").select_option(value="financial")
    page.get_by_role("button", name="Show league table").click()
    page.wait_for_url(re.compile(r".*basis=financial.*"))
    assert "Shoplifting" in page.get_by_role("heading", level=1).inner_text()
    axe(page)
    # No import links for the board.
    assert page.get_by_role("link", name="Import crime data").count() == 0


def test_positions_and_neighbourhoods_pass_axe(page, sign_in, axe, davss_user, imported, artifacts):
    sign_in(davss_user)
    page.goto("/league/positions/")
    assert page.get_by_role("heading", level=1).inner_text() == "County positions"
    assert page.get_by_text("Differs").count() > 0
    axe(page)
    page.screenshot(path=artifacts / "county-positions.png", full_page=True)

    page.get_by_role("link", name="Neighbourhoods").click()
    page.wait_for_url("**/league/neighbourhoods/")
    assert page.get_by_role("heading", level=1).inner_text() == "Neighbourhoods 2021"
    axe(page)
    page.get_by_label("Crime type").select_option(label="Anti-social behaviour")
    page.get_by_role("button", name="Show neighbourhoods").click()
    page.wait_for_url(re.compile(r".*category=\d+.*"))
    axe(page)
    page.screenshot(path=artifacts / "neighbourhoods.png", full_page=True)


def test_manager_imports_a_home_office_table_through_the_pages(
    page, sign_in, axe, manager, seeded, artifacts
):
    sign_in(manager)
    page.goto("/league/")
    page.get_by_role("link", name="Import crime data").first.click()
    page.wait_for_url("**/crime/sources/")
    axe(page)

    # A file that is not a table: the error is next to the field, with a summary.
    bad = Path(__file__).resolve().parent.parent / "data" / "binary.bin"
    page.locator("#id_home_office-files").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and preview the Home Office table").click()
    page.wait_for_load_state()
    assert page.title().startswith("Error: ")
    assert (
        "is not a .xlsx or .ods or .xls or .csv file"
        in page.locator("#id_home_office-files-error").inner_text()
    )
    axe(page)

    page.locator("#id_home_office-files").set_input_files(str(HO / "prc-csp-kent-test.ods"))
    page.get_by_role("button", name="Upload and preview the Home Office table").click()
    page.wait_for_url(re.compile(r".*/crime/sources/pending/\d+/"))
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Check the import before you confirm it"
    )
    axe(page)
    page.screenshot(path=artifacts / "import-preview.png", full_page=True)
    page.get_by_role("button", name="Confirm and import").click()
    page.wait_for_url("**/crime/sources/")
    assert "1,008 new" in page.locator(".govuk-notification-banner").inner_text()
    assert RecordedOffenceCount.objects.count() == 1008
    axe(page)

    page.get_by_role("link", name="Category mappings").click()
    axe(page)
    page.get_by_role("link", name="Change the crime types for Shoplifting").click()
    axe(page)
    page.get_by_label("Robbery").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/crime/sources/categories/")
