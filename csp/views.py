from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from actions.models import Action, Agency, QuarterlyReturn
from actions.obligations import obligations
from crimestats import statistics
from csp.permissions import Capability, public, requires
from priorities.models import Plan

EARLIER_PER_PAGE = 50
EARLIER_FIELDS = (
    "state",
    "rag",
    "action__number",
    "action__description",
    "action__priority__number",
    "agency__short_name",
    "quarter__number",
    "quarter__plan__financial_year",
)


@requires(Capability.READ_PLAN)
def home(request: HttpRequest) -> HttpResponse:
    """Each role's starting point: what they owe, review or read."""
    user = request.user
    plan = Plan.objects.current()
    priorities = list(plan.priorities.all()) if plan else []
    context = {"plan": plan, "priorities": priorities}
    area = statistics.home_area()
    years = statistics.years_held(area) if area else []
    if years:
        context["headline"] = statistics.headline(area, years[0])
    if user.is_partner:
        agencies = list(user.agencies.order_by("name"))
        quarters = list(plan.quarters.select_related("plan")) if plan else []
        open_quarters = [quarter for quarter in quarters if quarter.is_open]
        context["agencies"] = agencies
        context["open_quarters"] = open_quarters
        context["open_quarters_label"] = " and ".join(q.label for q in open_quarters)
        # Newest quarter first. Contributions ("All partners" actions) are listed apart:
        # optional, never overdue.
        rows = obligations(open_quarters, agencies=agencies, offered=True)
        rows.sort(key=lambda row: -row.quarter.number)
        context["owed"] = [row for row in rows if row.required]
        context["contributions"] = [row for row in rows if row.optional]
        earlier = (
            QuarterlyReturn.objects.visible_to(user)
            # The same agencies as visible_to's, by id: PostgreSQL then reads just their
            # returns by index, where the subquery had it join every agency's history.
            .filter(agency__in=agencies)
            .exclude(quarter__in=open_quarters)
            # Only what the table shows: the whole history is sorted to find a page of it,
            # and narrow rows sort in half the time of whole returns.
            .select_related("action__priority", "agency", "quarter__plan")
            .only(*EARLIER_FIELDS)
            .order_by(
                "-quarter__plan__financial_year",
                "-quarter__number",
                "action__priority__number",
                "action__number",
            )
        )
        # A page at a time: years of history would otherwise make the home page ever longer.
        context["earlier"] = Paginator(earlier, EARLIER_PER_PAGE).get_page(request.GET.get("page"))
    elif user.is_manager:
        context["agency_count"] = Agency.objects.active().count()
        context["action_count"] = Action.objects.in_plan(plan).count() if plan else 0
        context["awaiting_review"] = QuarterlyReturn.objects.awaiting_review().count()
    return render(request, f"home/{user.role}.html", context)


@public
def health(request: HttpRequest) -> HttpResponse:
    """For load balancers and uptime checks: the app answers and the database responds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@public
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "accessibility.html")
