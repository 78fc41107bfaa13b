from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("completeness/", views.completeness, name="completeness"),
    path("completeness/reminders/", views.send_reminder, name="send_reminder"),
    path("report/", views.quarterly_report, name="quarterly_report"),
    path("report/paper/", views.board_paper_edit, name="board_paper"),
    path("report/paper/issue/", views.board_paper_issue, name="board_paper_issue"),
]
