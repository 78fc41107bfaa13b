import logging
import textwrap

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from actions import notifications, reminding
from crimestats import statistics
from csp import cache, exports
from csp.kept_input import keeps_typed_input, restore
from csp.permissions import Capability, may, requires
from csp.querystring import whole_number
from deathreviews import board as death_review_board
from deathreviews import obligations as death_review_obligations
from priorities.models import Plan
from priorities.picker import chosen_plan, picker_plans
from priorities.quarters import chosen_quarter, plan_quarters, previous_quarter

from . import board_papers, downloads, paper, summaries
from .forms import BoardPaperForm, ReminderForm
from .models import BoardPaper

audit = logging.getLogger("csp.audit")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _current_plan(request: HttpRequest) -> Plan:
    """The active plan, or the one picked (?plan=2022: priorities.picker)."""
    plan = chosen_plan(request)
    if plan is None:
        raise Http404("No plan has been loaded.")
    return plan


def _download(request: HttpRequest, sheets: dict, stem: str) -> HttpResponse | None:
    """?download=<table>&format=csv|xlsx gives that table; anything else, the page."""
    sheet = sheets.get(request.GET.get("download", ""))
    export_format = request.GET.get("format", "")
    if sheet is None or export_format not in exports.FORMATS:
        return None
    return exports.download(sheet, export_format, f"{stem}-{request.GET['download']}")


def _crime():
    """The home area's headline and crime table for the latest published year (a year
    being entered is a draft until the manager publishes it: crimestats.publishing). From
    the cache until a figure, position, area or published year changes (csp/cache.py):
    the dashboard, the report and the board paper read the same."""

    def build():
        area, year = statistics.latest_published()
        if year is None:
            return None, [], None
        rows = statistics.crime_table(area, year)
        return statistics.headline(area, year, rows), rows, year

    return cache.cached("crime-headline", (), build)


def _slug(quarter) -> str:
    return f"{quarter.plan.financial_year}-q{quarter.number}"


def _chart(labels, series, **options) -> dict:
    return {"labels": labels, "series": series, **options}


@requires(Capability.READ_PLAN)
def dashboard(request: HttpRequest) -> HttpResponse:
    """How each priority is doing in a quarter, and how crime is moving."""
    plan = _current_plan(request)
    today = timezone.localdate()
    quarters = plan_quarters(plan)
    quarter = chosen_quarter(quarters, request.GET.get("quarter"))
    context = {
        "plan": plan,
        "plans": picker_plans(request),
        "quarters": quarters,
        "quarter": quarter,
    }
    if quarter is not None:
        previous = previous_quarter(quarters, quarter)
        past_due = summaries.is_past_due(quarter, today)
        pictures, changes = cache.cached(
            "dashboard",
            (plan.pk, quarter.pk, today, cache.viewer(request.user)),
            lambda: (
                summaries.priority_pictures(plan, quarter, request.user, today),
                summaries.turned_red_or_amber(quarter, previous, request.user),
            ),
        )
        sheets = {"priorities": downloads.priorities_sheet(pictures, quarter, past_due)}
        if previous is not None:
            sheets["rag-changes"] = downloads.rag_changes_sheet(changes, previous, quarter)
        response = _download(request, sheets, f"dashboard-{_slug(quarter)}")
        if response is not None:
            return response
        # Each bar says which priority it is: the start of its name, over a few lines (the
        # table below the charts has the names in full).
        labels = [
            textwrap.wrap(textwrap.shorten(picture.priority.title, 30, placeholder="…"), 15)
            for picture in pictures
        ]
        context |= {
            "previous": previous,
            "past_due": past_due,
            "pictures": pictures,
            "changes": changes,
            "priorities_sheet": sheets["priorities"],
            "totals": sheets["priorities"].rows[-1] if pictures else None,
            "returns_chart": _chart(
                labels,
                [
                    {
                        "key": "received",
                        "name": "Received",
                        "values": [p.received for p in pictures],
                    },
                    {
                        "key": "approved",
                        "name": "Approved",
                        "values": [p.approved for p in pictures],
                    },
                    {
                        "key": "missing",
                        "name": downloads.missing_heading(past_due),
                        "values": [p.missing for p in pictures],
                    },
                ],
                type="bar",
                yTitle="Returns",
            ),
            "rag_chart": _chart(
                labels,
                [
                    {
                        "key": rag.value,
                        "name": rag.label,
                        "values": [p.rag.get(rag.value, 0) for p in pictures],
                    }
                    for rag in summaries.RAG_ORDER
                ],
                type="bar",
                stacked=True,
                horizontal=True,
                yTitle="Approved returns",
            ),
        }
    context["headline"], _, _ = _crime()
    return render(request, "dashboard/dashboard.html", context)


