from django.urls import path

from . import publication_views as views

urlpatterns = [
    path("plans/<int:pk>/publication/", views.plan_publication, name="plan_publication"),
    path("plans/<int:pk>/publish/", views.plan_publish, name="plan_publish"),
    path("plans/<int:pk>/unpublish/", views.plan_unpublish, name="plan_unpublish"),
    path("plans/<int:pk>/document/", views.plan_document, name="plan_document"),
    path("plans/<int:pk>/printable/", views.plan_printable, name="plan_printable"),
    path("public/plan/", views.public_plan, name="public_plan"),
    path("public/plan/<int:year>/", views.public_plan_year, name="public_plan_year"),
]
