"""The conversation on a return: comments between the agency's users and the manager,
e-mailed to the other side, and figures the manager marks for follow-up, which clear when
the agency answers (a comment, or the figure changed and the return resubmitted). The board
and other agencies see none of it (404)."""

import pytest
from django.urls import reverse
from lxml import html

from actions import services
from actions.models import Action, Agency
from priorities.models import Quarter
from review import services as review_services
from review.models import FollowUp, ReturnComment

from .mail_servers import deliver_queued_mail


def action(ref: str) -> Action:
    priority, number = (int(part) for part in ref.split("."))
    return Action.objects.get(
        priority__plan__financial_year=2022, priority__number=priority, number=number
    )


@pytest.fixture
def submitted(plan, davss_user):
    Quarter.objects.filter(plan=plan, number=4).update(is_open=True)
    helpline = action("1.1")
    values = {str(metric.pk): 7 for metric in helpline.metrics.all()}
    return services.save_return(
        davss_user,
        helpline,
        Agency.objects.get(name="DAVSS"),
        Quarter.objects.get(plan=plan, number=4),
        values=values,
        narrative="Helpline staffed.",
        rag="green",
        rag_reason="",
        seen_version=None,
        submit=True,
    )


def first_metric(quarterly_return):
    return quarterly_return.action.metrics.order_by("order", "pk").first()


@pytest.mark.django_db
def test_each_comment_is_emailed_to_the_other_side(client, submitted, davss_user, manager):
    davss_user.email, manager.email = "natalie@davss.example", "manager@twbc.example"
    davss_user.save()
    manager.save()
    client.force_login(manager)
    response = client.post(
        reverse("comment_create", args=[submitted.pk]), {"text": "Why only 7 calls?"}
    )
    assert response.status_code == 302
    client.force_login(davss_user)
    client.post(reverse("comment_create", args=[submitted.pk]), {"text": "The line was down."})
    sent = deliver_queued_mail()
    assert [(message.to, "Why only 7 calls?" in message.body) for message in sent] == [
        (["natalie@davss.example"], True),
        (["manager@twbc.example"], False),
    ]
    assert "The line was down." in sent[1].body
    page = client.get(reverse("return_detail", args=[submitted.pk])).content.decode()
    assert page.index("Why only 7 calls?") < page.index("The line was down.")


@pytest.mark.django_db
def test_the_board_and_other_agencies_see_none_of_it(
    client, submitted, davss_user, police_user, board_member, manager
):
    review_services.add_comment(manager, submitted, "Why only 7 calls?")
    follow_up = review_services.raise_follow_up(
        manager, submitted, first_metric(submitted), "Check the helpline figure"
    )
    services.approve_return(manager, submitted, seen_version=None)
    conversation = reverse("return_conversation", args=[submitted.pk])
    for user in (police_user, board_member):
        client.force_login(user)
        assert client.get(conversation).status_code == 404
    client.force_login(police_user)
    response = client.post(reverse("comment_create", args=[submitted.pk]), {"text": "Hello"})
    assert response.status_code == 404
    assert (
        not police_user.is_manager and "Check the helpline" not in client.get("/").content.decode()
    )
    client.force_login(board_member)
    page = client.get(reverse("return_detail", args=[submitted.pk]))
    assert page.status_code == 200  # approved: the board reads the return …
    assert "Why only 7 calls?" not in page.content.decode()  # … but not the conversation
    assert "Check the helpline figure" not in page.content.decode()
    assert (
        client.post(reverse("comment_create", args=[submitted.pk]), {"text": "Hi"}).status_code
        == 403
    )
    assert ReturnComment.objects.count() == 1
    assert FollowUp.objects.visible_to(board_member).count() == 0
    assert FollowUp.objects.visible_to(police_user).count() == 0
    assert list(FollowUp.objects.visible_to(davss_user)) == [follow_up]