@requires(Capability.VIEW_COMPLETENESS)
def completeness(request: HttpRequest) -> HttpResponse:
    """Every return's state and timeliness, actions × quarters, and who reports on time."""
    plan = _current_plan(request)
    today = timezone.localdate()
    quarters = plan_quarters(plan)
    quarter = chosen_quarter(quarters, request.GET.get("quarter"))
    grid = cache.cached(
        "completeness",
        (plan.pk, getattr(quarter, "pk", None), today, cache.viewer(request.user)),
        lambda: summaries.completeness(plan, quarters, request.user, quarter, today),
    )
    sheets = {"grid": downloads.grid_sheet(grid), "rates": downloads.rates_sheet(grid)}
    response = _download(request, sheets, f"completeness-{plan.financial_year}")
    if response is not None:
        return response
    # One priority's grid at a time (?priority=N, default the first; ?priority=all for
    # every one, to print): the page opens with the summary and the agencies' rates.
    if request.GET.get("priority") == "all":
        shown = grid.priorities
    else:
        number = whole_number(request.GET.get("priority"))
        shown = (
            [
                next(
                    (section for section in grid.priorities if section.priority.number == number),
                    grid.priorities[0],
                )
            ]
            if grid.priorities
            else []
        )
    # The grid as rendered, a cell a return: most of the page's time.
    grid_html = cache.cached(
        "completeness-grid-html",
        (
            plan.pk,
            getattr(quarter, "pk", None),
            today,
            cache.viewer(request.user),
            ",".join(str(section.priority.number) for section in shown),
        ),
        lambda: render_to_string(
            "dashboard/includes/completeness_grid.html", {"shown": shown, "grid": grid}
        ),
    )
    may_remind = may(request.user, Capability.REVIEW_RETURNS)
    reminders = (
        reminding.reminder_statuses(quarter, [rate.agency for rate in grid.agencies])
        if may_remind and quarter is not None
        else {}
    )
    return render(
        request,
        "dashboard/completeness.html",
        {
            "plan": plan,
            "plans": picker_plans(request),
            "grid": grid,
            "quarters": quarters,
            "quarter": quarter,
            "rates_headers": downloads.rates_headers(grid),
            "may_remind": may_remind,
            "rate_rows": [(rate, reminders.get(rate.agency.pk)) for rate in grid.agencies],
            "shown": shown,
            "death_review_overdue": death_review_obligations.overdue_by_agency(today),
            "grid_html": grid_html,
            "totals": {
                name: sum(getattr(rate, name) for rate in grid.agencies)
                for name in ("expected", "received", "on_time", "late", "missing")
            },
        },
    )


