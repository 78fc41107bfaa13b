"""Downloads of tables of figures as CSV and Excel, safe to open in a spreadsheet.

A spreadsheet treats a cell that begins with = + - @ (or a tab or carriage return) as a
formula, so text a partner typed, or a printed value such as a county position "=3", could
run as one when the file is opened (CSV or formula injection). Every *text* cell that begins
with one of those characters is prefixed with a single quote, as OWASP recommends
(https://owasp.org/www-community/attacks/CSV_Injection). Numbers stay numbers: an int, a
Decimal, a Percent or a Position cannot carry a formula, so a "-1.9" % change is never quoted.

In a workbook every number is a number a spreadsheet can sum and chart: counts with a
thousands separator, percentages as fractions with a "0.0%" format, county positions as
their number (a shared position "=3" is the number 3 with the format '"="0', so it reads as
printed and sorts as a number; "--", none published, stays text). Each sheet is an Excel
table with a styled, frozen heading row; columns fit their content up to ``MAX_WIDTH``
characters and longer text wraps. A CSV keeps the printed forms ("=3" quoted, as above), a
percentage as its number (-1.9 under a "% change" heading) or, for a reporting rate, as
printed ("85%").

Text is also made printable (csp.text.printable): a control character such as a vertical tab
pasted from Word cannot be written to a workbook at all, and text held from before the forms
refused it must not make a download fail.
"""

import csv
import datetime
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from csp.text import printable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
MAX_WIDTH = 60  # characters; longer text wraps
MIN_WIDTH = 8
HEADING_FILL = PatternFill("solid", fgColor="1D70B8")  # GOV.UK blue
HEADING_FONT = Font(bold=True, color="FFFFFF")


@dataclass(frozen=True)
class Percent:
    """A percentage in points (-1.9 for -1.9%): a number in every workbook. In a CSV, its
    number (a % change, -1.9), or with ``printed`` its printed form ("85%", a rate)."""

    points: Decimal | int | None
    printed: bool = False

    def __str__(self) -> str:
        return "" if self.points is None else f"{self.points}%"


@dataclass(frozen=True)
class Position:
    """A county position: its number (None where none was published) and whether shared."""

    number: int | None
    tied: bool = False

    def __str__(self) -> str:
        if self.number is None:
            return "--"
        return f"={self.number}" if self.tied else str(self.number)


Cell = str | int | float | Decimal | datetime.date | Percent | Position | None


