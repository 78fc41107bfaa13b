"""Writes the small source files the import tests read, in the documented formats.

Run it again (``.venv/bin/python tests/data/make_test_data.py``) only to change them; the
tests read the files, never this script. Counts follow simple formulas so a reader can
check a figure by hand:

Home Office (financial years 2019/20 to 2021/22, one sheet each, 7 offences):
    count = (district number + 1) * (offence number + 1) + quarter + 4 * (year - 2019)
where district number is the district's place in fixtures/areas.csv (Ashford 0 …
Tunbridge Wells 11) and offence number its place in OFFENCES.

police.uk (January to April 2021): rows listed explicitly below, per month.
"""

import csv
import io
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl

HERE = Path(__file__).resolve().parent
DISTRICTS = [
    "Ashford", "Canterbury", "Dartford", "Dover", "Gravesham", "Maidstone", "Sevenoaks",
    "Folkestone and Hythe", "Swale", "Thanet", "Tonbridge and Malling", "Tunbridge Wells",
]  # fmt: skip
# (description, group by edition (2019/20, 2020/21, 2021/22), subgroup, code)
OFFENCES = [
    ("Assault with injury", ("Violence against the person",) * 3, "Violence with injury", "8N"),
    ("Rape of a female aged 16 and over", ("Sexual offences",) * 3, "Rape", "19C"),
    ("Burglary - Residential", ("Theft Offences", "Theft offences", "Theft offences"), "Residential burglary", "28E"),
    ("Shoplifting", ("Theft Offences", "Theft offences", "Theft offences"), "Shoplifting", "46"),
    ("Other drug offences", ("Drug Offences", "Drug offences", "Drug offences"), "Possession of drugs", "92C"),
    ("Trafficking in controlled drugs", ("Drug Offences", "Drug offences", "Drug offences"), "Trafficking of drugs", "92A"),
    ("Going equipped for stealing, etc.", ("Miscellaneous crimes against society", "Miscellaneous crimes", "Miscellaneous crimes"), "Miscellaneous crimes against society", "81"),
]  # fmt: skip
HEADER = [
    "Financial Year", "Financial Quarter", "Force Name", "CSP Name", "Offence Description",
    "Offence Group", "Offence Subgroup", "Offence Code", "Offence Count",
]  # fmt: skip
YEARS = [2019, 2020, 2021]


def home_office_count(district: int, offence: int, year: int, quarter: int) -> int:
    return (district + 1) * (offence + 1) + quarter + 4 * (year - 2019)


def home_office_sheet(year: int) -> list[list]:
    header = list(HEADER)
    if year == 2021:
        header[2] = "Police Force"  # the newest edition's spelling
    rows = [header]
    label = f"{year}/{(year + 1) % 100:02d}"
    for quarter in range(1, 5):
        for d, district in enumerate(DISTRICTS):
            for o, (description, groups, subgroup, code) in enumerate(OFFENCES):
                count = home_office_count(d, o, year, quarter)
                rows.append([label, f"Q{quarter}", "Kent", district, description,
                             groups[year - 2019], subgroup, code, count])  # fmt: skip
        # Kent Police's other CSP, not a Kent County Council district: reported, skipped.
        rows.append([label, f"Q{quarter}", "Kent", "Medway", "Shoplifting",
                     "Theft offences", "Shoplifting", "46", 99])  # fmt: skip
        # Another force's CSPs: counted as skipped.
        rows.append([label, f"Q{quarter}", "Surrey", "Elmbridge", "Shoplifting",
                     "Theft offences", "Shoplifting", "46", 12])  # fmt: skip
        rows.append([label, f"Q{quarter}", "Avon and Somerset", "Bath and North East Somerset",
                     "Other drug offences", "Drug offences", "Possession of drugs", "92C", 0])  # fmt: skip
    return rows


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8") -> None:
    with open(path, "w", newline="", encoding=encoding) as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(rows)


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["Police recorded crime by Community Safety Partnership (test copy)"])
    workbook.active.append(["One sheet per financial year."])
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)


def ods_cell(value) -> str:
    if isinstance(value, int):
        return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'


def write_ods(path: Path, sheets: dict[str, list[list]]) -> None:
    """A minimal OpenDocument spreadsheet, written by hand (no library needed)."""
    tables = []
    for name, rows in {"Notes": [["Police recorded crime by CSP (test copy)"]], **sheets}.items():
        body = "".join(
            "<table:table-row>" + "".join(ods_cell(value) for value in row) + "</table:table-row>"
            for row in rows
        )
        tables.append(f'<table:table table:name="{escape(name)}">{body}</table:table>')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{''.join(tables)}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet",
                         compress_type=zipfile.ZIP_STORED)  # fmt: skip
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)


# police.uk --------------------------------------------------------------------------------

STREET_HEADER = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]  # fmt: skip
# (LSOA code, LSOA name): Tunbridge Wells's first five, one each elsewhere, and two LSOAs
# of districts that are not held (Medway is Kent Police's; Wealden is over the border).
LSOAS = [
    ("E01024843", "Tunbridge Wells 001A"),
    ("E01024844", "Tunbridge Wells 001B"),
    ("E01024850", "Tunbridge Wells 002A"),
    ("E01024861", "Tunbridge Wells 003A"),
    ("E01024872", "Tunbridge Wells 004A"),
    ("E01024400", "Maidstone 010C"),
    ("E01023980", "Ashford 005A"),
    ("E01035000", "Folkestone and Hythe 003B"),
    ("E01016000", "Medway 012A"),
    ("E01021000", "Wealden 001A"),
]
TYPES = [
    "Anti-social behaviour", "Violence and sexual offences", "Shoplifting", "Burglary",
    "Criminal damage and arson", "Vehicle crime", "Other theft", "Public order", "Drugs",
]  # fmt: skip
MONTHS = ["2021-01", "2021-02", "2021-03", "2021-04"]


