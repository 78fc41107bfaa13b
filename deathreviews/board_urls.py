from django.urls import path

from . import board_views

urlpatterns = [
    path("board/", board_views.board_page, name="death_review_board"),
    path("analysis/", board_views.analysis_page, name="death_review_analysis"),
    path("download/", board_views.download, name="death_review_download"),
]
