"""The committee paper kept with its quarter: what the manager writes before the paper is
generated (cover details, key messages, recommendation, protective marking) and, once
issued, the Word document exactly as issued. An issued version is frozen: later approvals
change the live report, never it; the manager issues a new version to send changes."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Marking(models.TextChoices):
    """Government Security Classifications: the two the partnership's papers carry."""

    OFFICIAL = "OFFICIAL", "OFFICIAL"
    OFFICIAL_SENSITIVE = "OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE"


class BoardPaperQuerySet(models.QuerySet):
    def latest_for(self, quarter) -> "BoardPaper | None":
        """The quarter's newest version, issued or draft."""
        return self.filter(quarter=quarter).order_by("-version").first()

    def issued(self):
        return self.filter(issued_at__isnull=False)


class BoardPaper(models.Model):
    quarter = models.ForeignKey(
        "priorities.Quarter", on_delete=models.CASCADE, related_name="board_papers"
    )
    version = models.PositiveSmallIntegerField(default=1)
    meeting = models.CharField(
        "Meeting", max_length=200, help_text="For example, Community Safety Partnership Board."
    )
    meeting_date = models.DateField("Date of the meeting")
    author = models.CharField("Author", max_length=200, help_text="Name and role.")
    purpose = models.TextField("Purpose of the paper")
    key_messages = models.TextField(
        "Key messages", help_text="What the board should take from this quarter, one per line."
    )
    recommendation = models.TextField("Recommendation to the board")
    marking = models.CharField(
        "Protective marking", max_length=20, choices=Marking, default=Marking.OFFICIAL
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # The Word document as issued: what the board downloads, unchanged by later approvals.
    document = models.BinaryField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BoardPaperQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["document"])

    class Meta:
        ordering = ["quarter", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["quarter", "version"], name="one_board_paper_per_quarter_version"
            ),
            models.CheckConstraint(
                condition=models.Q(issued_at__isnull=True) | models.Q(document__isnull=False),
                name="issued_paper_has_its_document",
            ),
        ]

    def __str__(self) -> str:
        state = "issued" if self.is_issued else "draft"
        return f"Board paper {self.quarter}, version {self.version} ({state})"

    @property
    def is_issued(self) -> bool:
        return self.issued_at is not None

    def key_message_list(self) -> list[str]:
        return [line.strip(" -•*\t") for line in self.key_messages.splitlines() if line.strip()]
