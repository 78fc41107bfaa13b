"""Importing the public sources: the Home Office CSP tables and the data.police.uk
street-level files, from the small files in tests/data/ (written by make_test_data.py in
the documented formats, awkward cases included).

Expected figures are read from the CSV files here with the csv module, independently of
the importers, or worked out by hand from the formula in make_test_data.py.
"""

import csv
import io
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from lxml import html

from crimestats.models import (
    Area,
    CategoryMapping,
    CrimeType,
    ImportRun,
    PendingImport,
    RecordedOffenceCount,
    Source,
    SourceCategory,
    StreetCrimeCount,
)
from crimestats.sources import loading, service
from crimestats.sources.files import Refused, Upload
from crimestats.sources.labels import category_key, normalise

from .factories import UserFactory

DATA = Path(__file__).resolve().parent / "data"
HO = DATA / "home_office"
POLICE = DATA / "police_uk"
KENT = [
    "Ashford", "Canterbury", "Dartford", "Dover", "Gravesham", "Maidstone", "Sevenoaks",
    "Folkestone and Hythe", "Swale", "Thanet", "Tonbridge and Malling", "Tunbridge Wells",
]  # fmt: skip


def upload(path: Path) -> Upload:
    return Upload(path.name, io.BytesIO(path.read_bytes()), path.stat().st_size)


def import_files(source, *paths, user=None):
    return service.import_now(source, [upload(path) for path in paths], user)


def held_offence_counts() -> dict:
    """(district, offence description, financial year, quarter) → count, as held."""
    return {
        (area, label, year, quarter): count
        for area, label, year, quarter, count in RecordedOffenceCount.objects.values_list(
            "area__name", "category__label", "financial_year", "quarter", "count"
        )
    }


def expected_offence_counts(path: Path = HO / "prc-csp-kent-test.csv") -> dict:
    """The same, read from the CSV version of the table with the csv module."""
    expected = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["CSP Name"] in KENT:
                year = int(row["Financial Year"][:4])
                quarter = int(row["Financial Quarter"][1])
                key = (row["CSP Name"], row["Offence Description"], year, quarter)
                expected[key] = int(row["Offence Count"])
    return expected


def street_rows() -> list[dict]:
    """Every row of the police.uk test files (the zip's street files and the April CSV)."""
    rows = []
    with zipfile.ZipFile(POLICE / "kent-2021-01-to-03.zip") as archive:
        for name in archive.namelist():
            if name.endswith("-street.csv"):
                text = archive.read(name).decode("utf-8")
                rows += list(csv.DictReader(io.StringIO(text)))
    with open(POLICE / "2021-04-kent-street.csv", newline="", encoding="utf-8") as handle:
        rows += list(csv.DictReader(handle))
    return rows


def expected_street_counts() -> Counter:
    """(LSOA code, "YYYY-MM", crime type) → rows, for LSOAs of the districts held."""
    return Counter(
        (row["LSOA code"], row["Month"], row["Crime type"])
        for row in street_rows()
        if row["LSOA code"] and row["LSOA name"].rsplit(" ", 1)[0] in KENT
    )


def held_street_counts() -> Counter:
    return Counter(
        {
            (code, f"{month:%Y-%m}", label): count
            for code, month, label, count in StreetCrimeCount.objects.values_list(
                "lsoa_code", "month", "category__label", "count"
            )
        }
    )


def database_state() -> dict:
    """Everything an import may touch, history included."""
    return {
        "offence_counts": sorted(
            RecordedOffenceCount.objects.values_list(
                "pk", "area_id", "category_id", "financial_year", "quarter", "count", "import_run"
            )
        ),
        "street_counts": sorted(
            StreetCrimeCount.objects.values_list(
                "pk", "lsoa_code", "lsoa_name", "month", "category_id", "count", "import_run"
            )
        ),
        "categories": sorted(SourceCategory.objects.values_list("pk", "source", "key", "label")),
        "mappings": sorted(CategoryMapping.objects.values_list("pk", "category", "crime_type")),
        "runs": ImportRun.objects.count(),
        "pending": PendingImport.objects.count(),
        "category_history": SourceCategory.history.count(),
        "mapping_history": CategoryMapping.history.count(),
    }


