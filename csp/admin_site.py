"""The Django admin, for superusers only.

Django's own admin lets in any staff user and then asks model permissions; a staff board
member given "change quarterly return" could set a return's state there and bypass the
workflow (review, history, e-mails). The partnership's roles work through the app's own
pages, so the admin is the superuser's tool alone.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig


class SuperuserAdminSite(AdminSite):
    def has_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_superuser


class SuperuserAdminConfig(AdminConfig):
    default_site = "csp.admin_site.SuperuserAdminSite"
