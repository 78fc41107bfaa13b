from django.urls import include, path

# Three areas, each in its own file: the manager's and panel's record of reviews,
# recommendations and actions; agencies' progress updates and the manager's review of them;
# the board's counts, the analysis across reviews and the Commissioner's download.
urlpatterns = [
    path("death-reviews/", include("deathreviews.manage_urls")),
    path("death-reviews/", include("deathreviews.progress_urls")),
    path("death-reviews/", include("deathreviews.board_urls")),
]