@pytest.mark.django_db
def test_a_refused_comment_keeps_what_was_typed(client, submitted, davss_user):
    client.force_login(davss_user)
    response = client.post(
        reverse("comment_create", args=[submitted.pk]), {"text": "Figures\x0bfrom Word"}
    )
    assert response.status_code == 200
    page = html.fromstring(response.content.decode())
    assert "hidden character" in page.xpath('//p[@id="id_text_error"]')[0].text_content()
    assert page.xpath('//textarea[@id="id_text"]')[0].text == "Figures\x0bfrom Word"
    assert not ReturnComment.objects.exists()


@pytest.mark.django_db
def test_a_follow_up_shows_on_the_partners_home_and_form_until_answered_in_a_comment(
    client, submitted, davss_user, manager
):
    metric = first_metric(submitted)
    client.force_login(manager)
    response = client.post(
        reverse("follow_up_create", args=[submitted.pk]),
        {"metric": metric.pk, "note": "7 looks low against 77 last quarter"},
    )
    assert response.status_code == 302
    services.send_back(manager, submitted, comment="See the follow-up", seen_version=None)
    client.force_login(davss_user)
    home = client.get("/").content.decode()
    assert "Figures to follow up" in home and metric.name in home
    form_page = client.get(
        reverse(
            "return_edit", args=[submitted.quarter_id, submitted.action_id, submitted.agency_id]
        )
    ).content.decode()
    assert "7 looks low against 77 last quarter" in form_page
    client.post(reverse("comment_create", args=[submitted.pk]), {"text": "It is right: 7."})
    follow_up = FollowUp.objects.get()
    assert (follow_up.answer, follow_up.cleared_by) == ("comment", davss_user)
    assert "Figures to follow up" not in client.get("/").content.decode()


@pytest.mark.django_db
def test_resubmitting_a_changed_figure_clears_its_follow_up_and_only_that_one(
    submitted, davss_user, manager
):
    first, second = list(submitted.action.metrics.order_by("order", "pk"))[:2]
    review_services.raise_follow_up(manager, submitted, first, "Is 7 right?")
    review_services.raise_follow_up(manager, submitted, second, "And this one?")
    services.send_back(manager, submitted, comment="See the follow-ups", seen_version=None)
    submitted.refresh_from_db()
    values = dict(submitted.values) | {str(first.pk): 77}
    services.save_return(
        davss_user,
        submitted.action,
        submitted.agency,
        submitted.quarter,
        values=values,
        narrative=submitted.narrative,
        rag=submitted.rag,
        rag_reason="",
        seen_version=None,
        submit=False,
    )
    assert FollowUp.objects.open().count() == 2  # a draft saved is not an answer yet
    submitted.refresh_from_db()
    services.submit_return(davss_user, submitted, seen_version=None)
    cleared = FollowUp.objects.get(metric=first)
    assert (cleared.answer, cleared.cleared_by) == ("changed", davss_user)
    assert list(FollowUp.objects.open().values_list("metric", flat=True)) == [second.pk]


@pytest.mark.django_db
def test_only_the_manager_marks_a_figure_and_only_once(client, submitted, davss_user, manager):
    metric = first_metric(submitted)
    client.force_login(davss_user)
    assert (
        client.post(
            reverse("follow_up_create", args=[submitted.pk]), {"metric": metric.pk, "note": "x"}
        ).status_code
        == 403
    )
    client.force_login(manager)
    address = reverse("follow_up_create", args=[submitted.pk])
    client.post(address, {"metric": metric.pk, "note": "Is 7 right?"})
    response = client.post(address, {"metric": metric.pk, "note": "Again"})
    assert response.status_code == 200
    assert "already marked for follow-up" in response.content.decode()
    other = action("1.3").metrics.first()
    response = client.post(address, {"metric": other.pk, "note": "Not this return's"})
    assert "Choose a figure of this return" in response.content.decode()
    assert FollowUp.objects.count() == 1
