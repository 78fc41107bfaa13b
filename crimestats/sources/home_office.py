"""The Home Office police recorded crime open data tables by Community Safety Partnership.

Long format, one sheet per financial year (xlsx or ods; csv with the same columns is
accepted too), columns::

    Financial Year, Financial Quarter, Force Name, CSP Name, Offence Description,
    Offence Group, Offence Subgroup, Offence Code, Offence Count

(the newest edition calls the third column ``Police Force``), e.g.
``2020/21, Q1, Kent, Tunbridge Wells, Other drug offences, Drug offences, Possession of
drugs, 92C, 0``. The tables cover every CSP in England and Wales; only the rows for the
areas held here are imported. Rows for CSPs of the county's force that are not areas held
here (Medway, a misspelt district) are reported, and rows for other forces are counted.
"""

import re
from collections.abc import Iterable, Iterator

from python_calamine import CalamineWorkbook

from ..models import Source
from . import extent
from .files import Refused, Upload, check_size, csv_rows, kind_of, limits, open_zip
from .labels import area_index, category_key, normalise, tidy
from .parsed import Category, Parsed

COLUMNS = {
    "year": ("financial year",),
    "quarter": ("financial quarter",),
    "force": ("force name", "police force"),
    "csp": ("csp name",),
    "description": ("offence description",),
    "group": ("offence group",),
    "subgroup": ("offence subgroup",),
    "code": ("offence code",),
    "count": ("offence count",),
}
PRINTED = {
    "year": "Financial Year",
    "quarter": "Financial Quarter",
    "force": "Force Name (or Police Force)",
    "csp": "CSP Name",
    "description": "Offence Description",
    "group": "Offence Group",
    "subgroup": "Offence Subgroup",
    "code": "Offence Code",
    "count": "Offence Count",
}
HEADER_SEARCH_ROWS = 20
_YEAR = re.compile(r"^(\d{4})\s*[/-]\s*(\d{2}|\d{4})$")
_QUARTER = re.compile(r"^q?([1-4])$", re.IGNORECASE)
_MISSING = object()


def cell_text(value) -> str:
    """A cell as text: spreadsheets give numbers as floats (8.0 → "8")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def parse_year(value) -> int | None:
    match = _YEAR.match(cell_text(value))
    if not match:
        return None
    first, second = int(match.group(1)), int(match.group(2))
    expected = first + 1 if second >= 1000 else (first + 1) % 100
    return first if second == expected else None


def parse_quarter(value) -> int | None:
    match = _QUARTER.match(cell_text(value))
    return int(match.group(1)) if match else None


def parse_count(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if value >= 0 and float(value).is_integer() else None
    text = str(value).strip().replace(",", "")
    return int(text) if text.isdigit() else None


def header_positions(row: list) -> tuple[dict[str, int], list[str]] | None:
    """Column positions if ``row`` looks like the table's header, with what it lacks."""
    names = {normalise(cell_text(cell)): index for index, cell in enumerate(row)}
    positions = {}
    for column, spellings in COLUMNS.items():
        for spelling in spellings:
            if spelling in names:
                positions[column] = names[spelling]
                break
    if len(positions) < 3:
        return None
    missing = [PRINTED[column] for column in COLUMNS if column not in positions]
    return positions, missing


def sheets(upload: Upload) -> Iterator[tuple[str, Iterable[list]]]:
    """(name, rows) for each sheet of a spreadsheet, or the one table of a CSV."""
    kind = kind_of(upload)
    if kind == "text":
        yield upload.name, csv_rows(upload.stream, upload.name)
        return
    if kind == "binary":
        raise Refused(
            f"{upload.name} is not a spreadsheet or CSV file. Upload the Home Office table as "
            "downloaded (.xlsx or .ods), or saved as CSV."
        )
    bounds = limits()
    if kind == "zip":
        # Refuses an archive that would unpack to too much, or a sheet reaching too far.
        extent.check(upload, open_zip(upload), bounds)
    upload.stream.seek(0)
    try:
        workbook = CalamineWorkbook.from_filelike(upload.stream)
        names = workbook.sheet_names
    except BaseException as error:
        raise_unless_unreadable(error)
        raise Refused(
            f"{upload.name} could not be read as a spreadsheet ({error}). Upload the Home "
            "Office table as downloaded (.xlsx or .ods)."
        ) from error
    for name in names:
        try:
            sheet = workbook.get_sheet_by_name(name)
        except BaseException as error:
            raise_unless_unreadable(error)
            raise Refused(
                f"Sheet “{name}” of {upload.name} could not be read ({error})."
            ) from error
        # Also holds an old .xls (whose format allows 65,536 rows by 256 columns).
        if sheet.height > bounds.rows or sheet.width > bounds.columns:
            raise Refused(
                f"Sheet “{name}” of {upload.name} has {sheet.height:,} rows and {sheet.width:,} "
                f"columns; a sheet may use {bounds.rows:,} rows and {bounds.columns} columns "
                "here. Copy the table into a new spreadsheet and upload that."
            )
        yield name, sheet.iter_rows()


