"""Load the published plan, agencies, areas and crime table from the data files in fixtures/.

Every write goes through ``upsert``, which saves only what differs, so seeding twice
changes nothing: no new rows and no new history entries.
"""

import csv
import json
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction

from actions.models import Action, Agency, Metric
from crimestats import positions
from crimestats.models import Area, CountyPosition, CrimeFigure, CrimeType, PublishedYear
from priorities.models import Partnership, Plan, Priority, Quarter

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
PLAN_FILE = FIXTURES / "plan-2022-23.json"


def upsert(model, lookup: dict, values: dict):
    """Create or update one row by its natural key; save only when something changed."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        return model.objects.create(**lookup, **values), True
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save(update_fields=changed)
    return obj, bool(changed)


def read_csv(name: str) -> list[dict]:
    with open(FIXTURES / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_json(path: Path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


@transaction.atomic
def load_agencies() -> dict[str, Agency]:
    """The plan's agencies by name. Once they exist they are the manager's (people/): a
    second run adds the plan's names they lack but never takes away other names the manager
    added, and an agency the manager merged stands for the one it was merged into."""
    agencies = {}
    for row in read_json(FIXTURES / "agencies.json"):
        existing = Agency.objects.filter(name=row["name"]).select_related("merged_into").first()
        if existing and existing.merged_into_id:
            agencies[row["name"]] = existing.merged_into
            continue
        aliases = list(existing.aliases) if existing else []
        aliases += [alias for alias in row["aliases"] if alias not in aliases]
        agency, _ = upsert(
            Agency,
            {"name": row["name"]},
            {"short_name": row["short_name"], "kind": row["kind"], "aliases": aliases},
        )
        agencies[agency.name] = agency
    return agencies


def load_partnership(row: dict, agencies: dict[str, Agency]) -> Partnership:
    """The partnership, created with the file's details; once it exists its details are
    the manager's (the partnership page), so a second run changes nothing."""
    existing = Partnership.objects.filter(name=row["name"]).first()
    if existing is not None:
        return existing
    return Partnership.objects.create(
        name=row["name"],
        header_name=row["header_name"],
        home_area_code=row["home_area_code"],
        coordinating_agency=agencies[row["coordinating_agency"]],
        contact_name=row["contact_name"],
        contact_email=row["contact_email"],
    )


@transaction.atomic
def load_plan(path: Path = PLAN_FILE) -> Plan:
    data = read_json(path)
    agencies = load_agencies()
    partnership = load_partnership(data["partnership"], agencies)
    meta = data["plan"]
    plan, _ = upsert(
        Plan,
        {"partnership": partnership, "financial_year": meta["financial_year"]},
        {
            "title": meta["title"],
            "signed_off": date.fromisoformat(meta["signed_off"]),
            "assessment_start": date.fromisoformat(meta["assessment_start"]),
            "assessment_end": date.fromisoformat(meta["assessment_end"]),
            "return_due_days": meta["return_due_days"],
        },
    )
    if plan.state == Plan.State.DRAFT and meta["state"] != Plan.State.DRAFT:
        # The state is the manager's to change once the plan is loaded; set it only once.
        plan.state = meta["state"]
        plan.save(update_fields=["state"])
    for number in range(1, 5):
        if not Quarter.objects.filter(plan=plan, number=number).exists():
            Quarter.objects.create(plan=plan, number=number)

    priorities = {}
    for row in data["priorities"]:
        priority, _ = upsert(
            Priority,
            {"plan": plan, "number": row["number"]},
            {key: row[key] for key in ("title", "short_title", "rationale", "recommendation")},
        )
        priorities[priority.number] = priority

    for row in data["actions"]:
        priority_number, number = (int(part) for part in row["ref"].split("."))
        action, _ = upsert(
            Action,
            {"priority": priorities[priority_number], "number": number},
            {
                "description": row["description"],
                "lead_agencies": row["lead_agencies"],
                "all_partners": row["all_partners"],
                "measure": row["measure"],
                "outcome": row["outcome"],
            },
        )
        wanted = {agencies[name].pk for name in row["agencies"]}
        if set(action.agencies.values_list("pk", flat=True)) != wanted:
            action.agencies.set(wanted)
        for order, metric in enumerate(row["metrics"], start=1):
            upsert(
                Metric,
                {"action": action, "name": metric["name"]},
                {"kind": metric["kind"], "order": order},
            )
    return plan


@transaction.atomic
def load_crime_statistics() -> None:
    areas = {}
    for row in read_csv("areas.csv"):
        area, _ = upsert(
            Area,
            {"ons_code": row["ons_code"]},
            {"name": row["name"], "county": row["county"], "population": int(row["population"])},
        )
        areas[area.name] = area

    crime_types = {}
    for row in read_csv("crime_types.csv"):
        crime_type, _ = upsert(
            CrimeType,
            {"name": row["name"]},
            {
                "label": row["label"],
                "parent": crime_types[row["parent"]] if row["parent"] else None,
                "kind": row["kind"],
                "display_order": int(row["display_order"]),
                "notes": row["notes"],
            },
        )
        crime_types[crime_type.name] = crime_type

    for row in read_csv("crime_figures.csv"):
        upsert(
            CrimeFigure,
            {
                "area": areas[row["area"]],
                "crime_type": crime_types[row["crime_type"]],
                "year": int(row["year"]),
            },
            {"count": int(row["count"])},
        )

    # The strategic assessment's figures are published: the board reads them.
    for area_name, year in {
        (row["area"], int(row["year"])) for row in read_csv("crime_figures.csv")
    }:
        PublishedYear.objects.get_or_create(area=areas[area_name], year=year)

    for row in read_csv("county_positions.csv"):
        position, tied = positions.parse(row["position"])
        upsert(
            CountyPosition,
            {
                "area": areas[row["area"]],
                "crime_type": crime_types[row["crime_type"]],
                "year": int(row["year"]),
            },
            {"position": position, "tied": tied},
        )
