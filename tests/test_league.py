"""Figures computed from the imported sources: periods and roll-ups, county positions with
ties, the league table, county positions and neighbourhoods pages, and their query counts.

Expected values are worked out by hand (the Home Office test file's counts follow the
formula in tests/data/make_test_data.py) or counted from the files with the csv module.
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from lxml import html

from crimestats import league
from crimestats.models import (
    Area,
    CategoryMapping,
    CountyPosition,
    CrimeType,
    RecordedOffenceCount,
    Source,
    SourceCategory,
    StreetCrimeCount,
)
from crimestats.periods import (
    Basis,
    Period,
    assessment_period,
    calendar_year,
    financial_year,
    quarter_of,
    quarter_start,
)
from priorities.models import Plan

from .test_crime_imports import HO, KENT, POLICE, import_files, street_rows

D = datetime.date


def home_office_count(district: str, offence: int, year: int, quarter: int) -> int:
    """The test file's formula (tests/data/make_test_data.py), by district name."""
    return (KENT.index(district) + 1) * (offence + 1) + quarter + 4 * (year - 2019)


SHOPLIFTING = 3  # the offence's place in make_test_data.OFFENCES


# Periods -------------------------------------------------------------------------------------


def test_a_calendar_year_is_q4_of_the_previous_financial_year_and_q1_to_q3_of_its_own():
    assert calendar_year(2021).quarters == [(2020, 4), (2021, 1), (2021, 2), (2021, 3)]
    assert financial_year(2021).quarters == [(2021, 1), (2021, 2), (2021, 3), (2021, 4)]
    assert financial_year(2021).label == "2021/22"
    assert calendar_year(2021).months[0] == D(2021, 1, 1)
    assert calendar_year(2021).months[-1] == D(2021, 12, 1)
    assert financial_year(2020).months == [
        D(2020, 4, 1), D(2020, 5, 1), D(2020, 6, 1), D(2020, 7, 1), D(2020, 8, 1),
        D(2020, 9, 1), D(2020, 10, 1), D(2020, 11, 1), D(2020, 12, 1), D(2021, 1, 1),
        D(2021, 2, 1), D(2021, 3, 1),
    ]  # fmt: skip


def test_quarters_and_months_convert_both_ways():
    assert quarter_start(2020, 1) == D(2020, 4, 1)
    assert quarter_start(2020, 4) == D(2021, 1, 1)
    assert quarter_of(D(2021, 1, 1)) == (2020, 4)
    assert quarter_of(D(2021, 3, 1)) == (2020, 4)
    assert quarter_of(D(2021, 4, 1)) == (2021, 1)
    assert quarter_of(D(2021, 12, 1)) == (2021, 3)


def test_a_period_not_on_quarter_boundaries_has_no_quarters():
    assert Period(D(2021, 2, 1), D(2022, 1, 1), "Feb–Jan").quarters is None
    assert Period(D(2021, 1, 1), D(2021, 11, 1), "Jan–Nov").quarters is None
    assert Period(D(2021, 1, 1), D(2021, 6, 1), "Jan–Jun").quarters == [(2020, 4), (2021, 1)]


@pytest.mark.django_db
def test_the_plans_assessment_period_is_january_to_december_2021(plan):
    period = assessment_period(plan)
    assert (period.first, period.last) == (D(2021, 1, 1), D(2021, 12, 1))
    assert period.label == "January 2021 to December 2021"
    assert period.quarters == calendar_year(2021).quarters


# Roll-ups ------------------------------------------------------------------------------------------


@pytest.fixture
def home_office(db):
    import_files(Source.HOME_OFFICE, HO / "prc-csp-kent-test.xlsx")


@pytest.fixture
def street(db):
    import_files(
        Source.POLICE_UK, POLICE / "kent-2021-01-to-03.zip", POLICE / "2021-04-kent-street.csv"
    )


def area(name: str) -> Area:
    return Area.objects.get(name=name)


def crime_type(name: str) -> CrimeType:
    return CrimeType.objects.get(name=name)


