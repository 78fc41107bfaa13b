from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "Review: comments, follow-ups and evidence"

    def ready(self):
        from . import signals  # noqa: F401  (follow-ups clear when a changed figure is resubmitted)
