"""Every Excel download is a spreadsheet of numbers: counts, percentages and positions are
numbers (a percentage with a "0.0%" format), no number is text with an apostrophe, each
sheet is an Excel table with a styled, frozen heading row, and columns fit their content
within a maximum, longer text wrapping. Opened with openpyxl."""

import io
import re

import openpyxl
import pytest
from django.urls import reverse

from csp import exports

from .board_helpers import demo_plan, load_demo

# Text that is a number in disguise: "-1.9%", "4.4%", "1,234", "'3", "=3" quoted.
NUMBER_AS_TEXT = re.compile(r"^'?[-+=]?[\d,]+(\.\d+)?%?$")


@pytest.fixture
def users(db):
    return load_demo()


def xlsx_urls() -> list[str]:
    plan = demo_plan()
    priority = plan.priorities.get(number=1)
    dashboard = reverse("dashboard") + "?quarter=3"
    completeness = reverse("completeness") + "?quarter=3"
    from crimestats.models import CrimeType

    all_crime = CrimeType.objects.get(name="All crime")
    return [
        f"{dashboard}&download=priorities&format=xlsx",
        f"{dashboard}&download=rag-changes&format=xlsx",
        f"{completeness}&download=grid&format=xlsx",
        f"{completeness}&download=rates&format=xlsx",
        reverse("quarterly_report") + "?quarter=3&format=xlsx",
        reverse("priority_detail", args=[priority.pk]) + "?format=xlsx",
        reverse("plan") + "?_export=xlsx",
        reverse("crime_statistics") + "?year=2021&_export=xlsx",
        reverse("crime_type_detail", args=[all_crime.pk]) + "?_export=xlsx",
    ]


def check_sheet(sheet, url: str) -> None:
    where = f"{url} {sheet.title}"
    assert sheet.freeze_panes == "A2", where
    assert all(cell.font.bold for cell in sheet[1]), where
    assert [table.ref for table in sheet.tables.values()] == [
        f"A1:{openpyxl.utils.get_column_letter(sheet.max_column)}{max(sheet.max_row, 2)}"
    ], where
    for letter, dimension in sheet.column_dimensions.items():
        assert exports.MIN_WIDTH <= dimension.width <= exports.MAX_WIDTH, (where, letter)
    # An action's ref ("1.10") is a label, not a number.
    refs = {cell.column for cell in sheet[1] if cell.value in ("Action", "Ref")}
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            value = cell.value
            if isinstance(value, str) and cell.column not in refs:
                assert not NUMBER_AS_TEXT.match(value), (where, cell.coordinate, value)
                if len(value) > exports.MAX_WIDTH:
                    assert cell.alignment.wrap_text, (where, cell.coordinate)
            assert cell.data_type != "f", (where, cell.coordinate)


@pytest.mark.django_db
def test_every_excel_download_is_a_spreadsheet_of_numbers(client, users):
    client.force_login(users["manager"])
    percent_cells = 0
    for url in xlsx_urls():
        response = client.get(url)
        assert response.status_code == 200, url
        assert "spreadsheetml" in response["Content-Type"], url
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        for sheet in book.worksheets:
            check_sheet(sheet, url)
            percent_cells += sum(
                1
                for row in sheet.iter_rows(min_row=2)
                for cell in row
                if cell.number_format == "0.0%" and isinstance(cell.value, float)
            )
    assert percent_cells > 20  # crime % changes and reporting rates


@pytest.mark.django_db
def test_the_plan_exports_action_column_fits_and_wraps(client, users):
    client.force_login(users["manager"])
    response = client.get(reverse("plan") + "?_export=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    headers = [cell.value for cell in sheet[1]]
    column = openpyxl.utils.get_column_letter(headers.index("Action") + 1)
    assert sheet.column_dimensions[column].width == exports.MAX_WIDTH
    assert sheet[f"{column}2"].alignment.wrap_text
    ref = openpyxl.utils.get_column_letter(headers.index("Ref") + 1)
    assert sheet.column_dimensions[ref].width < 12


@pytest.mark.django_db
def test_reporting_rates_are_percentages(client, users):
    client.force_login(users["manager"])
    response = client.get(reverse("completeness") + "?quarter=3&download=rates&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    headers = [cell.value for cell in sheet[1]]
    column = headers.index("Reporting rate") + 1
    rates = [sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)]
    assert any(isinstance(cell.value, float) for cell in rates)
    for cell in rates:
        if isinstance(cell.value, float):
            assert 0 <= cell.value <= 1 and cell.number_format == "0.0%"
    assert all(isinstance(cell.value, int) for cell in sheet["B"][1:])  # returns due


def test_text_alone_is_neutralised_and_csv_keeps_printed_forms():
    sheet = exports.Sheet(
        "Test",
        ["Name", "% change", "Position"],
        [
            ["=1+1", exports.Percent(-1.9), exports.Position(3, tied=True)],
            ["ok", exports.Percent(4.4), exports.Position(None)],
            ["x" * 100, exports.Percent(None), exports.Position(2)],
        ],
    )
    assert exports.csv_bytes(sheet).decode("utf-8-sig").splitlines() == [
        "Name,% change,Position",
        "'=1+1,-1.9,'=3",
        "ok,4.4,'--",
        "x" * 100 + ",,2",
    ]
    rate = exports.Sheet(
        "Rates", ["Agency", "Reporting rate"], [["DAVSS", exports.Percent(85, printed=True)]]
    )
    assert exports.csv_bytes(rate).decode("utf-8-sig").splitlines()[1] == "DAVSS,85%"
    rates_book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes([rate])))
    assert rates_book["Rates"]["B2"].value == pytest.approx(0.85)
    book = openpyxl.load_workbook(io.BytesIO(exports.xlsx_bytes([sheet, sheet])))
    assert book.sheetnames == ["Test", "Test 1"]
    assert len({name for ws in book.worksheets for name in ws.tables}) == 2
    ws = book["Test"]
    assert [c.value for c in ws[2]] == ["'=1+1", pytest.approx(-0.019), 3]
    assert [c.number_format for c in ws[2]][1:] == ["0.0%", '"="0']
    assert ws["B3"].value == pytest.approx(0.044)  # no apostrophe on either
    assert ws["C3"].value == "'--"
    assert ws["A4"].alignment.wrap_text
    assert ws.column_dimensions["A"].width == exports.MAX_WIDTH
