"""The record of death reviews: the rules for state and due dates, the manager's forms,
who reads a review's record (and that every view is on the audit log), and the overdue
steps on the manager's home."""

import datetime
import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import Agency
from deathreviews import rules, services
from deathreviews.forms import RecommendationForm, ReviewActionForm, ReviewForm
from deathreviews.models import ProgressUpdate, Recommendation, Review, ReviewAction, Theme
from deathreviews.rules import ReviewState
from priorities.models import Partnership, Quarter

from .factories import UserFactory

D = datetime.date


def make_review(**dates) -> Review:
    values = {
        "reference": "DARDR 2024/01",
        "pseudonym": "Adult A",
        "notified_on": D(2024, 1, 31),
    } | dates
    return Review.objects.create(partnership=Partnership.objects.deployed(), **values)


def review(**dates) -> Review:
    """An unsaved review, for the rules."""
    return Review(notified_on=dates.pop("notified_on", D(2024, 1, 31)), **dates)


HELD = {"decision": Review.Decision.HOLD, "decision_on": D(2024, 2, 20)}


# Rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "state"),
    [
        ({}, ReviewState.AWAITING_DECISION),
        (
            {"decision": Review.Decision.NOT_HOLD, "decision_on": D(2024, 2, 1)},
            ReviewState.NOT_HELD,
        ),
        (HELD, ReviewState.PANEL_TO_CONVENE),
        (HELD | {"panel_convened_on": D(2024, 3, 1)}, ReviewState.UNDER_WAY),
        (
            HELD | {"panel_convened_on": D(2024, 3, 1), "sent_to_qa_panel_on": D(2024, 8, 1)},
            ReviewState.WITH_QA_PANEL,
        ),
        (
            HELD
            | {
                "panel_convened_on": D(2024, 3, 1),
                "sent_to_qa_panel_on": D(2024, 8, 1),
                "qa_outcome": Review.QaOutcome.RESUBMIT,
                "qa_outcome_on": D(2024, 10, 1),
            },
            ReviewState.REVISING,
        ),
        (
            HELD
            | {
                "panel_convened_on": D(2024, 3, 1),
                "sent_to_qa_panel_on": D(2024, 8, 1),
                "qa_outcome": Review.QaOutcome.ACCEPTED,
                "qa_outcome_on": D(2024, 10, 1),
            },
            ReviewState.ACCEPTED,
        ),
        (
            HELD
            | {
                "panel_convened_on": D(2024, 3, 1),
                "sent_to_qa_panel_on": D(2024, 8, 1),
                "qa_outcome": Review.QaOutcome.ACCEPTED,
                "qa_outcome_on": D(2024, 10, 1),
                "sent_to_commissioner_on": D(2024, 8, 1),
                "published_on": D(2024, 11, 1),
            },
            ReviewState.PUBLISHED,
        ),
    ],
)
def test_state_follows_the_dates(dates, state):
    assert rules.review_state(review(**dates)) == state
    assert rules.review_state(review(**dates)).label == rules.STATE_LABELS[state]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap year
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2024, 8, 31), 6, D(2025, 2, 28)),  # across the year end
        (D(2024, 3, 15), 1, D(2024, 4, 15)),
        (D(2024, 12, 31), 1, D(2025, 1, 31)),
    ],
)
def test_months_end_on_the_shorter_months_last_day(day, months, expected):
    assert rules.add_months(day, months) == expected


def test_decision_is_due_a_month_after_notification():
    steps = rules.next_steps(review(notified_on=D(2024, 1, 31)))
    assert steps == [rules.Step("Decide whether to hold a review", D(2024, 2, 29))]
    assert rules.overdue_steps(review(notified_on=D(2024, 1, 31)), D(2024, 2, 29)) == []
    assert rules.overdue_steps(review(notified_on=D(2024, 1, 31)), D(2024, 3, 1)) == steps


