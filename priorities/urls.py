from django.urls import path

from . import views

urlpatterns = [
    path("plan/", views.plan, name="plan"),
    path("plan/priorities/<int:pk>/", views.priority_detail, name="priority_detail"),
]
