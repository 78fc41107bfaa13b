from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from csp.text import PrintableTextAdmin

from .models import Area, CountyPosition, CrimeFigure, CrimeType


@admin.register(Area)
class AreaAdmin(PrintableTextAdmin, SimpleHistoryAdmin):
    list_display = ("name", "ons_code", "county", "population")


@admin.register(CrimeType)
class CrimeTypeAdmin(PrintableTextAdmin, SimpleHistoryAdmin):
    list_display = ("label", "name", "parent", "kind", "display_order")
    list_select_related = ("parent",)


@admin.register(CrimeFigure)
class CrimeFigureAdmin(PrintableTextAdmin, SimpleHistoryAdmin):
    list_display = ("area", "crime_type", "year", "count")
    list_filter = ("year", "area")
    list_select_related = ("area", "crime_type")


@admin.register(CountyPosition)
class CountyPositionAdmin(PrintableTextAdmin, SimpleHistoryAdmin):
    list_display = ("area", "crime_type", "year", "display")
    list_filter = ("year", "area")
    list_select_related = ("area", "crime_type")
