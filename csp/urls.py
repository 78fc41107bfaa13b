from django.contrib import admin
from django.urls import include, path

from csp import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("priorities.urls")),
    path("", include("actions.urls")),
    path("", include("crimestats.urls")),
    path("", include("dashboard.urls")),
    path("", include("people.urls")),
]
