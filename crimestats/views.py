import secrets
from itertools import chain

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from csp.exports import FORMATS, download
from csp.kept_input import keeps_typed_input, restore
from csp.permissions import Capability, may, requires
from csp.querystring import whole_number

from . import csv_import, entry, publishing, statistics
from .downloads import crime_table_sheet, trend_sheet
from .forms import ImportForm, YearChoiceForm, YearFiguresForm
from .models import Area, CountyPosition, CrimeFigure, CrimeType
from .trends import crime_type_trend

PENDING_IMPORT = "crime_import"  # the session key holding an uploaded file until confirmed
HISTORY_SHOWN = 30


def _home_area() -> Area:
    area = statistics.home_area()
    if area is None:
        raise Http404("No area holds crime statistics.")
    return area


@requires(Capability.READ_PLAN)
def crime_statistics(request: HttpRequest) -> HttpResponse:
    """The crime table for a year: published years for everyone; the manager also sees
    the drafts, marked, and publishes or withdraws the year shown."""
    area = statistics.home_area()
    sees_drafts = may(request.user, Capability.ENTER_CRIME_STATISTICS)
    held, published = statistics.years_and_drafts(area) if area else ([], [])
    years = held if sees_drafts else published
    year = whole_number(request.GET.get("year"))
    if year not in years:
        year = years[0] if years else None
    rows = statistics.crime_table(area, year) if year else []
    export_format = request.GET.get("_export")
    if export_format in FORMATS and year:
        return download(crime_table_sheet(rows, year), export_format, f"crime-statistics-{year}")
    notes = [row.crime_type.notes for row in rows if row.crime_type.notes]
    return render(
        request,
        "crimestats/crime_statistics.html",
        {
            "area": area,
            "years": years,
            "published": published,
            "draft": year is not None and year not in published,
            "latest_published": published[0] if published else None,
            "year": year,
            "rows": rows,
            "notes": notes,
            "headline": (
                statistics.headline(area, year, rows, published=year in published) if year else None
            ),
        },
    )


@require_POST
@requires(Capability.ENTER_CRIME_STATISTICS)
def publish_year(request: HttpRequest, year: int) -> HttpResponse:
    """Publish a year's figures (the board then reads them), or withdraw them to a draft."""
    area = _home_area()
    try:
        if request.POST.get("publish") == "0":
            publishing.withdraw(area, year, request.user)
            messages.success(request, f"{year} crime figures withdrawn: they are a draft again.")
        else:
            publishing.publish(area, year, request.user)
            messages.success(
                request, f"{year} crime figures published: dashboards and reports now use them."
            )
    except publishing.PublishingError as error:
        messages.error(request, str(error))
    return redirect(f"{reverse('crime_statistics')}?year={year}")


@requires(Capability.READ_PLAN)
def crime_type_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One crime type over every year held: a chart and a table of counts, rates and
    county positions."""
    area = _home_area()
    crime_type = get_object_or_404(CrimeType.objects.select_related("parent"), pk=pk)
    trend = crime_type_trend(
        area, crime_type, published_only=not may(request.user, Capability.ENTER_CRIME_STATISTICS)
    )
    export_format = request.GET.get("_export")
    if export_format in FORMATS:
        return download(
            trend_sheet(trend), export_format, f"crime-trend-{slugify(crime_type.name)}"
        )
    context = {
        "area": area,
        "crime_type": crime_type,
        "parts": list(crime_type.parts.all()),
        "trend": trend,
        "chart": trend.chart_data(),
    }
    if may(request.user, Capability.ENTER_CRIME_STATISTICS):
        context["history"] = _history(area, crime_type=crime_type)
    return render(request, "crimestats/crime_type_detail.html", context)


def _history(area: Area, **filters) -> list:
    """Changes to the area's counts and positions, newest first (two queries)."""
    figures = CrimeFigure.history.filter(area=area, **filters).select_related(
        "history_user", "crime_type"
    )
    positions = CountyPosition.history.filter(area=area, **filters).select_related(
        "history_user", "crime_type"
    )
    records = chain(
        (
            (record, "count", f"{record.count:,}")
            for record in figures.order_by("-history_date")[:HISTORY_SHOWN]
        ),
        (
            (record, "county position", record.instance.display)
            for record in positions.order_by("-history_date")[:HISTORY_SHOWN]
        ),
    )
    shown = sorted(records, key=lambda item: item[0].history_date, reverse=True)
    return [
        {
            "when": record.history_date,
            "who": record.history_user,
            "what": f"{record.crime_type.label}, {record.year} {kind}",
            "value": value,
            "change": record.get_history_type_display(),
            "reason": record.history_change_reason,
        }
        for record, kind, value in shown[:HISTORY_SHOWN]
    ]


