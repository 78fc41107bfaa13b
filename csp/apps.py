from django.apps import AppConfig


class CspConfig(AppConfig):
    name = "csp"
    verbose_name = "csp-plan"

    def ready(self):
        from csp import audit, cache, checks  # noqa: F401 (checks registers itself)

        audit.connect()
        cache.connect()
