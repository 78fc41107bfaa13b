"""The manager's pages for the public sources: upload → preview → confirm, and the mapping of
source categories to crime types."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe
from simple_history.utils import bulk_create_with_history

from csp.permissions import Capability, requires

from .import_forms import CategoryMappingForm, UploadForm
from .models import CategoryMapping, ImportRun, PendingImport, Source, SourceCategory
from .sources import service
from .sources.files import Refused, Upload, limits, megabytes

SOURCE_SLUGS = {"home-office": Source.HOME_OFFICE, "police-uk": Source.POLICE_UK}


def _forms(bound: UploadForm | None = None) -> dict[str, UploadForm]:
    forms = {source: UploadForm(source=source) for source in Source.values}
    if bound is not None:
        forms[bound.source] = bound
    return forms


def _sources_page(request, bound: UploadForm | None = None, status: int = 200) -> HttpResponse:
    forms = _forms(bound)
    largest = megabytes(limits().upload_bytes)
    return render(
        request,
        "crimestats/imports/sources.html",
        {
            "home_office_form": forms[Source.HOME_OFFICE],
            "police_uk_form": forms[Source.POLICE_UK],
            "bound": bound,
            "pending": PendingImport.objects.filter(uploaded_by=request.user).first(),
            "runs": ImportRun.objects.select_related("imported_by")[:10],
            "home_office_hint": f"An .xlsx, .ods or .csv file, up to {largest}.",
            "police_uk_hint": f"A .zip, or one or more .csv files, up to {largest} each.",
        },
        status=status,
    )


@requires(Capability.ENTER_CRIME_STATISTICS)
@require_safe
def crime_sources(request: HttpRequest) -> HttpResponse:
    """Upload forms for both sources, what is waiting to be confirmed, and recent imports."""
    return _sources_page(request)


@requires(Capability.ENTER_CRIME_STATISTICS)
@require_POST
def crime_source_upload(request: HttpRequest, source: str) -> HttpResponse:
    if source not in SOURCE_SLUGS:
        raise Http404
    form = UploadForm(request.POST, request.FILES, source=SOURCE_SLUGS[source])
    if not form.is_valid():
        return _sources_page(request, bound=form)
    uploads = [Upload(item.name, item, item.size) for item in form.cleaned_data["files"]]
    try:
        preview = service.read(form.source, uploads)
    except Refused as refusal:
        form.add_error("files", str(refusal))
        return _sources_page(request, bound=form)
    pending = service.stage(preview, request.user)
    if pending is None:
        # Row errors, or nothing to change: say so; nothing is kept.
        return render(
            request,
            "crimestats/imports/preview.html",
            {"preview": preview.as_dict(), "pending": None},
        )
    return redirect("crime_source_pending", pk=pending.pk)


def _pending(request, pk: int) -> PendingImport:
    # Only the manager who uploaded a file sees its preview; anyone else's is a 404.
    return get_object_or_404(PendingImport.objects.filter(uploaded_by=request.user), pk=pk)


@requires(Capability.ENTER_CRIME_STATISTICS)
@require_safe
def crime_source_pending(request: HttpRequest, pk: int) -> HttpResponse:
    pending = _pending(request, pk)
    return render(
        request, "crimestats/imports/preview.html", {"preview": pending.report, "pending": pending}
    )


@requires(Capability.ENTER_CRIME_STATISTICS)
@require_POST
def crime_source_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        pending = _pending(request, pk)
    except Http404:
        messages.info(request, "That upload was already imported or discarded.")
        return redirect("crime_sources")
    try:
        changes, run = service.confirm(pending, request.user)
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("crime_sources")
    if run is None:
        messages.info(request, "Nothing to change: these figures are already held.")
    else:
        messages.success(
            request,
            f"Imported {run.file_name}: {run.created:,} new, {run.updated:,} changed and "
            f"{run.removed:,} removed counts.",
        )
    return redirect("crime_sources")


@requires(Capability.ENTER_CRIME_STATISTICS)
@require_POST
def crime_source_discard(request: HttpRequest, pk: int) -> HttpResponse:
    PendingImport.objects.filter(uploaded_by=request.user, pk=pk).delete()
    messages.info(request, "The upload was discarded; nothing was imported.")
    return redirect("crime_sources")


# Categories ------------------------------------------------------------------------------------


@requires(Capability.ENTER_CRIME_STATISTICS)
@require_safe
def crime_categories(request: HttpRequest) -> HttpResponse:
    """Every source category with the crime types it counts towards; unmapped ones first."""
    categories = list(
        SourceCategory.objects.prefetch_related("crime_types").order_by(
            "source", "group", "subgroup", "label", "code"
        )
    )
    by_source = []
    for source in Source:
        held = [category for category in categories if category.source == source]
        unmapped = [category for category in held if not category.crime_types.all()]
        by_source.append({"source": source, "categories": held, "unmapped": unmapped})
    return render(request, "crimestats/imports/categories.html", {"by_source": by_source})


@requires(Capability.ENTER_CRIME_STATISTICS)
def crime_category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    category = get_object_or_404(SourceCategory, pk=pk)
    current = set(category.mappings.values_list("crime_type_id", flat=True))
    # An empty POST (every box cleared) is still a submission: bind it.
    form = CategoryMappingForm(
        request.POST if request.method == "POST" else None,
        initial={"crime_types": sorted(current)},
    )
    if request.method == "POST" and form.is_valid():
        wanted = {crime_type.pk for crime_type in form.cleaned_data["crime_types"]}
        set_mappings(category, wanted, current, request.user)
        messages.success(request, f"Saved the crime types for {category}.")
        return redirect("crime_categories")
    history = (
        CategoryMapping.history.filter(category_id=category.pk)
        .select_related("history_user", "crime_type")
        .order_by("-history_date")[:20]
    )
    return render(
        request,
        "crimestats/imports/category_edit.html",
        {"category": category, "form": form, "history": history},
    )


@transaction.atomic
def set_mappings(category: SourceCategory, wanted: set[int], current: set[int], user) -> None:
    """Change a category's crime types, recording each mapping added or removed."""
    if not user or not user.is_authenticated:
        raise PermissionDenied
    for mapping in category.mappings.filter(crime_type_id__in=current - wanted):
        mapping._history_user = user
        mapping.delete()
    bulk_create_with_history(
        [CategoryMapping(category=category, crime_type_id=pk) for pk in sorted(wanted - current)],
        CategoryMapping,
        default_user=user,
        default_change_reason="Changed by the manager",
    )