def neutralise(value: Cell) -> Cell:
    """Text beginning like a formula gets a leading single quote; anything else is kept."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_cell(value: Cell) -> Cell:
    """A cell as every download writes it: printable, and never a formula."""
    if isinstance(value, str):
        value = printable(value)
    return neutralise(value)


@dataclass
class Sheet:
    """One table as downloaded: a title (the sheet's name), the column headings as on
    screen, and the rows."""

    title: str
    headers: Sequence[str]
    rows: list[Sequence[Cell]] = field(default_factory=list)

    def safe_rows(self) -> Iterable[list[Cell]]:
        yield [safe_cell(header) for header in self.headers]
        for row in self.rows:
            yield [safe_cell(value) for value in row]


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _csv_value(value: Cell):
    if value is None:
        return ""
    if isinstance(value, Percent):
        if value.points is None:
            return ""
        return neutralise(str(value)) if value.printed else value.points
    if isinstance(value, Position):
        return neutralise(str(value))
    return value


def csv_bytes(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in sheet.safe_rows():
        writer.writerow([_csv_value(value) for value in row])
    # A byte-order mark, so Excel reads the file as UTF-8 (en dashes, "£", names).
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _write_cell(cell, value: Cell) -> str:
    """Put one value in a workbook cell with its number format; return it as shown."""
    if isinstance(value, Percent):
        if value.points is None:
            return ""
        cell.value = float(Decimal(value.points) / 100)
        cell.number_format = "0.0%"
        return str(value)
    if isinstance(value, Position):
        if value.number is None:
            cell.value = neutralise(str(value))  # "--": text, so quoted like any
        else:
            cell.value = value.number
            cell.number_format = '"="0' if value.tied else "0"
        return str(value)
    if isinstance(value, bool):
        cell.value = "Yes" if value else "No"
    elif isinstance(value, int):
        cell.value = value
        cell.number_format = "#,##0"
        return f"{value:,}"
    elif isinstance(value, Decimal | float):
        cell.value = float(value)
        cell.number_format = "#,##0.0#"
        return f"{value:,}"
    elif isinstance(value, datetime.date):
        cell.value = value
        cell.number_format = "d mmm yyyy"
        return "00 Mmm 0000"
    else:
        cell.value = value
    return "" if value is None else str(value)


def _table_name(title: str, used: set[str]) -> str:
    """An Excel table name: letters, digits and underscores, starting with a letter, unique."""
    base = "T_" + (re.sub(r"\W", "_", title, flags=re.ASCII)[:200] or "table")
    name, number = base, 1
    while name.lower() in used:
        number += 1
        name = f"{base}_{number}"
    used.add(name.lower())
    return name


def _unique_headers(headers: list) -> list[str]:
    """Table column names are text, non-empty and unique."""
    seen: set[str] = set()
    names = []
    for index, header in enumerate(headers, start=1):
        name = str(header or f"Column {index}")
        while name.lower() in seen:
            name += " "
        seen.add(name.lower())
        names.append(name)
    return names


def _add_sheet(book: Workbook, sheet: Sheet, title: str, table_name: str) -> None:
    worksheet = book.create_sheet(title)
    headers, *rows = sheet.safe_rows()
    headers = _unique_headers(headers)
    widths = [len(header) for header in headers]
    for column, header in enumerate(headers, start=1):
        cell = worksheet.cell(row=1, column=column, value=header)
        cell.font = HEADING_FONT
        cell.fill = HEADING_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    wrap = Alignment(vertical="top", wrap_text=True)
    top = Alignment(vertical="top")
    for row_number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = worksheet.cell(row=row_number, column=column)
            shown = _write_cell(cell, value)
            longest = max((len(line) for line in shown.splitlines()), default=0)
            widths[column - 1] = max(widths[column - 1], longest)
            cell.alignment = wrap if longest > MAX_WIDTH or "\n" in shown else top
    for column, width in enumerate(widths, start=1):
        letter = get_column_letter(column)
        worksheet.column_dimensions[letter].width = min(max(width + 2, MIN_WIDTH), MAX_WIDTH)
    worksheet.freeze_panes = "A2"
    # A table needs a row below its headings, even an empty one.
    last_row = max(len(rows) + 1, 2)
    table = Table(
        displayName=table_name,
        ref=f"A1:{get_column_letter(len(headers))}{last_row}",
    )
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    worksheet.add_table(table)


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    used_titles: set[str] = set()
    used_tables: set[str] = set()
    for sheet in sheets:
        # Excel sheet names: at most 31 characters, unique, none of : \ / ? * [ ].
        title = re.sub(r"[:\\/?*\[\]]", "-", printable(sheet.title))[:31] or "Sheet"
        while title in used_titles:
            title = title[:28] + f" {len(used_titles)}"
        used_titles.add(title)
        _add_sheet(book, sheet, title, _table_name(title, used_tables))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_response(sheet: Sheet, filename: str) -> HttpResponse:
    return _attachment(HttpResponse(csv_bytes(sheet), content_type=CSV_TYPE), filename)


def xlsx_response(sheets: Sequence[Sheet], filename: str) -> HttpResponse:
    return _attachment(HttpResponse(xlsx_bytes(sheets), content_type=XLSX_TYPE), filename)


def download(sheet: Sheet, export_format: str, filename_stem: str) -> HttpResponse:
    """One table as CSV or as a one-sheet workbook."""
    if export_format == "csv":
        return csv_response(sheet, f"{filename_stem}.csv")
    return xlsx_response([sheet], f"{filename_stem}.xlsx")
