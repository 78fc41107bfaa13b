"""The strategic assessment's crime table, computed from stored counts and positions."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef

from .models import Area, CountyPosition, CrimeFigure, CrimeType, PublishedYear, percent_change


class YearOnYear:
    """Change and % change of a count against the year before, and their printed forms.

    Subclasses say which two counts they compare (``counts``); either may be missing.
    """

    def counts(self) -> tuple[int | None, int | None]:
        raise NotImplementedError

    @property
    def change(self) -> int | None:
        current, previous = self.counts()
        if current is None or previous is None:
            return None
        return current - previous

    @property
    def percent_change(self) -> Decimal | None:
        current, previous = self.counts()
        if current is None or previous is None:
            return None
        return percent_change(current, previous)

    @property
    def change_display(self) -> str:
        return "" if self.change is None else f"{self.change:,}"

    @property
    def percent_change_display(self) -> str:
        value = self.percent_change
        return "" if value is None else f"{value}%"


@dataclass(frozen=True)
class CrimeRow(YearOnYear):
    crime_type: CrimeType
    this_year: int | None
    last_year: int | None
    previous_position: CountyPosition | None
    position: CountyPosition | None

    def counts(self) -> tuple[int | None, int | None]:
        return self.this_year, self.last_year

    # The printed forms, exactly as the strategic assessment prints them.
    @property
    def this_year_display(self) -> str:
        return format_count(self.this_year)

    @property
    def last_year_display(self) -> str:
        return format_count(self.last_year)

    @property
    def previous_position_display(self) -> str:
        return self.previous_position.display if self.previous_position else ""

    @property
    def position_display(self) -> str:
        return self.position.display if self.position else ""


def format_count(count: int | None) -> str:
    return "" if count is None else f"{count:,}"


def home_area() -> Area | None:
    """The partnership's own district (Partnership.home_area_code), else none."""
    from priorities.models import Partnership

    code = Partnership.objects.exclude(home_area_code="").values("home_area_code")[:1]
    return Area.objects.filter(ons_code__in=code).first()


def years_held(area: Area) -> list[int]:
    return list(
        CrimeFigure.objects.filter(area=area)
        .values_list("year", flat=True)
        .distinct()
        .order_by("-year")
    )


def years_and_drafts(area: Area) -> tuple[list[int], list[int]]:
    """Every year held and the published ones, newest first, in one query."""
    rows = list(
        CrimeFigure.objects.filter(area=area)
        .values_list("year")
        .distinct()
        .annotate(published=Exists(PublishedYear.objects.filter(area=area, year=OuterRef("year"))))
        .order_by("-year")
    )
    return [year for year, _ in rows], [year for year, published in rows if published]


def published_years(area: Area) -> list[int]:
    """The years held that the manager has published, newest first: every page but the
    manager's own shows only these (a year being entered is a draft)."""
    return list(
        CrimeFigure.objects.filter(
            area=area, year__in=PublishedYear.objects.filter(area=area).values("year")
        )
        .values_list("year", flat=True)
        .distinct()
        .order_by("-year")
    )


def latest_published(area: Area | None = None) -> tuple[Area | None, int | None]:
    """The home area and its latest published year (None when nothing is published): the
    year every dashboard, report and board paper headlines."""
    area = area or home_area()
    years = published_years(area) if area else []
    return area, (years[0] if years else None)


def crime_table(area: Area, year: int) -> list[CrimeRow]:
    """One row per crime type: this year, last year, changes and both years' positions.

    Three queries whatever the number of crime types or years held.
    """
    counts = {
        (figure.crime_type_id, figure.year): figure.count
        for figure in CrimeFigure.objects.filter(area=area, year__in=[year, year - 1])
    }
    positions = {
        (position.crime_type_id, position.year): position
        for position in CountyPosition.objects.filter(area=area, year__in=[year, year - 1])
    }
    crime_types = CrimeType.objects.filter(
        pk__in={crime_type_id for crime_type_id, _ in counts}
    ).order_by("display_order", "name")
    return [
        CrimeRow(
            crime_type=crime_type,
            this_year=counts.get((crime_type.pk, year)),
            last_year=counts.get((crime_type.pk, year - 1)),
            previous_position=positions.get((crime_type.pk, year - 1)),
            position=positions.get((crime_type.pk, year)),
        )
        for crime_type in crime_types
    ]


@dataclass(frozen=True)
class Headline:
    year: int
    row: CrimeRow
    areas_compared: int
    published: bool = True  # False: a draft year, shown to the manager only

    @property
    def direction(self) -> str:
        change = self.row.change or 0
        return "down" if change < 0 else "up" if change > 0 else "unchanged"


def headline(
    area: Area, year: int, rows: list[CrimeRow] | None = None, published: bool = True
) -> Headline | None:
    """All recorded crime for the year against the year before, with the county position."""
    rows = crime_table(area, year) if rows is None else rows
    row = next((row for row in rows if row.crime_type.name == "All crime"), None)
    if row is None:
        return None
    areas_compared = Area.objects.filter(county=area.county).count()
    return Headline(year=year, row=row, areas_compared=areas_compared, published=published)
