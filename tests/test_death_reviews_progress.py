"""Agencies' quarterly progress on death review actions, and the manager's review of it:
who owes an update and for which quarter, writing one with evidence, approving (and so
closing) or sending back, and who may read what."""

import datetime
import logging
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from post_office.models import Email

from actions.models import Agency
from deathreviews import progress
from deathreviews.models import ProgressUpdate, Recommendation, Review, ReviewAction, UpdateEvidence
from deathreviews.obligations import (
    current_update_quarter,
    outstanding_count,
    owed_updates,
    update_quarter,
)
from priorities.models import Quarter

from .files import MINIMAL_PDF
from .mail_servers import deliver_queued_mail

PSEUDONYM = "Adult Zeta"
RECOMMENDATION = "Train helpline staff to recognise coercive control."
OTHER_RECOMMENDATION = "Review how the police share risk assessments."


@pytest.fixture
def q4(plan):
    Quarter.objects.filter(plan=plan, number=4).update(is_open=True)
    return Quarter.objects.select_related("plan").get(plan=plan, number=4)


@pytest.fixture
def davss():
    return Agency.objects.get(name="DAVSS")


@pytest.fixture
def police():
    return Agency.objects.get(name="Kent Police")


@pytest.fixture
def review(plan):
    return Review.objects.create(
        partnership=plan.partnership,
        reference="DARDR 2025/07",
        pseudonym=PSEUDONYM,
        notified_on=datetime.date(2025, 1, 6),
        decision=Review.Decision.HOLD,
        decision_on=datetime.date(2025, 1, 27),
        panel_convened_on=datetime.date(2025, 3, 3),
    )


@pytest.fixture
def action(review, davss, police):
    """Action 1.1 for DAVSS, its target long past (overdue); and a police action on another
    recommendation, not DAVSS's to read."""
    recommendation = Recommendation.objects.create(review=review, number=1, text=RECOMMENDATION)
    recommendation.owners.add(davss)
    other = Recommendation.objects.create(review=review, number=2, text=OTHER_RECOMMENDATION)
    other.owners.add(police)
    ReviewAction.objects.create(
        recommendation=other,
        number=1,
        text="Share MARAC risk assessments within a day.",
        lead_agency=police,
        target_date=datetime.date(2030, 1, 1),
        evidence_needed="The sharing protocol.",
    )
    return ReviewAction.objects.create(
        recommendation=recommendation,
        number=1,
        text="Deliver coercive control training to every helpline worker.",
        lead_agency=davss,
        target_date=datetime.date(2026, 3, 31),
        evidence_needed="Attendance records.",
    )


def pdf(name="attendance.pdf"):
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def write(user, action, quarter, *, submit=True, close=False, summary="", uploads=()):
    return progress.save_update(
        user,
        action,
        quarter,
        progress="All three sessions held.",
        asks_to_close=close,
        evidence_summary=summary,
        uploads=uploads,
        seen_version=None,
        submit=submit,
    )


# Which quarter, and who owes -----------------------------------------------------------------


def test_updates_are_for_the_newest_quarter_open_for_returns(plan, q4):
    quarters = list(plan.quarters.select_related("plan"))
    assert update_quarter(quarters) == q4
    Quarter.objects.filter(plan=plan, number=3).update(is_open=True)
    assert current_update_quarter() == q4  # two open: the newest
    Quarter.objects.filter(plan=plan).update(is_open=False)
    assert current_update_quarter() is None


def test_the_lead_agency_of_every_open_action_owes_an_update(q4, action, davss, police, manager):
    rows = owed_updates(q4)
    assert {(row.action.lead_agency, row.state) for row in rows} == {
        (davss, "not_started"),
        (police, "not_started"),
    }
    assert [row.action for row in owed_updates(q4, [davss])] == [action]
    assert [row.overdue for row in owed_updates(q4, [davss])] == [True]
    assert [row.overdue for row in owed_updates(q4, [police])] == [False]
    ReviewAction.objects.filter(pk=action.pk).update(closed_at=datetime.datetime.now(datetime.UTC))
    assert owed_updates(q4, [davss]) == []


