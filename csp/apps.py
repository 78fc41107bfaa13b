from django.apps import AppConfig


class CspConfig(AppConfig):
    name = "csp"
    verbose_name = "csp-plan"
