from django.urls import path

from . import cycle_views, views

urlpatterns = [
    path("plan/", views.plan, name="plan"),
    path("plan/priorities/<int:pk>/", views.priority_detail, name="priority_detail"),
    path("plans/", cycle_views.plan_list, name="plan_list"),
    path("plans/<int:pk>/", cycle_views.plan_state, name="plan_state"),
    path("plans/<int:pk>/start-next/", cycle_views.start_next_plan, name="plan_start_next"),
    path(
        "plans/<int:pk>/send-for-sign-off/",
        cycle_views.send_for_sign_off,
        name="plan_send_for_sign_off",
    ),
    path("plans/<int:pk>/sign-off/", cycle_views.record_sign_off, name="plan_sign_off"),
    path("plans/<int:pk>/make-active/", cycle_views.make_active, name="plan_make_active"),
    path("partnership/", cycle_views.partnership_edit, name="partnership_edit"),
]
