"""Importing a plan from a spreadsheet, in the house's shape (crimestats/sources/service.py):
read → compare (the preview) → stage → confirm. Nothing is saved until the manager confirms,
a file with any row error is refused whole, and importing the same file again changes
nothing: not a row, not a history entry.

The spreadsheet (.xlsx or .csv) has one row per action under these headings, in any order:

- **Priority**: the priority's title, the same on every row of that priority;
- **Ref**: the action's reference, "priority.action" (1.1, 1.10, 2.3), unique in the file;
- **Action**, **Measure** (both required) and **Outcome**;
- **Lead agencies**: as the plan prints them. Each name, separated by commas, semicolons or
  " and ", is resolved to an agency by its name or one of its aliases; "All partners",
  "All relevant agencies" or "… and partners" let every partner contribute;
- **Metrics**: what partners report each quarter, separated by semicolons, each with its
  kind in brackets at the end where it is not a count: "Helpline calls; Referrals managed;
  DA Act requirements met (yes or no)". The kinds are ``Metric.Kind``'s, by value or label.

The file speaks for the priorities it names: within them actions are added, changed and
removed as the file says; other priorities are left alone. An action whose printed lead
agencies are unchanged keeps the agencies it resolves to (the manager may have corrected
them); a new or reworded one is resolved again.

Reading uses the crime imports' bounded reader (crimestats/sources: size and zip limits,
the sheet's extent, a child process under a memory and time budget).
"""

import hashlib
import json
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Prefetch
from python_calamine import CalamineWorkbook

from actions.models import Action, Agency, Metric
from crimestats.sources import budget, extent
from crimestats.sources.files import (
    Errors,
    Refused,
    Upload,
    check_size,
    csv_rows,
    kind_of,
    limits,
    open_zip,
)
from crimestats.sources.home_office import raise_unless_unreadable
from csp.exports import FORMULA_STARTS, Sheet

from .models import Plan, PlanImport, Priority

COLUMNS = ("Priority", "Ref", "Action", "Lead agencies", "Measure", "Outcome", "Metrics")
FIELDS = ("priority", "ref", "description", "lead_agencies", "measure", "outcome", "metrics")
MAX_ROWS = 2000  # a plan has a hundred actions or so
HEADER_SEARCH_ROWS = 10
KEEP = "keep"
NEW = "new"
CHANGE_REASON = "Imported from {file}"

_REF = re.compile(r"^(\d{1,3})\.(\d{1,3})$")
_PRIORITY_PREFIX = re.compile(r"^priority\s+\d+\s*[:.\-–]\s*", re.IGNORECASE)
_KIND = re.compile(r"^(?P<name>.*?)\s*\((?P<kind>[^()]*)\)\s*$")
_SEPARATORS = re.compile(r"\s*(?:,|;|\band\b|&)\s*", re.IGNORECASE)
# What the published plan prints where every partner may contribute (actions/obligations.py).
_ALL_PARTNERS = re.compile(
    r"^all (?:partners|relevant agencies|agencies)\b|\band (?:other )?partners\b", re.IGNORECASE
)


class PlanNotDraft(Exception):
    """Only a draft plan takes an import."""


def _refuse_unless_draft(plan: Plan) -> None:
    if plan.state != Plan.State.DRAFT:
        raise PlanNotDraft(
            f"The {plan.label} plan is {plan.get_state_display().lower()}: a spreadsheet can "
            "only be imported into a draft plan. Start next year's plan and import into it."
        )


# Metrics and lead agencies, as the columns write them ------------------------------------------


def kind_names() -> dict[str, str]:
    """Every way a kind may be written (value or label, any case) → its value."""
    names = {}
    for value, label in Metric.Kind.choices:
        names[value.casefold()] = value
        names[value.replace("_", " ").casefold()] = value
        names[value.replace("_", "/").casefold()] = value
        names[str(label).casefold()] = value
    return names


