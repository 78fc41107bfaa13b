"""data.police.uk street-level crime files.

``YYYY-MM/YYYY-MM-<force>-street.csv`` inside the archive the custom download gives, one
row per crime (or anti-social behaviour incident), header::

    Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,
    LSOA name,Crime type,Last outcome category,Context

``LSOA name`` begins with the district's name ("Tunbridge Wells 001A"). Anti-social
behaviour rows have no Crime ID or outcome; rows with no location have no coordinates and
no LSOA, so no district: they are counted by month and reported, not imported. Rows in
LSOAs of districts that are not held here (Medway, or across the county boundary) are
reported by district.

Rows are aggregated to (LSOA, month, crime type) counts as they are read.
"""

import datetime
import re
from collections import Counter

from ..models import Source
from .files import UNREADABLE, Refused, Upload, check_size, csv_rows, kind_of, open_zip
from .labels import area_index, category_key, normalise, tidy
from .parsed import Category, Parsed

HEADER = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]
NEEDED = ["Month", "LSOA code", "LSOA name", "Crime type"]
STREET_FILE = re.compile(r"(?:^|/)(\d{4}-\d{2})-[a-z0-9-]+-street\.csv$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_LSOA_NAME = re.compile(r"^(.*\S)\s+\d{3}[A-Z]$")


def parse_month(text: str) -> str | None:
    """ "2021-03" stays "2021-03"; anything else (or an impossible month) is None."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        return None
    return text.strip()


def month_date(month: str) -> datetime.date:
    year, number = month.split("-")
    return datetime.date(int(year), int(number), 1)


def district_of(lsoa_name: str) -> str:
    """ "Tunbridge Wells 001A" → "Tunbridge Wells"."""
    match = _LSOA_NAME.match(lsoa_name.strip())
    return match.group(1) if match else lsoa_name.strip()


def street_files(upload: Upload):
    """(name, binary stream) for each street-level CSV in the upload."""
    kind = kind_of(upload)
    if kind == "zip":
        archive = open_zip(upload)
        members = [info for info in archive.infolist() if not info.is_dir()]
        street = [info for info in members if STREET_FILE.search(info.filename)]
        if not street:
            raise Refused(
                f"{upload.name} holds no street-level files (named like "
                "2021-03/2021-03-kent-street.csv). Tick “Include crime data” in the "
                "data.police.uk custom download."
            )
        for info in sorted(street, key=lambda item: item.filename):
            with archive.open(info) as stream:
                yield info.filename, stream
        others = len(members) - len(street)
        if others:
            yield None, others  # outcomes and stop-and-search files: reported, not read
        return
    if kind != "text":
        raise Refused(
            f"{upload.name} is not a CSV file or a zip archive. Upload the street-level "
            "files (…-street.csv) or the zip of the data.police.uk custom download."
        )
    yield upload.name, upload.stream


def parse(uploads: list[Upload], areas: list) -> Parsed:
    """Read the files into counts for ``areas`` (read by the caller: this runs where the
    database is out of reach, see ``budget``)."""
    if not uploads:
        raise Refused("Choose the street-level files to upload.")
    name = ", ".join(upload.name for upload in uploads)
    parsed = Parsed(source=Source.POLICE_UK, file_name=name)
    index = area_index(areas)
    raw: Counter = Counter()  # (lsoa code, lsoa name, month, crime type) → rows
    month_files: dict[str, str] = {}
    for upload in uploads:
        check_size(upload)
        try:
            read_upload(parsed, upload, raw, month_files)
        except UNREADABLE as error:
            raise Refused(f"{upload.name} could not be read ({error}).") from error
    if parsed.errors:
        return parsed
    resolve(parsed, raw, index)
    if not parsed.counts:
        raise Refused(
            f"{name} has no crimes in the county's districts ("
            + ", ".join(sorted(area.name for area in areas))
            + ")."
        )
    return parsed


def read_upload(parsed: Parsed, upload: Upload, raw: Counter, month_files: dict) -> None:
    for file_name, stream in street_files(upload):
        if file_name is None:
            parsed.notes.append(
                f"{upload.name}: {stream} other file(s) (outcomes, stop and search) not read."
            )
            continue
        for month in read_file(parsed, file_name, stream, raw):
            if month in month_files:
                raise Refused(
                    f"{month} is in both {month_files[month]} and {file_name}: upload each "
                    "month once."
                )
            month_files[month] = file_name


def read_file(parsed: Parsed, file_name: str, stream, raw: Counter) -> set[str]:
    """Count one file's rows into ``raw``; the months it holds."""
    rows = csv_rows(stream, file_name)
    header = next(rows, None)
    if header is None:
        raise Refused(f"{file_name} is empty.")
    header = [cell.strip() for cell in header]
    missing = [column for column in NEEDED if column not in header]
    if missing:
        raise Refused(
            f"{file_name} is not a data.police.uk street-level file: its header lacks "
            f"{', '.join(missing)}. Expected: {','.join(HEADER)}."
        )
    i_month, i_code, i_name, i_type = (header.index(column) for column in NEEDED)
    width = len(header)
    months: dict[str, str | None] = {}
    errors = parsed.errors
    unlocated = parsed.unlocated
    for number, row in enumerate(rows, start=2):
        if len(row) != width:
            if not any(cell.strip() for cell in row):
                continue
            errors.add(
                f"{file_name}, line {number}", f"{len(row)} columns where the header has {width}"
            )
            continue
        parsed.rows_read += 1
        month_text = row[i_month]
        month = months.get(month_text, "")
        if month == "":
            month = months[month_text] = parse_month(month_text)
        if month is None:
            errors.add(f"{file_name}, line {number}", f"month “{month_text}” is not like 2021-03")
            continue
        crime_type = row[i_type]
        if not crime_type.strip():
            errors.add(f"{file_name}, line {number}", "the crime type is empty")
            continue
        code = row[i_code]
        if not code.strip():
            unlocated[month] += 1
            continue
        raw[(code, row[i_name], month, crime_type)] += 1
    return {month for month in months.values() if month}


def resolve(parsed: Parsed, raw: Counter, index: dict) -> None:
    """Turn raw (LSOA, month, crime type) counts into counts for the districts held here."""
    keys: dict[str, str] = {}
    districts: dict[str, object] = {}
    for (code, lsoa_name, month, crime_type), count in raw.items():
        parsed.scope.add(month)
        code = code.strip()
        if code not in parsed.lsoas:
            district = district_of(lsoa_name)
            area = districts.get(district)
            if area is None:
                area = districts[district] = index.get(normalise(district), False)
            if area is False:
                parsed.unknown_areas[district or "(no LSOA name)"] += count
                continue
            parsed.lsoas[code] = (area.pk, tidy(lsoa_name))
        key = keys.get(crime_type)
        if key is None:
            key = keys[crime_type] = category_key(crime_type)
            parsed.categories.setdefault(key, Category(label=tidy(crime_type)))
        natural = (code, month, key)
        parsed.counts[natural] = parsed.counts.get(natural, 0) + count
        parsed.rows_used += count
    parsed.scope.update(parsed.unlocated)
