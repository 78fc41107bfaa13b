"""Benchmark the two crime imports on PostgreSQL, against PostgreSQL's own COPY.

    .venv/bin/python bench/imports.py [--home-office-rows 1000000] [--police-rows 250000]

Generates, in a temporary folder, files the size of the real ones:

- a Home Office "police recorded crime by CSP" table as .xlsx (as downloaded): one sheet
  per financial year, every CSP in England and Wales (Kent's 12 districts among ~300),
  ~140 offences, four quarters — about 1,000,000 rows;
- a year of Kent Police street-level files as the data.police.uk custom download's .zip:
  12 monthly CSVs, about 250,000 rows, over ~1,100 LSOAs, with anti-social behaviour and
  no-location rows.

Then, in the database csp_plan_bench_imports (created if missing; BENCH_POSTGRES names
the server, default postgres://postgres@127.0.0.1:5432), times each import as the
management command runs it (read, compare, write, in one transaction) on empty tables,
then again with the same file (nothing to change), and times PostgreSQL's COPY of the same
rows, as CSV, into a bare table with the file's columns. Prints the times and the ratio of
each import to its COPY. Loopback only; writes nothing outside the temporary folder and
that database.
"""

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KENT = [
    "Ashford", "Canterbury", "Dartford", "Dover", "Gravesham", "Maidstone", "Sevenoaks",
    "Folkestone and Hythe", "Swale", "Thanet", "Tonbridge and Malling", "Tunbridge Wells",
]  # fmt: skip
GROUPS = [
    ("Violence against the person", ["Homicide", "Violence with injury", "Violence without injury", "Stalking and harassment"]),
    ("Sexual offences", ["Rape", "Other sexual offences"]),
    ("Robbery", ["Robbery of business property", "Robbery of personal property"]),
    ("Theft offences", ["Residential burglary", "Business and community burglary", "Vehicle offences", "Theft from the person", "Bicycle theft", "Shoplifting", "All other theft offences"]),
    ("Criminal damage and arson", ["Arson", "Criminal damage"]),
    ("Drug offences", ["Trafficking of drugs", "Possession of drugs"]),
    ("Possession of weapons offences", ["Possession of weapons offences"]),
    ("Public order offences", ["Public order offences"]),
    ("Miscellaneous crimes against society", ["Miscellaneous crimes against society"]),
]  # fmt: skip
STREET_TYPES = [
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs",
    "Other theft", "Possession of weapons", "Public order", "Robbery", "Shoplifting",
    "Theft from the person", "Vehicle crime", "Violence and sexual offences", "Other crime",
]  # fmt: skip
STREET_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
    "LSOA name,Crime type,Last outcome category,Context"
)
HO_HEADER = [
    "Financial Year", "Financial Quarter", "Force Name", "CSP Name", "Offence Description",
    "Offence Group", "Offence Subgroup", "Offence Code", "Offence Count",
]  # fmt: skip


# Generating the files ------------------------------------------------------------------------


def offences() -> list[tuple[str, str, str, str]]:
    """~140 offences: (description, group, subgroup, code)."""
    result = []
    number = 1
    while len(result) < 140:
        for group, subgroups in GROUPS:
            for subgroup in subgroups:
                result.append((f"{subgroup} offence {number}", group, subgroup, f"{number}A"))
                number += 1
    return result[:140]


def csps() -> list[tuple[str, str]]:
    """(force, CSP): Kent's 12 districts and Medway, and ~290 others."""
    places = [("Kent", name) for name in KENT] + [("Kent", "Medway")]
    for force in range(42):
        places += [(f"Force {force}", f"CSP {force}-{n}") for n in range(7)]
    return places


def home_office_rows(target: int):
    """Rows of the table, one financial year at a time, until ``target`` rows."""
    rng = random.Random(1)
    places, kinds = csps(), offences()
    per_year = len(places) * len(kinds) * 4
    years = max(1, round(target / per_year))
    produced = 0
    for year in range(2021 - years + 1, 2022):
        label = f"{year}/{(year + 1) % 100:02d}"
        rows = []
        for quarter in range(1, 5):
            for force, csp in places:
                for description, group, subgroup, code in kinds:
                    if produced >= target:
                        break
                    rows.append([label, f"Q{quarter}", force, csp, description, group,
                                 subgroup, code, rng.randint(0, 40)])  # fmt: skip
                    produced += 1
        yield f"{year}-{(year + 1) % 100:02d}", rows