@pytest.mark.django_db
def test_home_office_quarters_roll_up_to_calendar_financial_and_assessment_years(home_office, plan):
    shoplifting = crime_type("Shoplifting")
    tw = area("Tunbridge Wells").pk
    # By hand: 2020/21 Q4 is 12*4+4+4 = 56; 2021/22 Q1–Q3 are 57, 58, 59; Q4 is 60.
    assert league.period_counts(shoplifting, calendar_year(2021))[tw] == 56 + 57 + 58 + 59
    assert league.period_counts(shoplifting, financial_year(2021))[tw] == 57 + 58 + 59 + 60
    assert league.period_counts(shoplifting, assessment_period(plan))[tw] == 230
    # The same from the formula, for every district and both kinds of year.
    for name in KENT:
        calendar = home_office_count(name, SHOPLIFTING, 2020, 4) + sum(
            home_office_count(name, SHOPLIFTING, 2021, quarter) for quarter in (1, 2, 3)
        )
        assert league.period_counts(shoplifting, calendar_year(2021))[area(name).pk] == calendar
    # All crime sums every offence (7 of them) of the quarters.
    all_crime = league.period_counts(crime_type("All crime"), financial_year(2020))[tw]
    assert all_crime == sum(
        home_office_count("Tunbridge Wells", offence, 2020, quarter)
        for offence in range(7)
        for quarter in range(1, 5)
    )
    # Drug offences = the possession and trafficking offences (4 and 5).
    drugs = league.period_counts(crime_type("Drug offences"), financial_year(2020))[tw]
    assert drugs == sum(
        home_office_count("Tunbridge Wells", offence, 2020, quarter)
        for offence in (4, 5)
        for quarter in range(1, 5)
    )


@pytest.mark.django_db
def test_a_year_not_wholly_imported_has_no_figure(home_office):
    shoplifting = crime_type("Shoplifting")
    tw = area("Tunbridge Wells").pk
    assert league.period_counts(shoplifting, calendar_year(2019))[tw] is None  # no Jan–Mar 2019
    assert league.period_counts(shoplifting, calendar_year(2022))[tw] is None  # Jan–Mar only
    assert league.period_counts(shoplifting, financial_year(2019))[tw] is not None
    # A period that cuts through a quarter has no Home Office figure at all.
    cut = Period(D(2021, 2, 1), D(2022, 1, 1), "Feb 2021 to Jan 2022")
    assert league.period_counts(shoplifting, cut)[tw] is None


@pytest.mark.django_db
def test_street_level_months_roll_up(street):
    asb = crime_type("ASB Incidents")
    tw = area("Tunbridge Wells").pk
    first_four = Period(D(2021, 1, 1), D(2021, 4, 1), "January to April 2021")
    expected = sum(
        1
        for row in street_rows()
        if row["Crime type"] == "Anti-social behaviour"
        and row["LSOA name"].startswith("Tunbridge Wells ")
    )
    assert expected > 0
    assert league.period_counts(asb, first_four)[tw] == expected
    assert league.period_counts(asb, calendar_year(2021))[tw] is None  # May–Dec missing


# Positions ----------------------------------------------------------------------------------------


def test_rank_is_standard_competition_ranking_lowest_first():
    rates = {"a": Decimal("1.00"), "b": Decimal("2.50"), "c": Decimal("2.50"), "d": Decimal("3")}
    assert league.rank(rates) == {"a": (1, False), "b": (2, True), "c": (2, True), "d": (4, False)}
    assert league.rank({"a": None, "b": Decimal(5)}) == {"b": (1, False)}
    assert league.position_display((3, True)) == "=3"
    assert league.position_display(None) == "--"


# Counts giving these rates per 1,000 (Census 2021 populations): 2021, and 2020 before it.
TIED_2021 = {
    "Sevenoaks": 241,  # 2.00
    "Dartford": 584,  # 5.00
    "Ashford": 1327,  # 10.00
    "Canterbury": 1574,  # 10.00
    "Dover": 1164,  # 10.00
    "Tunbridge Wells": 1153,  # 10.00
    "Thanet": 1757,  # 12.50 (12.4964 as displayed)
    "Gravesham": 2138,  # 20.00
    "Maidstone": 3516,  # 20.00
    "Swale": 3034,  # 20.00
    "Tonbridge and Malling": 2645,  # 20.01 (20.0076): not tied with the 20.00s
    "Folkestone and Hythe": 3294,  # 30.00
}
POSITIONS_2021 = {
    "Sevenoaks": "1",
    "Dartford": "2",
    "Ashford": "=3",
    "Canterbury": "=3",
    "Dover": "=3",
    "Tunbridge Wells": "=3",
    "Thanet": "7",
    "Gravesham": "=8",
    "Maidstone": "=8",
    "Swale": "=8",
    "Tonbridge and Malling": "11",
    "Folkestone and Hythe": "12",
}
# 2020: 100, 200, … 1,200 in the order of KENT.
COUNTS_2020 = {name: 100 * (index + 1) for index, name in enumerate(KENT)}


