"""Figures computed from the imported sources: roll-ups, rates and county positions.

A crime type's figure is the sum of the source categories mapped to it, from one source:
the Home Office tables where any Home Office category is mapped to it (they are the
official recorded-crime figures by CSP), otherwise the police.uk street-level files (the
only source of anti-social behaviour incidents). Summing both would count crimes twice.

County positions rank every district of the county by rate per 1,000 residents, by the
rule in ``crimestats.positions``. A district with no complete figure for the period has no
position.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, Max, OuterRef, Sum

from priorities.models import Partnership

from . import positions
from .models import (
    Area,
    CategoryMapping,
    CountyPosition,
    CrimeType,
    RecordedOffenceCount,
    Source,
    SourceCategory,
    StreetCrimeCount,
    rate_per_thousand,
)
from .periods import (
    Basis,
    Period,
    calendar_year,
    quarter_of,
    quarter_start,
    year_period,
)
from .statistics import YearOnYear

# Sources ------------------------------------------------------------------------------------


def figure_sources() -> dict[int, str]:
    """Crime type id → the source its figures come from (see the module's docstring)."""
    sources: dict[int, set[str]] = defaultdict(set)
    for crime_type_id, source in CategoryMapping.objects.values_list(
        "crime_type_id", "category__source"
    ).distinct():
        sources[crime_type_id].add(source)
    return {
        crime_type_id: Source.HOME_OFFICE if Source.HOME_OFFICE in held else Source.POLICE_UK
        for crime_type_id, held in sources.items()
    }


# Roll-ups -----------------------------------------------------------------------------------


@dataclass
class Rollup:
    """Counts for some periods: (period index, crime type id, area id) → count, and which
    (period index, area id) pairs have every quarter or month of the period held."""

    counts: dict[tuple[int, int, int], int] = field(default_factory=lambda: defaultdict(int))
    complete: set[tuple[int, int]] = field(default_factory=set)

    def count(self, period: int, crime_type_id: int, area_id: int) -> int | None:
        if (period, area_id) not in self.complete:
            return None
        return self.counts.get((period, crime_type_id, area_id), 0)


def rollup(
    periods: list[Period], source: str, crime_type_ids: list[int] | None, area_ids: list[int]
) -> Rollup:
    """Sum the published quarters (Home Office) or months (police.uk) into ``periods``.

    Two queries whatever the number of periods, crime types or areas: the sums by
    mapped crime type, and which quarters or months are held.
    """
    result = Rollup()
    if not periods:
        return result
    mapped = {"category__mappings__crime_type__isnull": False}
    if crime_type_ids is not None:
        mapped = {"category__mappings__crime_type__in": crime_type_ids}
    if source == Source.HOME_OFFICE:
        wanted: dict[tuple[int, int], list[int]] = defaultdict(list)
        for index, period in enumerate(periods):
            for quarter in period.quarters or []:  # periods not made of quarters: no figure
                wanted[quarter].append(index)
        if not wanted:
            return result
        years = [year for year, _ in wanted]
        within = RecordedOffenceCount.objects.filter(
            financial_year__gte=min(years), financial_year__lte=max(years), area_id__in=area_ids
        )
        sums = (
            within.filter(**mapped)
            .values_list("category__mappings__crime_type", "area_id", "financial_year", "quarter")
            .annotate(total=Sum("count"))
            .order_by()
        )
        for crime_type_id, area_id, year, quarter, total in sums:
            for index in wanted.get((year, quarter), ()):
                result.counts[(index, crime_type_id, area_id)] += total
        held = defaultdict(set)
        for area_id, year, quarter in (
            within.values_list("area_id", "financial_year", "quarter").distinct().order_by()
        ):
            for index in wanted.get((year, quarter), ()):
                held[(index, area_id)].add((year, quarter))
        for (index, area_id), quarters in held.items():
            if len(quarters) == len(periods[index].quarters):
                result.complete.add((index, area_id))
        return result

    wanted_months: dict[datetime.date, list[int]] = defaultdict(list)
    for index, period in enumerate(periods):
        for month in period.months:
            wanted_months[month].append(index)
    within = StreetCrimeCount.objects.filter(
        month__gte=min(wanted_months), month__lte=max(wanted_months)
    )
    sums = (
        within.filter(area_id__in=area_ids, **mapped)
        .values_list("category__mappings__crime_type", "area_id", "month")
        .annotate(total=Sum("count"))
        .order_by()
    )
    for crime_type_id, area_id, month, total in sums:
        for index in wanted_months.get(month, ()):
            result.counts[(index, crime_type_id, area_id)] += total
    # A street-level file covers the whole force, so a month held is held for every area.
    held_months = defaultdict(set)
    for month in within.values_list("month", flat=True).distinct().order_by():
        for index in wanted_months.get(month, ()):
            held_months[index].add(month)
    for index, months in held_months.items():
        if len(months) == len(periods[index].months):
            result.complete.update((index, area_id) for area_id in area_ids)
    return result


def period_counts(crime_type: CrimeType, period: Period, areas=None) -> dict[int, int | None]:
    """Area id → count of the crime type in the period (None where not all of it is held)."""
    areas = list(areas if areas is not None else county_areas()[0])
    source = figure_sources().get(crime_type.pk)
    if source is None:
        return {area.pk: None for area in areas}
    result = rollup([period], source, [crime_type.pk], [area.pk for area in areas])
    return {area.pk: result.count(0, crime_type.pk, area.pk) for area in areas}


# Positions ------------------------------------------------------------------------------------


# The rule is crimestats.positions'; these names are kept for the pages that call them.
rank = positions.rank


def position_display(position: tuple[int, bool] | None) -> str:
    return positions.display(*position) if position else "--"


# The county -----------------------------------------------------------------------------------


def county_areas() -> tuple[list[Area], Area | None]:
    """The districts the county positions compare (those of the home district's county),
    and the home district. One query."""
    home_code = Partnership.objects.filter(home_area_code=OuterRef("ons_code"))
    areas = list(Area.objects.annotate(is_home=Exists(home_code)).order_by("name"))
    home = next((area for area in areas if area.is_home), None)
    if home is not None:
        areas = [area for area in areas if area.county == home.county]
    return areas, home


@dataclass
class LeagueRow(YearOnYear):
    area: Area
    count: int | None
    previous_count: int | None
    rate: Decimal | None
    previous_rate: Decimal | None
    position: tuple[int, bool] | None
    previous_position: tuple[int, bool] | None
    entered: CountyPosition | None = None
    is_home: bool = False

    def counts(self) -> tuple[int | None, int | None]:
        return self.count, self.previous_count

    @property
    def position_display(self) -> str:
        return position_display(self.position)

    @property
    def previous_position_display(self) -> str:
        return position_display(self.previous_position)

    @property
    def movement(self) -> int | None:
        """Places moved towards 1 (the lowest rate) since the previous period."""
        if self.position is None or self.previous_position is None:
            return None
        return self.previous_position[0] - self.position[0]

    @property
    def movement_display(self) -> str:
        movement = self.movement
        if movement is None:
            return ""
        if movement == 0:
            return "No change"
        return f"Up {movement}" if movement > 0 else f"Down {-movement}"

    @property
    def entered_display(self) -> str:
        return self.entered.display if self.entered else ""

    @property
    def disagrees(self) -> bool:
        """The hand-entered position differs from the computed one (never where none
        could be computed)."""
        return positions.differs(_entered(self.entered), self.position)


@dataclass
class League:
    crime_type: CrimeType
    basis: Basis
    year: int
    period: Period
    previous_period: Period
    source: str | None
    rows: list[LeagueRow]
    categories: list[SourceCategory]

    @property
    def source_label(self) -> str:
        return Source(self.source).label if self.source else ""

    @property
    def ranked(self) -> int:
        return sum(1 for row in self.rows if row.position is not None)

    @property
    def home(self) -> LeagueRow | None:
        return next((row for row in self.rows if row.is_home), None)

    @property
    def disagreements(self) -> list[LeagueRow]:
        return [row for row in self.rows if row.disagrees]

    def chart_data(self) -> dict:
        """What the chart draws (json_script); the table on the page has the same figures."""
        rows = [row for row in self.rows if row.rate is not None]
        return {
            "title": f"{self.crime_type.name}: rate per 1,000 residents, {self.period}",
            "labels": [row.area.name for row in rows],
            "rates": [float(row.rate) for row in rows],
            "home": [row.is_home for row in rows],
        }


def league_table(
    crime_type: CrimeType, basis: Basis, year: int, sources: dict[int, str] | None = None
) -> League:
    """The county's districts for one crime type and year: counts, rates, changes and
    positions, computed, beside the positions entered by hand. A fixed number of queries."""
    areas, home = county_areas()
    period = year_period(basis, year)
    previous = year_period(basis, year - 1)
    source = (figure_sources() if sources is None else sources).get(crime_type.pk)
    area_ids = [area.pk for area in areas]
    result = rollup([period, previous], source, [crime_type.pk], area_ids) if source else Rollup()

    def rates(index):
        return {
            area.pk: rate_per_thousand(count, area.population)
            if (count := result.count(index, crime_type.pk, area.pk)) is not None
            else None
            for area in areas
        }

    this_rates, previous_rates = rates(0), rates(1)
    this_positions, previous_positions = rank(this_rates), rank(previous_rates)
    entered = {}
    if basis == Basis.CALENDAR:  # positions are entered for the assessment's calendar years
        entered = {
            position.area_id: position
            for position in CountyPosition.objects.filter(crime_type=crime_type, year=year)
        }
    rows = [
        LeagueRow(
            area=area,
            count=result.count(0, crime_type.pk, area.pk),
            previous_count=result.count(1, crime_type.pk, area.pk),
            rate=this_rates[area.pk],
            previous_rate=previous_rates[area.pk],
            position=this_positions.get(area.pk),
            previous_position=previous_positions.get(area.pk),
            entered=entered.get(area.pk),
            is_home=area == home,
        )
        for area in areas
    ]
    rows.sort(key=lambda row: (row.position is None, row.position or (0, False), row.area.name))
    categories = []
    if source:
        categories = list(
            SourceCategory.objects.filter(source=source, mappings__crime_type=crime_type).order_by(
                "group", "subgroup", "label"
            )
        )
    return League(crime_type, basis, year, period, previous, source, rows, categories)


# Every crime type and year, for the home district ----------------------------------------------


@dataclass
class PositionCell:
    year: int
    computed: tuple[int, bool] | None
    entered: CountyPosition | None

    @property
    def computed_display(self) -> str:
        return position_display(self.computed) if self.computed else ""

    @property
    def disagrees(self) -> bool:
        return positions.differs(_entered(self.entered), self.computed)


def _entered(position: CountyPosition | None) -> positions.Position | None:
    return None if position is None else positions.Position(position.position, position.tied)


def years_held(basis: Basis) -> list[int]:
    """Years (newest first) for which some source holds any quarter or month."""
    years = set()
    for year, quarter in (
        RecordedOffenceCount.objects.values_list("financial_year", "quarter").distinct().order_by()
    ):
        years.add(year if basis == Basis.FINANCIAL else quarter_start(year, quarter).year)
    for month in StreetCrimeCount.objects.dates("month", "month"):
        years.add(quarter_of(month)[0] if basis == Basis.FINANCIAL else month.year)
    return sorted(years, reverse=True)


def positions_overview(basis: Basis, years: list[int]) -> tuple[list, Area | None]:
    """For the home district: (crime type, [PositionCell per year]) for every crime type,
    computed from all the county's districts, beside the positions entered by hand.

    A fixed number of queries whatever the number of crime types, years or rows held.
    """
    areas, home = county_areas()
    crime_types = list(CrimeType.objects.order_by("display_order", "name"))
    periods = [year_period(basis, year) for year in years]
    sources = figure_sources()
    area_ids = [area.pk for area in areas]
    rollups = {source: rollup(periods, source, None, area_ids) for source in set(sources.values())}
    entered = {}
    if basis == Basis.CALENDAR and home is not None:
        entered = {
            (position.crime_type_id, position.year): position
            for position in CountyPosition.objects.filter(area=home, year__in=years)
        }
    table = []
    for crime_type in crime_types:
        source = sources.get(crime_type.pk)
        cells = []
        for index, year in enumerate(years):
            computed = None
            if source and home is not None:
                result = rollups[source]
                rates = {
                    area.pk: rate_per_thousand(count, area.population)
                    if (count := result.count(index, crime_type.pk, area.pk)) is not None
                    else None
                    for area in areas
                }
                computed = rank(rates).get(home.pk)
            cells.append(PositionCell(year, computed, entered.get((crime_type.pk, year))))
        table.append((crime_type, source, cells))
    return table, home


# Neighbourhoods (LSOAs) of the home district ---------------------------------------------------


@dataclass
class LsoaView:
    area: Area | None
    year: int | None
    months: list[datetime.date]
    rows: list[dict]  # lsoa_code, lsoa_name, counts (one per month), total
    hotspots: list[dict]  # rank, lsoa_code, lsoa_name, total, share
    total: int
    month_totals: list[int]


def lsoa_years(area: Area) -> list[int]:
    return sorted(
        {
            month.year
            for month in StreetCrimeCount.objects.filter(area=area).dates("month", "month")
        },
        reverse=True,
    )


def lsoa_view(area: Area, year: int, category: SourceCategory | None, top: int = 10) -> LsoaView:
    """Counts by LSOA and month for one calendar year, and the LSOAs with the most."""
    period = calendar_year(year)
    rows = StreetCrimeCount.objects.filter(
        area=area, month__gte=period.first, month__lte=period.last
    )
    if category is not None:
        rows = rows.filter(category=category)
    sums = (
        rows.values_list("lsoa_code", "month")
        .annotate(total=Sum("count"), name=Max("lsoa_name"))
        .order_by()
    )
    months = period.months
    column = {month: index for index, month in enumerate(months)}
    # Months with no file imported show as gaps, not as nothing recorded.
    held = set(
        StreetCrimeCount.objects.filter(month__gte=period.first, month__lte=period.last).dates(
            "month", "month"
        )
    )
    empty = [0 if month in held else None for month in months]
    by_lsoa: dict[str, dict] = {}
    for code, month, total, name in sums:
        entry = by_lsoa.setdefault(
            code, {"lsoa_code": code, "lsoa_name": name, "counts": list(empty), "total": 0}
        )
        entry["counts"][column[month]] += total
        entry["total"] += total
        entry["lsoa_name"] = max(entry["lsoa_name"], name)
    table = sorted(by_lsoa.values(), key=lambda entry: entry["lsoa_name"])
    total = sum(entry["total"] for entry in table)
    month_totals = [
        sum(entry["counts"][index] for entry in table) if empty[index] is not None else None
        for index in range(len(months))
    ]
    ordered = sorted(table, key=lambda entry: (-entry["total"], entry["lsoa_name"]))
    totals = {entry["lsoa_code"]: entry["total"] for entry in table}
    hotspot_positions = rank({code: -count for code, count in totals.items()})
    hotspots = [
        {
            **entry,
            "rank": position_display(hotspot_positions[entry["lsoa_code"]]),
            "share": (Decimal(entry["total"] * 100) / total).quantize(Decimal("0.1"))
            if total
            else None,
        }
        for entry in ordered[:top]
        if entry["total"]
    ]
    return LsoaView(area, year, months, table, hotspots, total, month_totals)
