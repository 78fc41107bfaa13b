"""Crime statistics: the table for a year, each crime type's trend over every year held
with rates per 1,000 residents and county positions, the manager's entry form and CSV
import, the downloads, who may reach what, and a fixed number of queries whatever the
number of years held."""

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse
from lxml import html
from simple_history.utils import bulk_create_with_history

from crimestats.models import Area, CountyPosition, CrimeFigure, CrimeType, PublishedYear
from crimestats.views import PENDING_IMPORT

DOCUMENT = (
    Path(__file__).resolve().parent.parent / "fixtures" / "tunbridge-wells-csp-plan-2022-23.txt"
)


def printed_crime_table() -> list[list[str]]:
    """The strategic assessment's crime table as the published document prints it."""
    lines = DOCUMENT.read_text(encoding="utf-8").splitlines()
    start = lines.index("Crime Type\tThis Year\tLast Year\t% Change\tNumber change\t2020\t2021")
    rows = []
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        rows.append(line.split("\t"))
    return rows


# The published 2021 table as the importer takes it: crime type, count (2021), previous
# count (2020), county position (2021).
PUBLISHED_2021 = [(row[0], row[1], row[2], row[6]) for row in printed_crime_table()]
assert len(PUBLISHED_2021) == 16
HEADINGS = "Crime type,Count,Previous count,County position"
TUNBRIDGE_WELLS_POPULATION = 115_300  # Census 2021, rounded to 100 (DESIGN.md)


# Helpers ---------------------------------------------------------------------------------


def tunbridge_wells() -> Area:
    return Area.objects.get(name="Tunbridge Wells")


def crime_type(name: str) -> CrimeType:
    return CrimeType.objects.get(name=name)


def count(name: str, year: int) -> int | None:
    figure = CrimeFigure.objects.filter(
        area=tunbridge_wells(), crime_type__name=name, year=year
    ).first()
    return figure.count if figure else None


def position(name: str, year: int) -> str | None:
    placing = CountyPosition.objects.filter(
        area=tunbridge_wells(), crime_type__name=name, year=year
    ).first()
    return placing.display if placing else None


def stored() -> dict:
    """Every count and position held, and how many history records: what a refused
    change must leave alone."""
    return {
        "figures": sorted(CrimeFigure.objects.values_list("crime_type_id", "year", "count")),
        "positions": sorted(
            CountyPosition.objects.values_list("crime_type_id", "year", "position", "tied")
        ),
        "figure history": CrimeFigure.history.count(),
        "position history": CountyPosition.history.count(),
    }


def tables(response) -> list[list[list[str]]]:
    document = html.fromstring(response.content.decode())
    return [
        [
            [" ".join(cell.text_content().split()) for cell in row.xpath("./th|./td")]
            for row in body.xpath("./tr")
        ]
        for body in document.xpath("//table/tbody")
    ]


def chart_data(response) -> dict:
    document = html.fromstring(response.content.decode())
    [script] = document.xpath('//script[@id="crime-trend-data"]')
    assert script.get("type") == "application/json"
    return json.loads(script.text)


def error_summary(response) -> list[str]:
    document = html.fromstring(response.content.decode())
    return [
        " ".join(item.text_content().split())
        for item in document.xpath('//div[contains(@class, "govuk-error-summary")]//li')
    ]


def input_value(response, name: str) -> str:
    document = html.fromstring(response.content.decode())
    [element] = document.xpath(f'//input[@name="{name}"]')
    return element.get("value") or ""


def signed_in(client, user):
    client.force_login(user)
    return client


def csv_file(text: str | bytes, name: str = "crime-2022.csv"):
    content = text.encode("utf-8") if isinstance(text, str) else text
    upload = io.BytesIO(content)
    upload.name = name
    return upload


def table_csv(rows, headings: str = HEADINGS) -> str:
    buffer = io.StringIO()
    buffer.write(headings + "\r\n")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def upload(client, content, year=2022, name="crime-2022.csv"):
    return client.post(reverse("crime_import"), {"year": year, "file": csv_file(content, name)})


@pytest.fixture
def manager_client(client, manager):
    return signed_in(client, manager)


# The crime statistics page ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "persona", ["davss_user", "police_user", "lookahead_user", "manager", "board_member"]
)
def test_every_role_reads_the_crime_table_and_a_crime_types_page(client, request, persona):
    user = request.getfixturevalue(persona)
    signed_in(client, user)
    response = client.get(reverse("crime_statistics"))
    assert response.status_code == 200
    [rows] = tables(response)
    assert rows[0] == ["All crime", "7,679", "7,830", "-1.9%", "-151", "1", "1"]
    content = response.content.decode()
    # Each crime type leads to its trend; only the manager is offered entry and import.
    all_crime = reverse("crime_type_detail", args=[crime_type("All crime").pk])
    assert f'href="{all_crime}"' in content
    manager_only = [reverse("crime_figures"), reverse("crime_import")]
    for url in manager_only:
        assert (f'href="{url}"' in content) is (persona == "manager")

    detail = client.get(all_crime)
    assert detail.status_code == 200
    assert '<h1 class="govuk-heading-l">All crime</h1>' in detail.content.decode()
    history = '<h2 class="govuk-heading-m">History</h2>'
    assert (history in detail.content.decode()) is (persona == "manager")