# Entering figures --------------------------------------------------------------------------


@requires(Capability.ENTER_CRIME_STATISTICS)
def figures_years(request: HttpRequest) -> HttpResponse:
    """Choose the year to enter or correct."""
    area = _home_area()
    years = statistics.years_held(area)
    if "year" in request.GET:
        form = YearChoiceForm(request.GET)
        if form.is_valid():
            return redirect("crime_figures_edit", form.cleaned_data["year"])
    else:
        latest = entry.latest_year_allowed()
        form = YearChoiceForm(initial={"year": min(years[0] + 1, latest) if years else latest})
    return render(
        request, "crimestats/figures_years.html", {"area": area, "years": years, "form": form}
    )


@keeps_typed_input()
@requires(Capability.ENTER_CRIME_STATISTICS)
def figures_edit(request: HttpRequest, year: int) -> HttpResponse:
    """One form per year: a count and a county position for each crime type."""
    if not entry.MIN_YEAR <= year <= entry.latest_year_allowed():
        raise Http404("No such year.")
    area = _home_area()
    crime_types = CrimeType.objects.order_by("display_order", "name")
    figures = {
        (f.crime_type_id, f.year): f
        for f in CrimeFigure.objects.filter(area=area, year__in=[year, year - 1]).order_by()
    }
    positions = {
        (p.crime_type_id, p.year): p
        for p in CountyPosition.objects.filter(area=area, year=year).order_by()
    }
    areas_compared = Area.objects.filter(county=area.county).count()
    kwargs = {
        "year": year,
        "crime_types": crime_types,
        "figures": figures,
        "positions": positions,
        "areas_compared": areas_compared,
    }
    if request.method == "POST":
        form = YearFiguresForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                saved = entry.save_changes(
                    area,
                    form.counts,
                    form.positions,
                    reason=f"{year} figures entered by form",
                    seen=form.cleaned_data["seen"] or None,
                    seen_years=[year],
                )
            except entry.FiguresChanged:
                # Keep what they typed; the next save is against what is stored now.
                data = request.POST.copy()
                data["seen"] = entry.fingerprint(area, [year])
                form = YearFiguresForm(data, **kwargs)
                form.full_clean()
                form.add_error(
                    None,
                    f"Someone else saved {year}’s figures while you were editing them. "
                    "Your entries are below: check them against the crime table and save again",
                )
            else:
                messages.success(request, f"{year} crime figures saved: {saved.summary()}.")
                return redirect(f"{reverse('crime_statistics')}?year={year}")
    elif (kept := restore(request)) is not None:
        # Typed as the session ended; its fingerprint still guards against a save since.
        form = YearFiguresForm(kept, **kwargs)
    else:
        form = YearFiguresForm(initial={"seen": entry.fingerprint(area, [year])}, **kwargs)
    last_year = {ct_id: f.count for (ct_id, y), f in figures.items() if y == year - 1}
    rows = [
        (crime_type, count, position, statistics.format_count(last_year.get(crime_type.pk)))
        for crime_type, count, position in form.rows()
    ]
    return render(
        request,
        "crimestats/figures_edit.html",
        {
            "area": area,
            "year": year,
            "form": form,
            "rows": rows,
            "areas_compared": areas_compared,
            "history": _history(area, year=year),
        },
    )


# Importing a CSV file ---------------------------------------------------------------------


def _parse(area: Area, text: str, year: int) -> csv_import.ParsedFile:
    return csv_import.parse(
        text.encode("utf-8"),
        year,
        CrimeType.objects.all(),
        Area.objects.filter(county=area.county).count(),
    )


