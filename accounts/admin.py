from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from csp.text import PrintableTextAdmin

from .models import Invitation, User


@admin.register(User)
class UserAdmin(PrintableTextAdmin, DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Partnership", {"fields": ("role", "job_title")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "is_superuser")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-only: invitations are sent, resent and cancelled from the People pages."""

    list_display = ("user", "invited_by", "created_at", "expires_at", "accepted_at", "cancelled_at")
    list_filter = ("accepted_at", "cancelled_at")
    readonly_fields = [field.name for field in Invitation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
