from django.apps import AppConfig


class DeathReviewsConfig(AppConfig):
    name = "deathreviews"
    verbose_name = "Death reviews: recommendations and their actions"

    def ready(self):
        from actions import reminding

        from .obligations import outstanding_counts

        # The daily reminders of returns also count the updates each agency owes.
        if outstanding_counts not in reminding.UPDATES_OWED:
            reminding.UPDATES_OWED.append(outstanding_counts)