# Labels ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Theft Offences", "Theft offences"),
        ("Drug offences", "Drug Offences"),
        ("Miscellaneous crimes against society", "Miscellaneous crimes"),
        ("  Criminal damage &  arson", "Criminal damage and arson"),
        ("Burglary \u2013 Residential", "Burglary - residential"),
    ],
)
def test_renamed_labels_normalise_to_one(one, other):
    assert normalise(one) == normalise(other)


def test_different_offences_stay_apart():
    assert category_key("Shoplifting", "46") != category_key("Shoplifting", "47")
    assert normalise("Public disorder and weapons") != normalise("Public order")


# Home Office ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_home_office_table_imports_every_kent_quarter():
    preview, run = import_files(Source.HOME_OFFICE, HO / "prc-csp-kent-test.xlsx")

    expected = expected_offence_counts()
    assert len(expected) == 12 * 7 * 4 * 3  # districts × offences × quarters × years
    assert held_offence_counts() == expected
    # By hand from make_test_data.py: (11 + 1) * (3 + 1) + 2 + 4 * (2020 - 2019).
    assert held_offence_counts()[("Tunbridge Wells", "Shoplifting", 2020, 2)] == 54
    assert run.created == 1008 and run.updated == 0 and run.removed == 0
    assert run.periods == "2019/20 Q1 to 2021/22 Q4 (12 quarters)"
    report = preview.parsed.report()
    assert report["unknown_areas"] == {"Medway": 12}  # Kent Police's, not a KCC district
    assert report["skipped"] == {"CSPs of other police forces": 24}
    assert report["notes"] == ["Sheet “Notes” has no table and was not read."]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["prc-csp-kent-test.ods", "prc-csp-kent-test.csv"])
def test_ods_and_csv_editions_hold_the_same_counts(name):
    import_files(Source.HOME_OFFICE, HO / name)
    assert held_offence_counts() == expected_offence_counts()


@pytest.mark.django_db
def test_labels_renamed_between_editions_are_one_category_with_default_mappings():
    import_files(Source.HOME_OFFICE, HO / "prc-csp-kent-test.xlsx")
    categories = SourceCategory.objects.filter(source=Source.HOME_OFFICE)
    # 7 offences, although "Theft Offences"/"Theft offences", "Drug Offences"/"Drug
    # offences" and "Miscellaneous crimes against society"/"Miscellaneous crimes" change.
    assert categories.count() == 7
    mapped = {
        category.label: sorted(category.crime_types.values_list("name", flat=True))
        for category in categories
    }
    assert mapped == {
        "Assault with injury": ["All crime", "Victim-based crime", "Violence (VAP)"],
        "Rape of a female aged 16 and over": ["All crime", "Sexual offences", "Victim-based crime"],
        "Burglary - Residential": ["All crime", "Burglary Residential", "Victim-based crime"],
        "Shoplifting": ["All crime", "Shoplifting", "Victim-based crime"],
        "Other drug offences": ["All crime", "Drug Possession", "Drug offences"],
        "Trafficking in controlled drugs": ["All crime", "Drug Trafficking", "Drug offences"],
        "Going equipped for stealing, etc.": ["All crime"],
    }
    # The categories and their default mappings are in the history.
    assert SourceCategory.history.count() == 7
    assert CategoryMapping.history.count() == sum(len(names) for names in mapped.values())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("prc-csp-kent-test.xlsx", "prc-csp-kent-test.xlsx"),
        ("prc-csp-kent-test.xlsx", "prc-csp-kent-test.ods"),  # another format, same figures
        ("prc-csp-kent-test.csv", "prc-csp-kent-test.xlsx"),
    ],
)
def test_importing_the_same_figures_again_changes_nothing(first, again):
    import_files(Source.HOME_OFFICE, HO / first)
    before = database_state()

    preview, run = import_files(Source.HOME_OFFICE, HO / again)

    assert run is None
    assert preview.changes.is_empty and preview.changes.unchanged == 1008
    assert database_state() == before


