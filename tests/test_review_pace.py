"""Review at the manager's pace: how long each return has waited, Approve and open the
next (in the queue's filter and order), several returns approved at once after a page that
lists them, and the returns sent back and waiting on their agency."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import html

from actions import services
from actions.models import Action, Agency, QuarterlyReturn
from actions.states import days_waiting
from priorities.models import Quarter


def action(ref: str) -> Action:
    priority, number = (int(part) for part in ref.split("."))
    return Action.objects.get(
        priority__plan__financial_year=2022, priority__number=priority, number=number
    )


@pytest.fixture
def waiting(plan, davss_user):
    """DAVSS's returns for 1.1, 1.3 and 1.4 in Q4, submitted 9, 3 and 0 days ago."""
    Quarter.objects.filter(plan=plan, number=4).update(is_open=True)
    q4 = Quarter.objects.get(plan=plan, number=4)
    davss = Agency.objects.get(name="DAVSS")
    returns = []
    for ref, days in (("1.1", 9), ("1.3", 3), ("1.4", 0)):
        saved = services.save_return(
            davss_user,
            action(ref),
            davss,
            q4,
            values={},
            narrative="Done.",
            rag="green",
            rag_reason="",
            seen_version=None,
            submit=True,
        )
        QuarterlyReturn.objects.filter(pk=saved.pk).update(
            submitted_at=timezone.now() - datetime.timedelta(days=days, hours=1)
        )
        returns.append(QuarterlyReturn.objects.get(pk=saved.pk))
    return returns


def rows(response):
    page = html.fromstring(response.content.decode())
    return [
        [" ".join(cell.text_content().split()) for cell in row.xpath("./td")]
        for row in page.xpath("//table/tbody/tr")
    ]


def test_days_waiting_in_words():
    now = timezone.now()
    assert days_waiting(now - datetime.timedelta(hours=5), now) == "Less than a day"
    assert days_waiting(now - datetime.timedelta(days=1, hours=2), now) == "1 day"
    assert days_waiting(now - datetime.timedelta(days=12), now) == "12 days"
    assert days_waiting(None, now) == "–"


@pytest.mark.django_db
def test_the_queue_shows_how_long_each_return_has_waited(client, manager, waiting):
    client.force_login(manager)
    table = rows(client.get(reverse("review_queue")))
    assert [(row[0], row[-2]) for row in table] == [
        ("1.1", "9 days"),
        ("1.3", "3 days"),
        ("1.4", "Less than a day"),
    ]


@pytest.mark.django_db
def test_approve_and_open_the_next_walks_the_queue_in_its_order(client, manager, waiting):
    first, second, third = waiting
    client.force_login(manager)
    client.get(reverse("review_queue"), {"sort": "-submitted_at"})  # newest first: 1.4, 1.3, 1.1

    def approve_next(quarterly_return):
        return client.post(
            reverse("return_approve", args=[quarterly_return.pk]),
            {"version": quarterly_return.version, "next": "1"},
        )

    response = approve_next(third)
    assert response["Location"] == reverse("return_detail", args=[second.pk])
    response = approve_next(second)
    assert response["Location"] == reverse("return_detail", args=[first.pk])
    response = approve_next(first)
    assert response["Location"] == reverse("review_queue")  # nothing else waits
    assert set(QuarterlyReturn.objects.values_list("state", flat=True)) == {"approved"}


@pytest.mark.django_db
def test_approve_and_open_the_next_keeps_the_queues_filter(client, manager, waiting, plan):
    police = Agency.objects.get(name="Kent Police")
    led = Action.objects.filter(agencies=police, priority__plan=plan).first()
    other = services.save_return(
        manager, led, police, waiting[0].quarter,
        values={}, narrative="Done.", rag="green", rag_reason="", seen_version=None, submit=True,
    )  # fmt: skip
    client.force_login(manager)
    # Newest first, DAVSS only: 1.4, 1.3, 1.1 (Kent Police's, the newest, left out).
    client.get(
        reverse("review_queue"),
        {"agency": Agency.objects.get(name="DAVSS").pk, "sort": "-submitted_at"},
    )
    response = client.post(
        reverse("return_approve", args=[waiting[0].pk]),
        {"version": waiting[0].version, "next": "1"},
    )
    # The last of the filtered queue: back to its first, never to Kent Police's.
    assert response["Location"] == reverse("return_detail", args=[waiting[2].pk])
    assert response["Location"] != reverse("return_detail", args=[other.pk])


@pytest.mark.django_db
def test_several_returns_are_approved_after_a_page_that_lists_them(
    client, manager, waiting, davss_user
):
    first, second, third = waiting
    client.force_login(manager)
    response = client.post(reverse("bulk_approve"), {"returns": [first.pk, third.pk]})
    assert response.status_code == 200
    listed = rows(response)
    assert [row[0] for row in listed] == ["1.1", "1.4"]
    assert set(QuarterlyReturn.objects.values_list("state", flat=True)) == {"submitted"}

    # Meanwhile DAVSS recalls 1.4 and submits it again: a version the manager did not see.
    services.recall_return(davss_user, third, seen_version=None)
    third.refresh_from_db()
    services.submit_return(davss_user, third, seen_version=None)
    confirm = {
        "returns": [first.pk, third.pk],
        f"version_{first.pk}": first.version,
        f"version_{third.pk}": third.version,
        "confirm": "1",
    }
    response = client.post(reverse("bulk_approve"), confirm, follow=True)
    text = response.content.decode()
    assert "1 return approved: 1.1 DAVSS." in text
    assert "1.4 DAVSS was not approved" in text
    states = dict(QuarterlyReturn.objects.values_list("pk", "state"))
    assert (states[first.pk], states[second.pk], states[third.pk]) == (
        "approved",
        "submitted",
        "submitted",
    )


@pytest.mark.django_db
def test_bulk_approve_is_the_managers(client, davss_user, waiting):
    client.force_login(davss_user)
    response = client.post(
        reverse("bulk_approve"),
        {
            "returns": [waiting[0].pk],
            f"version_{waiting[0].pk}": waiting[0].version,
            "confirm": "1",
        },
    )
    assert response.status_code == 403
    assert QuarterlyReturn.objects.get(pk=waiting[0].pk).state == "submitted"


@pytest.mark.django_db
def test_returns_sent_back_and_waiting_on_their_agency(client, manager, waiting, davss_user):
    services.send_back(manager, waiting[0], comment="Add the figures", seen_version=None)
    QuarterlyReturn.objects.filter(pk=waiting[0].pk).update(
        reviewed_at=timezone.now() - datetime.timedelta(days=4, hours=1)
    )
    client.force_login(manager)
    table = rows(client.get(reverse("sent_back_list")))
    assert len(table) == 1
    assert (table[0][0], table[0][1], table[0][4], table[0][5]) == ("1.1", "DAVSS", "4 days", "0")
