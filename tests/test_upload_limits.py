"""Uploads are bounded before they are read (issue 10, finding 1).

A 2 KB .xlsx with one cell at XFD1048576 made python-calamine ask for 512 GB and abort the
server; GR1048576 cost 6.7 GB; a zip bomb under the 2 GB unpacked limit took a minute of
CPU. Every file here is generated as a real file (zipfile, written by hand as Excel and
LibreOffice write them) and sent through the real upload page as the manager and through
the real command.

Guard: the files that took the process down on the old code are read only through
``crimestats.sources.budget`` (imported below): on code without it this module fails to
import, so no test here can run the old reader in the test process and kill it.
"""

import io
import time
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from lxml import html

from crimestats.models import PendingImport, RecordedOffenceCount, StreetCrimeCount
from crimestats.sources import budget  # noqa: F401 - the guard, see above

KENT = [
    "Ashford", "Canterbury", "Dartford", "Dover", "Gravesham", "Maidstone", "Sevenoaks",
    "Folkestone and Hythe", "Swale", "Thanet", "Tonbridge and Malling", "Tunbridge Wells",
]  # fmt: skip
HEADER = [
    "Financial Year", "Financial Quarter", "Force Name", "CSP Name", "Offence Description",
    "Offence Group", "Offence Subgroup", "Offence Code", "Offence Count",
]  # fmt: skip
MB = 1024**2


def kent_rows() -> list[list]:
    """A real table's shape: every district, one offence, the four quarters of 2021/22."""
    return [
        [
            "2021/22",
            f"Q{quarter}",
            "Kent",
            district,
            "Shoplifting",
            "Theft offences",
            "Shoplifting",
            "46",
            10 * quarter + number,
        ]  # fmt: skip
        for quarter in range(1, 5)
        for number, district in enumerate(KENT)
    ]


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell(row: int, column: int, value) -> str:
    ref = f"{column_letters(column)}{row}"
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def sheet_rows(rows: list[list]) -> str:
    return "".join(
        f'<row r="{r}">{"".join(cell(r, c, v) for c, v in enumerate(row, start=1))}</row>'
        for r, row in enumerate(rows, start=1)
    )


def write_xlsx(
    path: Path, *, extra: str = "", dimension: str | None = None, padding_mb: int = 0
) -> Path:
    """An .xlsx of one sheet, "Data": the header, Kent's rows, then ``extra`` XML inside
    ``<sheetData>``; ``padding_mb`` megabytes of spaces after it make a zip bomb (spaces
    pack about 1,000 to 1)."""
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f"{declared}<sheetData>"
                f"{sheet_rows([HEADER, *kent_rows()])}{extra}".encode()
            )
            spaces = b" " * MB
            for _ in range(padding_mb):
                sheet.write(spaces)
            sheet.write(b"</sheetData></worksheet>")
    return path


def write_ods(path: Path, extra: str) -> Path:
    """An .ods of one sheet, "Data": the header and Kent's rows, then ``extra`` rows."""

    def ods_cell(value) -> str:
        if isinstance(value, int):
            return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
        return f'<table:table-cell office:value-type="string"><text:p>{value}</text:p></table:table-cell>'

    rows = "".join(
        f"<table:table-row>{''.join(ods_cell(value) for value in row)}</table:table-row>"
        for row in [HEADER, *kent_rows()]
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>',
            compress_type=zipfile.ZIP_DEFLATED,
        )
        archive.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
            f'<office:body><office:spreadsheet><table:table table:name="Data">{rows}{extra}'
            "</table:table></office:spreadsheet></office:body></office:document-content>",
            compress_type=zipfile.ZIP_DEFLATED,
        )
    return path