@pytest.mark.django_db
def test_a_revised_edition_updates_and_removes_only_within_what_it_covers():
    import_files(Source.HOME_OFFICE, HO / "prc-csp-kent-test.xlsx")
    before = held_offence_counts()

    _, run = import_files(Source.HOME_OFFICE, HO / "prc-csp-kent-2021-22-revised.csv")

    assert (run.created, run.updated, run.removed) == (0, 2, 1)
    after = held_offence_counts()
    assert after[("Tunbridge Wells", "Shoplifting", 2021, 1)] == 500
    assert after[("Dover", "Assault with injury", 2021, 2)] == 1
    assert ("Ashford", "Going equipped for stealing, etc.", 2021, 4) not in after
    changed = {key for key in before if before[key] != after.get(key)}
    assert changed == {
        ("Tunbridge Wells", "Shoplifting", 2021, 1),
        ("Dover", "Assault with injury", 2021, 2),
        ("Ashford", "Going equipped for stealing, etc.", 2021, 4),
    }
    assert RecordedOffenceCount.objects.filter(import_run=run).count() == 2


@pytest.mark.django_db
def test_row_errors_are_listed_and_refuse_the_whole_file():
    before = database_state()
    preview = service.read(Source.HOME_OFFICE, [upload(HO / "bad-counts.csv")])
    assert preview.changes is None
    # Rows 151–153 are Kent rows; the other force's bad count (last row) is never read.
    assert preview.parsed.errors.kept == [
        "bad-counts.csv, row 151: offence count “n/a” is not a whole number",
        "bad-counts.csv, row 152: offence count “12.5” is not a whole number",
        "bad-counts.csv, row 153: financial year “2020/22” is not like 2020/21",
    ]
    with pytest.raises(Refused, match="3 row"):
        import_files(Source.HOME_OFFICE, HO / "bad-counts.csv")
    assert service.stage(preview, UserFactory(role="manager")) is None
    assert database_state() == before


@pytest.mark.django_db
def test_a_failure_half_way_through_writing_changes_nothing(monkeypatch):
    import_files(Source.POLICE_UK, POLICE / "2021-04-kent-street.csv")
    before = database_state()
    original = loading.insert_rows
    calls = []

    def fail_after_the_first_rows(model, attnames, rows):
        calls.append(len(rows))
        original(model, attnames, rows[:100])  # written (with COPY on PostgreSQL, when enough)…
        raise RuntimeError("the database went away")  # …then the database fails

    monkeypatch.setattr(loading, "insert_rows", fail_after_the_first_rows)
    monkeypatch.setattr(loading, "BATCH", 50)  # so PostgreSQL takes the COPY path
    with pytest.raises(RuntimeError):
        import_files(Source.HOME_OFFICE, HO / "prc-csp-kent-test.xlsx")
    assert calls == [1008], "the failure was never reached"
    assert database_state() == before


REFUSALS = [
    (Source.HOME_OFFICE, HO / "bad-header.csv", "the header row lacks Financial Quarter, CSP Name"),
    (Source.HOME_OFFICE, HO / "not-utf8.csv", "not-utf8.csv is not UTF-8 text (line 31"),
    (Source.HOME_OFFICE, DATA / "binary.bin", "is not a spreadsheet or CSV file"),
    (Source.HOME_OFFICE, HO / "no-kent-rows.csv", "has no rows for the county's districts"),
    (Source.HOME_OFFICE, POLICE / "not-a-zip.zip", "is not a readable zip archive"),
    (Source.HOME_OFFICE, POLICE / "2021-04-kent-street.csv", "no Home Office table"),
    (Source.POLICE_UK, POLICE / "2021-04-kent-outcomes.csv", "its header lacks Crime type"),
    (Source.POLICE_UK, POLICE / "not-utf8.csv", "not-utf8.csv is not UTF-8 text (line 11"),
    (Source.POLICE_UK, POLICE / "not-a-zip.zip", "is not a readable zip archive"),
    (Source.POLICE_UK, DATA / "binary.bin", "is not a CSV file or a zip archive"),
    (Source.POLICE_UK, HO / "prc-csp-kent-test.xlsx", "holds no street-level files"),
    (Source.POLICE_UK, HO / "prc-csp-kent-test.csv", "its header lacks Month, LSOA code"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "path", "message"), REFUSALS, ids=[f"{s}-{p.name}" for s, p, _ in REFUSALS]
)
def test_files_that_cannot_be_imported_are_refused_with_a_reason(source, path, message):
    before = database_state()
    with pytest.raises(Refused) as refusal:
        import_files(source, path)
    assert message in str(refusal.value)
    assert database_state() == before