@pytest.mark.django_db
def test_the_crime_table_links_each_row_and_keeps_the_printed_cells(client, board_member):
    response = signed_in(client, board_member).get(reverse("crime_statistics"))
    document = html.fromstring(response.content.decode())
    links = document.xpath("//table/tbody/tr/th/a")
    assert [link.text_content() for link in links] == [row[0] for row in PUBLISHED_2021]
    assert [link.get("href") for link in links] == [
        reverse("crime_type_detail", args=[ct.pk]) for ct in CrimeType.objects.all()
    ]
    [rows] = tables(response)
    for printed, row in zip(PUBLISHED_2021, rows, strict=True):
        assert row[:3] == [printed[0], printed[1], printed[2]]
        assert row[6] == printed[3]


# A crime type's trend ---------------------------------------------------------------------


@pytest.fixture
def three_years():
    """2019 added for every crime type, and published, so the trend has three years;
    Robbery has no 2019 figure and Drug Possession no 2019 position."""
    area = tunbridge_wells()
    PublishedYear.objects.create(area=area, year=2019)
    for order, ct in enumerate(CrimeType.objects.exclude(name="Robbery")):
        CrimeFigure.objects.create(area=area, crime_type=ct, year=2019, count=1000 + order)
        if ct.name != "Drug Possession":
            CountyPosition.objects.create(
                area=area, crime_type=ct, year=2019, position=1 + order % 12, tied=order == 3
            )
    return [2019, 2020, 2021]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["All crime", "Robbery", "Drug Possession", "Sexual offences"])
def test_trend_data_equals_the_stored_counts(client, board_member, three_years, name):
    ct = crime_type(name)
    response = signed_in(client, board_member).get(reverse("crime_type_detail", args=[ct.pk]))
    assert response.status_code == 200
    data = chart_data(response)

    expected_counts = [count(name, year) for year in three_years]
    expected_positions = [position(name, year) for year in three_years]
    assert data["years"] == three_years
    assert data["counts"] == expected_counts
    assert data["positionLabels"] == [p or "" for p in expected_positions]
    assert data["positions"] == [
        None if p in (None, "--") else int(p.lstrip("=")) for p in expected_positions
    ]
    assert data["areasCompared"] == 12
    # The table below the charts has the same numbers.
    [rows] = tables(response)
    assert [row[0] for row in rows] == [str(year) for year in three_years]
    assert [row[1] for row in rows] == [
        f"{c:,}" if c is not None else "Not held" for c in expected_counts
    ]
    assert [row[5] for row in rows] == [p or "" for p in expected_positions]


@pytest.mark.django_db
def test_robbery_has_a_gap_where_no_figure_is_held(client, board_member, three_years):
    ct = crime_type("Robbery")
    response = signed_in(client, board_member).get(reverse("crime_type_detail", args=[ct.pk]))
    assert chart_data(response)["counts"] == [None, 39, 26]
    [rows] = tables(response)
    assert rows[0][1:5] == ["Not held", "", "", ""]
    assert rows[2] == ["2021", "26", "-13", "-33.3%", "0.23", "=1"]


def rate(count: int, population: int) -> str:
    """Per 1,000 residents, to two places, half away from zero: worked out here rather
    than by the app's rate_per_thousand."""
    hundredths = Decimal(count * 1000 * 100) / Decimal(population)
    rounded = int(hundredths + Decimal("0.5"))
    return f"{rounded // 100}.{rounded % 100:02d}"


@pytest.mark.django_db
def test_rates_per_thousand_residents(client, board_member):
    assert tunbridge_wells().population == TUNBRIDGE_WELLS_POPULATION
    signed_in(client, board_member)
    checked = 0
    for name, this_year, last_year, _ in PUBLISHED_2021:
        ct = CrimeType.objects.get(label=name)
        [rows] = tables(client.get(reverse("crime_type_detail", args=[ct.pk])))
        by_year = {row[0]: row for row in rows}
        for year, printed in (("2020", last_year), ("2021", this_year)):
            number = int(printed.replace(",", ""))
            assert by_year[year][4] == rate(number, TUNBRIDGE_WELLS_POPULATION), (name, year)
            checked += 1
    assert checked == 32
    # Worked by hand: 7,679 crimes among 115,300 residents is 66.60 per 1,000.
    assert rate(7679, 115_300) == "66.60"


@pytest.mark.django_db
def test_no_rate_where_the_population_is_unknown(client, board_member):
    Area.objects.filter(name="Tunbridge Wells").update(population=None)
    ct = crime_type("All crime")
    response = signed_in(client, board_member).get(reverse("crime_type_detail", args=[ct.pk]))
    [rows] = tables(response)
    assert [row[4] for row in rows] == ["", ""]
    assert "No population is held for Tunbridge Wells" in response.content.decode()


