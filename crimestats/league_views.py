"""Pages computed from the imported sources, for every role: the county league table, the
home district's county positions for every crime type and year, and its neighbourhoods."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from csp.permissions import Capability, may, requires
from csp.querystring import whole_number
from priorities.models import Plan

from . import league, statistics
from .models import CrimeType, Source, SourceCategory
from .periods import Basis, assessment_period, calendar_year

BASIS_LABELS = {
    Basis.CALENDAR: "Calendar year (January to December)",
    Basis.FINANCIAL: "Financial year (April to March)",
}


def _choice(request, name: str, options, default):
    """The GET parameter if it is one of the options (compared as text), else the default."""
    value = request.GET.get(name, "")
    by_text = {str(option): option for option in options}
    return by_text.get(value, default)


def _basis(request) -> Basis:
    return _choice(request, "basis", list(Basis), Basis.CALENDAR)


def assessment_year() -> int | None:
    """The current plan's assessment period as a calendar year, where it is one (Jan–Dec)."""
    plan = Plan.objects.current()
    if plan is None:
        return None
    period = assessment_period(plan)
    whole_year = calendar_year(period.first.year)
    return (
        period.first.year
        if (period.first, period.last) == (whole_year.first, whole_year.last)
        else None
    )


@requires(Capability.READ_PLAN)
def crime_league(request: HttpRequest) -> HttpResponse:
    basis = _basis(request)
    crime_types = list(CrimeType.objects.order_by("display_order", "name"))
    sources = league.figure_sources()
    with_figures = [crime_type for crime_type in crime_types if crime_type.pk in sources]
    crime_type = with_figures[0] if with_figures else (crime_types[0] if crime_types else None)
    chosen = whole_number(request.GET.get("crime_type"))
    crime_type = next((c for c in crime_types if c.pk == chosen), crime_type)
    years = league.years_held(basis)
    assessment = assessment_year()
    default_year = assessment if basis == Basis.CALENDAR else None
    if default_year not in years:
        default_year = years[0] if years else None
    year = _choice(request, "year", years, default_year)
    table = league.league_table(crime_type, basis, year, sources) if crime_type and year else None
    return render(
        request,
        "crimestats/league/league_table.html",
        {
            "crime_types": crime_types,
            "crime_type": crime_type,
            "sources": sources,
            "basis": basis,
            "basis_labels": BASIS_LABELS,
            "years": years,
            "year": year,
            "league": table,
            "chart": table.chart_data() if table else None,
            "assessment_year": assessment,
            "can_import": may(request.user, Capability.ENTER_CRIME_STATISTICS),
        },
    )


@requires(Capability.READ_PLAN)
def crime_positions(request: HttpRequest) -> HttpResponse:
    basis = _basis(request)
    years = league.years_held(basis)[:6]
    table, home = league.positions_overview(basis, years)
    disagreements = sum(1 for _, _, cells in table for cell in cells if cell.disagrees)
    return render(
        request,
        "crimestats/league/positions.html",
        {
            "basis": basis,
            "basis_labels": BASIS_LABELS,
            "years": years,
            "table": table,
            "home": home,
            "disagreements": disagreements,
            "source_labels": dict(Source.choices),
            "can_import": may(request.user, Capability.ENTER_CRIME_STATISTICS),
        },
    )


@requires(Capability.READ_PLAN)
def crime_neighbourhoods(request: HttpRequest) -> HttpResponse:
    area = statistics.home_area()
    years = league.lsoa_years(area) if area else []
    year = _choice(request, "year", years, years[0] if years else None)
    categories = list(SourceCategory.objects.filter(source=Source.POLICE_UK).order_by("label"))
    chosen = whole_number(request.GET.get("category"))
    category = next((c for c in categories if c.pk == chosen), None)
    view = league.lsoa_view(area, year, category) if area and year else None
    return render(
        request,
        "crimestats/league/neighbourhoods.html",
        {
            "area": area,
            "years": years,
            "year": year,
            "categories": categories,
            "category": category,
            "view": view,
        },
    )