def write_street_zip(path: Path, padding_mb: int) -> Path:
    """A data.police.uk download whose one street-level file is ``padding_mb`` of spaces."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("2021-01/2021-01-kent-street.csv", "w", force_zip64=True) as part,
    ):
        part.write(b"Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,")
        part.write(b"LSOA code,LSOA name,Crime type,Last outcome category,Context\r\n")
        spaces = b" " * MB
        for _ in range(padding_mb):
            part.write(spaces)
    return path


def far_cell(ref: str) -> str:
    """A row holding one value, at ``ref`` (as "GR1048576")."""
    row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>'


# Sending files ----------------------------------------------------------------------------------


def upload(client, source: str, path: Path):
    handle = io.BytesIO(path.read_bytes())
    handle.name = path.name
    return client.post(
        reverse("crime_source_upload", args=[source]), {f"{source.replace('-', '_')}-files": handle}
    )


def refusal_beside_the_field(response, source: str) -> str:
    """The error shown beside the file field, once the page is known to be the usual one."""
    assert response.status_code == 200
    document = html.fromstring(response.content.decode())
    assert document.findtext(".//title").startswith("Error: ")
    prefix = source.replace("-", "_")
    summary = document.xpath('//div[@class="govuk-error-summary"]//a')[0]
    assert summary.get("href") == f"#id_{prefix}-files"
    return " ".join(document.xpath(f'//p[@id="id_{prefix}-files-error"]')[0].text_content().split())


def nothing_imported() -> bool:
    return not (
        RecordedOffenceCount.objects.exists()
        or StreetCrimeCount.objects.exists()
        or PendingImport.objects.exists()
    )


def legitimate_file_imports(client, tmp_path: Path) -> None:
    """The worker that refused a file is alive, and a real table still goes through."""
    response = upload(client, "home-office", write_xlsx(tmp_path / "prc-csp-kent.xlsx"))
    assert response.status_code == 302, response.content.decode()[:2000]
    pending = PendingImport.objects.get()
    client.post(reverse("crime_source_confirm", args=[pending.pk]))
    assert RecordedOffenceCount.objects.count() == len(kent_rows())


def command(*paths: Path) -> str:
    out = io.StringIO()
    call_command("import_home_office", *map(str, paths), stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    """Zip bombs, made once: spaces pack about 1,000 to 1, so each is under a megabyte."""
    folder = tmp_path_factory.mktemp("bombs")
    return {
        # Under the old 2 GB limit and the new 1 GB one, under 512 MB a part: the ratio says.
        "ratio": write_xlsx(folder / "ratio.xlsx", padding_mb=300),
        # One part past the 512 MB a part may unpack to.
        "part": write_xlsx(folder / "part.xlsx", padding_mb=520),
        "street": write_street_zip(folder / "kent-street.zip", padding_mb=300),
    }


# A cell far beyond the table -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("ref", ["XFD1048576", "GR1048576", "BM2", "A250001"])
def test_a_cell_beyond_the_table_is_refused_on_the_page(client, manager, tmp_path, ref):
    path = write_xlsx(tmp_path / "giant-cell.xlsx", extra=far_cell(ref))
    assert path.stat().st_size < 4096  # a few KB, as found
    client.force_login(manager)
    message = refusal_beside_the_field(upload(client, "home-office", path), "home-office")
    assert (
        f"giant-cell.xlsx has a cell at {ref}, beyond the 250,000 rows and 64 columns (A to BL)"
        in message
    )
    assert "Nothing was read" in message
    assert nothing_imported()
    legitimate_file_imports(client, tmp_path)


@pytest.mark.django_db
@pytest.mark.parametrize("ref", ["XFD1048576", "GR1048576"])
def test_a_cell_beyond_the_table_is_refused_by_the_command(tmp_path, ref):
    path = write_xlsx(tmp_path / "giant-cell.xlsx", extra=far_cell(ref))
    with pytest.raises(
        CommandError, match=f"Nothing imported. giant-cell.xlsx has a cell at {ref}"
    ):
        command(path)
    assert nothing_imported()
    assert "48 new" in command(write_xlsx(tmp_path / "prc-csp-kent.xlsx"))


@pytest.mark.django_db
def test_the_limits_are_exact(client, manager, tmp_path):
    # The last row and column a sheet may use: calamine builds a 250,000 × 64 grid (500 MB),
    # inside the reader's 1 GB budget, and the table imports.
    path = write_xlsx(tmp_path / "prc-csp-kent-wide.xlsx", extra=far_cell("BL250000"))
    client.force_login(manager)
    response = upload(client, "home-office", path)
    assert response.status_code == 302, response.content.decode()[:2000]
    PendingImport.objects.all().delete()
    # One column further is refused.
    path = write_xlsx(tmp_path / "prc-csp-kent-wider.xlsx", extra=far_cell("BM250000"))
    message = refusal_beside_the_field(upload(client, "home-office", path), "home-office")
    assert "prc-csp-kent-wider.xlsx has a cell at BM250000" in message


@pytest.mark.django_db
def test_a_declared_dimension_beyond_the_limits_is_refused(client, manager, tmp_path):
    path = write_xlsx(tmp_path / "declared.xlsx", dimension="A1:XFD1048576")
    client.force_login(manager)
    message = refusal_beside_the_field(upload(client, "home-office", path), "home-office")
    assert "declared.xlsx declares a sheet of A1:XFD1048576, beyond the 250,000 rows" in message
    assert nothing_imported()


@pytest.mark.django_db
def test_cells_without_references_are_placed_as_the_reader_places_them(client, manager, tmp_path):
    # No r="…": each cell is one to the right of the one before. 65 cells reach column BM.
    row = f'<row r="60">{"<c><v>1</v></c>" * 65}</row>{far_cell("A200000")}'
    path = write_xlsx(tmp_path / "unreferenced.xlsx", extra=row)
    client.force_login(manager)
    message = refusal_beside_the_field(upload(client, "home-office", path), "home-office")
    assert "unreferenced.xlsx has a cell at BM60, beyond the 250,000 rows" in message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "message"),
    [
        # 100,000 rows of 200 values each, in a few bytes: 20 million cells.
        (
            '<table:table-row table:number-rows-repeated="100000"><table:table-cell '
            'table:number-columns-repeated="200" office:value-type="float" office:value="1"/>'
            "</table:table-row>",
            "sheet “Data” has values as far as row 100,049, column 200",
        ),
        # A million empty rows, then one value.
        (
            '<table:table-row table:number-rows-repeated="1000000"><table:table-cell/>'
            '</table:table-row><table:table-row><table:table-cell office:value-type="float" '
            'office:value="1"/></table:table-row>',
            "sheet “Data” has values as far as row 1,000,050, column 1",
        ),
    ],
    ids=["repeated-values", "far-row"],
)
def test_an_ods_repeating_cells_beyond_the_table_is_refused(
    client, manager, tmp_path, extra, message
):
    path = write_ods(tmp_path / "repeated.ods", extra)
    client.force_login(manager)
    shown = refusal_beside_the_field(upload(client, "home-office", path), "home-office")
    assert f"repeated.ods: {message}" in shown
    assert nothing_imported()
    # LibreOffice ends every sheet so: empty rows and columns repeated to the sheet's edge.
    trailing = (
        '<table:table-row table:number-rows-repeated="1048000">'
        '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>'
    )
    response = upload(client, "home-office", write_ods(tmp_path / "prc-csp-kent.ods", trailing))
    assert response.status_code == 302, response.content.decode()[:2000]


# Zip bombs -------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bomb", "source", "message"),
    [
        (
            "ratio",
            "home-office",
            "ratio.xlsx: xl/worksheets/sheet1.xml unpacks to 1,0",  # …00-odd times its size
        ),
        (
            "part",
            "home-office",
            "part.xlsx: xl/worksheets/sheet1.xml unpacks to 520 MB, more than the 512 MB one part may",
        ),
        ("street", "police-uk", "kent-street.zip: 2021-01/2021-01-kent-street.csv unpacks to 1,0"),
    ],
)
def test_a_zip_bomb_is_refused_before_it_is_read(
    client, manager, tmp_path, bombs, bomb, source, message
):
    assert bombs[bomb].stat().st_size < MB
    client.force_login(manager)
    started = time.monotonic()
    shown = refusal_beside_the_field(upload(client, source, bombs[bomb]), source)
    assert message in shown and "Nothing was read" in shown
    if bomb != "part":
        assert "this looks like a zip bomb" in shown
    # Refused from the archive's directory: nothing is unpacked (unpacking one takes seconds).
    assert time.monotonic() - started < 5
    assert nothing_imported()
    legitimate_file_imports(client, tmp_path)


@pytest.mark.django_db
def test_a_zip_bomb_is_refused_by_the_command(tmp_path, bombs):
    with pytest.raises(CommandError, match="unpacks to 1,0.* times its packed size"):
        command(bombs["ratio"])
    assert nothing_imported()


# The budget: what the checks cannot describe -------------------------------------------------


@pytest.mark.django_db
def test_a_reader_that_runs_out_of_memory_ends_alone(client, manager, tmp_path, settings):
    # With the shape checks out of the way, GR1048576 reaches calamine, which asks for 6.7 GB
    # and aborts: only the child reading the file ends, within its 1 GB budget.
    settings.CRIME_IMPORT_MAX_ROWS = 10**7
    settings.CRIME_IMPORT_MAX_COLUMNS = 10**4
    path = write_xlsx(tmp_path / "giant-cell.xlsx", extra=far_cell("GR1048576"))
    client.force_login(manager)
    message = refusal_beside_the_field(upload(client, "home-office", path), "home-office")
    assert "Reading giant-cell.xlsx needed more than the 1,024 MB of memory allowed" in message
    assert nothing_imported()
    with pytest.raises(CommandError, match="needed more than the 1,024 MB of memory allowed"):
        command(path)
    legitimate_file_imports(client, tmp_path)


def slow_street_file(path: Path, rows: int) -> Path:
    """A real street-level file with so many rows that reading it takes seconds."""
    lines = [
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
        "LSOA name,Crime type,Last outcome category,Context"
    ]
    line = (
        "{n:016x},2021-01,Kent Police,Kent Police,0.26,51.13,On or near High Street,"
        "E01024{d:03d},Tunbridge Wells {d:03d}A,Shoplifting,Under investigation,"
    )
    lines += [line.format(n=n, d=n % 80) for n in range(rows)]
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


@pytest.mark.django_db
def test_a_slow_read_is_stopped_when_its_time_is_up(client, manager, tmp_path, settings):
    # The page's budget stands for gunicorn's worker timeout: the worker answers in time.
    # 400,000 rows take seconds to read; half a second is allowed.
    settings.CRIME_IMPORT_PAGE_SECONDS = 0.5
    settings.CRIME_IMPORT_COMMAND_SECONDS = 0.5
    path = slow_street_file(tmp_path / "2021-01-kent-street.csv", rows=400_000)
    client.force_login(manager)
    started = time.monotonic()
    message = refusal_beside_the_field(upload(client, "police-uk", path), "police-uk")
    assert time.monotonic() - started < 10
    assert "Reading 2021-01-kent-street.csv took longer than the 0.5 s allowed" in message
    with pytest.raises(CommandError, match="took longer than the 0.5 s allowed"):
        call_command("import_police_uk", str(path), stdout=io.StringIO())
    assert nothing_imported()