def cell_ref(column: int, row: int) -> str:
    return f"{'ABCDEFGHI'[column]}{row}"


def write_xlsx(path: Path, sheets: list[tuple[str, list[list]]]) -> None:
    """A minimal .xlsx with shared strings (as Excel writes them), written directly: a
    general-purpose writer takes longer than the import being measured."""
    strings: dict[str, int] = {}

    def shared(text: str) -> int:
        index = strings.get(text)
        if index is None:
            index = strings[text] = len(strings)
        return index

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for number, (_, rows) in enumerate(sheets, start=1):
            with archive.open(f"xl/worksheets/sheet{number}.xml", "w", force_zip64=True) as raw:
                out = io.TextIOWrapper(raw, encoding="utf-8")
                out.write(
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    "<sheetData>"
                )
                for r, row in enumerate([HO_HEADER, *rows], start=1):
                    cells = []
                    for c, value in enumerate(row):
                        if isinstance(value, int):
                            cells.append(f'<c r="{cell_ref(c, r)}"><v>{value}</v></c>')
                        else:
                            cells.append(
                                f'<c r="{cell_ref(c, r)}" t="s"><v>{shared(value)}</v></c>'
                            )
                    out.write(f'<row r="{r}">{"".join(cells)}</row>')
                out.write("</sheetData></worksheet>")
                out.flush()
                out.detach()
        sst = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
        archive.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{sst}</sst>',
        )
        sheet_entries = "".join(
            f'<sheet name="{name}" sheetId="{n}" r:id="rId{n}"/>'
            for n, (name, _) in enumerate(sheets, start=1)
        )
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheet_entries}</sheets></workbook>",
        )
        relations = "".join(
            f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, len(sheets) + 1)
        )
        n = len(sheets) + 1
        relations += f'<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{relations}</Relationships>',
        )
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for n in range(1, len(sheets) + 1)
        )
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            f"{overrides}</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )


def street_csvs(target: int) -> dict[str, str]:
    """Month → the street-level CSV text, 12 months of 2021 adding up to ``target`` rows."""
    rng = random.Random(2)
    lsoas = [
        (f"E0{1020000 + 100 * d + n}", f"{district} {n // 4 + 1:03d}{'ABCD'[n % 4]}")
        for d, district in enumerate([*KENT, "Medway"])
        for n in range(85)
    ]
    files = {}
    per_month = target // 12
    for month in range(1, 13):
        label = f"2021-{month:02d}"
        out = io.StringIO()
        out.write(STREET_HEADER + "\r\n")
        writer = csv.writer(out, lineterminator="\r\n")
        count = per_month if month < 12 else target - per_month * 11
        for serial in range(count):
            kind = rng.choice(STREET_TYPES)
            asb = kind == "Anti-social behaviour"
            if rng.random() < 0.03:
                code, name, lon, lat, where = "", "", "", "", "No location"
            else:
                code, name = rng.choice(lsoas)
                lon, lat, where = "0.26", "51.13", "On or near High Street"
            writer.writerow([
                "" if asb else f"{month:02d}{serial:08x}{rng.getrandbits(64):016x}", label,
                "Kent Police", "Kent Police", lon, lat, where, code, name, kind,
                "" if asb else "Investigation complete; no suspect identified", "",
            ])  # fmt: skip
        files[label] = out.getvalue()
    return files


# Measuring ----------------------------------------------------------------------------------------


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csp.settings")
    import django

    django.setup()