def test_report_is_due_six_months_after_the_decision():
    steps = rules.next_steps(review(**HELD | {"panel_convened_on": D(2024, 3, 1)}))
    assert steps == [
        rules.Step("Send the report to the Home Office quality assurance panel", D(2024, 8, 20))
    ]
    assert not rules.overdue_steps(review(**HELD), D(2024, 8, 20))
    assert [s.label for s in rules.overdue_steps(review(**HELD), D(2024, 8, 21))] == [
        "Send the report to the Home Office quality assurance panel"
    ]


def test_a_review_not_held_owes_nothing():
    not_held = review(decision=Review.Decision.NOT_HOLD, decision_on=D(2024, 2, 1))
    assert rules.next_steps(not_held) == []
    assert rules.overdue_steps(not_held, D(2030, 1, 1)) == []


# The review form -------------------------------------------------------------------------


def form_data(**changes) -> dict:
    data = {
        "reference": "DARDR 2024/02",
        "pseudonym": "Adult B",
        "notified_on": "2024-01-31",
        "decision": "",
        "decision_on": "",
        "decision_reason": "",
        "panel_convened_on": "",
        "sent_to_qa_panel_on": "",
        "qa_outcome": "",
        "qa_outcome_on": "",
        "sent_to_commissioner_on": "",
        "published_on": "",
    }
    return data | changes


DECIDED = {"decision": "hold", "decision_on": "2024-02-20", "decision_reason": "Criteria met."}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"notified_on": "2099-01-01"}, "notified_on", "today or in the past"),
        ({"notified_on": "31/02/2024"}, "notified_on", "Enter a real date"),
        ({"notified_on": "not a date"}, "notified_on", "Enter a real date"),
        ({"notified_on": ""}, "notified_on", "Enter the date"),
        (DECIDED | {"decision_on": "2024-01-30"}, "decision_on", "on or after the date the"),
        (DECIDED | {"decision_reason": ""}, "decision_reason", "Enter the reason"),
        (DECIDED | {"decision_on": ""}, "decision_on", "Enter the date of the decision"),
        ({"decision_on": "2024-02-20"}, "decision", "Select the decision"),
        (
            DECIDED | {"panel_convened_on": "2024-02-19"},
            "panel_convened_on",
            "on or after the date of the decision",
        ),
        (
            DECIDED | {"panel_convened_on": "2024-03-01", "sent_to_qa_panel_on": "2024-02-28"},
            "sent_to_qa_panel_on",
            "on or after the date the panel first met",
        ),
        (
            DECIDED
            | {
                "panel_convened_on": "2024-03-01",
                "sent_to_qa_panel_on": "2024-08-01",
                "qa_outcome": "accepted",
                "qa_outcome_on": "2024-07-31",
            },
            "qa_outcome_on",
            "on or after the date the report went",
        ),
        (
            DECIDED
            | {
                "panel_convened_on": "2024-03-01",
                "sent_to_qa_panel_on": "2024-08-01",
                "qa_outcome": "accepted",
                "qa_outcome_on": "2024-10-01",
                "published_on": "2024-09-30",
            },
            "published_on",
            "on or after the date of the quality assurance outcome",
        ),
        (
            DECIDED
            | {
                "panel_convened_on": "2024-03-01",
                "sent_to_qa_panel_on": "2024-08-01",
                "qa_outcome": "resubmit",
                "qa_outcome_on": "2024-10-01",
                "published_on": "2024-11-01",
            },
            "published_on",
            "only once the quality assurance panel accepts it",
        ),
        (
            DECIDED | {"decision": "not_hold", "panel_convened_on": "2024-03-01"},
            "panel_convened_on",
            "not held has no later steps",
        ),
        ({"panel_convened_on": "2024-03-01"}, "panel_convened_on", "Record the decision"),
        (
            DECIDED | {"sent_to_qa_panel_on": "2024-08-01"},
            "panel_convened_on",
            "Enter the date the panel first met",
        ),
        (
            DECIDED | {"panel_convened_on": "2024-03-01", "sent_to_commissioner_on": "2024-08-01"},
            "sent_to_commissioner_on",
            "quality assurance panel first",
        ),
        (
            DECIDED | {"panel_convened_on": "2024-03-01", "qa_outcome": "accepted"},
            "qa_outcome_on",
            "Enter the date of the outcome",
        ),
        ({"decision": "maybe"}, "decision", "Select a decision from the list"),
        ({"pseudonym": "Adult\x0bB"}, "pseudonym", "hidden character"),
    ],
)
def test_the_review_form_says_what_is_wrong_next_to_the_field(changes, field, words):
    form = ReviewForm(form_data(**changes))
    assert not form.is_valid()
    assert any(words in error for error in form.errors.get(field, [])), form.errors


