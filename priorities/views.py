import hashlib

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django_tables2.export import TableExport

from actions.models import Action
from csp import cache, exports, querystring
from csp.permissions import Capability, requires
from dashboard import downloads, summaries

from .filters import ActionFilter
from .models import Plan, Priority
from .picker import chosen_plan, picker_plans
from .quarters import chosen_quarter, plan_quarters
from .tables import ActionTable

EXPORT_FORMATS = ("csv", "xlsx")
PLAN_PAGE_SIZES = (100,)  # the plan offers one page size


@requires(Capability.READ_PLAN)
def plan(request: HttpRequest) -> HttpResponse:
    """The action plan: every action of the current plan, filterable, sortable, exportable."""
    current = chosen_plan(request)
    if current is None:
        raise Http404("No plan has been loaded.")
    actions = Action.objects.in_plan(current).with_plan_order()
    action_filter = ActionFilter(request.GET, queryset=actions, plan=current, user=request.user)

    def table():
        action_table = ActionTable(action_filter.qs, user=request.user)
        return querystring.paginate(request, action_table, PLAN_PAGE_SIZES)

    # The table for these filters, sort and page, and this viewer (a partner sees their own
    # agencies' RAG statuses), as rendered or as a download's rows: from the cache until an
    # action, a return or the plan changes (csp/cache.py). The filter form above the table
    # is rendered each time.
    asked = (
        current.pk,
        cache.viewer(request.user),
        hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:32],
    )
    export_format = request.GET.get("_export")
    if export_format in EXPORT_FORMATS:

        def sheet_rows():
            dataset = TableExport(export_format, table(), exclude_columns=()).dataset
            return dataset.headers, list(dataset)

        headers, rows = cache.cached("action-plan-rows", asked, sheet_rows)
        return exports.download(
            exports.Sheet("Action plan", headers, rows),
            export_format,
            f"action-plan-{current.financial_year}",
        )

    table_html = cache.cached("action-plan-table", asked, lambda: table().as_html(request))
    return render(
        request,
        "priorities/plan.html",
        {
            "plan": current,
            "plans": picker_plans(request),
            "priorities": current.priorities.all(),
            "filter": action_filter,
            "table_html": table_html,
        },
    )


@requires(Capability.READ_PLAN)
def priority_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A priority's actions, each with its latest approved RAG and narrative and its
    approved figures by quarter (downloadable as CSV or Excel)."""
    priority = get_object_or_404(
        Priority.objects.filter(plan__in=Plan.objects.visible_to(request.user)).select_related(
            "plan"
        ),
        pk=pk,
    )
    quarters = plan_quarters(priority.plan)
    # Each agency's RAG and narrative as at the chosen quarter (the reporting quarter unless
    # another is picked): an early approval in a later quarter moves nothing. The figures
    # are by quarter, every quarter.
    quarter = chosen_quarter(quarters, request.GET.get("quarter"))
    progress = summaries.priority_progress(priority, quarters, request.user, upto=quarter)
    export_format = request.GET.get("format")
    if export_format in exports.FORMATS:
        return exports.download(
            downloads.progress_sheet(progress, quarters, priority),
            export_format,
            f"priority-{priority.plan.financial_year}-{priority.number}-figures",
        )
    labels = [quarter.label for quarter in quarters]
    charts = [
        (
            item,
            f"trend-{item.action.pk}",
            {
                "type": "line",
                "labels": labels,
                "yTitle": "Count",
                "series": [
                    {
                        "key": f"metric-{row.metric.pk}",
                        "name": row.metric.name,
                        "values": row.totals,
                    }
                    for row in item.chart_rows
                ],
            },
        )
        for item in progress
    ]
    return render(
        request,
        "priorities/priority_detail.html",
        {
            "priority": priority,
            "status": summaries.progress_status(progress),
            "actions": [item.action for item in progress],
            "quarters": quarters,
            "quarter": quarter,
            "figure_quarters": quarters,
            "progress": charts,
        },
    )
