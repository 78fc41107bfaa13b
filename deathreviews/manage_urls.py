from django.urls import path

from . import manage_views as views

# The record of reviews: the list and each review's page (the manager, its panel members),
# and the manager's pages to record reviews, recommendations, actions and themes.
urlpatterns = [
    path("", views.death_review_list, name="death_review_list"),
    path("new/", views.death_review_add, name="death_review_add"),
    path("<int:pk>/", views.death_review_detail, name="death_review_detail"),
    path("<int:pk>/change/", views.death_review_edit, name="death_review_edit"),
    path(
        "<int:pk>/recommendations/new/",
        views.death_review_recommendation_add,
        name="death_review_recommendation_add",
    ),
    path(
        "recommendations/<int:pk>/change/",
        views.death_review_recommendation_edit,
        name="death_review_recommendation_edit",
    ),
    path(
        "recommendations/<int:pk>/delete/",
        views.death_review_recommendation_delete,
        name="death_review_recommendation_delete",
    ),
    path(
        "recommendations/<int:pk>/actions/new/",
        views.death_review_action_add,
        name="death_review_action_add",
    ),
    path(
        "review-actions/<int:pk>/change/",
        views.death_review_action_edit,
        name="death_review_action_edit",
    ),
    path(
        "review-actions/<int:pk>/delete/",
        views.death_review_action_delete,
        name="death_review_action_delete",
    ),
    path("themes/", views.death_review_themes, name="death_review_themes"),
    path("themes/<int:pk>/change/", views.death_review_theme_edit, name="death_review_theme_edit"),
    path(
        "themes/<int:pk>/retire/", views.death_review_theme_retire, name="death_review_theme_retire"
    ),
]
