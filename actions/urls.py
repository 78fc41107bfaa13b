from django.urls import path

from . import views

urlpatterns = [
    path("actions/<int:pk>/", views.action_detail, name="action_detail"),
    path("metrics/<int:pk>/target/", views.metric_target, name="metric_target"),
    path("agencies/", views.agency_list, name="agency_list"),
    path("agencies/<int:pk>/", views.agency_detail, name="agency_detail"),
    path(
        "returns/<int:quarter_pk>/<int:action_pk>/<int:agency_pk>/",
        views.return_edit,
        name="return_edit",
    ),
    path("returns/<int:pk>/", views.return_detail, name="return_detail"),
    path("returns/<int:pk>/check/", views.return_check, name="return_check"),
    path("returns/<int:pk>/recall/", views.return_recall, name="return_recall"),
    path("returns/<int:pk>/approve/", views.return_approve, name="return_approve"),
    path("returns/<int:pk>/send-back/", views.return_send_back, name="return_send_back"),
    path("returns/<int:pk>/reopen/", views.return_reopen, name="return_reopen"),
    path("review/", views.review_queue, name="review_queue"),
    path("quarters/", views.quarter_list, name="quarter_list"),
    path("quarters/<int:pk>/set-open/", views.quarter_set_open, name="quarter_set_open"),
    path("quarters/<int:pk>/close/", views.quarter_close, name="quarter_close"),
    path("quarters/exceptions/", views.lock_exception_create, name="lock_exception_create"),
]
