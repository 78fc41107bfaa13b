from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords

from priorities.models import Priority, Quarter

# Counts above this are typing mistakes, not quarterly activity of a district partnership.
MAX_COUNT = 1_000_000


class AgencyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Agency(models.Model):
    class Kind(models.TextChoices):
        POLICE = "police", "Police"
        FIRE = "fire", "Fire and rescue"
        DISTRICT_COUNCIL = "district_council", "District council"
        COUNTY_COUNCIL = "county_council", "County council"
        HEALTH = "health", "Health"
        PROBATION = "probation", "Probation"
        VOLUNTARY = "voluntary", "Voluntary and community sector"
        BUSINESS = "business", "Business"
        PARTNERSHIP = "partnership", "Partnership or forum"

    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(max_length=60)
    aliases = models.JSONField(
        default=list, blank=True, help_text="Other names the plan uses for this agency."
    )
    kind = models.CharField(max_length=20, choices=Kind)
    active = models.BooleanField(default=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="agencies", blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The agency this one was merged into (people.services.merge_agencies).",
    )

    history = HistoricalRecords()
    objects = AgencyQuerySet.as_manager()

    class Meta:
        ordering = [Lower("name")]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class ActionQuerySet(models.QuerySet):
    def in_plan(self, plan):
        return self.filter(priority__plan=plan)

    def led_by(self, agencies):
        """Actions an agency leads or may contribute to (open to all partners). Who owes a
        return is actions.obligations, not this."""
        return self.filter(models.Q(agencies__in=agencies) | models.Q(all_partners=True)).distinct()

    def with_plan_order(self):
        return self.select_related("priority", "priority__plan").order_by(
            "priority__plan", "priority__number", "number"
        )


class Action(models.Model):
    priority = models.ForeignKey(Priority, on_delete=models.CASCADE, related_name="actions")
    number = models.PositiveSmallIntegerField(
        help_text="Number within the priority: 10 for action 1.10."
    )
    description = models.TextField()
    lead_agencies = models.TextField(help_text="The lead agencies exactly as the plan prints them.")
    agencies = models.ManyToManyField(Agency, related_name="actions", blank=True)
    all_partners = models.BooleanField(
        default=False, help_text='"All partners" or "… and partners": every partner may report.'
    )
    accountable_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Owes the return when the plan names no lead agency (else the coordinating "
        "agency does: actions.obligations).",
    )
    measure = models.TextField()
    outcome = models.TextField(blank=True)
    target = models.CharField(max_length=300, blank=True)
    withdrawn_from = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Withdrawn: the first quarter (1 to 4) it is no longer owed; 5 when every "
        "quarter of the year had opened already. Its returns stay.",
    )
    continues = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="continued_by",
        help_text="The action of an earlier year's plan that this one carries forward.",
    )

    history = HistoricalRecords(m2m_fields=[agencies])
    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["priority__plan", "priority__number", "number"]
        constraints = [
            models.UniqueConstraint(fields=["priority", "number"], name="unique_action_number"),
            models.CheckConstraint(
                condition=models.Q(withdrawn_from__gte=1, withdrawn_from__lte=5),
                name="action_withdrawn_from_quarter_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.description[:60]}"

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_from is not None

    def owed_in(self, quarter: Quarter) -> bool:
        """Whether the action's returns are owed in this quarter of its plan: always, until
        it is withdrawn, then only in the quarters before (actions.editing.withdraw_action)."""
        return self.withdrawn_from is None or quarter.number < self.withdrawn_from

    @property
    def ref(self) -> str:
        return f"{self.priority.number}.{self.number}"


class Metric(models.Model):
    class Kind(models.TextChoices):
        COUNT = "count", "Count"
        PERCENTAGE = "percentage", "Percentage"
        MONEY = "money", "Money (£)"
        YES_NO = "yes_no", "Yes or no"
        TEXT = "text", "Text"

    class Frequency(models.TextChoices):
        QUARTERLY = "quarterly", "Every quarter"
        ANNUAL = "annual", "Once a year, in Q4"

    class TargetPeriod(models.TextChoices):
        YEAR = "year", "For the year, added up quarter by quarter"
        QUARTER = "quarter", "For each quarter"

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    # Kinds whose values are numbers, and so may have a target and a trend.
    NUMERIC_KINDS = frozenset({Kind.COUNT, Kind.PERCENTAGE, Kind.MONEY})

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="metrics")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.COUNT)
    order = models.PositiveSmallIntegerField(default=0)
    retired_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Retired: kept on the returns that hold it, no longer asked on the return form.",
    )
    frequency = models.CharField(max_length=10, choices=Frequency, default=Frequency.QUARTERLY)
    # In the unit a value is stored in: a count, a percentage, or pence for money.
    target = models.DecimalField(max_digits=14, decimal_places=1, null=True, blank=True)
    target_period = models.CharField(max_length=10, choices=TargetPeriod, default=TargetPeriod.YEAR)
    target_direction = models.CharField(max_length=10, choices=Direction, default=Direction.HIGHER)
    amber_tolerance = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(100)],
        help_text="How far short of the target, in per cent of it, is amber rather than red.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["action", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["action", "name"], name="unique_metric_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def asked(self) -> bool:
        """Asked on the return form: every metric until it is retired."""
        return self.retired_at is None

    @property
    def is_numeric(self) -> bool:
        return self.kind in self.NUMERIC_KINDS

    @property
    def has_target(self) -> bool:
        return self.is_numeric and self.target is not None

    def asked_in(self, quarter) -> bool:
        """Quarterly metrics are asked every quarter, annual ones in the year's last;
        a retired metric in none."""
        return self.asked and (self.frequency == self.Frequency.QUARTERLY or quarter.number == 4)


class QuarterlyReturnQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Partners see their own agencies' returns in any state; the manager sees all;
        the board sees approved returns only; anyone else sees nothing."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.is_manager:
            return self
        if user.is_board_member:
            return self.approved()
        if user.is_partner:
            return self.filter(agency__in=user.agencies.all())
        return self.none()

    def approved(self):
        return self.filter(state=QuarterlyReturn.State.APPROVED)

    def awaiting_review(self):
        return self.filter(state=QuarterlyReturn.State.SUBMITTED)

    def to_correct(self):
        """Sent back, and in a quarter that takes its correction: an open one, or a closed
        one where a lock exception stands for it (csp.permissions.quarter_takes_entries,
        in one query for a list)."""
        exception = LockException.objects.filter(
            quarter=models.OuterRef("quarter"),
            action=models.OuterRef("action"),
            agency=models.OuterRef("agency"),
        )
        return self.filter(state=QuarterlyReturn.State.SENT_BACK).filter(
            models.Q(quarter__is_open=True) | models.Exists(exception)
        )

    def approved_before(self, action, agency, quarter):
        """The agency's approved returns for the action in the plan's quarters before this
        one, oldest first: the trend a partner reports against."""
        return (
            self.approved()
            .filter(
                action=action,
                agency=agency,
                quarter__plan_id=quarter.plan_id,
                quarter__number__lt=quarter.number,
            )
            .select_related("quarter__plan")
            .order_by("quarter__number")
        )

    def with_context(self):
        return self.select_related(
            "action",
            "action__priority",
            "action__priority__plan",
            "agency",
            "quarter",
            "quarter__plan",
        )