@pytest.mark.django_db
def test_the_trend_page_loads_chart_js_from_static_files_and_no_inline_script(client, board_member):
    ct = crime_type("All crime")
    response = signed_in(client, board_member).get(reverse("crime_type_detail", args=[ct.pk]))
    document = html.fromstring(response.content.decode())
    sources = [script.get("src") for script in document.xpath("//script[@src]")]
    assert "/static/vendor/chart.js/chart.umd.min.js" in sources
    assert "/static/js/crime-charts.mjs" in sources
    assert all(src.startswith("/static/") for src in sources)
    inline = [
        script
        for script in document.xpath("//script[not(@src)]")
        if script.get("type") != "application/json"
    ]
    assert len(inline) == 1 and inline[0].get("nonce")  # base.html's js-enabled class only
    canvases = document.xpath("//canvas")
    assert [c.get("id") for c in canvases] == ["crime-count-chart", "crime-position-chart"]
    assert all(c.get("role") == "img" and c.get("aria-label") for c in canvases)


@pytest.mark.django_db
def test_parts_and_parents_are_linked(client, board_member):
    signed_in(client, board_member)
    drugs = crime_type("Drug offences")
    content = client.get(reverse("crime_type_detail", args=[drugs.pk])).content.decode()
    for part in ("Drug Trafficking", "Drug Possession"):
        assert reverse("crime_type_detail", args=[crime_type(part).pk]) in content
    content = client.get(
        reverse("crime_type_detail", args=[crime_type("ASB Incidents").pk])
    ).content.decode()
    assert "Incidents reported, not recorded crimes" in content


@pytest.mark.django_db
def test_unknown_crime_type_is_404(client, board_member):
    response = signed_in(client, board_member).get(reverse("crime_type_detail", args=[999999]))
    assert response.status_code == 404


# Downloads ----------------------------------------------------------------------------------