@pytest.mark.django_db
def test_empty_oversized_and_overlapping_uploads_are_refused(settings):
    with pytest.raises(Refused, match="empty.csv is empty"):
        service.read(Source.POLICE_UK, [Upload("empty.csv", io.BytesIO(b""), 0)])
    with pytest.raises(Refused, match="2021-04 is in both"):
        import_files(
            Source.POLICE_UK, POLICE / "2021-04-kent-street.csv", POLICE / "2021-04-kent-street.csv"
        )
    settings.CRIME_IMPORT_MAX_UPLOAD_BYTES = 10_000
    with pytest.raises(Refused, match="files up to 0 MB can be imported here"):
        import_files(Source.POLICE_UK, POLICE / "2021-04-kent-street.csv")
    settings.CRIME_IMPORT_MAX_UPLOAD_BYTES = 10**9
    settings.CRIME_IMPORT_MAX_UNPACKED_BYTES = 1000
    with pytest.raises(Refused, match="unpacks to"):
        import_files(Source.POLICE_UK, POLICE / "kent-2021-01-to-03.zip")
    with pytest.raises(Refused, match="unpacks to"):
        import_files(Source.HOME_OFFICE, HO / "prc-csp-kent-test.xlsx")
    assert not RecordedOffenceCount.objects.exists() and not StreetCrimeCount.objects.exists()


# police.uk ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_street_level_files_aggregate_by_lsoa_month_and_crime_type():
    preview, run = import_files(
        Source.POLICE_UK, POLICE / "kent-2021-01-to-03.zip", POLICE / "2021-04-kent-street.csv"
    )

    expected = expected_street_counts()
    assert held_street_counts() == expected
    assert run.created == len(expected)
    assert run.periods == "2021-01 to 2021-04 (4 months)"
    # Anti-social behaviour rows (no Crime ID, no outcome) are counted like the others.
    asb = sum(count for (_, _, kind), count in expected.items() if kind == "Anti-social behaviour")
    assert asb > 0
    assert (
        sum(
            StreetCrimeCount.objects.filter(category__label="Anti-social behaviour").values_list(
                "count", flat=True
            )
        )
        == asb
    )
    # Every LSOA is filed under its district, told from the LSOA name.
    districts = dict(StreetCrimeCount.objects.values_list("lsoa_code", "area__name"))
    assert districts["E01024843"] == "Tunbridge Wells"
    assert districts["E01035000"] == "Folkestone and Hythe"
    report = preview.parsed.report()
    rows = street_rows()
    outside = Counter(
        row["LSOA name"].rsplit(" ", 1)[0]
        for row in rows
        if row["LSOA code"] and row["LSOA name"].rsplit(" ", 1)[0] not in KENT
    )
    assert report["unknown_areas"] == dict(outside) == {"Medway": 54, "Wealden": 54}
    assert report["unlocated"] == {"2021-01": 3, "2021-02": 3, "2021-03": 3, "2021-04": 3}
    assert report["rows_read"] == len(rows)
    assert report["notes"] == [
        "kent-2021-01-to-03.zip: 3 other file(s) (outcomes, stop and search) not read."
    ]
    # The older label is kept as its own category and reported, not dropped.
    assert run.report["unmapped"] == [
        {"label": "Public disorder and weapons", "code": "", "group": "", "total": 1, "new": True}
    ]
    assert held_street_counts()[("E01024843", "2021-03", "Public disorder and weapons")] == 1


