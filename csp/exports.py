"""Downloads of tables of figures as CSV and Excel, safe to open in a spreadsheet.

A spreadsheet treats a cell that begins with = + - @ (or a tab or carriage return) as a
formula, so text a partner typed, or a printed value such as a county position "=3", could
run as one when the file is opened (CSV or formula injection). Every text cell that begins
with one of those characters is prefixed with a single quote, as OWASP recommends
(https://owasp.org/www-community/attacks/CSV_Injection). That includes legitimate values such
as "-1.9%": the quote shows in the cell, which is the price of never running a formula.
Numbers stay numbers: an int or a Decimal cannot carry a formula.

Text is also made printable (csp.text.printable): a control character such as a vertical tab
pasted from Word cannot be written to a workbook at all, and text held from before the forms
refused it must not make a download fail.
"""

import csv
import datetime
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import tablib
from django.http import HttpResponse

from csp.text import printable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")

Cell = str | int | float | Decimal | datetime.date | None


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


def csv_bytes(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in sheet.safe_rows():
        writer.writerow(["" if value is None else value for value in row])
    # A byte-order mark, so Excel reads the file as UTF-8 (en dashes, "£", names).
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    book = tablib.Databook()
    used = set()
    for sheet in sheets:
        headers, *rows = sheet.safe_rows()
        dataset = tablib.Dataset(headers=headers)
        for row in rows:
            dataset.append([float(v) if isinstance(v, Decimal) else v for v in row])
        # Excel sheet names: at most 31 characters, unique.
        title = sheet.title[:31]
        while title in used:
            title = title[:28] + f" {len(used)}"
        used.add(title)
        dataset.title = title
        book.add_sheet(dataset)
    return book.export("xlsx")


def csv_response(sheet: Sheet, filename: str) -> HttpResponse:
    return _attachment(HttpResponse(csv_bytes(sheet), content_type=CSV_TYPE), filename)


def xlsx_response(sheets: Sequence[Sheet], filename: str) -> HttpResponse:
    return _attachment(HttpResponse(xlsx_bytes(sheets), content_type=XLSX_TYPE), filename)


def download(sheet: Sheet, export_format: str, filename_stem: str) -> HttpResponse:
    """One table as CSV or as a one-sheet workbook."""
    if export_format == "csv":
        return csv_response(sheet, f"{filename_stem}.csv")
    return xlsx_response([sheet], f"{filename_stem}.xlsx")
