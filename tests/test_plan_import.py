"""Importing a plan from a spreadsheet: read → preview (resolve names) → confirm, into a
draft only; a file with row errors is refused whole; the same file twice changes nothing;
a plan's own spreadsheet imports back as the same plan."""

import csv
import io

import pytest
from django.urls import reverse
from lxml import html
from openpyxl import load_workbook

from actions.models import Action, Agency, Metric
from priorities import plan_import
from priorities.models import Plan, PlanImport, Priority

from .factories import PlanFactory

PRIORITY = "Serious Violence"
# Ten actions; "Borough Youth Forum" and "Night Guardians" are no agency's name or alias.
ROWS = [
    [PRIORITY, "6.1", "Map violence hotspots with partners.", "Kent Police", "Hotspots mapped.",
     "Fewer assaults.", "Hotspots mapped; Patrols run"],
    [PRIORITY, "6.2", "Run weapons awareness sessions in schools.", "Kent Police, Kenward Trust",
     "Sessions delivered.", "", "Sessions delivered; Pupils reached"],
    [PRIORITY, "6.3", "Fund youth diversion activities.", "Borough Youth Forum",
     "Activities funded.", "", "Activities run"],
    [PRIORITY, "6.4", "Provide night-time welfare support.", "Street Pastors and Night Guardians",
     "Nights covered.", "", "Nights covered; People helped"],
    [PRIORITY, "6.5", "Share intelligence at monthly meetings.", "All partners",
     "Meetings held.", "", "Meetings attended (yes or no)"],
    [PRIORITY, "6.6", "Review licensed premises after incidents.", "TWBC Licensing",
     "Reviews completed.", "", "Reviews completed"],
    [PRIORITY, "6.7", "Deploy CCTV to hotspots.", "CCTV Ops", "Deployments made.", "",
     "Deployments"],
    [PRIORITY, "6.8", "Refer young people at risk to early help.", "KCC Early Help",
     "Referrals made.", "", "Referrals"],
    [PRIORITY, "6.9", "Publicise safe reporting routes.", "TWBC Communications",
     "Campaigns run.", "", "Campaigns run; What was published (text)"],
    [PRIORITY, "6.10", "Evaluate the year's work.", "TWBC CST", "Evaluation presented.",
     "A plan for next year.", "Evaluation presented (yes or no)"],
]  # fmt: skip


@pytest.fixture
def draft(plan):
    return PlanFactory(partnership=plan.partnership, financial_year=2023, title="Plan 2023-24")


def template_workbook(client):
    response = client.get(reverse("plan_import_template"), {"format": "xlsx"})
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


def xlsx_file(client, rows, name="priority-6.xlsx"):
    """The downloaded template, filled in (a real .xlsx as Excel would save it)."""
    workbook = template_workbook(client)
    sheet = workbook["Plan"]
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = name
    return buffer


def csv_file(rows, name="plan.csv"):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(plan_import.COLUMNS)
    writer.writerows(rows)
    buffer = io.BytesIO(text.getvalue().encode())
    buffer.name = name
    return buffer


def upload(client, plan, handle):
    handle.seek(0)
    return client.post(reverse("plan_import_upload", args=[plan.pk]), {"file": handle})


def text_of(response) -> str:
    return " ".join(html.fromstring(response.content.decode()).text_content().split())


@pytest.mark.django_db
def test_the_template_has_the_columns_and_says_how_to_fill_them(client, manager):
    client.force_login(manager)
    workbook = template_workbook(client)
    assert [cell.value for cell in workbook["Plan"][1]] == list(plan_import.COLUMNS)
    notes = {row[0]: row[1] for row in workbook["How to fill in"].iter_rows(values_only=True)}
    assert "(yes or no)" in notes["Metrics"] and "semicolons" in notes["Metrics"]
    response = client.get(reverse("plan_import_template"), {"format": "csv"})
    assert response.content.decode("utf-8-sig").strip() == ",".join(plan_import.COLUMNS)


