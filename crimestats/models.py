from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from simple_history.models import HistoricalRecords


class Area(models.Model):
    name = models.CharField(max_length=100, unique=True)
    ons_code = models.CharField("ONS code", max_length=9, unique=True)
    county = models.CharField(max_length=100)
    population = models.PositiveIntegerField(
        null=True, blank=True, help_text="Census 2021 estimate, rounded to 100."
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CrimeType(models.Model):
    class Kind(models.TextChoices):
        CRIME = "crime", "Recorded crime"
        INCIDENT = "incident", "Incident"

    name = models.CharField(max_length=100, unique=True)
    label = models.CharField(
        max_length=100,
        help_text='As the strategic assessment prints it, e.g. "(Drug Trafficking)".',
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="parts"
    )
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.CRIME)
    display_order = models.PositiveSmallIntegerField(default=0)
    notes = models.CharField(max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name


class CrimeFigure(models.Model):
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="crime_figures")
    crime_type = models.ForeignKey(CrimeType, on_delete=models.CASCADE, related_name="figures")
    year = models.PositiveSmallIntegerField(help_text="Calendar year of the assessment period.")
    count = models.PositiveIntegerField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["area", "crime_type__display_order", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "crime_type", "year"], name="one_figure_per_area_type_year"
            ),
            models.CheckConstraint(condition=models.Q(count__gte=0), name="count_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.area} {self.crime_type} {self.year}: {self.count}"


class CountyPosition(models.Model):
    """Where the area ranks among the county's districts (1 = lowest rate of crime)."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="county_positions")
    crime_type = models.ForeignKey(
        CrimeType, on_delete=models.CASCADE, related_name="county_positions"
    )
    year = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty where no position was published (“--”)."
    )
    tied = models.BooleanField(default=False, help_text="Shares the position (“=3”).")

    history = HistoricalRecords()

    class Meta:
        ordering = ["area", "crime_type__display_order", "year"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "crime_type", "year"], name="one_position_per_area_type_year"
            ),
            models.CheckConstraint(
                condition=models.Q(position__isnull=True) | models.Q(position__gte=1),
                name="position_at_least_1",
            ),
            models.CheckConstraint(
                condition=models.Q(position__isnull=False) | models.Q(tied=False),
                name="no_tie_without_position",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area} {self.crime_type} {self.year}: {self.display}"

    @property
    def display(self) -> str:
        """As the assessment prints it: "1", "=3", or "--" for no position."""
        if self.position is None:
            return "--"
        return f"={self.position}" if self.tied else str(self.position)

    @staticmethod
    def parse(text: str) -> tuple[int | None, bool]:
        """The inverse of display: "=3" → (3, True), "--" → (None, False)."""
        text = text.strip()
        if text in {"--", "-", ""}:
            return None, False
        tied = text.startswith("=")
        position = int(text.lstrip("="))
        if position < 1:
            raise ValueError("A county position is 1 or more.")
        return position, tied


def percent_change(current: int, previous: int) -> Decimal | None:
    """Change as a percentage of the previous count, to one decimal place, half away from zero."""
    if not previous:
        return None
    return (Decimal(current - previous) * 100 / Decimal(previous)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def rate_per_thousand(count: int, population: int | None) -> Decimal | None:
    if not population:
        return None
    return (Decimal(count) * 1000 / Decimal(population)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
