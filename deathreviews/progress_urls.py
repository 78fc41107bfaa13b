from django.urls import path

from . import progress_views as views

# Agencies' quarterly progress on death review actions, and the manager's review of it.
urlpatterns = [
    path("actions/<int:pk>/update/", views.death_review_update, name="death_review_update"),
    path("updates/", views.death_review_updates, name="death_review_updates"),
    path("updates/<int:pk>/", views.death_review_update_detail, name="death_review_update_detail"),
    path(
        "updates/<int:pk>/approve/",
        views.death_review_update_approve,
        name="death_review_update_approve",
    ),
    path(
        "updates/<int:pk>/send-back/",
        views.death_review_update_send_back,
        name="death_review_update_send_back",
    ),
    path(
        "update-evidence/<int:pk>/",
        views.death_review_update_evidence,
        name="death_review_update_evidence",
    ),
]