def held_as_home_office(crime_type_name: str, by_year: dict[int, dict[str, int]], missing=()):
    """A Home Office category mapped only to ``crime_type_name``, with each calendar year's
    count in its Q1 (April–June) and 0 in the year's other three quarters."""
    category = SourceCategory.objects.create(
        source=Source.HOME_OFFICE, key="t1|test robbery", label="Test robbery", code="T1"
    )
    CategoryMapping.objects.create(category=category, crime_type=crime_type(crime_type_name))
    rows = []
    for year, counts in by_year.items():
        for name, count in counts.items():
            for fy, quarter in calendar_year(year).quarters:
                if (name, year, quarter) in missing:
                    continue
                rows.append(
                    RecordedOffenceCount(
                        area=area(name),
                        category=category,
                        financial_year=fy,
                        quarter=quarter,
                        count=count if quarter == 1 else 0,
                    )
                )
    RecordedOffenceCount.objects.bulk_create(rows)


@pytest.mark.django_db
def test_league_table_positions_with_ties_against_hand_computed_values():
    held_as_home_office("Robbery", {2021: TIED_2021, 2020: COUNTS_2020})

    table = league.league_table(crime_type("Robbery"), Basis.CALENDAR, 2021)

    assert {row.area.name: row.position_display for row in table.rows} == POSITIONS_2021
    assert [row.area.name for row in table.rows] == [
        "Sevenoaks", "Dartford", "Ashford", "Canterbury", "Dover", "Tunbridge Wells", "Thanet",
        "Gravesham", "Maidstone", "Swale", "Tonbridge and Malling", "Folkestone and Hythe",
    ]  # fmt: skip
    tw = table.home
    assert tw.area.name == "Tunbridge Wells"
    assert (tw.count, tw.previous_count, tw.change) == (1153, 1200, -47)
    assert tw.rate == Decimal("10.00")
    assert tw.percent_change == Decimal("-3.9")  # -47 / 1200 = -3.92%
    # 2020: counts 100 … 1200 in KENT order; rates per 1,000 ranked by hand.
    assert tw.previous_position_display == "12"
    assert tw.movement_display == "Up 9"  # from 12 to =3
    thanet = next(row for row in table.rows if row.area.name == "Thanet")
    assert thanet.rate == Decimal("12.50")
    assert thanet.previous_position_display == "9"
    assert thanet.movement_display == "Up 2"
    sevenoaks = next(row for row in table.rows if row.area.name == "Sevenoaks")
    assert (sevenoaks.previous_position_display, sevenoaks.movement_display) == ("7", "Up 6")
    swale = next(row for row in table.rows if row.area.name == "Swale")
    assert (swale.previous_position_display, swale.movement_display) == ("8", "No change")
    # The seed's hand-entered Robbery position for 2021 is "=1": shown, and flagged.
    assert tw.entered_display == "=1" and tw.disagrees
    assert table.disagreements == [tw]


@pytest.mark.django_db
def test_previous_year_positions_by_hand():
    """COUNTS_2020 ÷ population, ranked: the rates are (count × 1000 / population)."""
    held_as_home_office("Robbery", {2020: COUNTS_2020})
    table = league.league_table(crime_type("Robbery"), Basis.CALENDAR, 2020)
    rates = {row.area.name: row.rate for row in table.rows}
    assert rates["Ashford"] == Decimal("0.75")  # 100 / 132.7
    assert rates["Tunbridge Wells"] == Decimal("10.41")  # 1200 / 115.3
    # Ashford 0.75, Canterbury 1.27, Dartford 2.57, Maidstone 3.41, Dover 3.44,
    # Gravesham 4.68, Sevenoaks 5.81, Swale 5.93, Thanet 7.11, Folkestone and Hythe 7.29,
    # Tonbridge and Malling 8.32, Tunbridge Wells 10.41.
    assert {row.area.name: row.position_display for row in table.rows} == {
        "Ashford": "1", "Canterbury": "2", "Dartford": "3", "Maidstone": "4", "Dover": "5",
        "Gravesham": "6", "Sevenoaks": "7", "Swale": "8", "Thanet": "9",
        "Folkestone and Hythe": "10", "Tonbridge and Malling": "11", "Tunbridge Wells": "12",
    }  # fmt: skip


@pytest.mark.django_db
def test_a_district_missing_a_quarter_has_no_position_and_the_rest_rank_among_themselves():
    held_as_home_office("Robbery", {2021: TIED_2021}, missing={("Sevenoaks", 2021, 2)})
    table = league.league_table(crime_type("Robbery"), Basis.CALENDAR, 2021)
    positions = {row.area.name: row.position_display for row in table.rows}
    assert positions["Sevenoaks"] == "--"
    assert positions["Dartford"] == "1"
    assert positions["Tunbridge Wells"] == "=2"
    assert table.ranked == 11
    assert table.rows[-1].area.name == "Sevenoaks"


