"""Publishing the plan: the Word document in the published plan's shape, the printable
page, and the public page, which shows a published plan signed out and never a return."""

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document
from lxml import html

from actions import services
from actions.models import Action, Agency
from priorities import publication
from priorities.models import Plan, Quarter

from .factories import PlanFactory

SEED = json.loads((Path(settings.BASE_DIR) / "fixtures" / "plan-2022-23.json").read_text())
NARRATIVE = "MARKER-NARRATIVE-7Q: the helpline took 412 calls from named clients."


def text_of(response) -> str:
    return " ".join(html.fromstring(response.content.decode()).text_content().split())


def word(client, plan) -> Document:
    response = client.get(reverse("plan_document", args=[plan.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="plan-2022-23.docx"'
    return Document(io.BytesIO(response.content))


@pytest.mark.django_db
def test_the_word_document_has_the_cover_crime_table_and_a_table_per_priority(
    client, davss_user, plan
):
    client.force_login(davss_user)
    document = word(client, plan)
    meta = SEED["plan"]
    assert document.core_properties.title == meta["title"]
    assert document.core_properties.subject == f"{meta['partnership']} plan 2022/23"
    assert document.core_properties.language == "en-GB"
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    assert paragraphs[:2] == [meta["partnership"], meta["title"]]
    assert "Community Safety Partnership sign-off: 17 February 2022" in paragraphs[2:5]
    for priority in SEED["priorities"]:
        for part in priority["rationale"].split("\n\n"):
            assert part.strip() in paragraphs
        assert priority["recommendation"] in paragraphs
    tables = [
        [[cell.text for cell in row.cells] for row in table.rows] for table in document.tables
    ]
    crime, *actions = tables
    assert crime[0][:5] == ["Crime type", "This year", "Last year", "% change", "Number change"]
    assert crime[1] == ["All crime", "7,679", "7,830", "-1.9%", "-151", "1", "1"]
    assert len(actions) == len(SEED["priorities"]) == 5
    for number, table in enumerate(actions, start=1):
        assert table[0] == ["Ref", "Action", "Lead agencies", "Measure", "Outcome"]
        expected = [
            [row["ref"], row["description"], row["lead_agencies"], row["measure"], row["outcome"]]
            for row in SEED["actions"]
            if row["ref"].split(".")[0] == str(number)
        ]
        assert table[1:] == expected
    assert NARRATIVE not in " ".join(paragraphs)


@pytest.mark.django_db
def test_the_printable_page_has_the_plan_and_the_print_button(client, board_member, plan):
    client.force_login(board_member)
    response = client.get(reverse("plan_printable", args=[plan.pk]))
    text = text_of(response)
    assert "Print this plan" in text
    assert "Priority 1: Domestic Abuse" in text
    assert SEED["actions"][0]["description"] in text
    assert "All crime 7,679 7,830 -1.9% -151 1 1" in text


@pytest.mark.django_db
def test_a_draft_is_the_managers_until_sent_for_sign_off(client, davss_user, manager, plan):
    draft = PlanFactory(partnership=plan.partnership, financial_year=2023)
    client.force_login(davss_user)
    assert client.get(reverse("plan_document", args=[draft.pk])).status_code == 404
    assert client.get(reverse("plan_printable", args=[draft.pk])).status_code == 404
    client.force_login(manager)
    assert client.get(reverse("plan_printable", args=[draft.pk])).status_code == 200


@pytest.fixture
def approved_return(davss_user, manager, plan):
    """An approved DAVSS return with a narrative and a figure: never on the public page."""
    quarter = Quarter.objects.get(plan=plan, number=1)
    Quarter.objects.filter(pk=quarter.pk).update(is_open=True)
    quarter.refresh_from_db()
    action = Action.objects.get(priority__plan=plan, priority__number=1, number=1)
    metric = action.metrics.order_by("order").first()
    saved = services.save_return(
        davss_user,
        action,
        Agency.objects.get(name="DAVSS"),
        quarter,
        values={str(metric.pk): 98765},
        narrative=NARRATIVE,
        rag="amber",
        rag_reason="Waiting list growing",
        seen_version=None,
        submit=True,
    )
    return services.approve_return(manager, saved, seen_version=None)


@pytest.mark.django_db
def test_the_public_page_shows_the_published_plan_signed_out_and_no_return(
    client, manager, davss_user, plan, approved_return
):
    assert client.get(reverse("public_plan")).status_code == 404  # nothing published yet
    client.force_login(manager)
    assert text_of(client.get(reverse("plan_publication", args=[plan.pk]))).count(
        "Publish the plan"
    )
    response = client.post(reverse("plan_publish", args=[plan.pk]), follow=True)
    assert "is published" in text_of(response)
    plan.refresh_from_db()
    assert plan.published_at is not None
    assert plan.history.first().history_user == manager
    client.logout()

    for url in (reverse("public_plan"), reverse("public_plan_year", args=[2022])):
        response = client.get(url)
        assert response.status_code == 200
        text = text_of(response)
        assert SEED["plan"]["title"] in text
        assert "Partnership sign-off 17 February 2022" in text
        assert "All crime 7,679 7,830" in text
        for row in SEED["actions"]:
            assert " ".join(row["description"].split()) in text
        content = response.content.decode()
        for secret in (
            NARRATIVE,
            "MARKER-NARRATIVE",
            "98765",
            "98,765",
            "Waiting list growing",
            "Amber",
            davss_user.username,
            davss_user.get_full_name(),
            manager.get_full_name(),
            "/returns/",
            "Sign out",
        ):
            assert secret not in content, secret

    client.force_login(manager)
    client.post(reverse("plan_unpublish", args=[plan.pk]))
    client.logout()
    assert client.get(reverse("public_plan")).status_code == 404
    assert client.get(reverse("public_plan_year", args=[2022])).status_code == 404


@pytest.mark.django_db
def test_only_an_active_or_closed_plan_is_published(manager, plan):
    draft = PlanFactory(partnership=plan.partnership, financial_year=2023)
    with pytest.raises(publication.PublicationError, match="only an active or closed plan"):
        publication.publish(manager, draft)
    Plan.objects.filter(pk=plan.pk).update(state=Plan.State.CLOSED)
    assert publication.publish(manager, plan).published_at is not None
    with pytest.raises(publication.PublicationError, match="already published"):
        publication.publish(manager, plan)
    assert publication.unpublish(manager, plan).published_at is None
    with pytest.raises(publication.PublicationError, match="not published"):
        publication.unpublish(manager, plan)


@pytest.mark.django_db
def test_only_the_manager_publishes(davss_user, plan):
    with pytest.raises(publication.PublicationError, match="Only the community safety manager"):
        publication.publish(davss_user, plan)
    plan.refresh_from_db()
    assert plan.published_at is None


@pytest.mark.django_db
def test_the_public_page_runs_the_same_queries_however_long_the_plan(client, manager, plan):
    publication.publish(manager, plan)
    address = reverse("public_plan")
    client.get(address)
    with CaptureQueriesContext(connection) as before:
        client.get(address)
    priority = plan.priorities.get(number=1)
    for number in range(50, 70):
        Action.objects.create(
            priority=priority, number=number, description=f"Extra {number}", measure="M"
        )
    with CaptureQueriesContext(connection) as after:
        response = client.get(address)
    assert "Extra 69" in text_of(response)
    assert len(after) == len(before) <= 10