def test_a_submitted_update_is_no_longer_outstanding(q4, action, davss, davss_user):
    write(davss_user, action, q4, submit=False)
    (row,) = owed_updates(q4, [davss])
    assert (row.state, row.outstanding) == ("draft", True)
    write(davss_user, action, q4)
    (row,) = owed_updates(q4, [davss])
    assert (row.state, row.outstanding) == ("submitted", False)


# The partner writes, attaches, submits --------------------------------------------------------


def test_davss_writes_attaches_a_pdf_and_submits(client, q4, action, davss_user, caplog):
    client.force_login(davss_user)
    address = reverse("death_review_update", args=[action.pk])
    page = client.get(address)
    assert page.status_code == 200
    html = page.content.decode()
    assert RECOMMENDATION in html and action.text in html
    assert PSEUDONYM not in html and OTHER_RECOMMENDATION not in html
    assert "6 January 2025" not in html  # none of the review's dates

    with caplog.at_level(logging.INFO, logger="csp.audit"):
        response = client.post(
            address,
            {
                "progress": "All three sessions held.",
                "asks_to_close": "on",
                "evidence_summary": "Every helpline worker attended.",
                "files": [pdf()],
                "version": "0",
                "submit": "1",
            },
        )
    update = ProgressUpdate.objects.get(action=action, quarter=q4)
    assert response.status_code == 302
    assert response["Location"] == reverse("death_review_update_detail", args=[update.pk])
    assert update.state == ProgressUpdate.State.SUBMITTED
    assert update.asks_to_close and update.submitted_by == davss_user
    (evidence,) = update.evidence.all()
    assert (evidence.name, evidence.kind) == ("attendance.pdf", "pdf")
    assert f"death review update {update.pk}" in caplog.text

    download = client.get(reverse("death_review_update_evidence", args=[evidence.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == MINIMAL_PDF
    assert download["Content-Disposition"].startswith("attachment")


def test_asking_to_close_without_a_summary_keeps_what_was_typed(client, q4, action, davss_user):
    client.force_login(davss_user)
    response = client.post(
        reverse("death_review_update", args=[action.pk]),
        {"progress": "Sessions held.", "asks_to_close": "on", "version": "0", "submit": "1"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter how the evidence shows the action is done" in html
    assert "Attach at least one file of evidence" in html
    assert "Sessions held." in html
    assert not ProgressUpdate.objects.exists()


def test_a_file_that_is_not_evidence_is_refused_beside_the_field(client, q4, action, davss_user):
    client.force_login(davss_user)
    response = client.post(
        reverse("death_review_update", args=[action.pk]),
        {
            "progress": "Sessions held.",
            "files": [SimpleUploadedFile("notes.pdf", b"MZ not a pdf at all")],
            "version": "0",
            "save": "1",
        },
    )
    assert response.status_code == 200
    assert "whatever its name says" in response.content.decode()
    assert not ProgressUpdate.objects.exists() and not UpdateEvidence.objects.exists()


def test_a_stale_version_is_refused(client, q4, action, davss_user):
    update = write(davss_user, action, q4, submit=False)
    write(davss_user, action, q4, submit=False)  # someone saves again: version moves on
    client.force_login(davss_user)
    response = client.post(
        reverse("death_review_update", args=[action.pk]),
        {"progress": "My words.", "version": str(update.version), "save": "1"},
    )
    assert response.status_code == 200
    assert "after you opened it" in response.content.decode()
    assert "My words." in response.content.decode()
    assert ProgressUpdate.objects.get().progress == "All three sessions held."


# Who may read what ----------------------------------------------------------------------------


def test_police_and_the_board_get_404_on_davss_update_and_evidence(
    client, q4, action, davss_user, police_user, board_member
):
    update = write(davss_user, action, q4, uploads=[pdf()])
    evidence = update.evidence.get()
    for user, update_form in ((police_user, 404), (board_member, 403)):
        client.force_login(user)
        assert client.get(reverse("death_review_update", args=[action.pk])).status_code == (
            update_form
        )
        assert (
            client.get(reverse("death_review_update_detail", args=[update.pk])).status_code == 404
        )
        assert (
            client.get(reverse("death_review_update_evidence", args=[evidence.pk])).status_code
            == 404
        )


def test_the_partner_never_reads_the_pseudonym(client, q4, action, davss_user):
    update = write(davss_user, action, q4)
    client.force_login(davss_user)
    for address in (
        reverse("home"),
        reverse("death_review_update_detail", args=[update.pk]),
    ):
        html = client.get(address).content.decode()
        assert "DARDR 2025/07" in html
        assert PSEUDONYM not in html and OTHER_RECOMMENDATION not in html


def test_the_partner_home_lists_the_action_and_flags_it_overdue(client, q4, action, davss_user):
    client.force_login(davss_user)
    html = client.get(reverse("home")).content.decode()
    assert "Death review actions" in html
    assert action.text in html
    assert "Overdue by" in html
    assert reverse("death_review_update", args=[action.pk]) in html
    assert "Write update" in html
    write(davss_user, action, q4, submit=False)
    assert "Change" in client.get(reverse("home")).content.decode()


def test_a_partner_whose_agency_leads_nothing_sees_no_section(client, q4, action, lookahead_user):
    client.force_login(lookahead_user)
    assert "Death review actions" not in client.get(reverse("home")).content.decode()


# The manager reviews ------------------------------------------------------------------------


def test_the_manager_approves_and_the_action_closes_and_davss_is_emailed(
    client, q4, action, davss_user, manager
):
    update = write(davss_user, action, q4, close=True, summary="All attended.", uploads=[pdf()])
    client.force_login(manager)
    queue = client.get(reverse("death_review_updates")).content.decode()
    assert reverse("death_review_update_detail", args=[update.pk]) in queue
    assert "1 update waiting" in queue
    assert "1 waiting for review" in client.get(reverse("home")).content.decode()

    response = client.post(
        reverse("death_review_update_approve", args=[update.pk]), {"version": update.version}
    )
    assert response.status_code == 302
    update.refresh_from_db()
    action.refresh_from_db()
    assert update.state == ProgressUpdate.State.APPROVED and update.reviewed_by == manager
    assert action.closed_at is not None and action.closed_by == manager
    (email,) = Email.objects.all()
    assert "action 1.1" in email.subject and "approved" in email.subject
    sent = deliver_queued_mail()
    assert sent[0].to == [davss_user.email]
    assert "now closed" in sent[0].body
    assert PSEUDONYM not in sent[0].body and RECOMMENDATION not in sent[0].body


@pytest.mark.parametrize("summary, with_file", [("", True), ("All attended.", False)])
def test_closing_without_approved_evidence_is_refused(
    client, q4, action, davss_user, manager, summary, with_file
):
    """Written as no form would let it be: the service refuses all the same."""
    update = ProgressUpdate.objects.create(
        action=action,
        quarter=q4,
        progress="Done.",
        asks_to_close=True,
        evidence_summary=summary,
        state=ProgressUpdate.State.SUBMITTED,
        created_by=davss_user,
    )
    if with_file:
        progress._attach(davss_user, update, pdf())
    client.force_login(manager)
    response = client.post(
        reverse("death_review_update_approve", args=[update.pk]),
        {"version": update.version},
        follow=True,
    )
    assert "An action closes only with approved evidence" in response.content.decode()
    update.refresh_from_db()
    action.refresh_from_db()
    assert update.state == ProgressUpdate.State.SUBMITTED
    assert action.closed_at is None
    assert not Email.objects.exists()


def test_submitting_a_request_to_close_without_a_file_is_refused(q4, action, davss_user):
    with pytest.raises(progress.ProgressError, match="at least one attached file"):
        write(davss_user, action, q4, close=True, summary="All attended.")
    assert not ProgressUpdate.objects.exists()


def test_a_closed_action_takes_no_more_updates(client, q4, action, davss_user, manager):
    update = write(davss_user, action, q4, close=True, summary="All attended.", uploads=[pdf()])
    progress.approve_update(manager, update, seen_version=update.version)
    with pytest.raises(progress.ProgressError, match="is closed"):
        write(davss_user, action, q4)
    client.force_login(davss_user)
    response = client.get(reverse("death_review_update", args=[action.pk]), follow=True)
    assert "is closed, so it takes no more updates" in response.content.decode()
    home = client.get(reverse("home")).content.decode()
    assert reverse("death_review_update", args=[action.pk]) not in home  # only as closed
    assert "Closed actions" in home


def test_send_back_needs_a_reason_then_reopens_the_update_for_davss(
    client, q4, action, davss_user, manager
):
    update = write(davss_user, action, q4)
    client.force_login(manager)
    address = reverse("death_review_update_send_back", args=[update.pk])
    response = client.post(address, {"reason": "  ", "version": update.version})
    assert response.status_code == 200
    assert "Enter the reason" in response.content.decode()
    response = client.post(address, {"reason": "Say who attended.", "version": update.version})
    assert response.status_code == 302
    update.refresh_from_db()
    assert update.state == ProgressUpdate.State.SENT_BACK
    assert update.reviewer_comment == "Say who attended."
    sent = deliver_queued_mail()
    assert "sent back" in sent[0].subject
    assert "Say who attended." not in sent[0].body  # the reason stays in the app

    client.force_login(davss_user)
    form = client.get(reverse("death_review_update", args=[action.pk])).content.decode()
    assert "Say who attended." in form
    response = client.post(
        reverse("death_review_update", args=[action.pk]),
        {"progress": "Twelve attended.", "version": update.version, "submit": "1"},
    )
    assert response.status_code == 302
    update.refresh_from_db()
    assert (update.state, update.progress) == (ProgressUpdate.State.SUBMITTED, "Twelve attended.")


def test_a_submitted_update_cannot_be_changed_or_approved_twice(
    client, q4, action, davss_user, manager
):
    update = write(davss_user, action, q4)
    client.force_login(davss_user)
    response = client.get(reverse("death_review_update", args=[action.pk]))
    assert response.status_code == 302  # to the update, read-only
    with pytest.raises(progress.AlreadySubmitted):
        write(davss_user, action, q4)
    progress.approve_update(manager, update, seen_version=update.version)
    with pytest.raises(progress.ProgressError, match="approved, so it cannot be approved"):
        progress.approve_update(manager, update, seen_version=None)


def test_the_manager_approving_a_stale_version_is_refused(q4, action, davss_user, manager):
    update = write(davss_user, action, q4)
    with pytest.raises(progress.StaleUpdate):
        progress.approve_update(manager, update, seen_version=update.version - 1)
    update.refresh_from_db()
    assert update.state == ProgressUpdate.State.SUBMITTED


def test_a_partner_cannot_approve(q4, action, davss_user):
    update = write(davss_user, action, q4)
    with pytest.raises(progress.ProgressError, match="Only the community safety manager"):
        progress.approve_update(davss_user, update, seen_version=None)


# Finding the way between the record, the updates and the evidence --------------------------


def closed_with_evidence(action, q4, davss_user, manager) -> ProgressUpdate:
    update = write(davss_user, action, q4, close=True, summary="All attended.", uploads=[pdf()])
    return progress.approve_update(manager, update, seen_version=update.version)


def test_the_review_page_leads_the_manager_to_an_update_waiting_and_to_closing_evidence(
    client, q4, action, davss_user, manager
):
    update = write(davss_user, action, q4, close=True, summary="All attended.", uploads=[pdf()])
    client.force_login(manager)
    page = reverse("death_review_detail", args=[action.recommendation.review_id])
    html = client.get(page).content.decode()
    assert "1 update on this review's actions is waiting for review" in html
    assert reverse("death_review_updates") in html
    assert reverse("death_review_update_detail", args=[update.pk]) in html
    assert "Update waiting for review" in html and "that closed action" not in html

    progress.approve_update(manager, update, seen_version=update.version)
    html = client.get(page).content.decode()
    assert "waiting for review" not in html
    assert reverse("death_review_update_detail", args=[update.pk]) in html
    assert 'Evidence<span class="govuk-visually-hidden"> that closed action 1.1' in html


def test_the_managers_list_of_reviews_leads_to_the_updates_the_board_page_and_the_download(
    client, review, manager
):
    client.force_login(manager)
    html = client.get(reverse("death_review_list")).content.decode()
    for name in (
        "death_review_updates",
        "death_review_board",
        "death_review_analysis",
        "death_review_download",
    ):
        assert f'href="{reverse(name)}"' in html, name
    queue = client.get(reverse("death_review_updates")).content.decode()
    assert f'breadcrumbs__link" href="{reverse("death_review_list")}"' in queue  # and back


def test_a_panel_member_of_another_agency_gets_no_link_to_davss_updates(
    client, q4, action, review, davss_user, police_user, manager
):
    review.panel_members.add(police_user)
    update = closed_with_evidence(action, q4, davss_user, manager)
    client.force_login(police_user)
    response = client.get(reverse("death_review_detail", args=[review.pk]))
    assert response.status_code == 200
    assert reverse("death_review_update_detail", args=[update.pk]) not in response.content.decode()


def test_the_update_page_links_the_manager_not_the_agency_to_the_review(
    client, q4, action, review, davss_user, manager
):
    update = closed_with_evidence(action, q4, davss_user, manager)
    address = reverse("death_review_update_detail", args=[update.pk])
    record = reverse("death_review_detail", args=[review.pk])
    client.force_login(manager)
    assert record in client.get(address).content.decode()
    client.force_login(davss_user)
    html = client.get(address).content.decode()
    assert "DARDR 2025/07" in html and record not in html


def test_davss_finds_its_closed_action_and_the_evidence_on_its_home(
    client, q4, action, davss_user, police_user, manager
):
    update = closed_with_evidence(action, q4, davss_user, manager)
    client.force_login(davss_user)
    html = client.get(reverse("home")).content.decode()
    assert "Closed actions" in html
    assert reverse("death_review_update_detail", args=[update.pk]) in html
    assert reverse("death_review_update", args=[action.pk]) not in html  # no more updates
    assert PSEUDONYM not in html
    client.force_login(police_user)
    html = client.get(reverse("home")).content.decode()
    assert reverse("death_review_update_detail", args=[update.pk]) not in html


# Reminders and completeness -----------------------------------------------------------------


def test_the_reminder_counts_the_owed_updates_and_quotes_no_review_text(
    client, q4, action, davss_user, manager
):
    client.force_login(manager)
    response = client.post(
        reverse("send_reminder"), {"agency": action.lead_agency.pk, "quarter": q4.pk}
    )
    assert response.status_code == 302
    (sent,) = deliver_queued_mail()
    assert "also owes 1 update on death review actions for Q4 2022/23" in sent.body
    assert action.text not in sent.body and RECOMMENDATION not in sent.body
    assert "DARDR" not in sent.body and PSEUDONYM not in sent.body


def test_the_daily_reminders_count_the_owed_updates_too(q4, action, davss_user):
    """send_return_reminders (the daily cron job) tells DAVSS of its update beside its
    returns, by count only; once the update is in, the next reminder does not."""
    call_command("send_return_reminders", today="2023-04-25", stdout=StringIO())
    (due_soon,) = [mail for mail in deliver_queued_mail() if davss_user.email in mail.to]
    assert "DAVSS also owes 1 update on death review actions for Q4 2022/23" in due_soon.body
    assert action.text not in due_soon.body and RECOMMENDATION not in due_soon.body
    assert PSEUDONYM not in due_soon.body

    write(davss_user, action, q4)
    call_command("send_return_reminders", today="2023-05-01", stdout=StringIO())
    (overdue,) = [
        mail
        for mail in deliver_queued_mail()
        if davss_user.email in mail.to and mail.subject.startswith("Overdue")
    ]
    assert "death review" not in overdue.body


def test_a_reminder_counts_updates_only_for_the_quarter_they_are_written_for(
    plan, q4, action, davss, davss_user
):
    q3 = Quarter.objects.get(plan=plan, number=3)
    assert outstanding_count(q4, davss) == 1
    assert outstanding_count(q3, davss) == 0
    write(davss_user, action, q4)
    assert outstanding_count(q4, davss) == 0


def test_completeness_shows_overdue_actions_by_agency_refs_for_the_manager_only(
    client, q4, action, manager, board_member
):
    client.force_login(manager)
    html = client.get(reverse("completeness")).content.decode()
    section = html[html.index('id="overdue-death-review-actions"') :]
    section = section[: section.index("</table>")]
    assert "DAVSS" in section and "DARDR 2025/07 1.1" in section
    assert "Kent Police" not in section  # its action is not yet due
    assert action.text not in html and RECOMMENDATION not in html

    client.force_login(board_member)
    html = client.get(reverse("completeness")).content.decode()
    section = html[html.index('id="overdue-death-review-actions"') :]
    section = section[: section.index("</table>")]
    assert "DAVSS" in section and ">1<" in section
    assert "DARDR" not in section and action.text not in html


# Query counts -------------------------------------------------------------------------------


def more_actions(action, numbers, davss_user, quarter) -> None:
    """More DAVSS actions on the same recommendation, each with a submitted update."""
    for number in numbers:
        extra = ReviewAction.objects.create(
            recommendation=action.recommendation,
            number=number,
            text=f"Action number {number}.",
            lead_agency=action.lead_agency,
            target_date=datetime.date(2025, 1, 1),
            evidence_needed="Records.",
        )
        write(davss_user, extra, quarter, uploads=[pdf()])


@pytest.mark.parametrize(
    "who, address", [("davss_user", "home"), ("manager", "death_review_updates")]
)
def test_query_counts_do_not_grow_with_actions_and_updates(
    client, request, q4, action, davss_user, who, address
):
    client.force_login(request.getfixturevalue(who))
    more_actions(action, [2], davss_user, q4)
    client.get(reverse(address))  # warm up: the session, content types
    with CaptureQueriesContext(connection) as few:
        small = client.get(reverse(address)).content
    more_actions(action, range(3, 10), davss_user, q4)
    with CaptureQueriesContext(connection) as many:
        large = client.get(reverse(address)).content
    assert large.count(b"Action number") or large.count(b"update from") > small.count(
        b"update from"
    )
    assert len(large) > len(small)
    assert len(many) == len(few)


def test_progress_typed_as_the_session_ended_comes_back_after_signing_in(
    client, q4, action, davss_user
):
    from django.contrib.sessions.models import Session

    from .factories import PASSWORD
    from .test_nothing_typed_is_lost import next_url

    address = reverse("death_review_update", args=[action.pk])
    client.force_login(davss_user)
    assert client.get(address).status_code == 200
    Session.objects.all().delete()
    back = next_url(
        client.post(address, {"progress": "Typed for an hour.", "version": "0", "save": "1"})
    )
    assert back.startswith(f"{address}?kept=")
    assert not ProgressUpdate.objects.exists()
    response = client.post(
        reverse("login"),
        {"username": davss_user.username, "password": PASSWORD, "next": back},
        follow=True,
    )
    assert "Typed for an hour." in response.content.decode()
    assert not ProgressUpdate.objects.exists()
