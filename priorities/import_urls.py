from django.urls import path

from . import import_views

urlpatterns = [
    path("plans/import/template/", import_views.plan_import_template, name="plan_import_template"),
    path("plans/<int:pk>/import/", import_views.plan_import_upload, name="plan_import_upload"),
    path("plans/imports/<int:pk>/", import_views.plan_import_pending, name="plan_import_pending"),
    path(
        "plans/imports/<int:pk>/confirm/",
        import_views.plan_import_confirm,
        name="plan_import_confirm",
    ),
    path(
        "plans/imports/<int:pk>/discard/",
        import_views.plan_import_discard,
        name="plan_import_discard",
    ),
    path("plans/<int:pk>/spreadsheet/", import_views.plan_spreadsheet, name="plan_spreadsheet"),
]