@pytest.mark.django_db
def test_street_level_files_again_change_nothing():
    import_files(Source.POLICE_UK, POLICE / "kent-2021-01-to-03.zip")
    import_files(Source.POLICE_UK, POLICE / "2021-04-kent-street.csv")
    before = database_state()

    preview, run = import_files(
        Source.POLICE_UK, POLICE / "2021-04-kent-street.csv", POLICE / "kent-2021-01-to-03.zip"
    )

    assert run is None and preview.changes.is_empty
    assert database_state() == before


@pytest.mark.django_db
def test_street_level_rows_with_a_bad_month_are_listed_and_nothing_is_imported():
    preview = service.read(Source.POLICE_UK, [upload(POLICE / "bad-month.csv")])
    assert preview.parsed.errors.kept == [
        "bad-month.csv, line 41: month “2021-13” is not like 2021-03",
        "bad-month.csv, line 42: month “April 2021” is not like 2021-03",
    ]
    with pytest.raises(Refused):
        import_files(Source.POLICE_UK, POLICE / "bad-month.csv")
    assert not StreetCrimeCount.objects.exists()


# Management commands ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_import_commands_load_and_report(manager):
    out = io.StringIO()
    call_command("import_home_office", str(HO / "prc-csp-kent-test.xlsx"), "--dry-run", stdout=out)
    assert "Would change: 1,008 new, 0 changed, 0 removed" in out.getvalue()
    assert not RecordedOffenceCount.objects.exists()

    out = io.StringIO()
    call_command(
        "import_home_office", str(HO / "prc-csp-kent-test.xlsx"), "--user", "manager", stdout=out
    )
    assert "Changed: 1,008 new" in out.getvalue()
    assert "Not imported: 12 rows for Medway" in out.getvalue()
    assert ImportRun.objects.get().imported_by == manager

    out = io.StringIO()
    call_command("import_police_uk", str(POLICE / "kent-2021-01-to-03.zip"), stdout=out)
    assert "Unmapped: Public disorder and weapons (1)" in out.getvalue()
    out = io.StringIO()
    call_command("import_police_uk", str(POLICE / "kent-2021-01-to-03.zip"), stdout=out)
    assert "Nothing to change" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("command", "path", "message"),
    [
        ("import_home_office", HO / "bad-counts.csv", "3 row(s) have errors"),
        ("import_home_office", HO / "bad-header.csv", "the header row lacks"),
        ("import_police_uk", POLICE / "not-utf8.csv", "is not UTF-8 text"),
        ("import_police_uk", POLICE / "no-such-file.csv", "is not a file"),
    ],
)
def test_import_commands_refuse_bad_files(command, path, message):
    with pytest.raises(CommandError) as error:
        call_command(command, str(path), stdout=io.StringIO())
    assert message in str(error.value)
    assert not RecordedOffenceCount.objects.exists() and not StreetCrimeCount.objects.exists()


# The pages: upload → preview → confirm ------------------------------------------------------------


def page(response):
    return html.fromstring(response.content.decode())


def text_of(response) -> str:
    return " ".join(page(response).text_content().split())


def post_files(client, source: str, *paths: Path):
    handles = []
    for path in paths:
        handle = io.BytesIO(path.read_bytes())
        handle.name = path.name
        handles.append(handle)
    return client.post(
        reverse("crime_source_upload", args=[source]),
        {f"{source.replace('-', '_')}-files": handles},
    )


