import logging
import textwrap

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from actions import notifications, reminding
from crimestats import statistics
from csp import cache, exports
from csp.permissions import Capability, may, requires
from csp.querystring import whole_number
from priorities.models import Plan
from priorities.quarters import chosen_quarter, plan_quarters, previous_quarter

from . import downloads, paper, summaries
from .forms import ReminderForm

audit = logging.getLogger("csp.audit")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _current_plan() -> Plan:
    plan = Plan.objects.current()
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


def _crime(area=None):
    """The headline and the crime table for the latest year held."""
    area = area or statistics.home_area()
    years = statistics.years_held(area) if area else []
    if not years:
        return None, [], None
    rows = statistics.crime_table(area, years[0])
    return statistics.headline(area, years[0], rows), rows, years[0]


def _slug(quarter) -> str:
    return f"{quarter.plan.financial_year}-q{quarter.number}"


def _chart(labels, series, **options) -> dict:
    return {"labels": labels, "series": series, **options}


@requires(Capability.READ_PLAN)
def dashboard(request: HttpRequest) -> HttpResponse:
    """How each priority is doing in a quarter, and how crime is moving."""
    plan = _current_plan()
    today = timezone.localdate()
    quarters = plan_quarters(plan)
    quarter = chosen_quarter(quarters, request.GET.get("quarter"))
    context = {"plan": plan, "quarters": quarters, "quarter": quarter}
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
    plan = _current_plan()
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
            "grid": grid,
            "quarters": quarters,
            "quarter": quarter,
            "rates_headers": downloads.rates_headers(grid),
            "may_remind": may_remind,
            "rate_rows": [(rate, reminders.get(rate.agency.pk)) for rate in grid.agencies],
            "shown": shown,
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
    plan = _current_plan()
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
    sent = notifications.reminder(agency, quarter, actions, stage)
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


@requires(Capability.VIEW_BOARD_REPORT)
def quarterly_report(request: HttpRequest) -> HttpResponse:
    """The board paper for a quarter: on screen and on paper, as Word, or its figures as
    an Excel workbook. Approved returns only, whoever prints it."""
    plan = _current_plan()
    today = timezone.localdate()
    quarters = plan_quarters(plan)
    quarter = chosen_quarter(quarters, request.GET.get("quarter"))
    if quarter is None:
        raise Http404("The plan has no quarters.")
    past_due = summaries.is_past_due(quarter, today)
    reports = cache.cached(
        "report",
        (plan.pk, quarter.pk, today, cache.viewer(request.user)),
        lambda: summaries.quarterly_report(plan, quarter, request.user, today),
    )
    headline, crime_rows, crime_year = _crime()
    stem = f"board-report-{_slug(quarter)}"
    export_format = request.GET.get("format", "")
    if export_format == "docx":
        document = paper.board_paper(
            plan, quarter, reports, past_due, headline, crime_rows, crime_year, today
        )
        response = HttpResponse(document, content_type=DOCX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{stem}.docx"'
        return response
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
        },
    )
