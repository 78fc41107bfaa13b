from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from csp.permissions import Capability, requires

from . import statistics


@requires(Capability.READ_PLAN)
def crime_statistics(request: HttpRequest) -> HttpResponse:
    area = statistics.home_area()
    years = statistics.years_held(area) if area else []
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = None
    if year not in years:
        year = years[0] if years else None
    rows = statistics.crime_table(area, year) if year else []
    notes = [row.crime_type.notes for row in rows if row.crime_type.notes]
    return render(
        request,
        "crimestats/crime_statistics.html",
        {
            "area": area,
            "years": years,
            "year": year,
            "rows": rows,
            "notes": notes,
            "headline": statistics.headline(area, year, rows) if year else None,
        },
    )