@require_POST
@requires(Capability.REVIEW_RETURNS)
def send_reminder(request: HttpRequest) -> HttpResponse:
    """E-mail an agency's members about the returns it has not submitted for a quarter.

    Recorded as an AgencyReminder, so the page can say when it was last sent and ask
    before sending another within a day; not as a Reminder, which marks the daily
    command's two stages (due soon, overdue) as done. Also logged in the audit log.
    """
    plan = _current_plan(request)
    form = ReminderForm(request.POST, plan=plan)
    if not form.is_valid():
        messages.error(request, "Choose an agency and a quarter of this plan to remind.")
        return redirect("completeness")
    agency, quarter = form.cleaned_data["agency"], form.cleaned_data["quarter"]
    back = f"{reverse('completeness')}?quarter={quarter.number}#reporting-rates"
    actions = summaries.outstanding_actions(agency, quarter)
    if not actions:
        messages.info(request, f"{agency.name} has no returns outstanding for {quarter.label}.")
        return redirect(back)
    status = reminding.reminder_status(quarter, agency)
    if not status.reachable:
        messages.error(
            request,
            f"{agency.name} has no active user with an e-mail address, so no reminder was sent.",
        )
        return redirect(back)
    if status.recently_reminded and request.POST.get("confirm") != "1":
        return render(
            request,
            "dashboard/reminder_confirm.html",
            {"agency": agency, "quarter": quarter, "status": status, "back": back},
        )
    stage = "overdue" if summaries.is_past_due(quarter, timezone.localdate()) else "due_soon"
    sent = notifications.reminder(
        agency,
        quarter,
        actions,
        stage,
        death_review_updates=death_review_obligations.outstanding_count(quarter, agency),
    )
    if not sent:
        messages.error(request, f"The reminder to {agency.name} could not be sent.")
        return redirect(back)
    reminding.record_reminder(request.user, agency, quarter, len(actions))
    audit.info(
        "reminder for %s, %s (%s returns) sent by %s",
        agency.name,
        quarter.label,
        len(actions),
        request.user.username,
    )
    count = len(actions)
    messages.success(
        request,
        f"Reminder sent to {agency.name} about {count} return{'s' if count != 1 else ''} "
        f"for {quarter.label}.",
    )
    return redirect(back)