@pytest.mark.django_db
def test_manager_imports_ten_actions_resolving_two_names(client, manager, draft):
    client.force_login(manager)
    kenward = Agency.objects.get(name="Kenward Trust")
    response = upload(client, draft, xlsx_file(client, ROWS))
    pending = PlanImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("plan_import_pending", args=[pending.pk])
    assert not Priority.objects.filter(plan=draft).exists()  # nothing saved before Confirm

    page = client.get(response["Location"])
    text = text_of(page)
    assert f"Priority 6: {PRIORITY}" in text
    for row in ROWS:
        assert row[2] in text
    assert "adds 10 actions" in text
    assert "“Borough Youth Forum”" in text and "“Night Guardians”" in text
    assert page.context["form"].names[0][1] == {"name": "Borough Youth Forum", "refs": ["6.3"]}
    resolved = {a["ref"]: a["agency_names"] for a in page.context["preview"]["changes"]["actions"]}
    assert resolved["6.2"] == ["Kent Police", "Kenward Trust"]
    assert resolved["6.7"] == ["TWBC CCTV"]  # by alias

    # A choice that is no agency: the error beside the field, nothing saved.
    refused = client.post(
        reverse("plan_import_confirm", args=[pending.pk]), {"name_0": "999999", "name_1": "new"}
    )
    assert refused.status_code == 200
    assert "Choose an agency from the list" in text_of(refused)
    assert not Priority.objects.filter(plan=draft).exists()

    response = client.post(
        reverse("plan_import_confirm", args=[pending.pk]),
        {"name_0": str(kenward.pk), "name_1": "new"},
    )
    assert response.status_code == 302
    assert not PlanImport.objects.exists()
    priority = Priority.objects.get(plan=draft)
    assert (priority.number, priority.title) == (6, PRIORITY)
    actions = {action.ref: action for action in Action.objects.filter(priority=priority)}
    assert sorted(actions, key=lambda ref: int(ref.split(".")[1])) == [r[1] for r in ROWS]
    assert actions["6.10"].outcome == "A plan for next year."
    assert [(m.name, m.kind) for m in actions["6.9"].metrics.order_by("order")] == [
        ("Campaigns run", Metric.Kind.COUNT),
        ("What was published", Metric.Kind.TEXT),
    ]
    assert actions["6.5"].all_partners and not actions["6.1"].all_partners
    assert list(actions["6.3"].agencies.all()) == [kenward]
    kenward.refresh_from_db()
    assert "Borough Youth Forum" in kenward.aliases  # resolves by alias next time
    guardians = Agency.objects.get(name="Night Guardians")
    assert set(actions["6.4"].agencies.values_list("name", flat=True)) == {
        "Street Pastors",
        "Night Guardians",
    }
    assert guardians.history.count() == 1
    assert {record.history_user for record in actions["6.1"].history.all()} == {manager}

    # The same file again changes nothing: no waiting import, no new row or history.
    counts = (Action.history.count(), Metric.history.count(), Agency.history.count())
    again = upload(client, draft, xlsx_file(client, ROWS))
    assert again.status_code == 200
    assert "Nothing to change" in text_of(again)
    assert not PlanImport.objects.exists()
    assert (Action.history.count(), Metric.history.count(), Agency.history.count()) == counts


@pytest.mark.django_db
def test_a_name_kept_as_printed_stays_printed_and_the_file_still_changes_nothing(
    client, manager, draft
):
    client.force_login(manager)
    upload(client, draft, csv_file(ROWS[2:4]))
    pending = PlanImport.objects.get()
    client.post(reverse("plan_import_confirm", args=[pending.pk]), {})  # both kept
    action = Action.objects.get(priority__plan=draft, number=3)
    assert action.lead_agencies == "Borough Youth Forum"
    assert not action.agencies.exists()
    assert not Agency.objects.filter(name="Night Guardians").exists()
    again = upload(client, draft, csv_file(ROWS[2:4]))
    assert "Nothing to change" in text_of(again)
    assert not PlanImport.objects.exists()


@pytest.mark.django_db
def test_row_errors_refuse_the_whole_file(client, manager, draft):
    client.force_login(manager)
    rows = [
        *ROWS[:3],
        [PRIORITY, "six", "Bad ref.", "Kent Police", "Measured.", "", ""],
        [PRIORITY, "6.4", "No measure.", "Kent Police", "", "", "Calls (per hour)"],
        ["Another title", "6.5", "Title differs.", "Kent Police", "Measured.", "", ""],
        [PRIORITY, "6.1", "Duplicate ref.", "Kent Police", "Measured.", "", ""],
    ]
    response = upload(client, draft, xlsx_file(client, rows))
    assert response.status_code == 200
    errors = response.context["preview"]["errors"]
    assert errors == [
        "Row 5: Ref “six” is not like 1.1 (priority.action)",
        "Row 6 (6.4): Measure is empty",
        "Row 6 (6.4): metric “Calls (per hour)” has the kind “per hour”; use one of count, "
        "percentage, money (£), yes or no, text",
        f"Row 7 (6.5): Priority “Another title” differs from “{PRIORITY}” on an earlier row of "
        "priority 6",
        "Row 8: Ref 6.1 is also on row 2",
    ]
    assert "The file was refused: 5 errors" in text_of(response)
    assert not PlanImport.objects.exists()
    assert not Priority.objects.filter(plan=draft).exists()


@pytest.mark.django_db
def test_a_file_without_the_columns_is_refused_beside_the_field(client, manager, draft):
    client.force_login(manager)
    handle = io.BytesIO(b"Name,Value\nA,1\n")
    handle.name = "other.csv"
    response = upload(client, draft, handle)
    assert response.status_code == 200
    assert "has no table with the template" in str(response.context["form"].errors["file"])
    handle = io.BytesIO(b"\x00\x01binary")
    handle.name = "plan.pdf"
    response = upload(client, draft, handle)
    assert "is not an .xlsx or .csv file" in str(response.context["form"].errors["file"])
    assert not PlanImport.objects.exists()


@pytest.mark.django_db
def test_only_a_draft_takes_an_import(client, manager, plan):
    client.force_login(manager)
    assert plan.state == Plan.State.ACTIVE
    before = Action.objects.filter(priority__plan=plan).count()
    response = upload(client, plan, xlsx_file(client, ROWS))
    assert response.status_code == 200
    assert "only be imported into a draft plan" in str(response.context["form"].errors["file"])
    assert not PlanImport.objects.exists()
    assert Action.objects.filter(priority__plan=plan).count() == before


