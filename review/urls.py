from django.urls import path

from . import views

urlpatterns = [
    path("returns/<int:pk>/conversation/", views.return_conversation, name="return_conversation"),
    path("returns/<int:pk>/comments/", views.comment_create, name="comment_create"),
    path("returns/<int:pk>/follow-ups/", views.follow_up_create, name="follow_up_create"),
    path("returns/<int:pk>/evidence/", views.evidence_list, name="evidence_list"),
    path("returns/<int:pk>/evidence/add/", views.evidence_upload, name="evidence_upload"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/remove/", views.evidence_remove, name="evidence_remove"),
    path("review/approve/", views.bulk_approve, name="bulk_approve"),
    path("review/sent-back/", views.sent_back_list, name="sent_back_list"),
]