@pytest.mark.django_db
def test_positions_overview_for_every_crime_type_and_year(home_office):
    held_as_home_office("Robbery", {2021: TIED_2021, 2020: COUNTS_2020})
    years = league.years_held(Basis.CALENDAR)
    assert years == [2022, 2021, 2020, 2019]
    table, home = league.positions_overview(Basis.CALENDAR, years)
    assert home.name == "Tunbridge Wells"
    cells = {(crime.name, cell.year): cell for crime, _, row_cells in table for cell in row_cells}
    robbery = cells[("Robbery", 2021)]
    assert robbery.computed_display == "=3"
    assert robbery.entered.display == "=1" and robbery.disagrees
    assert cells[("Robbery", 2020)].computed_display == "12"
    # The Home Office test file: Tunbridge Wells (district 11) has the highest counts, and
    # every count grows with the district number faster than the populations do.
    shoplifting_rates = {
        name: (
            Decimal(
                sum(home_office_count(name, SHOPLIFTING, 2021, q) for q in (1, 2, 3))
                + home_office_count(name, SHOPLIFTING, 2020, 4)
            )
            * 1000
            / area(name).population
        ).quantize(Decimal("0.01"))
        for name in KENT
    }
    expected = 1 + sum(
        1 for rate in shoplifting_rates.values() if rate < shoplifting_rates["Tunbridge Wells"]
    )
    assert cells[("Shoplifting", 2021)].computed_display == str(expected)
    assert cells[("Shoplifting", 2019)].computed is None  # Jan–Mar 2019 not imported
    # Crime types with no mapped category have no computed position, only the entered one.
    assert cells[("Hate Crime", 2021)].computed is None
    assert cells[("Hate Crime", 2021)].entered.display == "4"


@pytest.mark.django_db
def test_home_office_comes_first_where_both_sources_map_to_a_crime_type(home_office, street):
    sources = league.figure_sources()
    assert sources[crime_type("Shoplifting").pk] == Source.HOME_OFFICE  # both mapped
    assert sources[crime_type("ASB Incidents").pk] == Source.POLICE_UK  # police.uk only
    assert crime_type("Hate Crime").pk not in sources


# Neighbourhoods -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_neighbourhood_counts_by_lsoa_and_month(street):
    view = league.lsoa_view(area("Tunbridge Wells"), 2021, None)
    rows = [row for row in street_rows() if row["LSOA name"].startswith("Tunbridge Wells ")]
    expected = {}
    for row in rows:
        counts = expected.setdefault(row["LSOA name"], [0, 0, 0, 0])
        counts[int(row["Month"][5:]) - 1] += 1
    assert {row["lsoa_name"]: row["counts"][:4] for row in view.rows} == expected
    assert all(row["counts"][4:] == [None] * 8 for row in view.rows)  # May–Dec not imported
    assert view.total == len(rows)
    assert view.month_totals[:4] == [sum(c[i] for c in expected.values()) for i in range(4)]
    totals = sorted(((sum(c), name) for name, c in expected.items()), key=lambda t: (-t[0], t[1]))
    assert [(h["total"], h["lsoa_name"]) for h in view.hotspots] == totals
    assert view.hotspots[0]["rank"] == "1"
    assert sum(h["share"] for h in view.hotspots) == pytest.approx(100, abs=0.3)

    shoplifting = SourceCategory.objects.get(source=Source.POLICE_UK, label="Shoplifting")
    view = league.lsoa_view(area("Tunbridge Wells"), 2021, shoplifting)
    assert view.total == sum(1 for row in rows if row["Crime type"] == "Shoplifting")


# The pages --------------------------------------------------------------------------------------------


def tables(response) -> list[list[list[str]]]:
    document = html.fromstring(response.content.decode())
    return [
        [
            [" ".join(cell.text_content().split()) for cell in row.xpath("./th|./td")]
            for row in body.xpath("./tr")
        ]
        for body in document.xpath("//table/tbody")
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["davss_user", "manager", "board_member"])
def test_every_role_reads_the_league_table(client, request, home_office, persona):
    client.force_login(request.getfixturevalue(persona))
    shoplifting = crime_type("Shoplifting")
    response = client.get(reverse("crime_league"), {"crime_type": shoplifting.pk, "year": 2021})
    assert response.status_code == 200
    # The home district's tag is set apart from its name (a comma for screen readers), not
    # run together as "Tunbridge Wells This partnership".
    names = [row[1] for row in tables(response)[0]]
    assert "Tunbridge Wells, This partnership" in names
    rows = {row[1].replace(", This partnership", ""): row for row in tables(response)[0]}
    tw = rows["Tunbridge Wells"]
    # Position, district, 2021, rate, 2020, change, % change, 2020 position, movement, entered.
    assert tw[2:6] == ["230", "1.99", "214", "16"]  # 230 / 115.3; 2020: 52+53+54+55
    assert tw[6] == "7.5%"
    assert tw[9] == "1 Differs"  # the seed's hand-entered Shoplifting position for 2021
    assert ("Import crime data" in response.content.decode()) == (persona == "manager")
    assert b'id="league-chart-data"' in response.content


