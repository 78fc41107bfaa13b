"""The manager's plan import pages: upload → preview (resolve names) → confirm, the
template to fill in, and a plan's own spreadsheet, which imports back as the same plan."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from crimestats.sources.files import Refused, Upload, limits, megabytes
from csp import exports
from csp.permissions import Capability, requires

from . import plan_import
from .import_forms import PlanUploadForm, ResolutionForm
from .models import Plan, PlanImport


def _upload_page(request, plan: Plan, form: PlanUploadForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "plan_import/upload.html",
        {
            "plan": plan,
            "form": form,
            "pending": PlanImport.objects.filter(uploaded_by=request.user, plan=plan).first(),
            "hint": f"An .xlsx or .csv file in the template’s columns, up to "
            f"{megabytes(limits().upload_bytes)}.",
            "columns": plan_import.COLUMNS,
        },
        status=status,
    )


@requires(Capability.EDIT_PLAN)
def plan_import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """The upload form (GET); a file read and previewed (POST). Nothing is saved here."""
    plan = get_object_or_404(Plan, pk=pk)
    if request.method != "POST":
        return _upload_page(request, plan, PlanUploadForm())
    form = PlanUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, plan, form)
    item = form.cleaned_data["file"]
    try:
        preview = plan_import.read(plan, Upload(item.name, item, item.size))
    except (Refused, plan_import.PlanNotDraft) as refusal:
        form.add_error("file", str(refusal))
        return _upload_page(request, plan, form)
    pending = plan_import.stage(plan, preview, request.user)
    if pending is None:
        # Row errors, or nothing to change: say so; nothing is kept.
        return render(
            request,
            "plan_import/preview.html",
            {"plan": plan, "preview": preview.as_dict(), "pending": None},
        )
    return redirect("plan_import_pending", pk=pending.pk)


def _pending(request, pk: int) -> PlanImport:
    # Only the manager who uploaded a file sees its preview; anyone else's is a 404.
    return get_object_or_404(
        PlanImport.objects.filter(uploaded_by=request.user).select_related("plan"), pk=pk
    )


def _preview_page(request, pending: PlanImport, form=None, status: int = 200) -> HttpResponse:
    preview = plan_import.preview_of(pending)
    unresolved = preview.changes.unresolved
    form = form or ResolutionForm(unresolved=unresolved)
    return render(
        request,
        "plan_import/preview.html",
        {"plan": pending.plan, "preview": preview.as_dict(), "pending": pending, "form": form},
        status=status,
    )


@requires(Capability.EDIT_PLAN)
@require_safe
def plan_import_pending(request: HttpRequest, pk: int) -> HttpResponse:
    return _preview_page(request, _pending(request, pk))


@requires(Capability.EDIT_PLAN)
@require_POST
def plan_import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    if not PlanImport.objects.filter(pk=pk).exists():
        messages.info(request, "That spreadsheet was already imported or discarded.")
        return redirect("plan")
    pending = _pending(request, pk)  # another manager's: 404
    plan = pending.plan
    preview = plan_import.preview_of(pending)
    form = ResolutionForm(request.POST, unresolved=preview.changes.unresolved)
    if not form.is_valid():
        return _preview_page(request, pending, form=form)
    try:
        changes = plan_import.confirm(pending, request.user, form.choices())
    except (Refused, plan_import.PlanNotDraft) as refusal:
        messages.error(request, str(refusal))
        return redirect("plan_import_upload", pk=plan.pk)
    counts = changes.counts()
    messages.success(
        request,
        f"Imported {pending.file_name} into the {plan.label} plan: {counts['new']} new, "
        f"{counts['changed']} changed and {counts['removed']} removed actions.",
    )
    return redirect("plan_import_upload", pk=plan.pk)


@requires(Capability.EDIT_PLAN)
@require_POST
def plan_import_discard(request: HttpRequest, pk: int) -> HttpResponse:
    pending = _pending(request, pk)
    plan = pending.plan
    plan_import.discard(pending)
    messages.info(request, "The spreadsheet was discarded; nothing was imported.")
    return redirect("plan_import_upload", pk=plan.pk)


def _format(request) -> str:
    export_format = request.GET.get("format", "xlsx")
    if export_format not in exports.FORMATS:
        raise Http404("Choose csv or xlsx.")
    return export_format


@requires(Capability.EDIT_PLAN)
@require_safe
def plan_import_template(request: HttpRequest) -> HttpResponse:
    """The empty template: the columns, and (in Excel) a sheet saying how to fill them in."""
    sheets = plan_import.template_sheets()
    if _format(request) == "csv":
        return exports.download(sheets[0], "csv", "plan-template")
    return exports.xlsx_response(sheets, "plan-template.xlsx")


@requires(Capability.EDIT_PLAN)
@require_safe
def plan_spreadsheet(request: HttpRequest, pk: int) -> HttpResponse:
    """The plan in the template's columns (not the plan page's filtered table)."""
    plan = get_object_or_404(Plan, pk=pk)
    stem = f"plan-{plan.financial_year}-{(plan.financial_year + 1) % 100:02d}"
    return exports.download(plan_import.plan_sheet(plan), _format(request), stem)
