from django.urls import path

from . import views

urlpatterns = [
    path("crime/", views.crime_statistics, name="crime_statistics"),
]
