from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from csp.text import PrintableTextAdmin

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


@admin.register(Action)
class ActionAdmin(PrintableTextAdmin, SimpleHistoryAdmin):
    list_display = ("ref", "description", "lead_agencies", "priority")
    list_filter = ("priority__plan", "priority")
    list_select_related = ("priority", "priority__plan")
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