@pytest.mark.django_db
def test_manager_uploads_previews_and_confirms(client, manager):
    client.force_login(manager)
    response = post_files(client, "home-office", HO / "prc-csp-kent-test.xlsx")
    pending = PendingImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("crime_source_pending", args=[pending.pk])
    assert not RecordedOffenceCount.objects.exists()  # nothing until confirmed

    response = client.get(response["Location"])
    content = text_of(response)
    assert "Check the import before you confirm it" in content
    summary = {
        " ".join(row.xpath("./dt")[0].text_content().split()): row.xpath("./dd")[0].text_content()
        for row in page(response).xpath('//dl[@class="govuk-summary-list"]/div')
    }
    assert summary == {
        "New counts": "1008",
        "Changed counts": "0",
        "Counts no longer in the source (removed)": "0",
        "Unchanged counts": "0",
    }
    assert "2019/20 Q1 to 2021/22 Q4 (12 quarters)" in content
    assert "12 rows for “Medway”, which is not one of the county’s districts" in content

    response = client.post(reverse("crime_source_confirm", args=[pending.pk]), follow=True)
    assert "Imported prc-csp-kent-test.xlsx: 1,008 new, 0 changed and 0 removed counts." in (
        text_of(response)
    )
    assert held_offence_counts() == expected_offence_counts()
    assert not PendingImport.objects.exists()
    assert ImportRun.objects.get().imported_by == manager

    # The same file again: the page says nothing would change, and keeps nothing.
    before = database_state()
    response = post_files(client, "home-office", HO / "prc-csp-kent-test.ods")
    assert response.status_code == 200
    assert "Nothing to change" in text_of(response)
    assert "Confirm and import" not in text_of(response)
    assert database_state() == before


@pytest.mark.django_db
def test_police_uk_upload_of_several_files(client, manager):
    client.force_login(manager)
    response = post_files(
        client, "police-uk", POLICE / "kent-2021-01-to-03.zip", POLICE / "2021-04-kent-street.csv"
    )
    pending = PendingImport.objects.get()
    content = text_of(client.get(response["Location"]))
    assert "1 category in this file counts towards no crime type" in content
    assert "3 crimes in 2021-04 with no location" in content
    client.post(reverse("crime_source_confirm", args=[pending.pk]))
    assert held_street_counts() == expected_street_counts()


@pytest.mark.django_db
def test_uploads_kept_on_disk_import_the_same(client, manager, settings):
    # Files over FILE_UPLOAD_MAX_MEMORY_SIZE arrive as temporary files, not in memory.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    client.force_login(manager)
    for source, path in [
        ("home-office", HO / "prc-csp-kent-test.xlsx"),
        ("police-uk", POLICE / "kent-2021-01-to-03.zip"),
        ("police-uk", POLICE / "2021-04-kent-street.csv"),
    ]:
        response = post_files(client, source, path)
        assert response.status_code == 302, path
        client.post(reverse("crime_source_confirm", args=[PendingImport.objects.get().pk]))
    assert held_offence_counts() == expected_offence_counts()
    assert held_street_counts() == expected_street_counts()


UPLOAD_REFUSALS = [
    ("home-office", DATA / "binary.bin", "binary.bin is not a .xlsx or .ods or .xls or .csv file"),
    ("home-office", HO / "not-utf8.csv", "not-utf8.csv is not UTF-8 text"),
    ("home-office", HO / "bad-header.csv", "the header row lacks Financial Quarter, CSP Name"),
    ("police-uk", POLICE / "not-a-zip.zip", "not-a-zip.zip is not a readable zip archive"),
    ("police-uk", POLICE / "2021-04-kent-outcomes.csv", "its header lacks Crime type"),
    ("police-uk", HO / "prc-csp-kent-test.xlsx", "is not a .csv or .zip file"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "path", "message"), UPLOAD_REFUSALS)
def test_upload_refusals_are_shown_next_to_the_field(client, manager, source, path, message):
    client.force_login(manager)
    before = database_state()
    response = post_files(client, source, path)
    assert response.status_code == 200
    document = page(response)
    assert document.findtext(".//title").startswith("Error: ")
    prefix = source.replace("-", "_")
    field_error = document.xpath(f'//p[@id="id_{prefix}-files-error"]')[0].text_content()
    assert message in field_error
    summary = document.xpath('//div[@class="govuk-error-summary"]//a')[0]
    assert summary.get("href") == f"#id_{prefix}-files"
    assert database_state() == before


