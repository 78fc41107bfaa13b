from django.urls import path

from . import views

urlpatterns = [
    path("people/", views.user_list, name="user_list"),
    path("people/invite/", views.user_invite, name="user_invite"),
    path("people/<int:pk>/", views.user_detail, name="user_detail"),
    path("people/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path("people/<int:pk>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("people/<int:pk>/reactivate/", views.user_reactivate, name="user_reactivate"),
    path("people/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("people/<int:pk>/cancel/", views.invitation_cancel, name="invitation_cancel"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("agencies/new/", views.agency_create, name="agency_create"),
    path("agencies/<int:pk>/edit/", views.agency_edit, name="agency_edit"),
    path("agencies/<int:pk>/deactivate/", views.agency_deactivate, name="agency_deactivate"),
    path("agencies/<int:pk>/reactivate/", views.agency_reactivate, name="agency_reactivate"),
    path("agencies/<int:pk>/merge/", views.agency_merge, name="agency_merge"),
    path(
        "agencies/<int:pk>/merge/<int:merged_pk>/",
        views.agency_merge_confirm,
        name="agency_merge_confirm",
    ),
]
