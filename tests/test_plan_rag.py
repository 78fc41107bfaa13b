"""The action plan's RAG column and filter: the worst approved RAG of the reporting quarter
(the latest closed) or the quarter picked; nothing unapproved shows, and a partner sees only
the RAG statuses of returns they may open."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import Action, Agency, QuarterlyReturn
from priorities.models import Quarter


def action(ref):
    priority, number = (int(part) for part in ref.split("."))
    return Action.objects.get(
        priority__plan__financial_year=2022, priority__number=priority, number=number
    )


def report(ref, agency_name, quarter_number, rag, state="approved"):
    return QuarterlyReturn.objects.create(
        action=action(ref),
        agency=Agency.objects.get(name=agency_name),
        quarter=Quarter.objects.get(plan__financial_year=2022, number=quarter_number),
        rag=rag,
        state=state,
    )


def exported_rag(client) -> dict[str, str]:
    response = client.get(reverse("plan"), {"_export": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header = rows[0]
    return {row[0]: row[header.index("RAG status")] for row in rows[1:]}


def as_in_the_demo():
    """Q1 to Q3 closed, Q4 open: the reporting quarter is Q3."""
    Quarter.objects.filter(plan__financial_year=2022, number__lte=3).update(
        is_open=False, closed_at=timezone.now()
    )
    Quarter.objects.filter(plan__financial_year=2022, number=4).update(is_open=True)


@pytest.fixture
def reported(db):
    as_in_the_demo()
    report("1.1", "DAVSS", 2, "red")  # an older quarter: superseded by Q3
    report("1.1", "DAVSS", 3, "green")
    report("1.3", "DAVSS", 3, "green")
    report("1.3", "Look Ahead", 3, "amber")  # two leads: the worst shows
    report("1.4", "DAVSS", 3, "red", state="submitted")  # not approved: never shown


@pytest.mark.django_db
def test_plan_shows_the_worst_approved_rag_of_the_reporting_quarter(client, board_member, reported):
    client.force_login(board_member)
    rag = exported_rag(client)
    assert (rag["1.1"], rag["1.3"], rag["1.4"], rag["2.1"]) == (
        "Green",
        "Amber",
        "No approved return yet",
        "No approved return yet",
    )
    page = client.get(reverse("plan")).content.decode()
    assert "RAG status (Q3 2022/23)" in page
    assert "worst approved RAG status for Q3 2022/23" in page


@pytest.mark.django_db
def test_an_early_approval_moves_nothing_and_the_picker_shows_another_quarter(
    client, board_member, reported
):
    report("1.1", "DAVSS", 4, "amber")  # approved early, in the open quarter
    client.force_login(board_member)
    assert exported_rag(client)["1.1"] == "Green"  # still Q3
    page = client.get(reverse("plan")).content.decode()
    assert '<option value="3" selected>' in page
    response = client.get(reverse("plan"), {"quarter": "2", "_export": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {row[0]: row[-1] for row in rows[1:]}["1.1"] == "Red"
    response = client.get(reverse("plan"), {"quarter": "4", "_export": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {row[0]: row[-1] for row in rows[1:]}["1.1"] == "Amber"


@pytest.mark.django_db
@pytest.mark.parametrize(("rag", "refs"), [("amber", ["1.3"]), ("green", ["1.1"]), ("red", [])])
def test_plan_filters_by_rag(client, board_member, reported, rag, refs):
    client.force_login(board_member)
    response = client.get(reverse("plan"), {"rag": rag, "_export": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == refs


@pytest.mark.django_db
def test_a_bad_rag_filter_is_a_page_not_an_error(client, board_member, reported):
    client.force_login(board_member)
    response = client.get(reverse("plan"), {"rag": "purple"})
    assert response.status_code == 200


@pytest.fixture
def across_agencies(db):
    as_in_the_demo()
    report("1.1", "DAVSS", 3, "green")
    report("2.7", "Kent Police", 3, "amber")  # Kent Police alone leads 2.7
    report("1.6", "Kent Police", 3, "green")  # 1.6: Look Ahead and Kent Police
    report("1.6", "Look Ahead", 3, "red")


@pytest.mark.django_db
def test_a_partner_sees_the_rag_of_their_own_agencies_returns_only(
    client, davss_user, police_user, board_member, across_agencies
):
    """Kent Police's returns give DAVSS a 404, so the plan does not show DAVSS their RAG
    status either: in the column, in its downloads, or through the filter."""
    client.force_login(davss_user)
    rag = exported_rag(client)
    assert (rag["1.1"], rag["2.7"], rag["1.6"]) == (
        "Green",
        "No approved return you can see",
        "No approved return you can see",
    )
    police = Agency.objects.get(name="Kent Police").pk
    for filters, refs in [
        ({"agency": police, "rag": "amber"}, []),
        ({"rag": "amber"}, []),
        ({"rag": "red"}, []),
        ({"rag": "green"}, ["1.1"]),
    ]:
        response = client.get(reverse("plan"), {**filters, "_export": "csv"})
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [row[0] for row in rows[1:]] == refs, filters
    page = client.get(reverse("plan")).content.decode()
    assert "The RAG status column shows your own agencies' approved returns." in page
    assert '<td class="govuk-table__cell">No approved return you can see</td>' in page

    # Kent Police's partner reads Kent Police's (on 1.6 its green: Look Ahead's red is not
    # theirs to see); the board reads every approved one, the worst of two on 1.6.
    client.force_login(police_user)
    rag = exported_rag(client)
    assert (rag["1.1"], rag["2.7"], rag["1.6"]) == (
        "No approved return you can see",
        "Amber",
        "Green",
    )
    client.force_login(board_member)
    rag = exported_rag(client)
    assert (rag["1.1"], rag["2.7"], rag["1.6"]) == ("Green", "Amber", "Red")
    assert "The RAG status column shows" not in client.get(reverse("plan")).content.decode()