def download_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.django_db
def test_crime_table_downloads_have_the_columns_on_screen(client, police_user):
    signed_in(client, police_user)
    page = client.get(reverse("crime_statistics"), {"year": 2021})
    document = html.fromstring(page.content.decode())
    on_screen = [
        " ".join(th.text_content().split()) for th in document.xpath("//table/thead/tr/th")
    ]

    response = client.get(reverse("crime_statistics"), {"year": 2021, "_export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="crime-statistics-2021.csv"' in response["Content-Disposition"]
    header, *rows = download_rows(response)
    assert header == on_screen
    assert header[5:] == ["County position 2020", "County position 2021"]
    assert len(rows) == 16
    assert rows[0] == ["All crime", "7679", "7830", "-1.9", "-151", "1", "1"]
    trafficking = rows[10]
    # Text that a spreadsheet would read as a formula is neutralised with a quote.
    assert trafficking == ["(Drug Trafficking)", "52", "66", "-21.2", "-14", "'--", "'=3"]

    workbook = client.get(reverse("crime_statistics"), {"year": 2021, "_export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == on_screen
    # Numbers are numbers: the % change a fraction shown as "-1.9%", a shared position the
    # number 3 shown as "=3"; "--" (none published) is text, quoted.
    assert values[1][:5] == ("All crime", 7679, 7830, pytest.approx(-0.019), -151)
    assert sheet["D2"].number_format == "0.0%"
    assert values[11][5:] == ("'--", 3)
    assert sheet.cell(row=12, column=7).number_format == '"="0'
    assert all(sheet.cell(row=r, column=6).data_type != "f" for r in range(1, 18))


@pytest.mark.django_db
def test_trend_download_matches_the_table(client, board_member):
    ct = crime_type("Drug Trafficking")
    signed_in(client, board_member)
    page = client.get(reverse("crime_type_detail", args=[ct.pk]))
    document = html.fromstring(page.content.decode())
    on_screen = [" ".join(th.text_content().split()) for th in document.xpath("//thead/tr/th")]
    response = client.get(reverse("crime_type_detail", args=[ct.pk]), {"_export": "csv"})
    assert 'filename="crime-trend-drug-trafficking.csv"' in response["Content-Disposition"]
    header, *rows = download_rows(response)
    assert header == on_screen
    assert rows == [
        ["2020", "66", "", "", rate(66, TUNBRIDGE_WELLS_POPULATION), "'--"],
        ["2021", "52", "-14", "-21.2", rate(52, TUNBRIDGE_WELLS_POPULATION), "'=3"],
    ]


# Who may enter and import -------------------------------------------------------------------

MANAGER_URLS = [
    ("crime_figures", {}),
    ("crime_figures_edit", {"year": 2021}),
    ("crime_import", {}),
    ("crime_import_preview", {"token": "anything"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["davss_user", "police_user", "board_member"])
@pytest.mark.parametrize(("name", "kwargs"), MANAGER_URLS, ids=[u[0] for u in MANAGER_URLS])
def test_partners_and_the_board_cannot_enter_or_import(client, request, persona, name, kwargs):
    signed_in(client, request.getfixturevalue(persona))
    before = stored()
    url = reverse(name, kwargs=kwargs)
    assert client.get(url).status_code == 403
    post = {"year": 2021, "count_1": "1", "file": csv_file(table_csv(PUBLISHED_2021))}
    assert client.post(url, post).status_code == 403
    assert stored() == before


# Entering a year's figures ------------------------------------------------------------------


def year_form(client, year: int) -> dict:
    """The year's form as the page fills it in: every input's name and value."""
    response = client.get(reverse("crime_figures_edit", args=[year]))
    assert response.status_code == 200
    document = html.fromstring(response.content.decode())
    return {
        element.get("name"): element.get("value") or ""
        for element in document.xpath("//main//form[@method='post']//input")
        if element.get("name") != "csrfmiddlewaretoken"
    }


def field(name: str, kind: str) -> str:
    return f"{kind}_{crime_type(name).pk}"


@pytest.mark.django_db
def test_the_manager_chooses_a_year(manager_client):
    response = manager_client.get(reverse("crime_figures"))
    content = response.content.decode()
    assert reverse("crime_figures_edit", args=[2021]) in content
    assert reverse("crime_figures_edit", args=[2020]) in content
    assert input_value(response, "year") == "2022"
    response = manager_client.get(reverse("crime_figures"), {"year": "2022"})
    assert response["Location"] == reverse("crime_figures_edit", args=[2022])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("year", "message"),
    [
        ("abc", "The year must be a year in numbers, like 2022"),
        ("", "Enter the year the figures are for, like 2022"),
        ("1999", "The year must be 2000 or later"),
        ("3000", "or earlier"),
    ],
)
def test_a_bad_year_is_refused_with_a_message(manager_client, year, message):
    response = manager_client.get(reverse("crime_figures"), {"year": year})
    assert response.status_code == 200
    assert any(message in item for item in error_summary(response))
    assert input_value(response, "year") == year


@pytest.mark.django_db
@pytest.mark.parametrize("year", [1999, 3000])
def test_a_year_out_of_range_in_the_address_is_404(manager_client, year):
    assert manager_client.get(reverse("crime_figures_edit", args=[year])).status_code == 404


@pytest.mark.django_db
def test_the_form_shows_the_years_figures(manager_client):
    values = year_form(manager_client, 2021)
    for label, this_year, _, printed_position in PUBLISHED_2021:
        ct = CrimeType.objects.get(label=label)
        assert values[f"count_{ct.pk}"] == this_year
        assert values[f"position_{ct.pk}"] == printed_position
    response = manager_client.get(reverse("crime_figures_edit", args=[2021]))
    [figures, history] = tables(response)
    assert figures[0][:2] == ["All crime", "7,830"]  # 2020 beside it, for reference


@pytest.mark.django_db
def test_entering_a_new_year_saves_it_and_records_history(manager_client, manager):
    values = year_form(manager_client, 2022)
    assert values[field("All crime", "count")] == ""
    values[field("All crime", "count")] = "7,512"
    values[field("All crime", "position")] = "2"
    values[field("Robbery", "count")] = "30"
    values[field("Robbery", "position")] = "=4"
    values[field("Drug Trafficking", "count")] = "0"
    values[field("Drug Trafficking", "position")] = "--"
    history_before = CrimeFigure.history.count()

    response = manager_client.post(reverse("crime_figures_edit", args=[2022]), values)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('crime_statistics')}?year=2022"
    assert count("All crime", 2022) == 7512
    assert count("Robbery", 2022) == 30
    assert count("Drug Trafficking", 2022) == 0
    assert count("Shoplifting", 2022) is None  # left blank: no figure
    assert position("All crime", 2022) == "2"
    assert position("Robbery", 2022) == "=4"
    assert position("Drug Trafficking", 2022) == "--"
    assert CrimeFigure.history.count() == history_before + 3
    record = CrimeFigure.history.filter(crime_type__name="All crime", year=2022).get()
    assert record.history_user == manager
    assert record.history_type == "+"
    assert record.history_change_reason == "2022 figures entered by form"

    page = manager_client.get(response["Location"])
    assert "2022 crime figures saved: 6 added." in page.content.decode()
    [rows] = tables(page)
    assert rows[0] == ["All crime", "7,512", "7,679", "-2.2%", "-167", "1", "2"]
    # The history is shown to the manager on the year's form and the crime type's page.
    for url in (
        reverse("crime_figures_edit", args=[2022]),
        reverse("crime_type_detail", args=[crime_type("All crime").pk]),
    ):
        history = tables(manager_client.get(url))[-1]
        shown = [row[1:] for row in history]
        reason = "Created: 2022 figures entered by form"
        assert [str(manager), "All crime, 2022 count", "7,512", reason] in shown
        assert [str(manager), "All crime, 2022 county position", "2", reason] in shown


@pytest.mark.django_db
def test_correcting_a_year_changes_only_what_differs(manager_client, manager):
    values = year_form(manager_client, 2021)
    values[field("All crime", "count")] = "7,700"
    values[field("Robbery", "position")] = "2"
    before = stored()

    response = manager_client.post(reverse("crime_figures_edit", args=[2021]), values)

    assert response.status_code == 302
    assert count("All crime", 2021) == 7700
    assert position("Robbery", 2021) == "2"
    assert CrimeFigure.history.count() == before["figure history"] + 1
    assert CountyPosition.history.count() == before["position history"] + 1
    change = CrimeFigure.history.filter(crime_type__name="All crime", year=2021).first()
    assert (change.history_type, change.count, change.history_user) == ("~", 7700, manager)
    assert change.prev_record.count == 7679

    # Saving the same again changes nothing and records nothing.
    after = stored()
    response = manager_client.post(
        reverse("crime_figures_edit", args=[2021]), year_form(manager_client, 2021)
    )
    assert response.status_code == 302
    assert stored() == after
    page = manager_client.get(response["Location"])
    assert "nothing changed" in page.content.decode()


BAD_ENTRIES = [
    ("count", "-5", "The count of Robbery in 2021 must be 0 or more"),
    ("count", "abc", "The count of Robbery in 2021 must be a whole number, like 1,234"),
    ("count", "12.5", "The count of Robbery in 2021 must be a whole number, like 1,234"),
    ("count", "1,00", "The count of Robbery in 2021 must be a whole number, like 1,234"),
    ("count", "1000001", "The count of Robbery in 2021 must be 1,000,000 or fewer"),
    ("count", "9" * 20, "The count of Robbery in 2021 must be 1,000,000 or fewer"),
    ("count", "9" * 21, "The count of Robbery must be a whole number of 1,000,000 or fewer"),
    ("count", "", "the figure held (26) can be corrected but not removed"),
    ("position", "0", "The county position of Robbery in 2021 must be a number from 1 to 12"),
    ("position", "=x", "The county position of Robbery in 2021 must be a number from 1 to 12"),
    ("position", "13", "The county position of Robbery in 2021 must be a number from 1 to 12"),
    ("position", "99999", "The county position of Robbery in 2021 must be a number from 1 to 12"),
    ("position", "=0", "The county position of Robbery in 2021 must be a number from 1 to 12"),
    ("position", "3=", "The county position of Robbery in 2021 must be a number from 1 to 12"),
    ("position", "", "Enter the county position of Robbery in 2021, or -- for none"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "value", "message"), BAD_ENTRIES)
def test_bad_entries_are_refused_with_a_message_and_kept(manager_client, kind, value, message):
    values = year_form(manager_client, 2021)
    values[field("Robbery", kind)] = value
    values[field("All crime", "count")] = "7,700"  # a good change, not saved either
    before = stored()

    response = manager_client.post(reverse("crime_figures_edit", args=[2021]), values)

    assert response.status_code == 200
    assert stored() == before
    summary = error_summary(response)
    assert len(summary) == 1 and message in summary[0], summary
    content = response.content.decode()
    assert f'href="#id_{field("Robbery", kind)}"' in content  # the summary links to the field
    # …and the message stands next to the field, which the reader is pointed to.
    document = html.fromstring(content)
    [next_to_field] = document.xpath(f'//p[@id="id_{field("Robbery", kind)}-error"]')
    assert message in " ".join(next_to_field.text_content().split())
    [box] = document.xpath(f'//input[@name="{field("Robbery", kind)}"]')
    assert box.get("aria-describedby") == f"id_{field('Robbery', kind)}-error"
    assert response.context["form"].errors
    assert input_value(response, field("Robbery", kind)) == value
    assert input_value(response, field("All crime", "count")) == "7,700"
    assert content.count("govuk-input--error") == 1
    assert "<title>Error: 2021 crime figures" in content


@pytest.mark.django_db
def test_a_form_opened_before_someone_else_saved_is_refused_and_kept(manager_client):
    values = year_form(manager_client, 2021)
    CrimeFigure.objects.filter(crime_type__name="Robbery", year=2021).update(count=27)
    values[field("All crime", "count")] = "7,700"

    response = manager_client.post(reverse("crime_figures_edit", args=[2021]), values)

    assert response.status_code == 200
    assert "Someone else saved 2021’s figures" in " ".join(error_summary(response))
    assert count("All crime", 2021) == 7679
    assert input_value(response, field("All crime", "count")) == "7,700"
    # Saved again, knowingly: the form now carries what is stored.
    values["seen"] = input_value(response, "seen")
    assert (
        manager_client.post(reverse("crime_figures_edit", args=[2021]), values).status_code == 302
    )
    assert count("All crime", 2021) == 7700


@pytest.mark.django_db
def test_an_empty_new_year_asks_for_something(manager_client):
    before = stored()
    response = manager_client.post(
        reverse("crime_figures_edit", args=[2022]), year_form(manager_client, 2022)
    )
    assert response.status_code == 200
    assert error_summary(response) == ["Enter at least one count or county position for 2022"]
    assert stored() == before


# Importing a CSV file -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_upload_page_explains_the_file(manager_client):
    response = manager_client.get(reverse("crime_import"))
    content = response.content.decode()
    assert HEADINGS in content
    assert input_value(response, "year") == "2022"
    assert 'enctype="multipart/form-data"' in content


GOOD_2022 = [
    ("All crime", "7,512", "7,679", "2"),  # previous count as held
    ("Robbery", "30", "40", "=4"),  # previous count revised: 26 → 40
    ("(Drug Trafficking)", "48", "", "--"),  # no previous count: 2021 kept
    ("theft OF motor vehicle", "140", "134", ""),  # no position: none written
]


@pytest.mark.django_db
def test_a_good_file_is_previewed_then_saved(manager_client, manager):
    before = stored()
    response = upload(manager_client, table_csv(GOOD_2022))

    assert response.status_code == 302
    preview_url = response["Location"]
    token = manager_client.session[PENDING_IMPORT]["token"]
    assert preview_url == reverse("crime_import_preview", args=[token])
    assert stored() == before  # nothing saved by the upload

    preview = manager_client.get(preview_url)
    assert preview.status_code == 200
    assert stored() == before  # nor by the preview
    [rows] = tables(preview)
    assert rows == [
        ["2", "All crime", "7,512 (new)", "7,679 (held already)", "2 (new)", "Added"],
        ["3", "Robbery", "30 (new)", "40 (was 26)", "=4 (new)", "Added and corrected"],
        ["4", "(Drug Trafficking)", "48 (new)", "Not in the file", "-- (new)", "Added"],
        [
            "5",
            "Theft of motor vehicle",
            "140 (new)",
            "134 (held already)",
            "Not in the file",
            "Added",
        ],
    ]
    content = preview.content.decode()
    assert "Nothing has been saved yet" in content
    assert "12 crime types not in the file are left as they are" in content

    confirmed = manager_client.post(preview_url, {"seen": input_value(preview, "seen")})

    assert confirmed.status_code == 302
    assert confirmed["Location"] == f"{reverse('crime_statistics')}?year=2022"
    assert [count(n, 2022) for n in ("All crime", "Robbery", "Drug Trafficking")] == [7512, 30, 48]
    assert count("Theft of motor vehicle", 2022) == 140
    assert count("Robbery", 2021) == 40
    assert count("Drug Trafficking", 2021) == 52
    assert [position(n, 2022) for n in ("All crime", "Robbery", "Drug Trafficking")] == [
        "2",
        "=4",
        "--",
    ]
    assert position("Theft of motor vehicle", 2022) is None
    assert CrimeFigure.history.count() == before["figure history"] + 5
    assert CountyPosition.history.count() == before["position history"] + 3
    record = CrimeFigure.history.filter(crime_type__name="Robbery", year=2021).first()
    assert record.history_user == manager
    assert record.history_change_reason == "Imported from crime-2022.csv"
    assert PENDING_IMPORT not in manager_client.session
    page = manager_client.get(confirmed["Location"])
    assert "crime-2022.csv imported for 2022: 7 added and 1 corrected." in page.content.decode()

    # Confirmed again (a second click): nothing more happens.
    after = stored()
    again = manager_client.post(preview_url, {"seen": input_value(preview, "seen")})
    assert again["Location"] == reverse("crime_import")
    assert stored() == after


@pytest.mark.django_db
def test_importing_the_same_file_twice_changes_nothing_the_second_time(manager_client):
    for _ in range(2):
        preview_url = upload(manager_client, table_csv(GOOD_2022))["Location"]
        preview = manager_client.get(preview_url)
        after_first = stored()
        manager_client.post(preview_url, {"seen": input_value(preview, "seen")})
    assert "every figure in it is already held" in preview.content.decode()
    assert {row[-1] for row in tables(preview)[0]} == {"No change"}
    assert stored() == after_first


@pytest.mark.django_db
def test_the_published_table_imported_for_2021_changes_nothing(manager_client):
    before = stored()
    preview_url = upload(manager_client, table_csv(PUBLISHED_2021), year=2021)["Location"]
    preview = manager_client.get(preview_url)
    assert {row[-1] for row in tables(preview)[0]} == {"No change"}
    response = manager_client.post(preview_url, {"seen": input_value(preview, "seen")})
    assert response.status_code == 302
    assert stored() == before


@pytest.mark.django_db
def test_an_excel_csv_with_a_byte_order_mark_and_spare_cells_is_read(manager_client):
    content = "\ufeff" + table_csv([("All crime", "7512", "", "2", "", "")]).replace(
        "County position", "County position,,"
    )
    response = upload(manager_client, content)
    assert response.status_code == 302, error_summary(response)


ROW_ERRORS = [
    pytest.param(
        [("Burglary", "10", "", "1")],
        "Row 2: “Burglary” is not a crime type held here",
        id="unknown crime type",
    ),
    pytest.param(
        [("Robbery", "ten", "", "1")],
        "Row 2 (Robbery): the count for 2022 must be a whole number, like 1,234",
        id="non-numeric count",
    ),
    pytest.param(
        [("Robbery", "-3", "", "1")],
        "Row 2 (Robbery): the count for 2022 must be 0 or more",
        id="negative count",
    ),
    pytest.param(
        [("Robbery", "3", "x", "1")],
        "Row 2 (Robbery): the previous count (for 2021) must be a whole number",
        id="non-numeric previous count",
    ),
    pytest.param(
        [("Robbery", "", "", "1")],
        "Row 2 (Robbery): enter the count for 2022",
        id="no count",
    ),
    pytest.param(
        [("Robbery", "3", "", "0")],
        "Row 2 (Robbery): the county position must be a number from 1 to 12",
        id="position 0",
    ),
    pytest.param(
        [("", "3", "", "1")],
        "Row 2: enter the crime type",
        id="no crime type",
    ),
    pytest.param(
        [("Robbery", "30", "", "1"), ("All crime", "7,512", "", "1"), ("robbery", "31", "", "1")],
        "Row 4: Robbery is already on row 2",
        id="duplicate row",
    ),
    pytest.param(
        [("Robbery", "30", "", "1", "extra")],
        "Row 2 has 5 cells; a row has 4",
        id="too many cells",
    ),
]


def assert_refused(response, message: str, before: dict, client) -> None:
    assert response.status_code == 200
    summary = error_summary(response)
    assert any(message in item for item in summary), summary
    assert 'href="#id_file"' in response.content.decode()
    assert "govuk-file-upload--error" in response.content.decode()
    assert input_value(response, "year") == "2022"  # the year typed is kept
    assert stored() == before
    assert PENDING_IMPORT not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize(("rows", "message"), ROW_ERRORS)
def test_row_errors_refuse_the_whole_file(manager_client, rows, message):
    before = stored()
    good = [("Shoplifting", "400", "414", "1")]  # a good row, not saved either
    response = upload(manager_client, table_csv(rows + good))
    assert_refused(response, message, before, manager_client)


@pytest.mark.django_db
def test_every_row_error_is_listed(manager_client):
    before = stored()
    rows = [("Burglary", "10", "", "1"), ("Robbery", "ten", "", "=x"), ("Robbery", "1", "", "")]
    response = upload(manager_client, table_csv(rows))
    assert error_summary(response) == [
        "Row 2: “Burglary” is not a crime type held here; use a crime type as the crime table "
        "names it, like “All crime”",
        "Row 3 (Robbery): the count for 2022 must be a whole number, like 1,234",
        "Row 3 (Robbery): the county position must be a number from 1 to 12, with = in front "
        "for a shared position (like =3), or -- for none",
        "Row 4: Robbery is already on row 3",
    ]
    assert stored() == before


FILE_ERRORS = [
    pytest.param(
        table_csv([("All crime", "1", "", "1")], headings="Crime,This Year,Last Year,Position"),
        "The first row must be the headings Crime type, Count, Previous count, County position; "
        "this file has Crime, This Year, Last Year, Position",
        id="wrong header",
    ),
    pytest.param(
        table_csv([("All crime", "1", "1")], headings="Crime type,Count,Previous count"),
        "The first row must be the headings",
        id="missing column",
    ),
    pytest.param(
        "All crime,7679,7830,1\r\n",
        "The first row must be the headings",
        id="no header",
    ),
    pytest.param(b"", "The file is empty", id="empty file"),
    pytest.param(b"\r\n \r\n,,,\r\n", "The file is empty", id="blank lines only"),
    pytest.param("\ufeff", "The file is empty", id="byte-order mark only"),
    pytest.param(HEADINGS + "\r\n", "The file has its headings but no rows", id="headings only"),
    pytest.param(
        (HEADINGS + "\r\nCriminal damage,919,948,1\r\nDésordre,1,2,3\r\n").encode("latin-1"),
        "The file is not saved as UTF-8 text",
        id="non-UTF-8",
    ),
    pytest.param(
        b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64,
        "The file is not a CSV file (it holds binary data",
        id="binary (an Excel workbook)",
    ),
    pytest.param(
        HEADINGS + "\r\n" + "All crime,1,1,1\r\n" * 5000,
        "The file must be 64 KB or smaller",
        id="too big",
    ),
    pytest.param(
        HEADINGS + "\r\n" + "".join(f"Type {n},1,1,1\r\n" for n in range(201)),
        "The file has 201 rows of figures",
        id="too many rows",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("content", "message"), FILE_ERRORS)
def test_unreadable_files_are_refused(manager_client, content, message):
    before = stored()
    response = upload(manager_client, content)
    assert_refused(response, message, before, manager_client)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"year": "2022"}, "Choose a CSV file to import"),
        ({"year": "twenty", "file": "x"}, "The year must be a year in numbers, like 2022"),
        ({"year": "1999", "file": "x"}, "The year must be 2000 or later"),
    ],
)
def test_the_upload_form_needs_a_year_and_a_file(manager_client, data, message):
    if "file" in data:
        data["file"] = csv_file(table_csv(GOOD_2022))
    before = stored()
    response = manager_client.post(reverse("crime_import"), data)
    assert response.status_code == 200
    assert any(message in item for item in error_summary(response))
    assert stored() == before


@pytest.mark.django_db
def test_a_preview_of_figures_changed_since_is_refused(manager_client):
    preview_url = upload(manager_client, table_csv(GOOD_2022))["Location"]
    preview = manager_client.get(preview_url)
    CrimeFigure.objects.filter(crime_type__name="All crime", year=2021).update(count=7000)
    before = stored()

    response = manager_client.post(preview_url, {"seen": input_value(preview, "seen")})

    assert response["Location"] == preview_url
    assert stored() == before
    page = manager_client.get(preview_url)
    assert "changed after you saw the preview. Nothing was imported" in page.content.decode()
    assert tables(page)[0][0][3] == "7,679 (was 7,000)"


@pytest.mark.django_db
def test_a_preview_belongs_to_its_session_and_token(manager_client):
    preview_url = upload(manager_client, table_csv(GOOD_2022))["Location"]
    token = preview_url.rstrip("/").split("/")[-1]
    other = reverse("crime_import_preview", args=[token[:-1] + ("A" if token[-1] != "A" else "B")])
    before = stored()
    response = manager_client.post(other, {"seen": "x"})
    assert response["Location"] == reverse("crime_import")
    assert stored() == before
    assert PENDING_IMPORT in manager_client.session  # the real one still waits


@pytest.mark.django_db
def test_the_import_is_atomic(manager_client, monkeypatch):
    """A failure part way through saving leaves nothing saved."""
    from crimestats import entry

    preview_url = upload(manager_client, table_csv(GOOD_2022))["Location"]
    preview = manager_client.get(preview_url)
    before = stored()
    real_plan = entry.plan_changes

    def failing_plan(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        good = plan.to_write[:3]
        broken = entry.Change(plan.to_write[3].crime_type, 2022, None, -1)  # violates a check
        plan.changes = [*good, broken]
        return plan

    monkeypatch.setattr(entry, "plan_changes", failing_plan)
    manager_client.raise_request_exception = False
    response = manager_client.post(preview_url, {"seen": input_value(preview, "seen")})
    assert response.status_code == 500
    assert stored() == before


# Query counts: fixed whatever the number of years held --------------------------------------

PAGES = {
    "crime_statistics": ("board_member", lambda: reverse("crime_statistics")),
    "crime_statistics (csv)": (
        "board_member",
        lambda: f"{reverse('crime_statistics')}?year=2021&_export=csv",
    ),
    "crime_type_detail": (
        "board_member",
        lambda: reverse("crime_type_detail", args=[crime_type("All crime").pk]),
    ),
    "crime_type_detail (manager)": (
        "manager",
        lambda: reverse("crime_type_detail", args=[crime_type("All crime").pk]),
    ),
    "crime_type_detail (xlsx)": (
        "board_member",
        lambda: reverse("crime_type_detail", args=[crime_type("All crime").pk]) + "?_export=xlsx",
    ),
    "crime_figures": ("manager", lambda: reverse("crime_figures")),
    "crime_figures_edit": ("manager", lambda: reverse("crime_figures_edit", args=[2021])),
    "crime_import": ("manager", lambda: reverse("crime_import")),
}
# Each signed-in request spends 5 on the session and the user (see tests/test_pages.py).
QUERY_BUDGETS = {  # each page: + 1 for the partnership (csp.context_processors)
    "crime_statistics": 12,
    "crime_statistics (csv)": 10,
    "crime_type_detail": 13,  # + crime type, its counts, positions, years, areas, parts
    "crime_type_detail (manager)": 15,  # + the history of counts and of positions
    "crime_type_detail (xlsx)": 11,
    "crime_figures": 8,
    "crime_figures_edit": 15,
    "crime_import": 8,
    "crime_import_preview": 12,
}


def add_years(years) -> None:
    """Figures and county positions for every area and crime type in each year, each
    with a history record, as if entered one by one."""
    areas = list(Area.objects.all())
    crime_types = list(CrimeType.objects.all())
    bulk_create_with_history(
        [
            CrimeFigure(area=area, crime_type=ct, year=year, count=100 + i)
            for year in years
            for i, area in enumerate(areas)
            for ct in crime_types
        ],
        CrimeFigure,
    )
    bulk_create_with_history(
        [
            CountyPosition(area=area, crime_type=ct, year=year, position=1 + i % 12)
            for year in years
            for i, area in enumerate(areas)
            for ct in crime_types
        ],
        CountyPosition,
    )
    PublishedYear.objects.bulk_create(
        [PublishedYear(area=area, year=year) for year in years for area in areas]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("page", list(PAGES))
def test_query_count_does_not_grow_with_years_held(
    client, request, django_assert_max_num_queries, page
):
    persona, url = PAGES[page]
    signed_in(client, request.getfixturevalue(persona))
    target = url()
    assert client.get(target).status_code == 200  # warm up

    with django_assert_max_num_queries(QUERY_BUDGETS[page], info=page) as few_years:
        assert client.get(target).status_code == 200
    add_years(range(2005, 2020))
    with django_assert_max_num_queries(QUERY_BUDGETS[page], info=f"{page}, 17 years") as many:
        assert client.get(target).status_code == 200
    assert len(many) == len(few_years)


@pytest.mark.django_db
def test_import_preview_query_count_does_not_grow_with_years_held(
    manager_client, django_assert_max_num_queries
):
    budget = QUERY_BUDGETS["crime_import_preview"]
    preview_url = upload(manager_client, table_csv(PUBLISHED_2021), year=2021)["Location"]
    assert manager_client.get(preview_url).status_code == 200
    with django_assert_max_num_queries(budget) as few_years:
        assert manager_client.get(preview_url).status_code == 200
    add_years(range(2005, 2020))
    with django_assert_max_num_queries(budget) as many:
        assert manager_client.get(preview_url).status_code == 200
    assert len(many) == len(few_years)