def _docx(document: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(document, content_type=DOCX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _report_quarter(request: HttpRequest):
    plan = _current_plan(request)
    quarters = plan_quarters(plan)
    quarter = chosen_quarter(quarters, request.GET.get("quarter"))
    if quarter is None:
        raise Http404("The plan has no quarters.")
    return plan, quarters, quarter


def _report(request: HttpRequest, plan, quarter, today):
    """The quarter's report from the approved returns, kept until anything it reads changes
    (csp/cache.py): its sums over every return were the page's cost."""
    return cache.cached(
        "report",
        (plan.pk, quarter.pk, today, cache.viewer(request.user)),
        lambda: summaries.quarterly_report(plan, quarter, request.user, today),
    )


def _death_reviews(today):
    """The paper's death reviews section (the board's view, whoever reads), until a review,
    recommendation, action or update changes."""
    return cache.cached(
        "death-review-paper", (today,), lambda: death_review_board.paper_section(today)
    )


def _live_paper(request: HttpRequest, plan, quarter, cover: BoardPaper) -> bytes:
    """The committee paper generated now from the approved returns as they stand."""
    today = timezone.localdate()
    reports = _report(request, plan, quarter, today)
    headline, crime_rows, crime_year = _crime()
    return paper.board_paper(
        plan,
        quarter,
        reports,
        summaries.is_past_due(quarter, today),
        headline,
        crime_rows,
        crime_year,
        cover,
        timezone.now(),
        _death_reviews(today),
    )


def _paper_download(request: HttpRequest, plan, quarter, stem: str) -> HttpResponse:
    """?format=docx: the newest issued version (?version=N: that issued version); until one
    is issued, the live draft. The manager may ask for the live draft (?draft=1)."""
    papers = list(BoardPaper.objects.filter(quarter=quarter).defer("document").order_by("-version"))
    issued = [item for item in papers if item.is_issued]
    version = request.GET.get("version", "")
    if version:
        chosen = next((item for item in issued if str(item.version) == version), None)
        if chosen is None:
            raise Http404("No such issued version.")
    elif request.GET.get("draft") == "1" and may(request.user, Capability.WRITE_BOARD_PAPER):
        chosen = None
    else:
        chosen = issued[0] if issued else None
    if chosen is not None:
        document = BoardPaper.objects.values_list("document", flat=True).get(pk=chosen.pk)
        return _docx(bytes(document), f"{stem}-v{chosen.version}.docx")
    cover = papers[0] if papers and not papers[0].is_issued else board_papers.live_cover(quarter)
    return _docx(_live_paper(request, plan, quarter, cover), f"{stem}-draft.docx")


@requires(Capability.VIEW_BOARD_REPORT)
def quarterly_report(request: HttpRequest) -> HttpResponse:
    """The board paper for a quarter: on screen and on paper, as Word, or its figures as
    an Excel workbook. Approved returns only, whoever prints it."""
    plan, quarters, quarter = _report_quarter(request)
    today = timezone.localdate()
    stem = f"board-report-{_slug(quarter)}"
    export_format = request.GET.get("format", "")
    if export_format == "docx":
        return _paper_download(request, plan, quarter, stem)
    past_due = summaries.is_past_due(quarter, today)
    reports = _report(request, plan, quarter, today)
    headline, crime_rows, crime_year = _crime()
    pictures = [report.picture for report in reports]
    summary = downloads.priorities_sheet(pictures, quarter, past_due)
    if export_format == "xlsx":
        sheets = [
            summary,
            downloads.exceptions_sheet(reports),
            downloads.overdue_sheet(reports),
            downloads.narratives_sheet(reports),
        ]
        if crime_year is not None:
            sheets.append(downloads.crime_sheet(crime_rows, crime_year))
        return exports.xlsx_response(sheets, f"{stem}.xlsx")
    return render(
        request,
        "dashboard/report.html",
        {
            "plan": plan,
            "plans": picker_plans(request),
            "quarters": quarters,
            "quarter": quarter,
            "past_due": past_due,
            "reports": reports,
            "summary": summary,
            "headline": headline,
            "crime_rows": crime_rows,
            "crime_year": crime_year,
            "crime_headers": downloads.crime_headers(crime_year) if crime_year else [],
            "today": today,
            "board_paper": board_papers.cover_for(quarter),
            "death_reviews": _death_reviews(today),
        },
    )


@keeps_typed_input()
@requires(Capability.WRITE_BOARD_PAPER)
def board_paper_edit(request: HttpRequest) -> HttpResponse:
    """The manager writes the paper's cover, key messages and recommendation; an issued
    version is never changed: saving after it starts the next version."""
    plan, quarters, quarter = _report_quarter(request)
    instance, initial = board_papers.initial_for(quarter, request.user)
    if request.method == "POST":
        form = BoardPaperForm(request.POST, instance=instance)
        if form.is_valid():
            form.save()
            messages.success(
                request, f"Board paper for {quarter.label}, version {instance.version}, saved."
            )
            return redirect(f"{reverse('board_paper')}?quarter={quarter.number}")
    elif (kept := restore(request)) is not None:
        # Typed as the session ended: back in the form, not yet saved.
        form = BoardPaperForm(kept, instance=instance)
    else:
        form = BoardPaperForm(instance=instance, initial=initial)
    return render(
        request,
        "dashboard/board_paper.html",
        {
            "plan": plan,
            "quarters": quarters,
            "quarter": quarter,
            "form": form,
            "paper": instance,
            "draft": board_papers.draft_for(quarter),
            "issued": list(
                BoardPaper.objects.issued()
                .filter(quarter=quarter)
                .select_related("issued_by")
                .order_by("-version")
            ),
        },
    )


@require_POST
@requires(Capability.WRITE_BOARD_PAPER)
def board_paper_issue(request: HttpRequest) -> HttpResponse:
    """Issue the draft: the Word document generated now is frozen as that version."""
    plan, _, quarter = _report_quarter(request)
    back = f"{reverse('board_paper')}?quarter={quarter.number}"
    draft = board_papers.draft_for(quarter)
    if draft is None:
        messages.error(request, "Save the paper's cover and messages before issuing it.")
        return redirect(back)
    try:
        issued = board_papers.issue(
            draft, request.user, lambda cover: _live_paper(request, plan, quarter, cover)
        )
    except board_papers.PaperError as error:
        messages.error(request, str(error))
        return redirect(back)
    messages.success(
        request,
        f"Version {issued.version} of the {quarter.label} board paper issued: "
        "the board now downloads it, and later approvals do not change it.",
    )
    return redirect(back)
