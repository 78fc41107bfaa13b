"""Which plan a page shows: the active plan unless another is picked (?plan=2022).

The one answer for every page that follows the plan (plan, dashboard, completeness, report,
partner home); closed plans stay readable through the picker (templates/includes/plan_picker.html).
"""

from csp.querystring import whole_number

from .models import Plan


def picker_plans(user) -> list[Plan]:
    """The plans a user may pick: active and closed ones, newest first."""
    return list(
        Plan.objects.visible_to(user).exclude(state__in=Plan.DRAFTING).order_by("-financial_year")
    )


def chosen_plan(request) -> Plan | None:
    """The plan asked for by year (?plan=2022) among those the user may pick; anything
    else, the current plan (Plan.objects.current())."""
    year = whole_number(request.GET.get("plan"))
    if year:
        picked = (
            Plan.objects.visible_to(request.user)
            .exclude(state__in=Plan.DRAFTING)
            .filter(financial_year=year)
            .select_related("partnership")
            .order_by("pk")
            .first()
        )
        if picked is not None:
            return picked
    return Plan.objects.current()
