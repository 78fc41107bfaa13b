from django.contrib import admin
from django.urls import include, path

from csp import views

# The admin is a superuser's tool, reached from the service's own navigation: no sidebar
# listing every model on every admin page (it rebuilt the app list for each request).
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("mail/", views.outgoing_mail, name="outgoing_mail"),
    path("mail/<int:pk>/retry/", views.retry_mail, name="outgoing_mail_retry"),
    path("session/keep-alive/", views.session_keep_alive, name="session_keep_alive"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("", include("priorities.urls")),
    path("", include("priorities.import_urls")),
    path("", include("dashboard.publication_urls")),
    path("", include("actions.urls")),
    path("", include("actions.editing_urls")),
    path("", include("crimestats.urls")),
    path("", include("dashboard.urls")),
    path("", include("people.urls")),
    path("", include("review.urls")),
    path("", include("deathreviews.urls")),
]
