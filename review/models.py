"""What the agency and the community safety manager say about a return, and the files that
back it: comments, figures marked for follow-up, and evidence.

Each is seen by whoever may see the return, except the board: ``visible_to`` below is
``QuarterlyReturn.objects.visible_to`` without the board (which reads approved returns'
content only: their evidence, never the conversation).
"""

from django.conf import settings
from django.db import models

from actions.models import Metric, QuarterlyReturn


def returns_in_conversation(user):
    """The returns whose conversation this user may read: those they may see, unless they
    are on the board."""
    if user and user.is_authenticated and user.is_board_member:
        return QuarterlyReturn.objects.none()
    return QuarterlyReturn.objects.visible_to(user)


class ReturnCommentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(quarterly_return__in=returns_in_conversation(user))


class ReturnComment(models.Model):
    """One message in the thread between the agency's users and the manager."""

    quarterly_return = models.ForeignKey(
        QuarterlyReturn, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(max_length=5_000)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReturnCommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment on {self.quarterly_return_id} by {self.author}"


class FollowUpQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(quarterly_return__in=returns_in_conversation(user))

    def open(self):
        return self.filter(cleared_at__isnull=True)


class FollowUp(models.Model):
    """A figure on a return the manager has asked about. It clears when the agency answers:
    with a comment on the return (every open follow-up on it), or by resubmitting the return
    with that figure changed (that one)."""

    class Answer(models.TextChoices):
        COMMENT = "comment", "Answered in a comment"
        CHANGED = "changed", "Figure changed and resubmitted"

    quarterly_return = models.ForeignKey(
        QuarterlyReturn, on_delete=models.CASCADE, related_name="follow_ups"
    )
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+")
    note = models.TextField(max_length=2_000)
    # The figure as it stood when asked about, so a resubmission can tell it changed.
    value_when_raised = models.JSONField(null=True, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(max_length=10, choices=Answer, blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["raised_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["quarterly_return", "metric"],
                condition=models.Q(cleared_at__isnull=True),
                name="one_open_follow_up_per_figure",
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-up on {self.metric} ({self.quarterly_return_id})"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class EvidenceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Evidence is part of the return's content: whoever may see the return (the board:
        approved returns only) may download it."""
        return self.filter(quarterly_return__in=QuarterlyReturn.objects.visible_to(user))

    def attached(self):
        return self.filter(removed_at__isnull=True)


class Evidence(models.Model):
    """A file attached to a return. The bytes are in the evidence storage
    (settings.STORAGES["evidence"]) under ``stored_name``; a removed file's row stays, with
    who removed it and when, so the return's record keeps every upload and removal."""

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        DOCX = "docx", "Word document"
        XLSX = "xlsx", "Excel spreadsheet"
        PNG = "png", "PNG image"
        JPEG = "jpeg", "JPEG image"

    quarterly_return = models.ForeignKey(
        QuarterlyReturn, on_delete=models.CASCADE, related_name="evidence"
    )
    name = models.CharField(max_length=200, help_text="The file's name, made safe to download.")
    description = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=5, choices=Kind)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    stored_name = models.CharField(max_length=300, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name_plural = "evidence"

    def __str__(self) -> str:
        return self.name
