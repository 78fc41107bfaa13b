from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from csp.text import PrintableTextAdmin

from .models import Partnership, Plan, Priority, Quarter


class PriorityInline(PrintableTextAdmin, admin.TabularInline):
    model = Priority
    extra = 0
    fields = ("number", "short_title", "title")


class QuarterInline(PrintableTextAdmin, admin.TabularInline):
    model = Quarter
    extra = 0


@admin.register(Partnership)
class PartnershipAdmin(PrintableTextAdmin, SimpleHistoryAdmin):
    list_display = ("name", "header_name", "home_area_code", "coordinating_agency")


@admin.register(Plan)
class PlanAdmin(PrintableTextAdmin, SimpleHistoryAdmin):
    list_display = ("partnership", "label", "title", "state", "signed_off")
    list_select_related = ("partnership",)
    list_filter = ("state",)
    inlines = [PriorityInline, QuarterInline]


@admin.register(Priority)
class PriorityAdmin(PrintableTextAdmin, SimpleHistoryAdmin):
    list_display = ("number", "short_title", "plan")
    list_filter = ("plan",)
    list_select_related = ("plan",)