def street_count(month: int, lsoa: int, crime_type: int) -> int:
    """How many rows of this type in this LSOA in this month (month 0 = January)."""
    return (lsoa + crime_type + month) % 4


def street_rows(month_number: int, month: str) -> list[list[str]]:
    rows = [STREET_HEADER]
    serial = 0
    for number, (code, name) in enumerate(LSOAS):
        for t, crime_type in enumerate(TYPES):
            for _ in range(street_count(month_number, number, t)):
                serial += 1
                asb = crime_type == "Anti-social behaviour"
                rows.append([
                    "" if asb else f"{month_number:02d}{serial:05d}f00d",
                    month, "Kent Police", "Kent Police", "0.263", "51.132",
                    "On or near Mount Pleasant Road", code, name, crime_type,
                    "" if asb else "Investigation complete; no suspect identified", "",
                ])  # fmt: skip
    # No location: no coordinates, no LSOA, so no district; counted and reported.
    for crime_type in ("Violence and sexual offences", "Other crime", "Anti-social behaviour"):
        serial += 1
        rows.append([f"{month_number:02d}{serial:05d}beef", month, "Kent Police", "Kent Police",
                     "", "", "No location", "", "", crime_type, "Under investigation", ""])  # fmt: skip
    if month == "2021-03":
        # The older files' label: kept as its own category, reported as unmapped.
        rows.append(["0300999dead", month, "Kent Police", "Kent Police", "0.263", "51.132",
                     "On or near High Street", "E01024843", "Tunbridge Wells 001A",
                     "Public disorder and weapons", "Under investigation", ""])  # fmt: skip
    return rows


def main() -> None:
    sheets = {f"{year}-{(year + 1) % 100:02d}": home_office_sheet(year) for year in YEARS}
    ho = HERE / "home_office"
    ho.mkdir(exist_ok=True)
    write_xlsx(ho / "prc-csp-kent-test.xlsx", sheets)
    write_ods(ho / "prc-csp-kent-test.ods", sheets)
    all_rows = [HEADER] + [row for rows in sheets.values() for row in rows[1:]]
    write_csv(ho / "prc-csp-kent-test.csv", all_rows)

    # A revised edition of 2021/22: two counts revised, one offence row withdrawn.
    revised = home_office_sheet(2021)
    revised = [
        row for row in revised if not (row[3] == "Ashford" and row[7] == "81" and row[1] == "Q4")
    ]
    for row in revised:
        if row[3] == "Tunbridge Wells" and row[7] == "46" and row[1] == "Q1":
            row[8] = 500
        if row[3] == "Dover" and row[7] == "8N" and row[1] == "Q2":
            row[8] = 1
    write_csv(ho / "prc-csp-kent-2021-22-revised.csv", revised)

    # Refusals and row errors.
    bad_header = [["Financial Year", "Quarter", "Force Name", "CSP", "Offence Description",
                   "Offence Group", "Offence Subgroup", "Offence Code", "Offence Count"]]  # fmt: skip
    write_csv(ho / "bad-header.csv", bad_header + home_office_sheet(2020)[1:20])
    bad_counts = home_office_sheet(2020)
    bad_counts[150][8] = "n/a"  # a Kent row, half-way down
    bad_counts[151][8] = "12.5"
    bad_counts[152][0] = "2020/22"
    bad_counts[-1][8] = "x"  # another force's row: not read, so not an error
    write_csv(ho / "bad-counts.csv", bad_counts)
    latin1 = home_office_sheet(2020)[:40]
    latin1[30][4] = "Criminal damage to a café"
    write_csv(ho / "not-utf8.csv", latin1, encoding="latin-1")
    write_csv(
        ho / "no-kent-rows.csv",
        [HEADER] + [r for r in home_office_sheet(2020)[1:] if r[2] != "Kent"],
    )

    police = HERE / "police_uk"
    police.mkdir(exist_ok=True)
    with zipfile.ZipFile(police / "kent-2021-01-to-03.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for number, month in enumerate(MONTHS[:3]):
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\r\n").writerows(street_rows(number, month))
            archive.writestr(f"{month}/{month}-kent-street.csv", buffer.getvalue())
            archive.writestr(
                f"{month}/{month}-kent-outcomes.csv",
                "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type\r\n",
            )
    write_csv(police / "2021-04-kent-street.csv", street_rows(3, MONTHS[3]))

    bad_month = street_rows(3, MONTHS[3])
    bad_month[40][1] = "2021-13"
    bad_month[41][1] = "April 2021"
    write_csv(police / "bad-month.csv", bad_month)
    outcomes = [["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
                 "Location", "LSOA code", "LSOA name", "Outcome type"]]  # fmt: skip
    write_csv(police / "2021-04-kent-outcomes.csv", outcomes)
    latin1 = street_rows(3, MONTHS[3])
    latin1[10][6] = "On or near Café Lane"
    write_csv(police / "not-utf8.csv", latin1, encoding="latin-1")
    (police / "not-a-zip.zip").write_bytes(b"PK\x03\x04this is not really an archive")
    (HERE / "binary.bin").write_bytes(bytes(range(256)) * 4)


if __name__ == "__main__":
    main()
