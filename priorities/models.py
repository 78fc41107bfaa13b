import datetime

from django.db import models
from simple_history.models import HistoricalRecords

QUARTER_NAMES = {
    1: "April to June",
    2: "July to September",
    3: "October to December",
    4: "January to March",
}


class PlanQuerySet(models.QuerySet):
    def active(self):
        return self.filter(state=Plan.State.ACTIVE)

    def current(self):
        """The plan the partnership is working to: the newest active one, else the newest."""
        return (
            self.active().order_by("-financial_year").first()
            or self.order_by("-financial_year").first()
        )


class Plan(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    partnership = models.CharField(max_length=200)
    financial_year = models.PositiveSmallIntegerField(
        help_text="The year the plan starts: 2022 for 2022/23."
    )
    title = models.CharField(max_length=300)
    signed_off = models.DateField(null=True, blank=True)
    assessment_start = models.DateField(help_text="First day of the strategic assessment period.")
    assessment_end = models.DateField(help_text="Last day of the strategic assessment period.")
    state = models.CharField(max_length=10, choices=State, default=State.DRAFT)
    return_due_days = models.PositiveSmallIntegerField(
        default=30, help_text="Days after a quarter ends that its returns are due."
    )

    history = HistoricalRecords()
    objects = PlanQuerySet.as_manager()

    class Meta:
        ordering = ["-financial_year", "partnership"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "financial_year"], name="one_plan_per_partnership_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partnership} plan {self.label}"

    @property
    def label(self) -> str:
        """2022 → "2022/23"."""
        return f"{self.financial_year}/{(self.financial_year + 1) % 100:02d}"

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
