"""Compare what a file says with what is held, and apply the difference in one transaction.

The file speaks for the periods it covers (Home Office: each CSP's financial quarters in
the file; police.uk: each month in the file, force-wide): within them, counts that are
new are created, counts that differ are updated and counts the file no longer has are
removed. Everything else is left alone, so importing the same file again changes nothing
— not a row, not a history entry, not an import record.
"""

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from simple_history.utils import bulk_create_with_history

from ..models import (
    CategoryMapping,
    CrimeType,
    ImportRun,
    RecordedOffenceCount,
    SourceCategory,
    StreetCrimeCount,
)
from ..periods import financial_year_label
from .labels import normalise
from .parsed import Category, Parsed
from .police_uk import month_date

MAPPINGS_FILE = Path(settings.BASE_DIR) / "fixtures" / "crime_category_mappings.csv"
LEVELS = {"group", "subgroup", "offence", "category"}
BATCH = 5000
SAMPLES = 25


# Default mappings ------------------------------------------------------------------------


@cache
def default_rules() -> tuple[tuple[str, str, str, str], ...]:
    """(source, level, normalised label, crime type name) from the fixture file."""
    with open(MAPPINGS_FILE, newline="", encoding="utf-8") as handle:
        return tuple(
            (row["source"], row["level"], normalise(row["label"]), row["crime_type"])
            for row in csv.DictReader(handle)
            if not row["source"].startswith("#")
        )


def default_crime_types(source: str, category: Category) -> list[str]:
    """The crime types a newly seen category counts towards until the manager says otherwise:
    every rule matching its offence group, subgroup or own label."""
    labels = {
        "group": normalise(category.group),
        "subgroup": normalise(category.subgroup),
        "offence": normalise(category.label),
        "category": normalise(category.label),
    }
    names = []
    for rule_source, level, label, crime_type in default_rules():
        if rule_source == source and labels[level] == label and crime_type not in names:
            names.append(crime_type)
    return names


# Comparing ---------------------------------------------------------------------------------


@dataclass
class Changes:
    """What applying a file would do (or did)."""

    created: list = field(default_factory=list)  # (natural key, values)
    updated: list = field(default_factory=list)  # (pk, natural key, old count, values)
    removed: list = field(default_factory=list)  # (pk, natural key, old count)
    unchanged: int = 0
    by_period: dict = field(default_factory=lambda: defaultdict(Counter))
    new_categories: list = field(default_factory=list)  # (key, Category, [crime type names])
    unmapped: list = field(default_factory=list)  # dicts: label, code, group, total, new

    @property
    def is_empty(self) -> bool:
        return not (self.created or self.updated or self.removed)

    def summary(self) -> dict:
        return {
            "created": len(self.created),
            "updated": len(self.updated),
            "removed": len(self.removed),
            "unchanged": self.unchanged,
            "by_period": [
                {"period": period, **counts} for period, counts in sorted(self.by_period.items())
            ],
            "new_categories": [
                {"label": c.label, "code": c.code, "group": c.group, "crime_types": names}
                for _, c, names in self.new_categories
            ],
            "unmapped": self.unmapped,
        }


def period_label(parsed: Parsed, natural: tuple) -> str:
    """A sortable, readable period for a natural key: "2020/21 Q4" or "2021-03"."""
    if parsed.is_home_office:
        return f"{financial_year_label(natural[2])} Q{natural[3]}"
    return natural[1]


def held_categories(source: str) -> dict[str, SourceCategory]:
    return {
        category.key: category
        for category in SourceCategory.objects.filter(source=source).prefetch_related("mappings")
    }


def held_counts(parsed: Parsed) -> dict[tuple, tuple]:
    """Natural key → (pk, count, extra) for what is held within the file's scope."""
    if parsed.is_home_office:
        years = {year for _, year, _ in parsed.scope}
        areas = {area for area, _, _ in parsed.scope}
        rows = RecordedOffenceCount.objects.filter(
            financial_year__in=years, area_id__in=areas
        ).values_list("pk", "area_id", "category__key", "financial_year", "quarter", "count")
        return {
            (area, key, year, quarter): (pk, count, None)
            for pk, area, key, year, quarter, count in rows.iterator(chunk_size=BATCH)
            if (area, year, quarter) in parsed.scope
        }
    months = [month_date(month) for month in parsed.scope]
    rows = StreetCrimeCount.objects.filter(month__in=months).values_list(
        "pk", "lsoa_code", "month", "category__key", "count", "area_id", "lsoa_name"
    )
    return {
        (code, f"{month:%Y-%m}", key): (pk, count, (area, name))
        for pk, code, month, key, count, area, name in rows.iterator(chunk_size=BATCH)
    }