class QuarterlyReturn(models.Model):
    """One agency's report against one action for one quarter."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        SENT_BACK = "sent_back", "Sent back"
        APPROVED = "approved", "Approved"

    class RAG(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        RED = "red", "Red"
        AMBER = "amber", "Amber"
        GREEN = "green", "Green"
        COMPLETE = "complete", "Complete"

    # The one home of which states a return may be changed in, and why not in the others.
    EDITABLE_STATES = frozenset({State.DRAFT, State.SENT_BACK})
    LOCKED_MESSAGES = {
        State.SUBMITTED: "This return has been submitted and is waiting for review.",
        State.APPROVED: "This return has been approved and can no longer be changed.",
    }

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="returns")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="returns")
    quarter = models.ForeignKey(Quarter, on_delete=models.PROTECT, related_name="returns")
    values = models.JSONField(default=dict, blank=True, help_text="Metric id → reported value.")
    narrative = models.TextField(blank=True, max_length=10_000)
    rag = models.CharField("RAG status", max_length=12, choices=RAG, blank=True)
    rag_reason = models.CharField("reason for RAG status", max_length=300, blank=True)
    # The RAG the figures suggest against their targets (actions.targets), as last saved;
    # blank where no figure has a target.
    suggested_rag = models.CharField(max_length=12, choices=RAG, blank=True)
    rag_override_reason = models.CharField(
        "reason for a RAG other than the figures suggest", max_length=300, blank=True
    )
    # Metric id → the value the partner confirmed when asked "Is 7 right?"; a confirmation
    # counts only while the value is still the one confirmed.
    confirmed_values = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State, default=State.DRAFT)
    reviewer_comment = models.TextField(blank=True, max_length=5_000)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(
        default=1,
        validators=[MaxValueValidator(2**31 - 1)],
        help_text="Raised on every save; a stale version is refused (optimistic locking).",
    )

    history = HistoricalRecords()
    objects = QuarterlyReturnQuerySet.as_manager()

    class Meta:
        ordering = ["quarter", "action__priority__number", "action__number", "agency__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "agency", "quarter"], name="one_return_per_action_agency_quarter"
            ),
        ]
        indexes = [models.Index(fields=["state", "quarter"])]

    def __str__(self) -> str:
        return f"{self.action.ref} {self.agency.short_name} {self.quarter.label}"

    def history_visible_to(self, user):
        """This return's history as a user who may see the return (``visible_to``) may read it.

        The manager and the agency's own partners read every change, with the reasons it
        was sent back or reopened. The board reads approved returns only, so of an approved
        return it reads the approval alone: not the drafts before it, their states and RAG
        statuses, nor the review conversation between the agency and the manager.
        """
        records = self.history.select_related("history_user").order_by("-history_date")
        if not (user and user.is_authenticated and user.is_active):
            return records.none()
        if user.is_manager or user.is_partner:
            return records
        if user.is_board_member and self.state == self.State.APPROVED:
            return records.filter(state=self.State.APPROVED)[:1]
        return records.none()

    @property
    def rag_differs(self) -> bool:
        """The partner chose a RAG other than the one the figures suggest."""
        return bool(self.suggested_rag and self.rag and self.rag != self.suggested_rag)

    def is_confirmed(self, metric_pk) -> bool:
        key = str(metric_pk)
        return key in self.confirmed_values and self.confirmed_values[key] == self.values.get(key)

    @property
    def is_editable(self) -> bool:
        """Its state lets it be changed (who may change it, and when, is csp.permissions')."""
        return self.state in self.EDITABLE_STATES

    @property
    def locked_message(self) -> str:
        """Why its state stops it being changed, for the user; empty when it does not."""
        return self.LOCKED_MESSAGES.get(self.state, "")


class LockException(models.Model):
    """The manager's leave for one agency to edit one action's return in a closed quarter:
    granted on the quarters page, or by sending back (or reopening) a return in a closed
    quarter. It ends when the return is submitted."""

    quarter = models.ForeignKey(Quarter, on_delete=models.CASCADE, related_name="lock_exceptions")
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="lock_exceptions")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="lock_exceptions")
    # As long as a send-back reason, which it carries when a send-back granted it.
    reason = models.CharField(max_length=5_000)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["quarter", "action", "agency"], name="one_lock_exception_per_return"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action.ref} {self.agency.short_name} {self.quarter.label}"


class Reminder(models.Model):
    """A reminder already sent, so the daily command never sends the same one twice."""

    class Stage(models.TextChoices):
        DUE_SOON = "due_soon", "Due within 7 days"
        OVERDUE = "overdue", "Overdue"

    quarter = models.ForeignKey(Quarter, on_delete=models.CASCADE, related_name="+")
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=10, choices=Stage)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["quarter", "action", "agency", "stage"], name="one_reminder_per_stage"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.action.ref} {self.agency.short_name} {self.quarter.label}"


class AgencyReminder(models.Model):
    """A reminder the manager sent an agency from the completeness page: kept so the page
    can say when the agency was last reminded, and ask before reminding it again within a
    day. The daily command's reminders are the Reminder rows above."""

    quarter = models.ForeignKey(Quarter, on_delete=models.CASCADE, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="reminders_sent")
    returns = models.PositiveIntegerField(help_text="How many returns it reminded them of.")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["quarter", "agency", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.agency.short_name} {self.quarter.label} {self.sent_at:%Y-%m-%d %H:%M}"
