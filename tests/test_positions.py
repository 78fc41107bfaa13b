"""County positions have one home (crimestats/positions.py): printed, read and ranked the
same way by the crime table, the entry form, the CSV import, the league table, the county
positions page and the history generator."""

from decimal import Decimal

import pytest

from crimestats import entry, league, positions
from crimestats.models import Area, CountyPosition, CrimeType


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", (1, False)), ("=3", (3, True)), (" 12 ", (12, False)), ("--", (None, False))],
)
def test_parse_and_display_are_inverses(text, expected):
    parsed = positions.parse(text)
    assert parsed == expected
    assert positions.parse(parsed.display) == parsed


@pytest.mark.parametrize("text", ["0", "=0", "x", "3=", "1.5", "==2"])
def test_parse_refuses_what_is_not_a_position(text):
    with pytest.raises(ValueError):
        positions.parse(text)


def test_the_entry_form_and_the_stored_positions_read_and_print_alike():
    assert entry.parse_position("=4", "Robbery", 12) == positions.Position(4, True)
    with pytest.raises(ValueError, match="from 1 to 12"):
        entry.parse_position("13", "Robbery", 12)
    stored = CountyPosition(position=4, tied=True)
    assert stored.display == positions.display(4, True) == "=4"
    assert CountyPosition(position=None).display == "--"


def test_rates_are_ranked_as_displayed_to_two_decimal_places():
    # 2.344 and 2.3449 both print as 2.34: a reader sees a tie, and so does the ranking.
    ranked = positions.rank({"a": 2.344, "b": 2.3449, "c": 2.35, "d": None})
    assert ranked == {"a": (1, True), "b": (1, True), "c": (3, False)}
    assert league.rank({"a": Decimal("2.34"), "b": Decimal("2.35")}) == {
        "a": (1, False),
        "b": (2, False),
    }


def test_no_computed_position_is_not_a_difference():
    entered = CountyPosition(position=1, tied=False)
    row = league.LeagueRow(
        area=Area(name="Tunbridge Wells"),
        count=None,
        previous_count=None,
        rate=None,
        previous_rate=None,
        position=None,  # no complete figure for the period: nothing computed
        previous_position=None,
        entered=entered,
    )
    assert not row.disagrees
    cell = league.PositionCell(2022, None, entered)
    assert not cell.disagrees
    # A computed position that differs is still flagged, on both pages.
    row.position = positions.Position(2, False)
    assert row.disagrees
    assert league.PositionCell(2022, positions.Position(2, False), entered).disagrees
    assert not league.PositionCell(2022, positions.Position(1, False), entered).disagrees


@pytest.mark.django_db
def test_the_history_generator_ranks_by_the_same_rule(settings):
    """Generated county positions equal positions.rank over rate_per_thousand."""
    from crimestats.models import CrimeFigure, rate_per_thousand
    from demodata import generate

    generate.ensure_crime_statistics(4, generate.Created())  # back to 2017: unpublished years
    crime_type = CrimeType.objects.get(name="All crime")
    generated = [
        year
        for year in generate.crime_years(4)
        if CountyPosition.objects.filter(crime_type=crime_type, year=year).count() > 1
    ]
    assert generated, "the generator ranked no year"
    year = generated[0]
    areas = {area.pk: area for area in Area.objects.all()}
    rates = {
        figure.area_id: rate_per_thousand(figure.count, areas[figure.area_id].population)
        for figure in CrimeFigure.objects.filter(crime_type=crime_type, year=year)
    }
    stored = {
        p.area_id: (p.position, p.tied)
        for p in CountyPosition.objects.filter(crime_type=crime_type, year=year)
    }
    assert stored == {key: tuple(value) for key, value in positions.rank(rates).items()}