@pytest.mark.django_db
def test_a_plan_that_left_draft_is_not_changed_by_its_waiting_import(client, manager, draft):
    client.force_login(manager)
    upload(client, draft, csv_file(ROWS[:2]))
    Plan.objects.filter(pk=draft.pk).update(state=Plan.State.AWAITING_SIGN_OFF)
    response = client.post(reverse("plan_import_confirm", args=[PlanImport.objects.get().pk]))
    assert response.status_code == 302
    assert not Priority.objects.filter(plan=draft).exists()


@pytest.mark.django_db
def test_another_managers_waiting_import_is_a_404(client, manager, admin_user, draft):
    client.force_login(manager)
    upload(client, draft, csv_file(ROWS[:2]))
    pending = PlanImport.objects.get()
    client.force_login(admin_user)
    assert client.get(reverse("plan_import_pending", args=[pending.pk])).status_code == 404
    assert client.post(reverse("plan_import_confirm", args=[pending.pk])).status_code == 404
    assert client.post(reverse("plan_import_discard", args=[pending.pk])).status_code == 404
    assert PlanImport.objects.filter(pk=pending.pk).exists()
    assert not Priority.objects.filter(plan=draft).exists()


def plan_contents(plan):
    return [
        (
            action.priority.number,
            action.priority.title,
            action.ref,
            action.description,
            action.lead_agencies,
            action.measure,
            action.outcome,
            action.all_partners,
            [(m.name, m.kind, m.order) for m in action.metrics.order_by("order")],
        )
        for action in Action.objects.filter(priority__plan=plan).order_by(
            "priority__number", "number"
        )
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("export_format", ["xlsx", "csv"])
def test_a_plans_spreadsheet_imports_back_as_the_same_plan(
    client, manager, plan, draft, export_format
):
    client.force_login(manager)
    exported = client.get(reverse("plan_spreadsheet", args=[plan.pk]), {"format": export_format})
    assert exported.status_code == 200
    handle = io.BytesIO(exported.content)
    handle.name = f"plan-2022-23.{export_format}"
    response = upload(client, draft, handle)
    assert response.status_code == 302, response.context and response.context["preview"]["errors"]
    pending = PlanImport.objects.get()
    # Names no agency has are kept as printed, as the published plan prints them.
    client.post(reverse("plan_import_confirm", args=[pending.pk]), {})
    assert plan_contents(draft) == plan_contents(plan)
    again = client.get(reverse("plan_spreadsheet", args=[draft.pk]), {"format": "csv"})
    original = client.get(reverse("plan_spreadsheet", args=[plan.pk]), {"format": "csv"})
    assert again.content == original.content
    # And the draft's own spreadsheet imports back into it changing nothing.
    handle = io.BytesIO(again.content)
    handle.name = "plan-2023-24.csv"
    assert "Nothing to change" in text_of(upload(client, draft, handle))


@pytest.mark.django_db
def test_a_reworded_file_changes_and_removes_within_its_priorities_only(client, manager, draft):
    client.force_login(manager)
    other = Priority.objects.create(plan=draft, number=1, title="Kept", short_title="Kept")
    upload(client, draft, csv_file(ROWS[:3]))
    client.post(reverse("plan_import_confirm", args=[PlanImport.objects.get().pk]), {})
    reworded = [[*ROWS[0][:4], "Hotspots mapped monthly.", *ROWS[0][5:6], "Patrols run"], ROWS[1]]
    response = upload(client, draft, csv_file(reworded))
    preview = client.get(response["Location"]).context["preview"]["changes"]
    assert preview["counts"] == {"new": 0, "changed": 1, "unchanged": 1, "removed": 1}
    client.post(reverse("plan_import_confirm", args=[PlanImport.objects.get().pk]), {})
    actions = Action.objects.filter(priority__plan=draft, priority__number=6)
    assert sorted(actions.values_list("number", flat=True)) == [1, 2]
    first = actions.get(number=1)
    assert first.measure == "Hotspots mapped monthly."
    assert list(first.metrics.values_list("name", flat=True)) == ["Patrols run"]
    assert Priority.objects.filter(pk=other.pk).exists()


@pytest.mark.django_db
def test_a_spreadsheet_reaching_past_the_limits_is_refused_before_it_is_read(
    client, manager, draft
):
    """The crime imports' bounded reader: one cell at XFD1048576 would make the reader ask
    for 512 GB; it is refused from the file's XML, beside the field, and nothing is kept."""
    client.force_login(manager)
    workbook = template_workbook(client)
    workbook["Plan"].append(ROWS[0])
    workbook["Plan"]["XFD1048576"] = "far"
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.name = "far.xlsx"
    response = upload(client, draft, buffer)
    assert response.status_code == 200
    assert "far.xlsx" in str(response.context["form"].errors["file"])
    assert "250,000 rows" in str(response.context["form"].errors["file"])
    assert not PlanImport.objects.exists()
