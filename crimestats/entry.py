"""Entering a year's crime figures and county positions, by form or by CSV import.

Both routes end in ``plan_changes`` (what would change, from what, to what) and
``save_changes`` (write only what differs, in one transaction, each write recorded by
django-simple-history with who and why). Saving the same figures twice changes nothing
the second time and records nothing.
"""

import hashlib
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from . import positions
from .models import Area, CountyPosition, CrimeFigure, CrimeType
from .positions import Position

MIN_YEAR = 2000


def latest_year_allowed() -> int:
    """Figures are for calendar years; the current one may be entered as it ends."""
    return timezone.localdate().year


def parse_position(text: str, what: str, areas_compared: int) -> Position:
    """ "1", "=3" (shared) or "--" (none published), as the assessment prints them."""
    try:
        position = positions.parse(text)
    except ValueError:
        position = None
    if position is not None and (position.position or 0) <= areas_compared:
        return position
    raise ValueError(
        f"{what} must be a number from 1 to {areas_compared}, with = in front for a shared "
        "position (like =3), or -- for none"
    )


def stored_position(position: CountyPosition | None) -> Position | None:
    return None if position is None else Position(position.position, position.tied)


# What would change --------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One figure or position: its value now (None: not held) and the value to save."""

    crime_type: CrimeType
    year: int
    before: int | Position | None
    after: int | Position

    @property
    def is_position(self) -> bool:
        return isinstance(self.after, Position)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def created(self) -> bool:
        return self.before is None

    @staticmethod
    def show(value) -> str:
        if value is None:
            return ""
        return value.display if isinstance(value, Position) else f"{value:,}"

    @property
    def before_display(self) -> str:
        return self.show(self.before)

    @property
    def after_display(self) -> str:
        return self.show(self.after)


@dataclass
class ChangeSet:
    changes: list[Change] = field(default_factory=list)

    @property
    def to_write(self) -> list[Change]:
        return [change for change in self.changes if change.changed]

    @property
    def created(self) -> int:
        return sum(1 for change in self.to_write if change.created)

    @property
    def updated(self) -> int:
        return sum(1 for change in self.to_write if not change.created)

    def summary(self) -> str:
        if not self.to_write:
            return "nothing changed: the figures were already as given"
        parts = []
        if self.created:
            parts.append(f"{self.created} added")
        if self.updated:
            parts.append(f"{self.updated} corrected")
        return " and ".join(parts)


def read_stored(area: Area, years, *, lock: bool = False):
    """The area's counts and positions for these years, keyed by (crime type id, year);
    two queries. ``lock``: held until the transaction ends, so a save reads what it
    overwrites."""
    # order_by(): the default ordering would join areas and crime types for nothing.
    figures = CrimeFigure.objects.filter(area=area, year__in=years).order_by()
    positions = CountyPosition.objects.filter(area=area, year__in=years).order_by()
    if lock:
        figures, positions = figures.select_for_update(), positions.select_for_update()
    return (
        {(f.crime_type_id, f.year): f for f in figures},
        {(p.crime_type_id, p.year): p for p in positions},
    )


def plan_changes(
    area: Area,
    counts: dict[tuple[CrimeType, int], int],
    positions: dict[tuple[CrimeType, int], Position],
    *,
    stored=None,
) -> ChangeSet:
    """Each given count and position against what is stored; two queries."""
    years = {year for _, year in counts} | {year for _, year in positions}
    figures, placings = stored or read_stored(area, years)
    changes = []
    for (crime_type, year), count in counts.items():
        figure = figures.get((crime_type.pk, year))
        changes.append(Change(crime_type, year, figure.count if figure else None, count))
    for (crime_type, year), position in positions.items():
        placing = placings.get((crime_type.pk, year))
        changes.append(Change(crime_type, year, stored_position(placing), position))
    changes.sort(key=lambda c: (c.crime_type.display_order, c.crime_type.name, -c.year))
    return ChangeSet(changes)


def fingerprint(area: Area, years, stored=None) -> str:
    """A digest of every count and position the area holds for these years: what a
    person saw when they opened a form or a preview, to tell whether it changed since.
    ``stored``: what ``read_stored`` read for these years or more, to save reading it again."""
    years = set(years)
    figures, positions = stored or read_stored(area, years)
    state = sorted(
        [("count", *key, f.count) for key, f in figures.items() if key[1] in years]
        + [
            ("position", *key, p.position or 0, p.tied)
            for key, p in positions.items()
            if key[1] in years
        ]
    )
    return hashlib.sha256(repr(state).encode()).hexdigest()[:32]


class FiguresChanged(Exception):
    """Someone else saved figures for these years after the user opened them."""


@transaction.atomic
def save_changes(
    area: Area,
    counts: dict[tuple[CrimeType, int], int],
    positions: dict[tuple[CrimeType, int], Position],
    *,
    reason: str,
    seen: str | None = None,
    seen_years=None,
) -> ChangeSet:
    """Write the counts and positions that differ from what is stored, all or none.

    ``seen`` is the fingerprint of ``seen_years`` (by default the years written) as the
    user saw them; if the stored figures have changed since, nothing is written and
    FiguresChanged is raised.
    """
    years = {year for _, year in counts} | {year for _, year in positions}
    seen_years = set(seen_years or years)
    stored = read_stored(area, years | seen_years, lock=True)
    if seen is not None and fingerprint(area, seen_years, stored) != seen:
        raise FiguresChanged
    figures, placings = stored
    plan = plan_changes(area, counts, positions, stored=stored)
    for change in plan.to_write:
        key = (change.crime_type.pk, change.year)
        if change.is_position:
            record = placings.get(key) or CountyPosition(
                area=area, crime_type=change.crime_type, year=change.year
            )
            record.position, record.tied = change.after
        else:
            record = figures.get(key) or CrimeFigure(
                area=area, crime_type=change.crime_type, year=change.year
            )
            record.count = change.after
        record._change_reason = reason  # django-simple-history keeps it with the record
        record.save()
    return plan
