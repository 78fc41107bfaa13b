from django.urls import path

from . import views

urlpatterns = [
    path("actions/<int:pk>/", views.action_detail, name="action_detail"),
    path("agencies/", views.agency_list, name="agency_list"),
    path("agencies/<int:pk>/", views.agency_detail, name="agency_detail"),
]