def compare(parsed: Parsed) -> Changes:
    """What importing ``parsed`` would change; reads only."""
    changes = Changes()
    held = held_counts(parsed)
    for natural, count in parsed.counts.items():
        extra = None if parsed.is_home_office else parsed.lsoas[natural[0]]
        current = held.pop(natural, None)
        if current is None:
            changes.created.append((natural, count, extra))
            changes.by_period[period_label(parsed, natural)]["created"] += 1
        elif current[1] != count or current[2] != extra:
            changes.updated.append((current[0], natural, current[1], count, extra))
            changes.by_period[period_label(parsed, natural)]["updated"] += 1
        else:
            changes.unchanged += 1
    for natural, (pk, count, _) in held.items():
        changes.removed.append((pk, natural, count))
        changes.by_period[period_label(parsed, natural)]["removed"] += 1

    categories = held_categories(parsed.source)
    totals = parsed.category_totals()
    for key, category in parsed.categories.items():
        held_category = categories.get(key)
        if held_category is None:
            names = default_crime_types(parsed.source, category)
            changes.new_categories.append((key, category, names))
            mapped = bool(names)
        else:
            mapped = bool(held_category.mappings.all())
        if not mapped:
            changes.unmapped.append(
                {
                    "label": category.label,
                    "code": category.code,
                    "group": category.group,
                    "total": totals[key],
                    "new": held_category is None,
                }
            )
    changes.unmapped.sort(key=lambda item: (-item["total"], item["label"]))
    return changes


# Applying ----------------------------------------------------------------------------------


def ensure_categories(parsed: Parsed, changes: Changes, user) -> dict[str, int]:
    """Category key → pk, creating the file's new categories with their default mappings
    (with history, as the manager's later edits to them will have)."""
    if changes.new_categories:
        created = bulk_create_with_history(
            [
                SourceCategory(
                    source=parsed.source,
                    key=key,
                    label=category.label[:200],
                    code=category.code[:20],
                    group=category.group[:200],
                    subgroup=category.subgroup[:200],
                )
                for key, category, _ in changes.new_categories
            ],
            SourceCategory,
            default_user=user,
            default_change_reason=f"First seen in {parsed.file_name}"[:100],
        )
        if any(category.pk is None for category in created):  # databases without RETURNING
            keys = [key for key, _, _ in changes.new_categories]
            created = SourceCategory.objects.filter(source=parsed.source, key__in=keys)
        by_key = {category.key: category for category in created}
        crime_types = {crime_type.name: crime_type for crime_type in CrimeType.objects.all()}
        mappings = [
            CategoryMapping(category=by_key[key], crime_type=crime_types[name])
            for key, _, names in changes.new_categories
            for name in names
            if name in crime_types
        ]
        if mappings:
            bulk_create_with_history(
                mappings,
                CategoryMapping,
                default_user=user,
                default_change_reason="Default mapping",
            )
    return dict(
        SourceCategory.objects.filter(source=parsed.source).values_list("key", "pk").iterator()
    )


@transaction.atomic
def apply(parsed: Parsed, user, sha256: str) -> tuple[Changes, ImportRun | None]:
    """Import ``parsed``: all of it or, if anything fails, none of it."""
    if parsed.errors:
        raise ValueError("A file with row errors is never imported.")
    changes = compare(parsed)
    if changes.is_empty:
        return changes, None
    run = ImportRun.objects.create(
        source=parsed.source,
        file_name=parsed.file_name[:500],
        sha256=sha256,
        imported_by=user,
        periods=describe_scope(parsed)[:200],
        created=len(changes.created),
        updated=len(changes.updated),
        removed=len(changes.removed),
        unchanged=changes.unchanged,
        report=parsed.report() | {"unmapped": changes.unmapped},
    )
    category_ids = ensure_categories(parsed, changes, user)
    if parsed.is_home_office:
        write_offence_counts(changes, category_ids, run)
    else:
        write_street_counts(changes, category_ids, run)
    return changes, run


