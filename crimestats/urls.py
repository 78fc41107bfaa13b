from django.urls import include, path

from . import views

urlpatterns = [
    path("crime/", views.crime_statistics, name="crime_statistics"),
    path("crime/types/<int:pk>/", views.crime_type_detail, name="crime_type_detail"),
    path("crime/figures/", views.figures_years, name="crime_figures"),
    path("crime/figures/<int:year>/", views.figures_edit, name="crime_figures_edit"),
    path("crime/figures/<int:year>/publish/", views.publish_year, name="crime_publish_year"),
    path("crime/import/", views.import_upload, name="crime_import"),
    path("crime/import/<str:token>/", views.import_preview, name="crime_import_preview"),
    # The public sources: imports, category mappings, league table (crimestats/source_urls.py).
    path("", include("crimestats.source_urls")),
]
