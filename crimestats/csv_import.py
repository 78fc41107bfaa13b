"""Reading a year's crime table from a CSV file in the published table's shape:

    Crime type,Count,Previous count,County position
    All crime,"7,679","7,830",1

Count is the chosen year's, previous count the year before's, county position the chosen
year's. Everything is checked before anything is saved; every problem is reported with
its row number, as a spreadsheet shows it (the headings are row 1).
"""

import csv
import io
from dataclasses import dataclass

from csp.numbers import parse_count

from .entry import Position, parse_position
from .models import CrimeType

MAX_BYTES = 64 * 1024  # a year's table is under 1 KB
MAX_ROWS = 200
HEADINGS = ("Crime type", "Count", "Previous count", "County position")


class UnreadableFile(ValueError):
    """The file cannot be read at all (empty, binary, not UTF-8, wrong headings)."""


@dataclass(frozen=True)
class ImportRow:
    row: int
    crime_type: CrimeType
    count: int
    previous_count: int | None
    position: Position | None


@dataclass
class ParsedFile:
    rows: list[ImportRow]
    errors: list[str]


def decode(content: bytes) -> str:
    """The file's text, or UnreadableFile saying why it is not a UTF-8 CSV file."""
    if len(content) > MAX_BYTES:
        raise UnreadableFile(f"The file must be {MAX_BYTES // 1024} KB or smaller")
    if b"\x00" in content:
        raise UnreadableFile(
            "The file is not a CSV file (it holds binary data, as a spreadsheet or an image "
            "does). Save the table as CSV UTF-8 and upload that"
        )
    try:
        text = content.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError:
        raise UnreadableFile(
            "The file is not saved as UTF-8 text. In Excel, choose Save As and "
            "“CSV UTF-8 (Comma delimited)”, then upload the file again"
        ) from None
    if not text.strip():
        raise UnreadableFile("The file is empty")
    return text


def normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def crime_type_lookup(crime_types) -> dict[str, CrimeType]:
    """Crime types by name and by printed label ("Drug Trafficking", "(Drug Trafficking)")."""
    lookup = {}
    for crime_type in crime_types:
        lookup[normalise(crime_type.label)] = crime_type
        lookup[normalise(crime_type.name)] = crime_type
    return lookup


def parse(content: bytes, year: int, crime_types, areas_compared: int) -> ParsedFile:
    """Rows and row-level errors; UnreadableFile for a file that cannot be read at all."""
    text = decode(content)
    try:
        lines = [
            (number, [cell.strip() for cell in cells])
            for number, cells in enumerate(csv.reader(io.StringIO(text, newline="")), start=1)
        ]
    except csv.Error as error:
        raise UnreadableFile(f"The file could not be read as CSV: {error}") from None
    lines = [(number, cells) for number, cells in lines if any(cells)]
    if not lines:
        raise UnreadableFile("The file is empty")

    _, headings = lines[0]
    if [normalise(cell) for cell in trim(headings)] != [normalise(h) for h in HEADINGS]:
        found = ", ".join(trim(headings)) or "nothing"
        raise UnreadableFile(
            f"The first row must be the headings {', '.join(HEADINGS)}; this file has {found}"
        )
    body = lines[1:]
    if not body:
        raise UnreadableFile("The file has its headings but no rows of figures")
    if len(body) > MAX_ROWS:
        raise UnreadableFile(
            f"The file has {len(body)} rows of figures; a year's table has one row per crime "
            f"type, and at most {MAX_ROWS} are read"
        )

    lookup = crime_type_lookup(crime_types)
    rows, errors, seen = [], [], {}
    for number, cells in body:
        cells = trim(cells)
        if len(cells) > len(HEADINGS):
            errors.append(
                f"Row {number} has {len(cells)} cells; a row has {len(HEADINGS)}: crime type, "
                "count, previous count and county position"
            )
            continue
        # A row may stop short of the cells it leaves empty.
        cells += [""] * (len(HEADINGS) - len(cells))
        name, count_text, previous_text, position_text = cells
        problems = []
        crime_type = lookup.get(normalise(name))
        if not name:
            problems.append(f"Row {number}: enter the crime type")
        elif crime_type is None:
            problems.append(
                f"Row {number}: “{name}” is not a crime type held here; use a crime type "
                "as the crime table names it, like “All crime”"
            )
        elif crime_type.pk in seen:
            problems.append(
                f"Row {number}: {crime_type.label} is already on row {seen[crime_type.pk]}"
            )
        else:
            seen[crime_type.pk] = number
        label = crime_type.label if crime_type else "the count"
        count = previous = position = None
        try:
            if not count_text:
                raise ValueError(f"enter the count for {year}")
            count = parse_count(count_text, f"the count for {year}")
        except ValueError as error:
            problems.append(f"Row {number} ({label}): {error}")
        if previous_text:
            try:
                previous = parse_count(previous_text, f"the previous count (for {year - 1})")
            except ValueError as error:
                problems.append(f"Row {number} ({label}): {error}")
        if position_text:
            try:
                position = parse_position(position_text, "the county position", areas_compared)
            except ValueError as error:
                problems.append(f"Row {number} ({label}): {error}")
        if problems:
            errors.extend(problems)
        else:
            rows.append(ImportRow(number, crime_type, count, previous, position))
    return ParsedFile(rows=rows if not errors else [], errors=errors)


def trim(cells: list[str]) -> list[str]:
    """Without the empty cells a spreadsheet leaves at the end of a row."""
    cells = list(cells)
    while cells and not cells[-1]:
        cells.pop()
    return cells


def figures(rows: list[ImportRow], year: int):
    """The counts and positions the rows give: count and position for the year, the
    previous count for the year before."""
    counts, positions = {}, {}
    for row in rows:
        counts[(row.crime_type, year)] = row.count
        if row.previous_count is not None:
            counts[(row.crime_type, year - 1)] = row.previous_count
        if row.position is not None:
            positions[(row.crime_type, year)] = row.position
    return counts, positions
