from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django_tables2 import RequestConfig
from django_tables2.export import TableExport

from actions.models import Action
from csp.permissions import Capability, requires

from .filters import ActionFilter
from .models import Plan, Priority
from .tables import ActionTable

EXPORT_FORMATS = ("csv", "xlsx")


@requires(Capability.READ_PLAN)
def plan(request: HttpRequest) -> HttpResponse:
    """The action plan: every action of the current plan, filterable, sortable, exportable."""
    current = Plan.objects.current()
    if current is None:
        raise Http404("No plan has been loaded.")
    actions = Action.objects.in_plan(current).with_plan_order()
    action_filter = ActionFilter(request.GET, queryset=actions, plan=current)
    table = ActionTable(action_filter.qs)
    RequestConfig(request, paginate={"per_page": 100}).configure(table)

    export_format = request.GET.get("_export")
    if export_format in EXPORT_FORMATS:
        exporter = TableExport(export_format, table, exclude_columns=())
        return exporter.response(f"action-plan-{current.financial_year}.{export_format}")

    return render(
        request,
        "priorities/plan.html",
        {
            "plan": current,
            "priorities": current.priorities.all(),
            "filter": action_filter,
            "table": table,
        },
    )


@requires(Capability.READ_PLAN)
def priority_detail(request: HttpRequest, pk: int) -> HttpResponse:
    priority = get_object_or_404(Priority.objects.select_related("plan"), pk=pk)
    actions = priority.actions.select_related("priority").prefetch_related("agencies")
    return render(
        request, "priorities/priority_detail.html", {"priority": priority, "actions": actions}
    )
