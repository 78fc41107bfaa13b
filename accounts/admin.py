from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from csp.text import PrintableTextAdmin

from .models import User


@admin.register(User)
class UserAdmin(PrintableTextAdmin, DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Partnership", {"fields": ("role", "job_title")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "is_superuser")
