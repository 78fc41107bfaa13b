"""Which plan a page shows: the active plan unless another is picked (?plan=2022).

The one answer for every page that follows the plan (plan, dashboard, completeness, report,
partner home); closed plans stay readable through the picker
(templates/includes/plan_picker.html). The plans a user may pick are read once per request,
and the chosen plan comes from them: the picker costs no query of its own.
"""

from csp.querystring import whole_number

from .models import Plan, current_among


def picker_plans(request) -> list[Plan]:
    """The plans this user may pick: active and closed ones, newest first."""
    if not hasattr(request, "_picker_plans"):
        request._picker_plans = list(
            Plan.objects.visible_to(request.user)
            .exclude(state__in=Plan.DRAFTING)
            .select_related("partnership")
            .order_by("-financial_year", "pk")
        )
    return request._picker_plans


def chosen_plan(request) -> Plan | None:
    """The plan asked for by year (?plan=2022) among those the user may pick; anything
    else, the current plan (Plan.objects.current's rule)."""
    plans = picker_plans(request)
    year = whole_number(request.GET.get("plan"))
    picked = next((plan for plan in plans if plan.financial_year == year), None)
    return picked or current_among(plans)
