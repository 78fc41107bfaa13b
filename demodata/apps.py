from django.apps import AppConfig


class DemodataConfig(AppConfig):
    """Generators of demo and benchmark data: demo accounts and returns for trying the app,
    and years of generated history for benchmarks. Not part of the product; never run
    against a production database."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demodata"
    verbose_name = "Demo and benchmark data"
