"""What reading a source file gives: its figures aggregated by natural key, and a report.

The same shape goes into a ``PendingImport`` (as JSON) between the preview and the
manager's confirmation, so the file itself is never kept.
"""

from collections import Counter
from dataclasses import dataclass, field

from ..models import Source
from .files import Errors


@dataclass
class Category:
    label: str
    code: str = ""
    group: str = ""
    subgroup: str = ""


@dataclass
class Parsed:
    source: str
    file_name: str
    # key → Category, for every category the used rows mention.
    categories: dict[str, Category] = field(default_factory=dict)
    # Home Office: (area_id, category key, financial_year, quarter) → count.
    # police.uk: (lsoa_code, "YYYY-MM", category key) → count, with lsoas giving each
    # LSOA's (area_id, name).
    counts: dict[tuple, int] = field(default_factory=dict)
    lsoas: dict[str, tuple[int, str]] = field(default_factory=dict)
    # What the file speaks for: Home Office (area_id, financial_year, quarter) triples;
    # police.uk months ("YYYY-MM"), force-wide.
    scope: set = field(default_factory=set)
    rows_read: int = 0
    rows_used: int = 0
    errors: Errors = field(default_factory=Errors)
    # Rows read but not imported, and why: reason → count.
    skipped: Counter = field(default_factory=Counter)
    # Districts the file names that are not the county's: name → rows.
    unknown_areas: Counter = field(default_factory=Counter)
    # police.uk rows with no location (no LSOA, so no district): month → rows.
    unlocated: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    @property
    def is_home_office(self) -> bool:
        return self.source == Source.HOME_OFFICE

    def category_totals(self) -> Counter:
        totals = Counter()
        key_at = 1 if self.is_home_office else 2
        for key, count in self.counts.items():
            totals[key[key_at]] += count
        return totals

    def report(self) -> dict:
        """What the manager is told besides the changes, JSON-ready."""
        return {
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "errors": self.errors.kept,
            "error_count": self.errors.count,
            "skipped": dict(self.skipped.most_common()),
            "unknown_areas": dict(self.unknown_areas.most_common()),
            "unlocated": dict(sorted(self.unlocated.items())),
            "notes": self.notes,
        }

    def to_payload(self) -> dict:
        return {
            "source": self.source,
            "file_name": self.file_name,
            "categories": {
                key: [c.label, c.code, c.group, c.subgroup] for key, c in self.categories.items()
            },
            "counts": [[*key, count] for key, count in self.counts.items()],
            "lsoas": {code: list(value) for code, value in self.lsoas.items()},
            "scope": sorted(list(item) if isinstance(item, tuple) else item for item in self.scope),
            "report": self.report(),
        }

    @classmethod
    def from_payload(cls, payload: dict) -> "Parsed":
        parsed = cls(source=payload["source"], file_name=payload["file_name"])
        parsed.categories = {
            key: Category(*values) for key, values in payload["categories"].items()
        }
        parsed.counts = {tuple(row[:-1]): row[-1] for row in payload["counts"]}
        parsed.lsoas = {code: tuple(value) for code, value in payload["lsoas"].items()}
        parsed.scope = {
            tuple(item) if isinstance(item, list) else item for item in payload["scope"]
        }
        report = payload["report"]
        parsed.rows_read = report["rows_read"]
        parsed.rows_used = report["rows_used"]
        parsed.skipped = Counter(report["skipped"])
        parsed.unknown_areas = Counter(report["unknown_areas"])
        parsed.unlocated = Counter(report["unlocated"])
        parsed.notes = report["notes"]
        parsed.errors.kept = list(report["errors"])
        parsed.errors.count = report["error_count"]
        return parsed
