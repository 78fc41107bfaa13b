import datetime

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

QUARTER_NAMES = {
    1: "April to June",
    2: "July to September",
    3: "October to December",
    4: "January to March",
}


class PartnershipQuerySet(models.QuerySet):
    def deployed(self) -> "Partnership":
        """The partnership this deployment serves: the first (one per deployment for now).
        An empty one, never saved, before the seed has been loaded."""
        return self.order_by("pk").first() or Partnership(
            name="", header_name="Community safety plan"
        )


class Partnership(models.Model):
    """The community safety partnership whose plans these are. One per deployment for now,
    but every plan names its own, so nothing assumes there is only one.

    Its home area is held as the area's ONS code rather than a foreign key, and its
    coordinating agency by a lazy reference ("actions.Agency"): plans sit below returns and
    crime statistics in the app layering, so this module imports neither.
    """

    name = models.CharField(max_length=200, unique=True)
    header_name = models.CharField(
        max_length=60, help_text="The service name shown in the header of every page."
    )
    home_area_code = models.CharField(
        "home area",
        max_length=9,
        blank=True,
        help_text="ONS code of the partnership's own district (crimestats.Area.ons_code).",
    )
    coordinating_agency = models.ForeignKey(
        "actions.Agency",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="coordinating_for",
        help_text="Owes the returns of actions that name no lead agency.",
    )
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField("contact e-mail", blank=True)

    history = HistoricalRecords()
    objects = PartnershipQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def current_among(plans) -> "Plan | None":
    """The newest active plan, else the newest one past drafting (a draft is the manager's
    work in progress, not the plan). For plans in hand, newest first, or a queryset."""
    plans = list(plans)
    active = [plan for plan in plans if plan.state == Plan.State.ACTIVE]
    candidates = active or [plan for plan in plans if plan.state not in Plan.DRAFTING]
    return max(candidates, key=lambda plan: plan.financial_year, default=None)


class PlanQuerySet(models.QuerySet):
    def active(self):
        return self.filter(state=Plan.State.ACTIVE)

    def published(self):
        """Plans on the public page: published by the manager (priorities.publication)."""
        return self.filter(published_at__isnull=False)

    def current(self):
        """The plan the partnership is working to (current_among)."""
        return current_among(
            self.exclude(state__in=Plan.DRAFTING)
            .select_related("partnership")
            .order_by("-financial_year", "pk")
        )

    def visible_to(self, user):
        """Drafts are the manager's alone; the board also reads a plan awaiting sign-off;
        everyone who reads the plan reads active and closed plans."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.is_manager:
            return self
        if user.is_board_member:
            return self.exclude(state=Plan.State.DRAFT)
        return self.exclude(state__in=Plan.DRAFTING)


class Plan(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_SIGN_OFF = "awaiting_sign_off", "Awaiting sign-off"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    # States in which the plan is still being written and agreed: not yet the plan.
    DRAFTING = (State.DRAFT, State.AWAITING_SIGN_OFF)

    class BoardDecision(models.TextChoices):
        APPROVED = "approved", "Approved"
        APPROVED_WITH_CHANGES = "approved_with_changes", "Approved with changes"
        NOT_APPROVED = "not_approved", "Not approved"

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="plans")
    financial_year = models.PositiveSmallIntegerField(
        help_text="The year the plan starts: 2022 for 2022/23."
    )
    title = models.CharField(max_length=300)
    signed_off = models.DateField(null=True, blank=True)
    assessment_start = models.DateField(help_text="First day of the strategic assessment period.")
    assessment_end = models.DateField(help_text="Last day of the strategic assessment period.")
    state = models.CharField(max_length=20, choices=State, default=State.DRAFT)
    board_meeting = models.DateField(
        "board meeting", null=True, blank=True, help_text="The meeting that considered it."
    )
    board_decision = models.CharField(max_length=30, choices=BoardDecision, blank=True)
    sent_to_pcc = models.DateField(
        "sent to the PCC",
        null=True,
        blank=True,
        help_text="Sent to the Police and Crime Commissioner.",
    )
    return_due_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days after a quarter ends that its returns are due."
    )
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the manager published it: its public page is open to anyone.",
    )

    history = HistoricalRecords()
    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-financial_year", "partnership_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "financial_year"], name="one_plan_per_partnership_year"
            ),
            models.UniqueConstraint(
                fields=["partnership"],
                condition=models.Q(state="active"),
                name="one_active_plan_per_partnership",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partnership} plan {self.label}"

    @property
    def label(self) -> str:
        """2022 → "2022/23"."""
        return f"{self.financial_year}/{(self.financial_year + 1) % 100:02d}"

    @property
    def is_closed(self) -> bool:
        return self.state == self.State.CLOSED

    @property
    def is_draft(self) -> bool:
        return self.state == self.State.DRAFT

    @property
    def assessment_period(self) -> str:
        start, end = self.assessment_start, self.assessment_end
        return f"{start:%B %Y} to {end:%B %Y}"

    def quarter_dates(self, number: int) -> tuple[datetime.date, datetime.date]:
        """Q1 is April to June of the plan's first year; Q4 is January to March of the next."""
        first_month = 4 + 3 * (number - 1)
        year = self.financial_year + (first_month - 1) // 12
        first_month = (first_month - 1) % 12 + 1
        start = datetime.date(year, first_month, 1)
        next_month = first_month + 3
        end = datetime.date(year + (next_month - 1) // 12, (next_month - 1) % 12 + 1, 1)
        return start, end - datetime.timedelta(days=1)


class Priority(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="priorities")
    number = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300, help_text="As in the action plan heading.")
    short_title = models.CharField(
        max_length=200, help_text='As in the "Recommended Priorities" list.'
    )
    rationale = models.TextField(blank=True, help_text="The strategic assessment's reasoning.")
    recommendation = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "number"]
        verbose_name_plural = "priorities"
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="unique_priority_number"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The priority's one name on every page: the plan's heading ("Priority 5: Violence,
        including VAWG and NTE-related issues"). short_title, the strategic assessment's
        list name, is shown only where the assessment is quoted."""
        return f"Priority {self.number}: {self.title}"


class Quarter(models.Model):
    """A reporting quarter of a plan year, opened and closed for entry by the manager."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="quarters")
    number = models.PositiveSmallIntegerField(choices=[(n, f"Q{n}") for n in range(1, 5)])
    is_open = models.BooleanField(default=False, help_text="Open quarters take returns.")
    closed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the manager last closed it for entry: its returns are in, report it.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="unique_quarter_number"),
            models.CheckConstraint(
                condition=models.Q(number__gte=1, number__lte=4), name="quarter_number_1_to_4"
            ),
        ]

    def __str__(self) -> str:
        return f"Q{self.number} {self.plan.label}"

    @property
    def label(self) -> str:
        return f"Q{self.number} {self.plan.label}"

    @property
    def months(self) -> str:
        return QUARTER_NAMES[self.number]

    @property
    def start(self) -> datetime.date:
        return self.plan.quarter_dates(self.number)[0]

    @property
    def end(self) -> datetime.date:
        return self.plan.quarter_dates(self.number)[1]

    @property
    def due(self) -> datetime.date:
        return self.end + datetime.timedelta(days=self.plan.return_due_days)


class PlanImport(models.Model):
    """A plan spreadsheet read and previewed, waiting for its uploader to confirm it
    (priorities.plan_import). Holds the rows read, not the file; deleted when confirmed or
    discarded."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="+")
    file_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_imports"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField(help_text="The priorities and actions read from the file.")

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.file_name} for {self.plan} (waiting since {self.uploaded_at:%d %b %Y %H:%M})"