def ensure_database(server: str, name: str) -> None:
    import psycopg2

    connection = psycopg2.connect(f"{server}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def copy_seconds(table_sql: str, csv_text: str) -> float:
    """PostgreSQL's own COPY of the same rows, as CSV, into a bare (unlogged) table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute(f"CREATE UNLOGGED TABLE bench_copy ({table_sql})")
        raw = cursor.cursor  # psycopg2's own cursor, for copy_expert
        start = time.perf_counter()
        raw.copy_expert(
            "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)", io.StringIO(csv_text)
        )
        connection.commit() if not connection.get_autocommit() else None
        seconds = time.perf_counter() - start
        cursor.execute("DROP TABLE bench_copy")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home-office-rows", type=int, default=1_000_000)
    parser.add_argument("--police-rows", type=int, default=250_000)
    parser.add_argument("--database", default="csp_plan_bench_imports")
    args = parser.parse_args()

    server = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
    ensure_database(server, args.database)
    setup_django(f"{server}/{args.database}")
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from crimestats.models import (
        CategoryMapping,
        ImportRun,
        PendingImport,
        RecordedOffenceCount,
        Source,
        SourceCategory,
        StreetCrimeCount,
    )
    from crimestats.sources import service
    from crimestats.sources.files import Upload
    from csp import seed

    # The default 1,000,000 rows (six sheets of ~172,000, ~320 MB unpacked) are within the
    # import's limits (docs/security.md, "Uploads"); more rows than a real table has would
    # meet them, so raise what they would meet, as a deployment can in its settings.
    settings.CRIME_IMPORT_MAX_UNPACKED_BYTES = max(
        settings.CRIME_IMPORT_MAX_UNPACKED_BYTES, 512 * args.home_office_rows
    )
    settings.CRIME_IMPORT_MAX_PART_BYTES = max(
        settings.CRIME_IMPORT_MAX_PART_BYTES, 200 * args.police_rows // 12
    )
    call_command("migrate", verbosity=0)
    seed.load_crime_statistics()
    for model in (RecordedOffenceCount, StreetCrimeCount, PendingImport, ImportRun):
        model.objects.all().delete()
    CategoryMapping.objects.all().delete()
    SourceCategory.objects.all().delete()

    results = []
    with tempfile.TemporaryDirectory(prefix="csp-bench-imports-") as folder:
        folder = Path(folder)
        print(
            f"Generating {args.home_office_rows:,} Home Office rows and {args.police_rows:,} street-level rows…",
            flush=True,
        )
        sheets = list(home_office_rows(args.home_office_rows))
        ho_rows = sum(len(rows) for _, rows in sheets)
        xlsx = folder / "prc-csp-bench.xlsx"
        start = time.perf_counter()
        write_xlsx(xlsx, sheets)
        seconds = time.perf_counter() - start
        print(
            f"  wrote {xlsx.name} ({xlsx.stat().st_size / 1024**2:.0f} MB) in {seconds:.1f} s",
            flush=True,
        )
        ho_csv = io.StringIO()
        writer = csv.writer(ho_csv, lineterminator="\n")
        writer.writerow(HO_HEADER)
        for _, rows in sheets:
            writer.writerows(rows)
        ho_csv_text = ho_csv.getvalue()
        del sheets, ho_csv

        months = street_csvs(args.police_rows)
        archive = folder / "kent-2021.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
            for month, text in months.items():
                out.writestr(f"{month}/{month}-kent-street.csv", text)
        street_csv_text = (
            STREET_HEADER
            + "\n"
            + "".join(text.split("\r\n", 1)[1].replace("\r\n", "\n") for text in months.values())
        )
        print(f"  wrote {archive.name} ({archive.stat().st_size / 1024**2:.0f} MB)", flush=True)

        def run(source, path):
            with open(path, "rb") as handle:
                return service.import_now(source, [Upload(path.name, handle, path.stat().st_size)])

        for label, source, path, rows, copy_table, copy_text in [
            ("Home Office table (.xlsx)", Source.HOME_OFFICE, xlsx, ho_rows,
             "year text, quarter text, force text, csp text, description text, grp text, "
             "subgroup text, code text, count integer", ho_csv_text),
            ("police.uk street-level year (.zip)", Source.POLICE_UK, archive, args.police_rows,
             ", ".join(f"c{n} text" for n in range(12)), street_csv_text),
        ]:  # fmt: skip
            first, (preview, record) = timed(lambda source=source, path=path: run(source, path))
            again, (_, second_record) = timed(lambda source=source, path=path: run(source, path))
            copy = copy_seconds(copy_table, copy_text)
            assert record is not None and second_record is None
            results.append((label, rows, first, again, copy, record.created, preview))
            print(
                f"  {label}: first import {first:.1f} s, again {again:.1f} s, COPY {copy:.2f} s",
                flush=True,
            )

    connection.close()
    print()
    print(
        "| import | rows in file | counts stored | first import | same file again | COPY of the rows | import ÷ COPY |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, rows, first, again, copy, created, _ in results:
        print(
            f"| {label} | {rows:,} | {created:,} | {first:.1f} s | {again:.1f} s | {copy:.2f} s | {first / copy:.1f}× |"
        )


if __name__ == "__main__":
    main()