@requires(Capability.ENTER_CRIME_STATISTICS)
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload a year's table; nothing is saved until the preview is confirmed."""
    area = _home_area()
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            year = form.cleaned_data["year"]
            upload = form.cleaned_data["file"]
            try:
                text = csv_import.decode(upload.read())
                parsed = _parse(area, text, year)
            except csv_import.UnreadableFile as error:
                form.add_error("file", str(error))
            else:
                for problem in parsed.errors:
                    form.add_error("file", problem)
            if form.is_valid():
                # The file stays on the server between the steps: the preview and the
                # confirmation read it from the session, never from the browser.
                token = secrets.token_urlsafe(16)
                request.session[PENDING_IMPORT] = {
                    "token": token,
                    "year": year,
                    "filename": upload.name[:200],
                    "text": text,
                }
                return redirect("crime_import_preview", token)
    else:
        years = statistics.years_held(area)
        latest = entry.latest_year_allowed()
        form = ImportForm(initial={"year": min(years[0] + 1, latest) if years else latest})
    return render(
        request,
        "crimestats/import_upload.html",
        {"area": area, "form": form, "headings": csv_import.HEADINGS},
    )


@requires(Capability.ENTER_CRIME_STATISTICS)
def import_preview(request: HttpRequest, token: str) -> HttpResponse:
    """What the file would add and correct; confirming saves it all, or nothing."""
    area = _home_area()
    pending = request.session.get(PENDING_IMPORT)
    if not pending or not secrets.compare_digest(pending.get("token", ""), token):
        messages.info(request, "That import is no longer waiting: upload the file again.")
        return redirect("crime_import")
    year = pending["year"]
    parsed = _parse(area, pending["text"], year)
    if parsed.errors:  # crime types changed since the upload
        messages.error(request, f"The file can no longer be imported: {parsed.errors[0]}.")
        return redirect("crime_import")
    counts, positions = csv_import.figures(parsed.rows, year)
    years = [year, year - 1]

    if request.method == "POST":
        try:
            saved = entry.save_changes(
                area,
                counts,
                positions,
                reason=f"Imported from {pending['filename']}"[:100],
                seen=request.POST.get("seen", ""),
                seen_years=years,
            )
        except entry.FiguresChanged:
            messages.error(
                request,
                f"The figures for {year - 1} or {year} changed after you saw the preview. "
                "Nothing was imported: check the preview again.",
            )
            return redirect("crime_import_preview", token)
        del request.session[PENDING_IMPORT]
        messages.success(request, f"{pending['filename']} imported for {year}: {saved.summary()}.")
        return redirect(f"{reverse('crime_statistics')}?year={year}")

    stored = entry.read_stored(area, years)
    plan = entry.plan_changes(area, counts, positions, stored=stored)
    return render(
        request,
        "crimestats/import_preview.html",
        {
            "area": area,
            "year": year,
            "filename": pending["filename"],
            "token": token,
            "plan": plan,
            "rows": preview_rows(parsed.rows, plan, year),
            "seen": entry.fingerprint(area, years, stored),
            "crime_types_left_out": CrimeType.objects.count() - len(parsed.rows),
        },
    )


def preview_rows(rows, plan, year: int) -> list[dict]:
    """One line per row of the file: its count, previous count and position, each with
    what would happen to it."""
    by_key = {
        (change.crime_type.pk, change.year, change.is_position): change for change in plan.changes
    }
    lines = []
    for row in rows:
        cells = [
            by_key.get((row.crime_type.pk, year, False)),
            by_key.get((row.crime_type.pk, year - 1, False)),
            by_key.get((row.crime_type.pk, year, True)),
        ]
        written = [change for change in cells if change and change.changed]
        if not written:
            outcome = "No change"
        elif all(change.created for change in written):
            outcome = "Added"
        elif any(change.created for change in written):
            outcome = "Added and corrected"
        else:
            outcome = "Corrected"
        lines.append({"row": row, "cells": cells, "outcome": outcome})
    return lines