def write_offence_counts(changes: Changes, category_ids: dict, run: ImportRun) -> None:
    model = RecordedOffenceCount
    insert_rows(
        model,
        ["area_id", "category_id", "financial_year", "quarter", "count", "import_run_id"],
        [
            (area, category_ids[key], year, quarter, count, run.pk)
            for (area, key, year, quarter), count, _ in changes.created
        ],
    )
    model.objects.bulk_update(
        [model(pk=pk, count=count, import_run=run) for pk, _, _, count, _ in changes.updated],
        ["count", "import_run"],
        batch_size=1000,
    )
    delete(model, [pk for pk, _, _ in changes.removed])


def write_street_counts(changes: Changes, category_ids: dict, run: ImportRun) -> None:
    model = StreetCrimeCount
    months = {}
    insert_rows(
        model,
        ["area_id", "lsoa_code", "lsoa_name", "month", "category_id", "count", "import_run_id"],
        [
            (
                area,
                code,
                name,
                months.get(month) or months.setdefault(month, month_date(month)),
                category_ids[key],
                count,
                run.pk,
            )
            for (code, month, key), count, (area, name) in changes.created
        ],
    )
    model.objects.bulk_update(
        [
            model(pk=pk, count=count, area_id=area, lsoa_name=name, import_run=run)
            for pk, _, _, count, (area, name) in changes.updated
        ],
        ["count", "area", "lsoa_name", "import_run"],
        batch_size=1000,
    )
    delete(model, [pk for pk, _, _ in changes.removed])


def insert_rows(model, attnames: list[str], rows: list[tuple]) -> None:
    """Insert new rows given as tuples of plain values (ints, text, dates; never None): on
    PostgreSQL with COPY, several times faster than INSERT for the 100,000-odd counts of a
    year of street-level files; elsewhere with bulk_create."""
    if connection.vendor != "postgresql" or len(rows) < BATCH:
        model.objects.bulk_create(
            (model(**dict(zip(attnames, row, strict=True))) for row in rows), batch_size=BATCH
        )
        return
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    fields = {field.attname: field.column for field in model._meta.concrete_fields}
    columns = ", ".join(connection.ops.quote_name(fields[name]) for name in attnames)
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)


def delete(model, pks: list[int]) -> None:
    for start in range(0, len(pks), 500):
        model.objects.filter(pk__in=pks[start : start + 500]).delete()


def describe_scope(parsed: Parsed) -> str:
    """ "2019/20 Q1 to 2021/22 Q4" or "2021-01 to 2021-12" (12 months)."""
    if parsed.is_home_office:
        quarters = sorted({(year, quarter) for _, year, quarter in parsed.scope})
        if not quarters:
            return ""
        (first_year, first_q), (last_year, last_q) = quarters[0], quarters[-1]
        return (
            f"{financial_year_label(first_year)} Q{first_q} to "
            f"{financial_year_label(last_year)} Q{last_q} ({len(quarters)} quarters)"
        )
    months = sorted(parsed.scope)
    if not months:
        return ""
    return f"{months[0]} to {months[-1]} ({len(months)} months)"


def sample_rows(parsed: Parsed, changes: Changes) -> list[dict]:
    """A few of the changes, readable, for the preview."""
    from ..models import Area

    areas = dict(Area.objects.values_list("pk", "name"))
    labels = {key: category.label for key, category in parsed.categories.items()}
    labels.update(SourceCategory.objects.filter(source=parsed.source).values_list("key", "label"))

    def where(natural) -> str:
        if parsed.is_home_office:
            return areas.get(natural[0], "?")
        return parsed.lsoas.get(natural[0], (None, natural[0]))[1]

    def describe(natural, old, new, change) -> dict:
        return {
            "change": change,
            "where": where(natural),
            "category": labels.get(natural[1] if parsed.is_home_office else natural[2], "?"),
            "period": period_label(parsed, natural),
            "old": old,
            "new": new,
        }

    rows = [describe(n, None, count, "New") for n, count, _ in changes.created[:SAMPLES]]
    rows += [describe(n, old, new, "Changed") for _, n, old, new, _ in changes.updated[:SAMPLES]]
    rows += [describe(n, old, None, "Removed") for _, n, old in changes.removed[:SAMPLES]]
    return rows