def parse_metrics(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """("Helpline calls; Met (yes or no)") → ([("Helpline calls", "count"), ("Met",
    "yes_no")], problems)."""
    metrics, problems, kinds = [], [], kind_names()
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, kind = part, Metric.Kind.COUNT
        match = _KIND.match(part)
        if match:
            written = match.group("kind").strip()
            if written.casefold() not in kinds:
                allowed = ", ".join(str(label).lower() for _, label in Metric.Kind.choices)
                problems.append(f"metric “{part}” has the kind “{written}”; use one of {allowed}")
                continue
            name, kind = match.group("name").strip(), kinds[written.casefold()]
        if not name:
            problems.append(f"metric “{part}” has no name")
        elif len(name) > Metric._meta.get_field("name").max_length:
            problems.append(f"metric “{name[:40]}…” is longer than 200 characters")
        elif name.casefold() in {held.casefold() for held, _ in metrics}:
            problems.append(f"metric “{name}” is listed twice")
        else:
            metrics.append((name, kind))
    return metrics, problems


def metrics_text(metrics) -> str:
    """The Metrics cell for an action's metrics: each with its kind, so any name reads back."""
    return "; ".join(f"{metric.name} ({metric.get_kind_display().lower()})" for metric in metrics)


def lead_names(printed: str) -> tuple[list[str], bool]:
    """The names in a Lead agencies cell, and whether it lets every partner contribute."""
    all_partners = bool(_ALL_PARTNERS.search(printed))
    names = []
    for part in _SEPARATORS.split(printed):
        name = part.strip(" .()")
        if not name or _ALL_PARTNERS.search(name) or name.casefold() in ("partners", "others"):
            continue
        if name.casefold() not in {held.casefold() for held in names}:
            names.append(name)
    return names, all_partners


def agency_index() -> dict[str, int]:
    """Every agency's name, short name and aliases (case-folded) → the agency to use: an
    agency merged into another stands for the one it was merged into."""
    index = {}
    for agency in Agency.objects.order_by("-active", "pk"):
        target = agency.merged_into_id or agency.pk
        for name in [agency.name, agency.short_name, *agency.aliases]:
            if name:
                index.setdefault(name.strip().casefold(), target)
    return index


# Reading -------------------------------------------------------------------------------------


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = "" if value is None else str(value).strip()
    # A download quotes text that begins like a formula (csp/exports.py); read it back as typed.
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_STARTS:
        text = text[1:]
    return text


def _tables(upload: Upload):
    """(sheet name, rows) of the spreadsheet, or the one table of a CSV."""
    kind = kind_of(upload)
    if kind == "text":
        yield upload.name, csv_rows(upload.stream, upload.name)
        return
    if kind != "zip":
        raise Refused(f"{upload.name} is not an .xlsx or .csv file. Use the template's columns.")
    bounds = limits()
    extent.check(upload, open_zip(upload), bounds)
    upload.stream.seek(0)
    try:
        workbook = CalamineWorkbook.from_filelike(upload.stream)
        names = workbook.sheet_names
    except BaseException as error:
        raise_unless_unreadable(error)
        raise Refused(f"{upload.name} could not be read as a spreadsheet ({error}).") from error
    for name in names:
        try:
            sheet = workbook.get_sheet_by_name(name)
        except BaseException as error:
            raise_unless_unreadable(error)
            raise Refused(
                f"Sheet “{name}” of {upload.name} could not be read ({error})."
            ) from error
        yield name, sheet.iter_rows()


def _header(row: list) -> dict[str, int] | None:
    names = {_cell(value).casefold(): index for index, value in enumerate(row)}
    if not all(column.casefold() in names for column in COLUMNS):
        return None
    return {
        field_name: names[column.casefold()]
        for column, field_name in zip(COLUMNS, FIELDS, strict=True)
    }


def read_rows(upload: Upload) -> dict:
    """The first table with the template's headings: {"rows": [[row number, {field: text}]]}.
    Runs in the reading child (no database)."""
    check_size(upload)
    for _sheet, rows in _tables(upload):
        positions = None
        found = []
        for number, row in enumerate(rows, start=1):
            row = list(row)
            if positions is None:
                positions = _header(row)
                if positions is None and number >= HEADER_SEARCH_ROWS:
                    break
                continue
            if len(found) >= MAX_ROWS:
                raise Refused(f"{upload.name} has more than {MAX_ROWS:,} rows; a plan has fewer.")
            values = {
                name: _cell(row[index]) if index < len(row) else ""
                for name, index in positions.items()
            }
            if any(values.values()):
                found.append([number, values])
        if positions is not None:
            return {"rows": found}
    raise Refused(
        f"{upload.name} has no table with the template's columns: " + ", ".join(COLUMNS) + "."
    )


def _digest(upload: Upload) -> str:
    upload.stream.seek(0)
    sha = hashlib.sha256(upload.stream.read())
    upload.stream.seek(0)
    return sha.hexdigest()


def parse(upload: Upload) -> dict:
    """The file's rows checked: {"file_name", "priorities": [...], "actions": [...],
    "errors": [...], "error_count"}. Refused for a file that cannot be read at all."""
    bounds = limits()
    answer = budget.run(
        lambda: json.dumps(read_rows(upload)).encode(),
        name=upload.name,
        seconds=bounds.page_seconds,
        memory_bytes=bounds.memory_bytes,
    )
    rows = json.loads(answer)["rows"]
    errors = Errors()
    priorities: dict[int, str] = {}
    actions, refs = [], {}
    for number, values in rows:
        where = f"Row {number}"
        match = _REF.match(values["ref"])
        if not match:
            errors.add(where, f"Ref “{values['ref']}” is not like 1.1 (priority.action)")
            continue
        ref = f"{int(match.group(1))}.{int(match.group(2))}"
        priority_number, action_number = int(match.group(1)), int(match.group(2))
        if priority_number == 0 or action_number == 0:
            errors.add(where, f"Ref {ref}: priorities and actions are numbered from 1")
            continue
        if ref in refs:
            errors.add(where, f"Ref {ref} is also on row {refs[ref]}")
            continue
        refs[ref] = number
        title = _PRIORITY_PREFIX.sub("", values["priority"]).strip()
        problems = []
        if not title:
            problems.append("Priority is empty")
        elif len(title) > Priority._meta.get_field("title").max_length:
            problems.append("Priority is longer than 300 characters")
        elif priorities.setdefault(priority_number, title) != title:
            problems.append(
                f"Priority “{title}” differs from “{priorities[priority_number]}” on an "
                f"earlier row of priority {priority_number}"
            )
        if not values["description"]:
            problems.append("Action is empty")
        if not values["measure"]:
            problems.append("Measure is empty")
        metrics, metric_problems = parse_metrics(values["metrics"])
        problems += metric_problems
        for problem in problems:
            errors.add(f"{where} ({ref})", problem)
        actions.append(
            {
                "row": number,
                "ref": ref,
                "priority": priority_number,
                "number": action_number,
                "description": values["description"],
                "lead_agencies": values["lead_agencies"],
                "measure": values["measure"],
                "outcome": values["outcome"],
                "metrics": metrics,
            }
        )
    if not rows:
        raise Refused(f"{upload.name} has the template's columns but no actions under them.")
    return {
        "file_name": upload.name[:500],
        "priorities": [{"number": n, "title": t} for n, t in sorted(priorities.items())],
        "actions": sorted(actions, key=lambda action: (action["priority"], action["number"])),
        "errors": errors.kept,
        "error_count": errors.count,
    }


# Comparing -----------------------------------------------------------------------------------


@dataclass
class Changes:
    """What importing a parsed file into a plan would do."""

    priorities: list = field(default_factory=list)  # dicts: number, title, status, held
    actions: list = field(default_factory=list)  # dicts, see ``compare``
    removed: list = field(default_factory=list)  # dicts: ref, description, pk
    unresolved: list = field(default_factory=list)  # dicts: name, refs
    errors: list = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (
            self.removed
            or any(item["status"] != "unchanged" for item in self.priorities + self.actions)
        )

    def counts(self) -> dict:
        statuses = [action["status"] for action in self.actions]
        return {
            "new": statuses.count("new"),
            "changed": statuses.count("changed"),
            "unchanged": statuses.count("unchanged"),
            "removed": len(self.removed),
        }

    def as_dict(self) -> dict:
        return {
            "priorities": self.priorities,
            "actions": self.actions,
            "removed": self.removed,
            "unresolved": self.unresolved,
            "counts": self.counts(),
        }


def _held_actions(plan: Plan, numbers) -> dict[tuple[int, int], Action]:
    actions = (
        Action.objects.filter(priority__plan=plan, priority__number__in=numbers)
        .select_related("priority")
        .prefetch_related("agencies", Prefetch("metrics", Metric.objects.order_by("order", "pk")))
    )
    return {(action.priority.number, action.number): action for action in actions}


def compare(plan: Plan, parsed: dict) -> Changes:
    """What importing ``parsed`` into ``plan`` would change; reads only."""
    changes = Changes()
    numbers = [priority["number"] for priority in parsed["priorities"]]
    held_priorities = {p.number: p for p in Priority.objects.filter(plan=plan, number__in=numbers)}
    for priority in parsed["priorities"]:
        held = held_priorities.get(priority["number"])
        status = (
            "new" if held is None else "unchanged" if held.title == priority["title"] else "changed"
        )
        changes.priorities.append(
            {**priority, "status": status, "held_title": held.title if held else ""}
        )
    held_actions = _held_actions(plan, numbers)
    index = agency_index()
    names = dict(Agency.objects.values_list("pk", "name"))
    unresolved: dict[str, list[str]] = {}
    for row in parsed["actions"]:
        held = held_actions.pop((row["priority"], row["number"]), None)
        metrics = [list(metric) for metric in row["metrics"]]
        if held is not None and held.lead_agencies == row["lead_agencies"]:
            # Unchanged wording: keep what it resolves to now (the manager's to correct).
            agency_ids = [agency.pk for agency in held.agencies.all()]
            all_partners, missing = held.all_partners, []
        else:
            printed, all_partners = lead_names(row["lead_agencies"])
            # In the order printed, each once.
            agency_ids = list(
                dict.fromkeys(index[n.casefold()] for n in printed if n.casefold() in index)
            )
            missing = [n for n in printed if n.casefold() not in index]
        for name in missing:
            unresolved.setdefault(name, []).append(row["ref"])
        if held is None:
            status = "new"
        else:
            same = (
                held.description == row["description"]
                and held.lead_agencies == row["lead_agencies"]
                and held.measure == row["measure"]
                and held.outcome == row["outcome"]
                and [[m.name, m.kind] for m in held.metrics.all()] == metrics
            )
            status = "unchanged" if same else "changed"
        changes.actions.append(
            {
                **row,
                "metrics": metrics,
                "status": status,
                "pk": held.pk if held else None,
                "agency_ids": agency_ids,
                "agency_names": [names[pk] for pk in agency_ids],
                "all_partners": all_partners,
                "unresolved": missing,
            }
        )
    for (_, _), action in sorted(held_actions.items()):
        if action.returns.exists():
            changes.errors.append(
                f"Action {action.ref} has returns, so the file cannot remove it. Add it to the "
                "file, or withdraw it from the plan instead."
            )
        changes.removed.append(
            {"ref": action.ref, "description": action.description, "pk": action.pk}
        )
    changes.unresolved = [{"name": name, "refs": refs} for name, refs in unresolved.items()]
    return changes


# Staging and confirming ----------------------------------------------------------------------


@dataclass
class Preview:
    parsed: dict
    changes: Changes | None  # None where the file has row errors
    sha256: str

    @property
    def errors(self) -> list[str]:
        return self.parsed["errors"] + (self.changes.errors if self.changes else [])

    @property
    def error_count(self) -> int:
        return self.parsed["error_count"] + (len(self.changes.errors) if self.changes else 0)

    def as_dict(self) -> dict:
        return {
            "file_name": self.parsed["file_name"],
            "errors": self.errors,
            "error_count": self.error_count,
            "changes": self.changes.as_dict() if self.changes else None,
            "is_empty": bool(self.changes and self.changes.is_empty),
        }


def read(plan: Plan, upload: Upload) -> Preview:
    """Read and compare; writes nothing. Refused for a file that cannot be read,
    PlanNotDraft for a plan that is not a draft."""
    _refuse_unless_draft(plan)
    sha256 = _digest(upload)
    parsed = parse(upload)
    changes = None if parsed["error_count"] else compare(plan, parsed)
    return Preview(parsed=parsed, changes=changes, sha256=sha256)


def stage(plan: Plan, preview: Preview, user) -> PlanImport | None:
    """Keep a readable file that changes something for its uploader to confirm (their
    older waiting imports are dropped); a file with errors, or changing nothing, is not
    kept."""
    if preview.error_count or preview.changes is None or preview.changes.is_empty:
        return None
    with transaction.atomic():
        PlanImport.objects.filter(uploaded_by=user).delete()
        return PlanImport.objects.create(
            plan=plan,
            file_name=preview.parsed["file_name"],
            sha256=preview.sha256,
            uploaded_by=user,
            payload=preview.parsed,
        )


def preview_of(pending: PlanImport) -> Preview:
    """The waiting import compared again with the plan as it is now."""
    parsed = pending.payload
    return Preview(parsed=parsed, changes=compare(pending.plan, parsed), sha256=pending.sha256)


def _save(obj, user, reason: str) -> None:
    # Set explicitly: outside a request the history middleware knows no user.
    obj._history_user = user
    obj._change_reason = reason[:100]
    obj.save()


def _resolve(unresolved: list[dict], choices: dict[str, str], user, reason: str) -> dict:
    """Name → agency pk for the names the manager resolved: to an existing agency (the name
    becomes one of its aliases) or to a new agency. Names kept as printed are left out."""
    from people.services import save_agency

    resolved = {}
    agencies = {agency.pk: agency for agency in Agency.objects.all()}
    for item in unresolved:
        name, choice = item["name"], choices.get(item["name"], KEEP)
        if choice == NEW:
            agency = Agency.objects.filter(name__iexact=name[:200]).first()
            if agency is None:
                agency = Agency(
                    name=name[:200], short_name=name[:60], kind=Agency.Kind.VOLUNTARY, aliases=[]
                )
                save_agency(user, agency, reason=reason)
            resolved[name] = agency.merged_into_id or agency.pk
        elif choice.isdigit() and int(choice) in agencies:
            agency = agencies[int(choice)]
            if name.casefold() not in {alias.casefold() for alias in agency.aliases}:
                agency.aliases = [*agency.aliases, name]
                save_agency(user, agency, reason=f"Alias “{name}” from a plan import")
            resolved[name] = agency.merged_into_id or agency.pk
    return resolved


def confirm(pending: PlanImport, user, choices: dict[str, str]) -> Changes:
    """Apply a waiting import, all of it or none: the priorities and actions it names as the
    file says, each unresolved name as the manager chose (``choices``: name → "keep", "new"
    or an agency's pk). Refused if the file no longer applies (the plan left draft)."""
    reason = CHANGE_REASON.format(file=pending.file_name)
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(pk=pending.plan_id)
        _refuse_unless_draft(plan)
        changes = compare(plan, pending.payload)
        if changes.errors:
            raise Refused(" ".join(changes.errors))
        resolved = _resolve(changes.unresolved, choices, user, reason)
        priorities = {p.number: p for p in Priority.objects.filter(plan=plan)}
        for item in changes.priorities:
            priority = priorities.get(item["number"])
            if priority is None:
                priority = Priority(
                    plan=plan, number=item["number"], short_title=item["title"][:200]
                )
            if item["status"] != "unchanged":
                priority.title = item["title"]
                _save(priority, user, reason)
            priorities[item["number"]] = priority
        for item in changes.removed:
            action = Action.objects.get(pk=item["pk"])
            action._history_user = user
            action._change_reason = reason[:100]
            action.delete()
        for item in changes.actions:
            if item["status"] == "unchanged":
                continue
            _apply_action(item, priorities[item["priority"]], resolved, user, reason)
        pending.delete()
    return changes


def _apply_action(item: dict, priority: Priority, resolved: dict, user, reason: str) -> None:
    action = Action.objects.filter(pk=item["pk"]).first() if item["pk"] else None
    reworded = action is None or action.lead_agencies != item["lead_agencies"]
    action = action or Action(priority=priority, number=item["number"])
    for name in ("description", "lead_agencies", "measure", "outcome"):
        setattr(action, name, item[name])
    if reworded:
        action.all_partners = item["all_partners"]
    _save(action, user, reason)
    if reworded:
        wanted = set(item["agency_ids"]) | {
            resolved[n] for n in item["unresolved"] if n in resolved
        }
        if set(action.agencies.values_list("pk", flat=True)) != wanted:
            action.agencies.set(wanted)
    held = {metric.name: metric for metric in action.metrics.all()}
    wanted_names = {name for name, _ in item["metrics"]}
    for name, metric in held.items():
        if name not in wanted_names:
            metric._history_user = user
            metric._change_reason = reason[:100]
            metric.delete()
    for order, (name, kind) in enumerate(item["metrics"], start=1):
        metric = held.get(name) or Metric(action=action, name=name)
        if metric.pk is None or metric.kind != kind or metric.order != order:
            metric.kind, metric.order = kind, order
            _save(metric, user, reason)


def discard(pending: PlanImport) -> None:
    pending.delete()


# The spreadsheets ----------------------------------------------------------------------------


def template_sheets() -> list[Sheet]:
    """The template: the columns, and a sheet saying how to fill them in."""
    kinds = "; ".join(f"{label.lower()}" for _, label in Metric.Kind.choices)
    notes = [
        ["Priority", "The priority's title, the same on every row of that priority."],
        ["Ref", "priority.action, e.g. 1.1 or 2.10: unique in the file. Format as text."],
        ["Action", "What will be done. Required."],
        [
            "Lead agencies",
            "As the plan prints them, separated by commas, semicolons or “and”. Each name is "
            "matched to an agency by its name or alias; names that match none are shown to you "
            "to resolve before anything is saved. “All partners”, “All relevant agencies” or "
            "“… and partners” let every partner contribute a return.",
        ],
        ["Measure", "How progress is measured. Required."],
        ["Outcome", "Optional."],
        [
            "Metrics",
            "What partners report each quarter, separated by semicolons, each followed by its "
            f"kind in brackets unless it is a count. Kinds: {kinds}. Example: “Helpline calls; "
            "Referrals managed; Safe accommodation requirements met (yes or no)”.",
        ],
        [
            "Importing",
            "The file speaks for the priorities it names: their actions are added, changed and "
            "removed as the file says. Other priorities are left alone. Nothing is saved until "
            "you confirm; a file with any error is refused whole.",
        ],
    ]
    return [Sheet("Plan", list(COLUMNS), []), Sheet("How to fill in", ["Column", "What"], notes)]


def plan_sheet(plan: Plan) -> Sheet:
    """The plan's own spreadsheet in the template's columns: imports back as the same plan."""
    actions = (
        Action.objects.filter(priority__plan=plan)
        .select_related("priority")
        .prefetch_related(Prefetch("metrics", Metric.objects.order_by("order", "pk")))
        .order_by("priority__number", "number")
    )
    return Sheet(
        f"Plan {plan.label}".replace("/", "-"),
        list(COLUMNS),
        [
            [
                action.priority.title,
                action.ref,
                action.description,
                action.lead_agencies,
                action.measure,
                action.outcome,
                metrics_text(action.metrics.all()),
            ]
            for action in actions
        ],
    )
