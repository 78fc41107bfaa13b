"""Domestic Abuse Related Death Reviews (DARDRs, formerly Domestic Homicide Reviews) that the
partnership commissions, their recommendations, and the actions that carry each one out.

What is sensitive here is narrower than the plan (rules.py says who sees what): a review is
known by its reference and a pseudonym only, and the app stores no victim's real name, date
of birth or address. Every state and due date is derived from the dates recorded (rules.py),
never stored, so the two can never disagree.
"""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from actions.models import Agency
from priorities.models import Partnership, Quarter
from review.models import Evidence


class Theme(models.Model):
    """A theme recommendations are grouped by (coercive control, MARAC, …): a list the
    manager keeps. A theme in use is retired, never deleted."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    retired = models.BooleanField(default=False)

    history = HistoricalRecords()

    class Meta:
        ordering = [Lower("name")]
        constraints = [
            models.UniqueConstraint(
                "partnership", Lower("name"), name="one_death_review_theme_per_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ReviewQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The reviews whose record this user may read: the manager every one, a panel
        member the reviews they sit on; nobody else any (the board reads counts and states
        through rules.board_reviews, an agency only its recommendations)."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.is_manager:
            return self.all()
        return self.filter(panel_members=user)

    def published(self):
        return self.filter(published_on__isnull=False)


class Review(models.Model):
    """One death review, from notification to publication. Its state follows from the dates
    below (rules.review_state)."""

    class Decision(models.TextChoices):
        HOLD = "hold", "Hold a review"
        NOT_HOLD = "not_hold", "Do not hold a review"

    class QaOutcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted for publication"
        RESUBMIT = "resubmit", "Asked to revise and resubmit"

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(
        max_length=40,
        unique=True,
        help_text="The partnership's reference, for example DARDR 2024/01.",
    )
    pseudonym = models.CharField(
        max_length=60,
        help_text="The name the report uses, for example 'Adult A' or 'Ruth'. Never the real name.",
    )
    notified_on = models.DateField("date the partnership was notified")
    decision = models.CharField(max_length=10, choices=Decision, blank=True)
    decision_on = models.DateField("date of the decision", null=True, blank=True)
    decision_reason = models.TextField("reason for the decision", max_length=2_000, blank=True)
    panel_convened_on = models.DateField("date the panel first met", null=True, blank=True)
    sent_to_qa_panel_on = models.DateField(
        "date the report went to the Home Office quality assurance panel", null=True, blank=True
    )
    qa_outcome = models.CharField(
        "quality assurance outcome", max_length=10, choices=QaOutcome, blank=True
    )
    qa_outcome_on = models.DateField("date of the outcome", null=True, blank=True)
    sent_to_commissioner_on = models.DateField(
        "date the report went to the Domestic Abuse Commissioner", null=True, blank=True
    )
    published_on = models.DateField("date published", null=True, blank=True)
    panel_members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="death_review_panels", blank=True
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-notified_on", "reference"]

    def __str__(self) -> str:
        return f"{self.reference} ({self.pseudonym})"

    @property
    def is_published(self) -> bool:
        return self.published_on is not None


class RecommendationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The recommendations this user may read in full: every one of a review they may
        read (rules.py), and an agency's users those their agency owns. The board reads a
        recommendation's text once its review is published."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.is_manager:
            return self.all()
        if user.is_board_member:
            return self.published()
        return self.filter(
            models.Q(review__panel_members=user) | models.Q(owners__members=user)
        ).distinct()

    def published(self):
        """Those of published reviews: the words the whole board may read."""
        return self.filter(review__published_on__isnull=False)


class Recommendation(models.Model):
    class Scope(models.TextChoices):
        LOCAL = "local", "Local"
        NATIONAL = "national", "National"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="recommendations")
    number = models.PositiveSmallIntegerField(validators=[MaxValueValidator(999)])
    text = models.TextField(max_length=5_000, help_text="As published in the report.")
    scope = models.CharField(max_length=10, choices=Scope, default=Scope.LOCAL)
    made_on = models.DateField(
        "date agreed", default=datetime.date.today, help_text="When the panel agreed it."
    )
    owners = models.ManyToManyField(Agency, related_name="death_review_recommendations")
    themes = models.ManyToManyField(Theme, related_name="recommendations", blank=True)

    history = HistoricalRecords()
    objects = RecommendationQuerySet.as_manager()

    class Meta:
        ordering = ["review", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "number"], name="one_recommendation_per_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.review.reference} recommendation {self.number}"


class ReviewActionQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(recommendation__in=Recommendation.objects.visible_to(user))

    def open(self):
        return self.filter(closed_at__isnull=True)

    def overdue(self, today: datetime.date):
        return self.open().filter(target_date__lt=today)


class ReviewAction(models.Model):
    """One action that carries out a recommendation: a lead agency, a target date and the
    evidence that will show it is done. It closes only when the manager approves an update
    that asks to close it with that evidence (services.approve_update)."""

    recommendation = models.ForeignKey(
        Recommendation, on_delete=models.CASCADE, related_name="actions"
    )
    number = models.PositiveSmallIntegerField(validators=[MaxValueValidator(999)])
    text = models.TextField(max_length=3_000)
    lead_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="death_review_actions"
    )
    target_date = models.DateField()
    evidence_needed = models.TextField(max_length=2_000)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()
    objects = ReviewActionQuerySet.as_manager()

    class Meta:
        ordering = ["recommendation", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["recommendation", "number"], name="one_review_action_per_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.recommendation} action {self.number}"

    @property
    def ref(self) -> str:
        return f"{self.recommendation.number}.{self.number}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class ProgressUpdate(models.Model):
    """The lead agency's quarterly word on an open action, reviewed by the manager like a
    plan return. An update may ask to close the action, with the evidence it needs."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        SENT_BACK = "sent_back", "Sent back"
        APPROVED = "approved", "Approved"

    EDITABLE_STATES = frozenset({State.DRAFT, State.SENT_BACK})

    action = models.ForeignKey(ReviewAction, on_delete=models.CASCADE, related_name="updates")
    quarter = models.ForeignKey(Quarter, on_delete=models.PROTECT, related_name="+")
    progress = models.TextField(max_length=5_000)
    asks_to_close = models.BooleanField(default=False)
    evidence_summary = models.TextField(
        "how the evidence shows the action is done", max_length=5_000, blank=True
    )
    state = models.CharField(max_length=10, choices=State, default=State.DRAFT)
    reviewer_comment = models.TextField(max_length=5_000, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, validators=[MaxValueValidator(2**31 - 1)])

    history = HistoricalRecords()

    class Meta:
        ordering = ["action", "quarter"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "quarter"], name="one_progress_update_per_action_quarter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} update for {self.quarter}"

    @property
    def is_editable(self) -> bool:
        return self.state in self.EDITABLE_STATES


class UpdateEvidence(models.Model):
    """A file attached to a progress update, checked and stored as a return's evidence is
    (review/evidence.py); a removed file's row stays."""

    Kind = Evidence.Kind

    update = models.ForeignKey(ProgressUpdate, on_delete=models.CASCADE, related_name="evidence")
    name = models.CharField(max_length=200)
    description = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=5, choices=Evidence.Kind)
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

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name_plural = "update evidence"

    def __str__(self) -> str:
        return self.name