@pytest.mark.django_db
def test_upload_with_no_file_asks_for_one(client, manager):
    client.force_login(manager)
    response = client.post(reverse("crime_source_upload", args=["police-uk"]), {})
    assert response.status_code == 200
    assert "Choose a file to upload" in text_of(response)


@pytest.mark.django_db
def test_upload_with_row_errors_lists_them_and_offers_no_confirm(client, manager):
    client.force_login(manager)
    response = post_files(client, "police-uk", POLICE / "bad-month.csv")
    assert response.status_code == 200
    content = text_of(response)
    assert "This file cannot be imported" in content
    assert "bad-month.csv, line 41: month “2021-13” is not like 2021-03" in content
    assert "Confirm and import" not in content
    assert not PendingImport.objects.exists()


@pytest.mark.django_db
def test_another_managers_upload_is_out_of_reach_and_discard_imports_nothing(client, manager):
    other = UserFactory(username="deputy", role="manager")
    client.force_login(other)
    post_files(client, "home-office", HO / "prc-csp-kent-test.csv")
    pending = PendingImport.objects.get()

    client.force_login(manager)
    assert client.get(reverse("crime_source_pending", args=[pending.pk])).status_code == 404
    response = client.post(reverse("crime_source_confirm", args=[pending.pk]), follow=True)
    assert "already imported or discarded" in text_of(response)
    client.post(reverse("crime_source_discard", args=[pending.pk]))
    assert PendingImport.objects.filter(pk=pending.pk).exists()  # not theirs to discard

    client.force_login(other)
    client.post(reverse("crime_source_discard", args=[pending.pk]))
    assert not PendingImport.objects.exists()
    assert not RecordedOffenceCount.objects.exists()


# Category mappings -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_manager_maps_an_unmapped_category_with_history(client, manager):
    import_files(Source.POLICE_UK, POLICE / "kent-2021-01-to-03.zip")
    client.force_login(manager)
    response = client.get(reverse("crime_categories"))
    assert "1 category is mapped to no crime type: Public disorder and weapons." in text_of(
        response
    )
    category = SourceCategory.objects.get(label="Public disorder and weapons")
    all_crime = CrimeType.objects.get(name="All crime")

    response = client.post(
        reverse("crime_category_edit", args=[category.pk]), {"crime_types": [all_crime.pk]}
    )
    assert response.status_code == 302
    assert list(category.crime_types.all()) == [all_crime]
    record = CategoryMapping.history.filter(category_id=category.pk).get()
    assert (record.history_type, record.history_user) == ("+", manager)
    assert "is mapped to no crime type" not in text_of(client.get(reverse("crime_categories")))

    response = client.post(reverse("crime_category_edit", args=[category.pk]), {})
    assert not category.crime_types.exists()
    removed = CategoryMapping.history.filter(category_id=category.pk).latest("history_date")
    assert (removed.history_type, removed.history_user) == ("-", manager)
    page_text = text_of(client.get(reverse("crime_category_edit", args=[category.pk])))
    assert "No longer counts towards All crime" in page_text


@pytest.mark.django_db
def test_category_edit_refuses_an_unknown_crime_type(client, manager):
    import_files(Source.POLICE_UK, POLICE / "2021-04-kent-street.csv")
    category = SourceCategory.objects.get(label="Shoplifting")
    client.force_login(manager)
    response = client.post(
        reverse("crime_category_edit", args=[category.pk]), {"crime_types": [99999]}
    )
    assert response.status_code == 200
    assert page(response).findtext(".//title").startswith("Error: ")
    assert category.crime_types.count() == 3  # unchanged


@pytest.mark.django_db
def test_areas_come_from_the_fixture_with_their_source():
    assert sorted(Area.objects.filter(county="Kent").values_list("name", flat=True)) == sorted(KENT)
    sources = (Path(__file__).resolve().parent.parent / "fixtures" / "SOURCES.md").read_text()
    assert "crime_category_mappings.csv" in sources
