"""One crime type over every year held: counts, changes, rates per 1,000 residents and
county positions, as the crime type's page charts and tabulates them."""

from dataclasses import dataclass
from decimal import Decimal

from .models import (
    Area,
    CountyPosition,
    CrimeFigure,
    CrimeType,
    PublishedYear,
    rate_per_thousand,
)
from .statistics import YearOnYear, format_count


@dataclass(frozen=True)
class TrendPoint(YearOnYear):
    year: int
    count: int | None
    previous_count: int | None  # the calendar year before, not the previous year held
    position: CountyPosition | None
    population: int | None

    def counts(self) -> tuple[int | None, int | None]:
        return self.count, self.previous_count

    @property
    def rate(self) -> Decimal | None:
        if self.count is None:
            return None
        return rate_per_thousand(self.count, self.population)

    @property
    def count_display(self) -> str:
        return format_count(self.count)

    @property
    def rate_display(self) -> str:
        return "" if self.rate is None else str(self.rate)

    @property
    def position_display(self) -> str:
        return self.position.display if self.position else ""


@dataclass(frozen=True)
class Trend:
    area: Area
    crime_type: CrimeType
    points: list[TrendPoint]  # oldest first
    areas_compared: int

    def chart_data(self) -> dict:
        """What static/js/crime-charts.mjs draws: plain numbers, null where not recorded."""
        return {
            "label": self.crime_type.label,
            "years": [point.year for point in self.points],
            "counts": [point.count for point in self.points],
            "positions": [
                point.position.position if point.position else None for point in self.points
            ],
            "positionLabels": [point.position_display for point in self.points],
            "areasCompared": self.areas_compared,
        }

    @property
    def has_positions(self) -> bool:
        return any(point.position and point.position.position for point in self.points)


def crime_type_trend(area: Area, crime_type: CrimeType, published_only: bool = False) -> Trend:
    """Every year the area holds figures for (any crime type), oldest first; with
    ``published_only``, the published years alone (crimestats.publishing).

    Four queries whatever the number of years held.
    """
    # order_by(): the models' default ordering joins areas and crime types for nothing.
    counts = dict(
        CrimeFigure.objects.filter(area=area, crime_type=crime_type)
        .order_by()
        .values_list("year", "count")
    )
    positions = {
        position.year: position
        for position in CountyPosition.objects.filter(area=area, crime_type=crime_type).order_by()
    }
    held = CrimeFigure.objects.filter(area=area)
    if published_only:
        held = held.filter(year__in=PublishedYear.objects.filter(area=area).values("year"))
    years = set(held.order_by().values_list("year", flat=True).distinct())
    if not published_only:
        years |= set(positions)
    points = [
        TrendPoint(
            year=year,
            count=counts.get(year),
            previous_count=counts.get(year - 1),
            position=positions.get(year),
            population=area.population,
        )
        for year in sorted(years)
    ]
    areas_compared = Area.objects.filter(county=area.county).count()
    return Trend(area=area, crime_type=crime_type, points=points, areas_compared=areas_compared)
