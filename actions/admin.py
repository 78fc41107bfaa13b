from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from csp.text import PrintableTextAdmin
from priorities.models import Plan

from .models import Action, Agency, Metric, QuarterlyReturn


class MetricInline(PrintableTextAdmin, admin.TabularInline):
    model = Metric
    extra = 0


@admin.register(Agency)
class AgencyAdmin(PrintableTextAdmin, SimpleHistoryAdmin):
    list_display = ("name", "short_name", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "short_name")
    filter_horizontal = ("members",)


class PlanListFilter(admin.RelatedFieldListFilter):
    """Every plan, named with its partnership in one query (the default read the
    partnership once a plan: a query more for every year of history)."""

    def field_choices(self, field, request, model_admin):
        plans = Plan.objects.select_related("partnership").order_by("-financial_year", "pk")
        return [(plan.pk, str(plan)) for plan in plans]


@admin.register(Action)
class ActionAdmin(PrintableTextAdmin, SimpleHistoryAdmin):
    list_display = ("ref", "description", "lead_agencies", "priority")
    # The priority by its number within the chosen plan: listing every plan's priorities
    # grew with the years (a hundred at 20 plans), each named alike.
    list_filter = (("priority__plan", PlanListFilter), "priority__number")
    list_select_related = ("priority", "priority__plan")
    # A superuser's tool over every year's actions: a shorter page renders in half the time,
    # and the filtered count is enough (no second count of every action).
    list_per_page = 25
    show_full_result_count = False
    # No bulk actions (their only one is "delete selected"): an action that has returns is
    # withdrawn, never deleted; and a checkbox a row, each a rendered widget, was a fifth of
    # the list's time.
    actions = None

    def get_queryset(self, request):
        # The list sorts every year's actions joined to their priorities: without the
        # priorities' long texts (the assessment's rationale and recommendation, which no
        # column shows) the rows sorted are a seventh as wide.
        return (
            super().get_queryset(request).defer("priority__rationale", "priority__recommendation")
        )

    search_fields = ("description", "lead_agencies", "measure")
    filter_horizontal = ("agencies",)
    inlines = [MetricInline]


@admin.register(QuarterlyReturn)
class QuarterlyReturnAdmin(PrintableTextAdmin, SimpleHistoryAdmin):
    list_display = ("action", "agency", "quarter", "state", "rag", "updated_at")
    list_filter = ("state", "rag", "quarter")
    list_select_related = ("action", "action__priority", "agency", "quarter", "quarter__plan")
    raw_id_fields = (
        "action",
        "agency",
        "quarter",
        "created_by",
        "updated_by",
        "submitted_by",
        "reviewed_by",
    )
