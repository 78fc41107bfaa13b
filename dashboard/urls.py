from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("completeness/", views.completeness, name="completeness"),
    path("completeness/reminders/", views.send_reminder, name="send_reminder"),
    path("report/", views.quarterly_report, name="quarterly_report"),
]