@pytest.mark.django_db
def test_league_table_defaults_to_the_assessment_year_and_survives_bad_parameters(
    client, board_member, home_office
):
    client.force_login(board_member)
    response = client.get(
        reverse("crime_league"), {"crime_type": "x", "year": "1999", "basis": "?"}
    )
    assert response.status_code == 200
    assert response.context["year"] == 2021 and response.context["basis"] == Basis.CALENDAR
    assert response.context["crime_type"].name == "All crime"
    response = client.get(reverse("crime_league"), {"basis": "financial", "year": 2020})
    assert response.context["league"].period.label == "2020/21"


@pytest.mark.django_db
def test_pages_without_any_imported_figures(client, board_member):
    client.force_login(board_member)
    for name in ("crime_league", "crime_positions", "crime_neighbourhoods"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert "imported" in response.content.decode()


@pytest.mark.django_db
def test_neighbourhoods_page_lists_the_home_districts_lsoas(client, davss_user, street):
    client.force_login(davss_user)
    response = client.get(reverse("crime_neighbourhoods"), {"year": 2021})
    hotspots, by_month = tables(response)
    assert [row[1] for row in hotspots][0] == "Tunbridge Wells 001A"
    assert by_month[-1][0] == "All LSOAs"
    assert by_month[-1][5:13] == ["–"] * 8


# Query counts: the same budget at two sizes of data ----------------------------------------------


def grow(factor: int) -> None:
    """More of everything the pages read: extra offence categories and years of quarters
    for every district, and extra LSOAs and months of street-level counts."""
    areas = list(Area.objects.all())
    crime_types = list(CrimeType.objects.all())
    categories = []
    for number in range(factor):
        category = SourceCategory.objects.create(
            source=Source.HOME_OFFICE, key=f"x{number}|extra", label=f"Extra {number}"
        )
        CategoryMapping.objects.create(
            category=category, crime_type=crime_types[number % len(crime_types)]
        )
        categories.append(category)
    rows = [
        RecordedOffenceCount(
            area=district, category=category, financial_year=year, quarter=quarter, count=year
        )
        for district in areas
        for category in categories
        for year in range(2010, 2010 + factor)
        for quarter in range(1, 5)
    ]
    RecordedOffenceCount.objects.bulk_create(rows)
    street_category = SourceCategory.objects.filter(source=Source.POLICE_UK).first()
    StreetCrimeCount.objects.bulk_create(
        StreetCrimeCount(
            area=area("Tunbridge Wells"),
            lsoa_code=f"E0109{number:04d}",
            lsoa_name=f"Tunbridge Wells {number:03d}Z",
            month=D(2021, month, 1),
            category=street_category,
            count=number + month,
        )
        for number in range(10 * factor)
        for month in range(5, 5 + min(factor, 8))
    )


PAGES = [
    ("crime_league", {}),
    ("crime_league", {"basis": "financial"}),
    ("crime_positions", {}),
    ("crime_neighbourhoods", {"year": 2021}),
    ("crime_sources", {}),
    ("crime_categories", {}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "params"), PAGES, ids=[f"{n}-{p}" for n, p in PAGES])
@pytest.mark.parametrize("factor", [1, 6])
def test_query_count_does_not_grow_with_the_data(
    client, manager, home_office, street, django_assert_max_num_queries, name, params, factor
):
    grow(factor)
    client.force_login(manager)
    client.get(reverse(name), params)  # warm the session
    with django_assert_max_num_queries(16):
        response = client.get(reverse(name), params)
    assert response.status_code == 200


@pytest.mark.django_db
def test_computed_positions_leave_the_entered_ones_alone(home_office):
    before = list(CountyPosition.objects.order_by("pk").values_list("pk", "position", "tied"))
    league.positions_overview(Basis.CALENDAR, league.years_held(Basis.CALENDAR))
    league.league_table(crime_type("All crime"), Basis.CALENDAR, 2021)
    assert list(CountyPosition.objects.order_by("pk").values_list("pk", "position", "tied")) == (
        before
    )
    assert Plan.objects.current().financial_year == 2022
