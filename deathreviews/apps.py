from django.apps import AppConfig


class DeathReviewsConfig(AppConfig):
    name = "deathreviews"
    verbose_name = "Death reviews: recommendations and their actions"