@pytest.mark.django_db
def test_a_review_in_order_is_valid_on_one_day_for_each_step():
    day = "2024-02-20"
    form = ReviewForm(
        form_data(
            notified_on=day,
            decision="hold",
            decision_on=day,
            decision_reason="Criteria met.",
            panel_convened_on=day,
            sent_to_qa_panel_on=day,
            qa_outcome="accepted",
            qa_outcome_on=day,
            sent_to_commissioner_on=day,
            published_on=day,
        )
    )
    assert form.is_valid(), form.errors


@pytest.mark.django_db
def test_the_reference_is_unique(plan):
    make_review(reference="DARDR 2024/02")
    form = ReviewForm(form_data(reference="dardr 2024/02"))
    assert not form.is_valid()
    assert "Another review has the reference" in form.errors["reference"][0]


@pytest.mark.django_db
def test_a_refused_review_keeps_what_was_typed(client, manager):
    client.force_login(manager)
    data = form_data(pseudonym="Adult Q", decision_on="2024-13-45", notified_on="2099-01-01")
    response = client.post(reverse("death_review_add"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="Adult Q"' in page
    assert 'value="2024-13-45"' in page
    assert "Enter a real date" in page and "today or in the past" in page
    assert not Review.objects.exists()


@pytest.mark.django_db
def test_the_manager_records_a_review_with_its_panel(client, manager, davss_user, plan):
    client.force_login(manager)
    page = client.get(reverse("death_review_add")).content.decode()
    assert "Never enter the real name, date of birth or address" in page
    response = client.post(
        reverse("death_review_add"),
        form_data(**DECIDED, panel_members=[davss_user.pk]),
    )
    recorded = Review.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("death_review_detail", args=[recorded.pk])
    assert recorded.decision == "hold" and recorded.decision_on == D(2024, 2, 20)
    assert list(recorded.panel_members.all()) == [davss_user]
    assert recorded.partnership == plan.partnership
    assert recorded.created_by == manager


@pytest.mark.django_db
def test_panel_members_are_partners_only(manager, board_member, davss_user):
    form = ReviewForm(form_data(panel_members=[board_member.pk]))
    assert not form.is_valid()
    assert "Select panel members from the list" in form.errors["panel_members"][0]


# Recommendations and actions ---------------------------------------------------------------


@pytest.fixture
def record(plan, davss_user):
    """A review decided a year ago whose panel is DAVSS's user; recommendation 1 owned by
    DAVSS with action 1.1."""
    today = timezone.localdate()
    decided = today - datetime.timedelta(days=365)
    the_review = make_review(
        notified_on=decided - datetime.timedelta(days=10),
        decision=Review.Decision.HOLD,
        decision_on=decided,
        decision_reason="Criteria met.",
        panel_convened_on=decided,
    )
    the_review.panel_members.add(davss_user)
    davss = Agency.objects.get(name="DAVSS")
    recommendation = Recommendation.objects.create(
        review=the_review, number=1, text="Train helpline staff.", made_on=decided
    )
    recommendation.owners.add(davss)
    action = ReviewAction.objects.create(
        recommendation=recommendation,
        number=1,
        text="Deliver training.",
        lead_agency=davss,
        target_date=today - datetime.timedelta(days=1),
        evidence_needed="Attendance records.",
    )
    return the_review, recommendation, action


@pytest.mark.django_db
def test_the_next_recommendation_number_is_offered(client, manager, record):
    the_review, _, _ = record
    client.force_login(manager)
    response = client.get(reverse("death_review_recommendation_add", args=[the_review.pk]))
    assert response.context["form"].initial["number"] == 2


@pytest.mark.django_db
def test_the_manager_adds_a_recommendation_and_an_action(client, manager, record):
    the_review, _, _ = record
    client.force_login(manager)
    police = Agency.objects.get(name="Kent Police")
    theme = Theme.objects.create(partnership=the_review.partnership, name="MARAC")
    retired = Theme.objects.create(partnership=the_review.partnership, name="Old", retired=True)
    form = RecommendationForm(review=the_review)
    assert theme in form.fields["themes"].queryset
    assert retired not in form.fields["themes"].queryset
    response = client.post(
        reverse("death_review_recommendation_add", args=[the_review.pk]),
        {
            "number": "2",
            "text": "Refer to MARAC.",
            "scope": "national",
            "made_on": str(the_review.decision_on),
            "owners": [police.pk],
            "themes": [theme.pk],
        },
    )
    assert response.status_code == 302
    added = the_review.recommendations.get(number=2)
    assert list(added.owners.all()) == [police] and list(added.themes.all()) == [theme]
    response = client.post(
        reverse("death_review_action_add", args=[added.pk]),
        {
            "number": "1",
            "text": "Review MARAC referrals.",
            "lead_agency": police.pk,
            "target_date": "2030-03-31",
            "evidence_needed": "An audit of referrals.",
        },
    )
    assert response.status_code == 302
    assert added.actions.get().ref == "2.1"


@pytest.mark.django_db
def test_a_recommendation_number_is_unique_in_its_review(record):
    the_review, recommendation, _ = record
    form = RecommendationForm(
        {"number": "1", "text": "x", "scope": "local", "made_on": "2024-01-01"},
        review=the_review,
    )
    assert not form.is_valid()
    assert "already has a recommendation 1" in form.errors["number"][0]
    assert "Select at least one agency" in form.errors["owners"][0]


@pytest.mark.django_db
def test_an_action_number_is_unique_and_its_target_after_agreement(record):
    _, recommendation, action = record
    form = ReviewActionForm(
        {
            "number": "1",
            "text": "x",
            "lead_agency": action.lead_agency_id,
            "target_date": str(recommendation.made_on - datetime.timedelta(days=1)),
            "evidence_needed": "y",
        },
        recommendation=recommendation,
    )
    assert not form.is_valid()
    assert "already has an action 1.1" in form.errors["number"][0]
    assert "on or after the date the recommendation was agreed" in form.errors["target_date"][0]


@pytest.mark.django_db
def test_a_closed_action_is_not_edited(client, manager, record):
    _, recommendation, action = record
    ReviewAction.objects.filter(pk=action.pk).update(closed_at=timezone.now(), closed_by=manager)
    client.force_login(manager)
    data = {
        "number": "1",
        "text": "Changed.",
        "lead_agency": action.lead_agency_id,
        "target_date": "2030-01-01",
        "evidence_needed": "y",
    }
    response = client.post(reverse("death_review_action_edit", args=[action.pk]), data)
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.text == "Deliver training."
    page = client.get(response["Location"]).content.decode()
    assert "is closed" in page
    action.refresh_from_db()
    with pytest.raises(services.RecordError):
        services.save_action(manager, recommendation, action, **data | {"lead_agency": None})


@pytest.mark.django_db
def test_delete_only_while_there_are_no_updates(client, manager, record, plan):
    _, recommendation, action = record
    ProgressUpdate.objects.create(
        action=action, quarter=Quarter.objects.get(plan=plan, number=4), progress="Started."
    )
    client.force_login(manager)
    client.post(reverse("death_review_action_delete", args=[action.pk]))
    client.post(reverse("death_review_recommendation_delete", args=[recommendation.pk]))
    assert ReviewAction.objects.filter(pk=action.pk).exists()
    assert Recommendation.objects.filter(pk=recommendation.pk).exists()
    ProgressUpdate.objects.all().delete()
    client.post(reverse("death_review_action_delete", args=[action.pk]))
    assert not ReviewAction.objects.filter(pk=action.pk).exists()
    client.post(reverse("death_review_recommendation_delete", args=[recommendation.pk]))
    assert not Recommendation.objects.filter(pk=recommendation.pk).exists()


# Themes ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_themes_are_added_renamed_retired_and_restored(client, manager, plan):
    client.force_login(manager)
    client.post(reverse("death_review_themes"), {"name": "  Stalking  "})
    theme = Theme.objects.get(name="Stalking")
    response = client.post(reverse("death_review_themes"), {"name": "stalking"})
    assert "There is already a theme called stalking" in response.content.decode()
    client.post(
        reverse("death_review_theme_edit", args=[theme.pk]), {"name": "Stalking and harassment"}
    )
    client.post(reverse("death_review_theme_retire", args=[theme.pk]))
    theme.refresh_from_db()
    assert theme.name == "Stalking and harassment" and theme.retired
    client.post(reverse("death_review_theme_retire", args=[theme.pk]), {"restore": "1"})
    theme.refresh_from_db()
    assert not theme.retired


@pytest.mark.django_db
def test_the_seed_command_gives_the_default_themes_once(plan):
    partnership = plan.partnership
    assert services.seed_themes(partnership) == 10
    assert Theme.objects.filter(partnership=partnership, name="MARAC").exists()
    assert services.seed_themes(partnership) == 0
    assert Theme.objects.filter(partnership=partnership).count() == 10


# Who reads a review's record -----------------------------------------------------------------


@pytest.mark.django_db
def test_who_reads_the_review_page(client, record, manager, davss_user, police_user, board_member):
    the_review, _, _ = record
    url = reverse("death_review_detail", args=[the_review.pk])
    other = make_review(reference="DARDR 2024/09", pseudonym="Adult Z")
    other_panel = UserFactory(username="otherpanel")
    other_panel.agencies.add(Agency.objects.get(name="Kent Police"))
    other.panel_members.add(other_panel)
    expected = {
        manager: 200,
        davss_user: 200,  # on this review's panel
        other_panel: 404,  # on another review's panel
        police_user: 404,
        board_member: 404,
    }
    for user, status in expected.items():
        client.force_login(user)
        assert client.get(url).status_code == status, user.username
    the_review.panel_members.clear()
    client.force_login(davss_user)  # DAVSS owns the recommendation, yet not the record
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_the_list_shows_a_panel_member_only_their_reviews(client, record, police_user):
    the_review, _, _ = record
    other = make_review(reference="DARDR 2024/09", pseudonym="Adult Z")
    other.panel_members.add(police_user)
    client.force_login(police_user)
    page = client.get(reverse("death_review_list")).content.decode()
    assert "DARDR 2024/09" in page and "Adult Z" in page
    assert the_review.reference not in page and "Adult A" not in page


@pytest.mark.django_db
def test_someone_on_no_panel_is_told_what_they_can_see(client, record, board_member, police_user):
    client.force_login(board_member)
    page = client.get(reverse("death_review_list")).content.decode()
    assert "You are not on any review's panel" in page
    assert "Adult A" not in page
    client.force_login(police_user)
    page = client.get(reverse("death_review_list")).content.decode()
    assert "Adult A" not in page and "report progress" in page


@pytest.mark.django_db
def test_every_view_of_the_record_is_logged(client, record, manager, davss_user, caplog):
    the_review, _, _ = record
    url = reverse("death_review_detail", args=[the_review.pk])
    with caplog.at_level(logging.INFO, logger="csp.audit"):
        for user in (manager, davss_user, manager):
            client.force_login(user)
            client.get(url)
    viewed = [r.getMessage() for r in caplog.records if "viewed by" in r.getMessage()]
    assert viewed == [
        f"death review review {the_review.pk} viewed by manager",
        f"death review review {the_review.pk} viewed by davss",
        f"death review review {the_review.pk} viewed by manager",
    ]


@pytest.mark.django_db
def test_the_manager_s_forms_showing_the_record_are_logged(client, record, manager, caplog):
    the_review, recommendation, _ = record
    client.force_login(manager)
    with caplog.at_level(logging.INFO, logger="csp.audit"):
        client.get(reverse("death_review_edit", args=[the_review.pk]))
        client.get(reverse("death_review_recommendation_edit", args=[recommendation.pk]))
    viewed = [r.getMessage() for r in caplog.records if "viewed by" in r.getMessage()]
    assert viewed == [
        f"death review review {the_review.pk} viewed by manager",
        f"death review recommendation {recommendation.pk} viewed by manager",
    ]


@pytest.mark.django_db
def test_the_review_page_shows_steps_recommendations_and_actions(client, record, manager):
    the_review, _, _ = record
    client.force_login(manager)
    page = client.get(reverse("death_review_detail", args=[the_review.pk])).content.decode()
    due = rules.add_months(the_review.decision_on, 6)
    assert "Send the report to the Home Office quality assurance panel" in page
    assert f"due {due.day} {due:%B %Y}" in page
    assert "Train helpline staff." in page and "Deliver training." in page
    assert "Attendance records." in page
    assert "Overdue" in page  # action 1.1's target was yesterday


@pytest.mark.django_db
def test_manager_home_shows_an_overdue_decision(client, manager, plan):
    notified = timezone.localdate() - datetime.timedelta(days=60)
    make_review(reference="DARDR 2024/07", notified_on=notified)
    client.force_login(manager)
    page = client.get(reverse("home")).content.decode()
    due = rules.add_months(notified, 1)
    assert "DARDR 2024/07</a>: Decide whether to hold a review, due" in page
    assert f"{due.day} {due:%B %Y}" in page


@pytest.mark.django_db
def test_manager_home_without_overdue_steps(client, manager, plan):
    make_review(reference="DARDR 2024/07", notified_on=timezone.localdate())
    client.force_login(manager)
    page = client.get(reverse("home")).content.decode()
    assert "No step is overdue." in page and "DARDR 2024/07" not in page


@pytest.mark.django_db
def test_navigation_offers_death_reviews_to_who_reaches_them(
    client, record, manager, davss_user, police_user, board_member
):
    expected = {manager: True, davss_user: True, board_member: True, police_user: False}
    for user, shown in expected.items():
        client.force_login(user)
        labels = [item["label"] for item in client.get(reverse("home")).context["nav_items"]]
        assert ("Death reviews" in labels) == shown, user.username


@pytest.mark.django_db
def test_an_owning_agency_reads_its_recommendations_and_nothing_else_of_the_review(
    client, record, davss_user, police_user, caplog
):
    """DAVSS owns recommendation 1 but leads no action of it here (Kent Police does): its
    users still read the recommendation and its actions on the Death reviews page, with the
    review's reference only; Kent Police, owning none, reads none of it."""
    the_review, recommendation, action = record
    the_review.panel_members.clear()
    kent_police = Agency.objects.get(name="Kent Police")
    ReviewAction.objects.filter(pk=action.pk).update(lead_agency=kent_police)
    client.force_login(davss_user)
    with caplog.at_level(logging.INFO, logger="csp.audit"):
        page = client.get(reverse("death_review_list")).content.decode()
    assert "Train helpline staff." in page and "Deliver training." in page
    assert the_review.reference in page and the_review.pseudonym not in page
    assert f"recommendation {recommendation.pk} viewed by {davss_user.username}" in caplog.text
    # The action is Kent Police's: DAVSS is not offered its update.
    assert reverse("death_review_update", args=[action.pk]) not in page

    client.force_login(police_user)
    page = client.get(reverse("death_review_list")).content.decode()
    assert "Train helpline staff." not in page and "Deliver training." not in page
