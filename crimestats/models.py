from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from . import positions


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
        return positions.display(self.position, self.tied)


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
    return positions.as_displayed(Decimal(count) * 1000 / Decimal(population))


# Public sources: the Home Office CSP tables and data.police.uk street-level files ---------
#
# Counts are kept as published (financial quarters per CSP; months per LSOA) and rolled up
# to calendar, financial and assessment years on demand (crimestats/periods.py). Each
# source's own categories are mapped to the partnership's crime types by the manager.


class Source(models.TextChoices):
    HOME_OFFICE = "home_office", "Home Office police recorded crime by CSP"
    POLICE_UK = "police_uk", "data.police.uk street-level crime"


class SourceCategory(models.Model):
    """A category as a source publishes it: a Home Office offence (code, description,
    group and subgroup) or a police.uk crime type. ``key`` is the normalised label, so
    "Theft Offences" and "Theft offences" are one category across editions."""

    source = models.CharField(max_length=20, choices=Source)
    key = models.CharField(max_length=300, help_text="Normalised code and label.")
    label = models.CharField(max_length=200, help_text="As first published.")
    code = models.CharField(max_length=20, blank=True, help_text="Home Office offence code.")
    group = models.CharField(max_length=200, blank=True)
    subgroup = models.CharField(max_length=200, blank=True)
    crime_types = models.ManyToManyField(
        CrimeType, through="CategoryMapping", blank=True, related_name="source_categories"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["source", "group", "subgroup", "label", "code"]
        verbose_name_plural = "source categories"
        constraints = [
            models.UniqueConstraint(fields=["source", "key"], name="one_category_per_source_key"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})" if self.code else self.label


class CategoryMapping(models.Model):
    """A source category counts towards a crime type. One category may count towards
    several (a residential burglary is Burglary Residential, Victim-based crime and All
    crime); a category with none is reported as unmapped, never dropped."""

    category = models.ForeignKey(SourceCategory, on_delete=models.CASCADE, related_name="mappings")
    crime_type = models.ForeignKey(
        CrimeType, on_delete=models.CASCADE, related_name="category_mappings"
    )

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["category", "crime_type"], name="one_mapping_per_category_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category} → {self.crime_type}"


class ImportRun(models.Model):
    """One import that changed something: who loaded which file and what it changed.
    An import that would change nothing is not recorded (re-importing is a no-op)."""

    source = models.CharField(max_length=20, choices=Source)
    file_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    periods = models.CharField(max_length=200, help_text="The periods the file covers.")
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, help_text="What was skipped and left unmapped.")

    class Meta:
        ordering = ["-imported_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.file_name} ({self.imported_at:%d %b %Y})"


class PendingImport(models.Model):
    """An upload read and previewed, waiting for the manager to confirm it. Holds the
    aggregated figures, not the file; deleted when confirmed or discarded."""

    source = models.CharField(max_length=20, choices=Source)
    file_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pending_imports"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    payload = models.JSONField()
    report = models.JSONField(default=dict)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.file_name} (waiting since {self.uploaded_at:%d %b %Y %H:%M})"


class RecordedOffenceCount(models.Model):
    """Home Office: offences recorded in a CSP in one financial quarter (Q1 = Apr–Jun)."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="offence_counts")
    category = models.ForeignKey(
        SourceCategory, on_delete=models.PROTECT, related_name="offence_counts"
    )
    financial_year = models.PositiveSmallIntegerField(help_text="2020 for 2020/21.")
    quarter = models.PositiveSmallIntegerField()
    count = models.PositiveIntegerField()
    import_run = models.ForeignKey(ImportRun, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["area", "category", "financial_year", "quarter"],
                name="one_offence_count_per_area_category_quarter",
            ),
            models.CheckConstraint(
                condition=models.Q(quarter__gte=1, quarter__lte=4), name="quarter_1_to_4"
            ),
        ]
        indexes = [models.Index(fields=["financial_year", "quarter"], name="offence_count_period")]

    def __str__(self) -> str:
        return f"{self.area} {self.category} {self.financial_year} Q{self.quarter}: {self.count}"


class StreetCrimeCount(models.Model):
    """police.uk: crimes (and ASB incidents) of one type in one LSOA in one month,
    aggregated from the street-level rows on import."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="street_counts")
    lsoa_code = models.CharField("LSOA code", max_length=9)
    lsoa_name = models.CharField("LSOA name", max_length=100)
    month = models.DateField(help_text="The first day of the month.")
    category = models.ForeignKey(
        SourceCategory, on_delete=models.PROTECT, related_name="street_counts"
    )
    count = models.PositiveIntegerField()
    import_run = models.ForeignKey(ImportRun, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lsoa_code", "month", "category"],
                name="one_street_count_per_lsoa_month_category",
            ),
        ]
        indexes = [models.Index(fields=["area", "month"], name="street_count_area_month")]

    def __str__(self) -> str:
        return f"{self.lsoa_name} {self.month:%Y-%m} {self.category}: {self.count}"


class PublishedYear(models.Model):
    """A year's crime figures for an area, published by the manager. Until then figures
    entered or imported for the year are a draft: the dashboards, the board paper and the
    crime pages for everyone else use the latest published year. Withdrawing deletes the
    row; the history keeps who published and withdrew it, and when."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="published_years")
    year = models.PositiveSmallIntegerField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    published_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["area", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["area", "year"], name="one_publication_per_area_year")
        ]

    def __str__(self) -> str:
        return f"{self.area} {self.year} (published)"
