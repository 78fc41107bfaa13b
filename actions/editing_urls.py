"""Editing a plan: under /plans/<year>/edit/ and /plans/edit/, apart from the plans pages."""

from django.urls import path

from . import editing_views as views

urlpatterns = [
    path("plans/<int:year>/edit/", views.edit_plan, name="edit_plan"),
    path(
        "plans/<int:year>/edit/priorities/new/", views.edit_priority_add, name="edit_priority_add"
    ),
    path("plans/edit/priorities/<int:pk>/", views.edit_priority, name="edit_priority"),
    path(
        "plans/edit/priorities/<int:pk>/move/", views.edit_priority_move, name="edit_priority_move"
    ),
    path(
        "plans/edit/priorities/<int:pk>/remove/",
        views.edit_priority_remove,
        name="edit_priority_remove",
    ),
    path(
        "plans/edit/priorities/<int:pk>/actions/new/", views.edit_action_add, name="edit_action_add"
    ),
    path("plans/edit/actions/<int:pk>/", views.edit_action, name="edit_action"),
    path(
        "plans/edit/actions/<int:pk>/remove/", views.edit_action_remove, name="edit_action_remove"
    ),
    path(
        "plans/edit/actions/<int:pk>/withdraw/",
        views.edit_action_withdraw,
        name="edit_action_withdraw",
    ),
    path("plans/edit/actions/<int:pk>/metrics/new/", views.edit_metric_add, name="edit_metric_add"),
    path("plans/edit/metrics/<int:pk>/", views.edit_metric, name="edit_metric"),
    path(
        "plans/edit/metrics/<int:pk>/remove/", views.edit_metric_remove, name="edit_metric_remove"
    ),
    path(
        "plans/edit/metrics/<int:pk>/retire/", views.edit_metric_retire, name="edit_metric_retire"
    ),
]
