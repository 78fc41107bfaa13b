"""URLs of the public-source pages: imports and category mappings (the manager's), and the
league table, county positions and neighbourhoods (everyone's)."""

from django.urls import path

from . import import_views, league_views

urlpatterns = [
    path("league/", league_views.crime_league, name="crime_league"),
    path("league/positions/", league_views.crime_positions, name="crime_positions"),
    path("league/neighbourhoods/", league_views.crime_neighbourhoods, name="crime_neighbourhoods"),
    path("crime/sources/", import_views.crime_sources, name="crime_sources"),
    path(
        "crime/sources/<slug:source>/upload/",
        import_views.crime_source_upload,
        name="crime_source_upload",
    ),
    path(
        "crime/sources/pending/<int:pk>/",
        import_views.crime_source_pending,
        name="crime_source_pending",
    ),
    path(
        "crime/sources/pending/<int:pk>/confirm/",
        import_views.crime_source_confirm,
        name="crime_source_confirm",
    ),
    path(
        "crime/sources/pending/<int:pk>/discard/",
        import_views.crime_source_discard,
        name="crime_source_discard",
    ),
    path("crime/sources/categories/", import_views.crime_categories, name="crime_categories"),
    path(
        "crime/sources/categories/<int:pk>/",
        import_views.crime_category_edit,
        name="crime_category_edit",
    ),
]