def raise_unless_unreadable(error: BaseException) -> None:
    """Let interrupts through; anything else reading a spreadsheet raises (calamine's own
    errors, and the panic its Rust code raises on some malformed files, which is a
    BaseException) means the file is unreadable."""
    if not isinstance(error, Exception) and type(error).__name__ != "PanicException":
        raise error


def parse(uploads: list[Upload], areas: list) -> Parsed:
    """Read the table(s) into per-quarter counts for ``areas`` (the areas held here, read
    by the caller: this runs where the database is out of reach, see ``budget``)."""
    if not uploads:
        raise Refused("Choose the Home Office table to upload.")
    name = ", ".join(upload.name for upload in uploads)
    parsed = Parsed(source=Source.HOME_OFFICE, file_name=name)
    index = area_index(areas)
    counties = {normalise(area.county) for area in areas}
    first_seen: dict[tuple, str] = {}
    tables = 0
    for upload in uploads:
        check_size(upload)
        for sheet_name, rows in sheets(upload):
            where = sheet_name if sheet_name == upload.name else f"Sheet “{sheet_name}”"
            if read_sheet(parsed, where, rows, index, counties, first_seen):
                tables += 1
    if not tables:
        raise Refused(
            f"{name} has no Home Office table: no sheet has the columns "
            + ", ".join(PRINTED.values())
            + "."
        )
    if not parsed.counts and not parsed.errors:
        raise Refused(
            f"{name} has no rows for the county's districts ("
            + ", ".join(sorted(area.name for area in areas))
            + ")."
        )
    return parsed


def read_sheet(parsed, where, rows, index, counties, first_seen) -> bool:
    """Read one sheet into ``parsed``; False where it holds no table (a notes sheet)."""
    rows = iter(rows)
    found = None
    for number, row in enumerate(rows, start=1):
        found = header_positions(list(row))
        if found or number >= HEADER_SEARCH_ROWS:
            break
    if not found:
        parsed.notes.append(f"{where} has no table and was not read.")
        return False
    positions, missing = found
    if missing:
        raise Refused(
            f"{where}: the header row lacks {', '.join(missing)}. Expected the Home Office "
            f"columns {', '.join(PRINTED.values())}."
        )
    header_row = number
    i_year, i_quarter, i_force, i_csp = (positions[c] for c in ("year", "quarter", "force", "csp"))
    i_description, i_group, i_subgroup, i_code, i_count = (
        positions[c] for c in ("description", "group", "subgroup", "code", "count")
    )
    width = max(positions.values()) + 1
    area_of: dict = {}
    in_county: dict = {}
    keys: dict = {}
    years: dict = {}
    quarters: dict = {}
    errors = parsed.errors
    counts = parsed.counts
    for number, row in enumerate(rows, start=header_row + 1):
        if len(row) < width:
            row = list(row) + [""] * (width - len(row))
        parsed.rows_read += 1
        csp = row[i_csp]
        area = area_of.get(csp, _MISSING)
        if area is _MISSING:
            area = area_of[csp] = index.get(normalise(cell_text(csp)))
        if area is None:
            force = row[i_force]
            county = in_county.get(force)
            if county is None:
                force_name = normalise(cell_text(force))
                county = in_county[force] = any(force_name.startswith(c) for c in counties)
            if not cell_text(csp):
                parsed.skipped["blank rows and notes"] += 1
            elif county:
                parsed.unknown_areas[tidy(cell_text(csp))] += 1
            else:
                parsed.skipped["CSPs of other police forces"] += 1
            continue

        at = f"{where}, row {number}"
        year = years.get(row[i_year], _MISSING)
        if year is _MISSING:
            year = years[row[i_year]] = parse_year(row[i_year])
        quarter = quarters.get(row[i_quarter], _MISSING)
        if quarter is _MISSING:
            quarter = quarters[row[i_quarter]] = parse_quarter(row[i_quarter])
        count = parse_count(row[i_count])
        description = row[i_description]
        ok = True
        if year is None:
            errors.add(at, f"financial year “{cell_text(row[i_year])}” is not like 2020/21")
            ok = False
        if quarter is None:
            errors.add(at, f"financial quarter “{cell_text(row[i_quarter])}” is not Q1 to Q4")
            ok = False
        if count is None:
            errors.add(at, f"offence count “{cell_text(row[i_count])}” is not a whole number")
            ok = False
        if not cell_text(description):
            errors.add(at, "the offence description is empty")
            ok = False
        if not ok:
            continue

        raw = (description, row[i_code])
        key = keys.get(raw)
        if key is None:
            code = cell_text(row[i_code])
            key = keys[raw] = category_key(cell_text(description), code)
            if key not in parsed.categories:
                parsed.categories[key] = Category(
                    label=tidy(cell_text(description)),
                    code=code,
                    group=tidy(cell_text(row[i_group])),
                    subgroup=tidy(cell_text(row[i_subgroup])),
                )
        natural = (area.pk, key, year, quarter)
        if natural in counts:
            errors.add(
                at,
                f"{area.name}, {cell_text(description)}, {cell_text(row[i_year])} "
                f"Q{quarter} appears again (first at {first_seen[natural]})",
            )
            continue
        first_seen[natural] = at
        counts[natural] = count
        parsed.scope.add((area.pk, year, quarter))
        parsed.rows_used += 1
    return True
