"""csp-plan's own deployment checks, run by `manage.py check --deploy`."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_uses_https(app_configs, **kwargs):
    if settings.SITE_URL.startswith("https://"):
        return []
    return [
        Warning(
            f"SITE_URL is {settings.SITE_URL!r}: links in e-mails would not use HTTPS.",
            hint="Set SITE_URL to the service's public https:// address.",
            id="csp.W001",
        )
    ]
