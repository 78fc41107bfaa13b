"""The quarterly return workflow through its service functions, the reminder command and
the demo returns."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from post_office.models import Email

from actions import services
from actions.models import Action, Agency, LockException, QuarterlyReturn, Reminder
from actions.services import AlreadySubmitted, ReturnError, StaleReturn, change_reason
from demodata import demo_returns as demodata
from priorities.models import Quarter

from .factories import ActionFactory, UserFactory
from .mail_servers import deliver_queued_mail

State = QuarterlyReturn.State


def action(plan, ref: str) -> Action:
    priority, number = (int(part) for part in ref.split("."))
    return Action.objects.get(priority__plan=plan, priority__number=priority, number=number)


def agency(name: str) -> Agency:
    return Agency.objects.get(name=name)


def quarter(plan, number: int) -> Quarter:
    return Quarter.objects.get(plan=plan, number=number)


@pytest.fixture
def q4(plan):
    Quarter.objects.filter(plan=plan, number=4).update(is_open=True)
    return quarter(plan, 4)


@pytest.fixture
def action_1_1(plan):
    return action(plan, "1.1")


@pytest.fixture
def davss(db):
    return agency("DAVSS")


def save(user, on_action, for_agency, in_quarter, *, submit=False, seen_version=None, **fields):
    values = {str(metric.pk): 10 for metric in on_action.metrics.all()}
    return services.save_return(
        user,
        on_action,
        for_agency,
        in_quarter,
        values=fields.pop("values", values),
        narrative=fields.pop("narrative", "Helpline busy over the summer."),
        rag=fields.pop("rag", QuarterlyReturn.RAG.GREEN),
        rag_reason=fields.pop("rag_reason", ""),
        seen_version=seen_version,
        submit=submit,
    )


@pytest.fixture
def submitted(davss_user, action_1_1, davss, q4):
    return save(davss_user, action_1_1, davss, q4, submit=True)


@pytest.fixture
def approved(submitted, manager):
    return services.approve_return(manager, submitted, seen_version=submitted.version)


def trail(quarterly_return) -> list[tuple[str, str]]:
    """(change reason, username) for each history record, oldest first."""
    return [
        (record.history_change_reason, record.history_user.username)
        for record in quarterly_return.history.order_by("history_date", "history_id")
    ]


# Transitions ---------------------------------------------------------------------------------


def test_saving_a_draft_creates_the_return_at_version_1(davss_user, action_1_1, davss, q4):
    draft = save(davss_user, action_1_1, davss, q4)

    draft.refresh_from_db()
    assert (draft.state, draft.version) == (State.DRAFT, 1)
    assert draft.created_by == draft.updated_by == davss_user
    assert draft.narrative == "Helpline busy over the summer."
    assert trail(draft) == [("Draft saved", "davss")]
    assert draft.history.get().history_type == "+"


def test_submitting_a_draft(davss_user, action_1_1, davss, q4):
    draft = save(davss_user, action_1_1, davss, q4)

    submitted = save(davss_user, action_1_1, davss, q4, submit=True, seen_version=1)

    submitted.refresh_from_db()
    assert submitted.pk == draft.pk
    assert (submitted.state, submitted.version) == (State.SUBMITTED, 2)
    assert submitted.submitted_by == davss_user
    assert submitted.submitted_at is not None
    assert trail(submitted) == [("Draft saved", "davss"), ("Submitted", "davss")]


def test_the_manager_approves_a_submitted_return(submitted, manager, davss_user):
    approved = services.approve_return(manager, submitted, seen_version=submitted.version)

    approved.refresh_from_db()
    assert approved.state == State.APPROVED
    assert approved.reviewed_by == manager
    assert approved.reviewed_at is not None
    assert trail(approved)[-1] == ("Approved", "manager")


@pytest.mark.parametrize("user_fixture", ["davss_user", "board_member"])
def test_only_the_manager_approves(request, submitted, user_fixture):
    with pytest.raises(ReturnError, match="Only the community safety manager"):
        services.approve_return(request.getfixturevalue(user_fixture), submitted, seen_version=1)

    submitted.refresh_from_db()
    assert submitted.state == State.SUBMITTED


def test_only_a_submitted_return_is_approved(davss_user, manager, action_1_1, davss, q4):
    draft = save(davss_user, action_1_1, davss, q4)

    with pytest.raises(ReturnError, match="draft, so it cannot be approved"):
        services.approve_return(manager, draft, seen_version=1)

    draft.refresh_from_db()
    assert draft.state == State.DRAFT


def test_approving_twice_says_it_is_already_approved(approved, manager):
    with pytest.raises(ReturnError, match="approved, so it cannot be approved") as refused:
        services.approve_return(manager, approved, seen_version=1)

    assert not isinstance(refused.value, StaleReturn)
    assert [reason for reason, _ in trail(approved)].count("Approved") == 1


def test_sending_back_records_the_comment(submitted, manager):
    sent_back = services.send_back(
        manager, submitted, comment="  Please give this quarter's calls only.  ", seen_version=1
    )

    sent_back.refresh_from_db()
    assert sent_back.state == State.SENT_BACK
    assert sent_back.reviewer_comment == "Please give this quarter's calls only."
    assert sent_back.reviewed_by == manager
    assert trail(sent_back)[-1] == ("Sent back: Please give this quarter's calls only.", "manager")


@pytest.mark.parametrize("comment", ["", "   \n\t "])
def test_sending_back_needs_a_comment(submitted, manager, comment):
    with pytest.raises(ReturnError, match="Enter the reason"):
        services.send_back(manager, submitted, comment=comment, seen_version=1)

    submitted.refresh_from_db()
    assert submitted.state == State.SUBMITTED
    assert trail(submitted) == [("Submitted", "davss")]


def test_a_long_send_back_comment_is_kept_whole(submitted, manager):
    comment = "The referral figure includes Sevenoaks and Tonbridge cases. " * 20

    sent_back = services.send_back(manager, submitted, comment=comment, seen_version=1)

    sent_back.refresh_from_db()
    assert sent_back.reviewer_comment == comment.strip()
    record = sent_back.history.latest("history_date")
    assert record.reviewer_comment == comment.strip()
    assert record.history_change_reason.startswith("Sent back: The referral figure")
    assert len(record.history_change_reason) <= 100


def test_partner_cannot_send_back(submitted, davss_user):
    with pytest.raises(ReturnError):
        services.send_back(davss_user, submitted, comment="Not mine to judge", seen_version=1)

    submitted.refresh_from_db()
    assert submitted.state == State.SUBMITTED


def test_reopening_an_approved_return_sends_it_back(approved, manager):
    reopened = services.reopen_return(
        manager, approved, reason="Calls double counted", seen_version=approved.version
    )

    reopened.refresh_from_db()
    assert reopened.state == State.SENT_BACK
    assert reopened.reviewer_comment == "Calls double counted"
    assert trail(reopened)[-1] == ("Reopened: Calls double counted", "manager")


@pytest.mark.parametrize("reason", ["", "  "])
def test_reopening_needs_a_reason(approved, manager, reason):
    with pytest.raises(ReturnError, match="Enter the reason"):
        services.reopen_return(manager, approved, reason=reason, seen_version=approved.version)

    approved.refresh_from_db()
    assert approved.state == State.APPROVED


def test_only_an_approved_return_is_reopened(submitted, manager):
    with pytest.raises(ReturnError, match="submitted, so it cannot be reopened"):
        services.reopen_return(manager, submitted, reason="Why not", seen_version=1)


def test_partner_cannot_reopen(approved, davss_user):
    with pytest.raises(ReturnError):
        services.reopen_return(davss_user, approved, reason="Typo", seen_version=approved.version)

    approved.refresh_from_db()
    assert approved.state == State.APPROVED


def test_partner_corrects_a_sent_back_return_and_submits_again(
    submitted, manager, davss_user, action_1_1, davss, q4
):
    services.send_back(manager, submitted, comment="Add the programmes run", seen_version=1)

    draft = save(davss_user, action_1_1, davss, q4, seen_version=2, narrative="Two programmes run.")
    assert (draft.state, draft.version) == (State.SENT_BACK, 3)
    resubmitted = save(
        davss_user,
        action_1_1,
        davss,
        q4,
        submit=True,
        seen_version=3,
        narrative="Two programmes run in July.",
    )
    approved = services.approve_return(manager, resubmitted, seen_version=4)

    approved.refresh_from_db()
    assert approved.state == State.APPROVED
    assert approved.narrative == "Two programmes run in July."
    assert trail(approved) == [
        ("Submitted", "davss"),
        ("Sent back: Add the programmes run", "manager"),
        ("Draft saved", "davss"),
        ("Submitted", "davss"),
        ("Approved", "manager"),
    ]


def test_every_change_is_in_the_history_with_who_and_why(
    davss_user, manager, action_1_1, davss, q4
):
    save(davss_user, action_1_1, davss, q4)
    submitted = save(davss_user, action_1_1, davss, q4, submit=True, seen_version=1)
    services.send_back(manager, submitted, comment="Figures missing", seen_version=2)
    resubmitted = save(davss_user, action_1_1, davss, q4, submit=True, seen_version=3)
    services.approve_return(manager, resubmitted, seen_version=4)
    reopened = services.reopen_return(manager, resubmitted, reason="Typo", seen_version=5)

    assert trail(reopened) == [
        ("Draft saved", "davss"),
        ("Submitted", "davss"),
        ("Sent back: Figures missing", "manager"),
        ("Submitted", "davss"),
        ("Approved", "manager"),
        ("Reopened: Typo", "manager"),
    ]
    versions = list(reopened.history.order_by("history_date").values_list("version", flat=True))
    assert versions == [1, 2, 3, 4, 5, 6]


# Refusals ------------------------------------------------------------------------------------


def test_a_board_member_cannot_save_a_return(board_member, action_1_1, davss, q4):
    with pytest.raises(ReturnError, match="cannot report"):
        save(board_member, action_1_1, davss, q4)

    assert not QuarterlyReturn.objects.exists()


def test_a_partner_cannot_report_for_another_agency(police_user, action_1_1, davss, q4):
    with pytest.raises(ReturnError, match="cannot report for this agency"):
        save(police_user, action_1_1, davss, q4, submit=True)

    assert not QuarterlyReturn.objects.exists()
    assert not QuarterlyReturn.history.exists()


def test_a_partner_cannot_report_on_an_action_its_agency_does_not_lead(davss_user, plan, q4):
    with pytest.raises(ReturnError):
        save(davss_user, action(plan, "1.2"), davss_user.agencies.get(), q4)

    assert not QuarterlyReturn.objects.exists()


def test_a_closed_quarter_refuses_a_partner(davss_user, action_1_1, davss, plan):
    with pytest.raises(ReturnError, match="Q1 2022/23 is closed"):
        save(davss_user, action_1_1, davss, quarter(plan, 1))

    assert not QuarterlyReturn.objects.exists()


def test_the_manager_may_enter_a_return_in_a_closed_quarter(manager, action_1_1, davss, plan):
    entered = save(manager, action_1_1, davss, quarter(plan, 1), submit=True)

    entered.refresh_from_db()
    assert entered.state == State.SUBMITTED
    assert entered.submitted_by == manager
    assert trail(entered) == [("Submitted", "manager")]


def test_a_lock_exception_opens_a_closed_quarter_for_that_action_and_agency_only(
    davss_user, lookahead_user, manager, action_1_1, davss, plan
):
    q1 = quarter(plan, 1)
    services.grant_lock_exception(manager, q1, action_1_1, davss, reason="Late figures")

    late = save(davss_user, action_1_1, davss, q1, submit=True)
    assert late.state == State.SUBMITTED
    # DAVSS and Look Ahead both lead 1.3: neither may report on it in Q1.
    with pytest.raises(ReturnError, match="closed"):
        save(davss_user, action(plan, "1.3"), davss, q1)
    with pytest.raises(ReturnError, match="closed"):
        save(lookahead_user, action(plan, "1.3"), agency("Look Ahead"), q1)
    assert QuarterlyReturn.objects.count() == 1


def test_lock_exceptions_are_the_managers_to_grant(davss_user, manager, action_1_1, davss, plan):
    q1 = quarter(plan, 1)
    with pytest.raises(ReturnError, match="Only the community safety manager"):
        services.grant_lock_exception(davss_user, q1, action_1_1, davss, reason="Please")
    with pytest.raises(ReturnError, match="Enter the reason"):
        services.grant_lock_exception(manager, q1, action_1_1, davss, reason="  ")
    Quarter.objects.filter(pk=q1.pk).update(is_open=True)
    q1.refresh_from_db()
    with pytest.raises(ReturnError, match="is open"):
        services.grant_lock_exception(manager, q1, action_1_1, davss, reason="Late figures")

    assert not LockException.objects.exists()


def test_opening_and_closing_a_quarter(manager, davss_user, plan):
    q3 = quarter(plan, 3)
    with pytest.raises(ReturnError):
        services.set_quarter_open(davss_user, q3, True)

    services.set_quarter_open(manager, q3, True)
    services.set_quarter_open(manager, q3, True)  # already open: nothing to record
    services.set_quarter_open(manager, q3, False)

    reasons = q3.history.order_by("history_date").values_list("history_change_reason", flat=True)
    assert list(reasons)[-2:] == ["Opened", "Closed"]
    assert q3.history.filter(history_change_reason="Opened").count() == 1


def test_a_stale_save_is_refused_and_overwrites_nothing(davss_user, manager, action_1_1, davss, q4):
    save(davss_user, action_1_1, davss, q4, narrative="First draft")
    # The manager and the partner both open version 1; the manager saves first.
    save(manager, action_1_1, davss, q4, seen_version=1, narrative="Manager's correction")

    with pytest.raises(StaleReturn, match="after you opened it"):
        save(davss_user, action_1_1, davss, q4, seen_version=1, narrative="Partner's text")

    current = QuarterlyReturn.objects.get()
    assert (current.narrative, current.version) == ("Manager's correction", 2)
    assert current.history.count() == 2


def test_a_stale_review_is_refused(davss_user, manager, action_1_1, davss, q4):
    submitted = save(davss_user, action_1_1, davss, q4, submit=True)
    services.send_back(manager, submitted, comment="Check figures", seen_version=1)
    save(davss_user, action_1_1, davss, q4, submit=True, seen_version=2)

    # A second manager's tab still shows version 1, submitted.
    with pytest.raises(StaleReturn):
        services.approve_return(manager, submitted, seen_version=1)

    assert QuarterlyReturn.objects.get().state == State.SUBMITTED


def test_a_double_submit_makes_one_submission(davss_user, action_1_1, davss, q4):
    save(davss_user, action_1_1, davss, q4)
    save(davss_user, action_1_1, davss, q4, submit=True, seen_version=1)

    with pytest.raises(AlreadySubmitted):
        save(davss_user, action_1_1, davss, q4, submit=True, seen_version=1)

    submitted = QuarterlyReturn.objects.get()
    assert submitted.version == 2
    assert submitted.history.filter(history_change_reason="Submitted").count() == 1


def test_an_approved_return_cannot_be_edited(approved, davss_user, manager, action_1_1, davss, q4):
    for user in (davss_user, manager):
        with pytest.raises(ReturnError, match="approved and can no longer be changed"):
            save(user, action_1_1, davss, q4, seen_version=approved.version, narrative="Edit")

    approved.refresh_from_db()
    assert approved.narrative == "Helpline busy over the summer."
    assert approved.state == State.APPROVED


def test_saving_locks_the_return_row_only(davss_user, action_1_1, davss, q4):
    """FOR UPDATE over the default ordering's joins would also lock the action, agency,
    quarter and plan, so every save in the plan would queue behind every other."""
    if not connection.features.has_select_for_update:
        pytest.skip("this database does not lock rows")
    save(davss_user, action_1_1, davss, q4)
    with CaptureQueriesContext(connection) as queries:
        save(davss_user, action_1_1, davss, q4, seen_version=1)

    [locking] = [query["sql"] for query in queries if "FOR UPDATE" in query["sql"]]
    assert "JOIN" not in locking


# E-mails -------------------------------------------------------------------------------------


@pytest.fixture
def davss_colleagues(davss):
    """A second DAVSS member, one without an e-mail and one who has left."""
    colleague = UserFactory(username="davss2", email="davss2@example.org")
    no_email = UserFactory(username="davss3", email="")
    left = UserFactory(username="davss4", email="left@example.org", is_active=False)
    davss.members.add(colleague, no_email, left)
    return colleague


def test_sending_back_queues_the_email_in_the_same_transaction(
    submitted, manager, davss_user, davss_colleagues, police_user, mailoutbox
):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.send_back(
            manager, submitted, comment="Please split calls by month.", seen_version=1
        )
        assert Email.objects.count() == 1  # queued with the change...
        assert mailoutbox == []  # ...and nothing leaves in the request
        raise RuntimeError("the change is rolled back")
    assert not Email.objects.exists()  # so its e-mail is gone with it

    services.send_back(manager, submitted, comment="Please split calls by month.", seen_version=1)
    deliver_queued_mail()
    [email] = mailoutbox
    assert sorted(email.to) == ["davss2@example.org", "davss@example.org"]
    assert "Please split calls by month." in email.body
    assert "1.1" in email.subject
    assert f"/returns/{submitted.pk}/" in email.body


def test_approval_emails_the_agency(
    submitted, manager, davss_user, police_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_return(manager, submitted, seen_version=1)

    deliver_queued_mail()
    [email] = mailoutbox
    assert email.to == ["davss@example.org"]
    assert email.subject.startswith("Return approved: action 1.1")


def test_reopening_emails_the_reason(
    approved, manager, mailoutbox, django_capture_on_commit_callbacks
):
    deliver_queued_mail()  # the approval's
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.reopen_return(manager, approved, reason="Calls double counted", seen_version=2)

    deliver_queued_mail()
    [email] = mailoutbox
    assert email.to == ["davss@example.org"]
    assert "Calls double counted" in email.body


def test_a_refused_transition_sends_nothing(
    submitted, davss_user, mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ReturnError),
    ):
        services.approve_return(davss_user, submitted, seen_version=1)

    assert callbacks == []
    deliver_queued_mail()
    assert mailoutbox == []


# Reminders -----------------------------------------------------------------------------------

# Q4 2022/23 ends on 31 March 2023; with 30 days allowed its returns are due on 30 April.
DUE_SOON = "2023-04-25"
OVERDUE = "2023-05-01"


def remind(*options) -> str:
    out = StringIO()
    call_command("send_return_reminders", *options, stdout=out, stderr=StringIO())
    return out.getvalue()


def reminded(stage=None) -> set[tuple[str, str]]:
    reminders = Reminder.objects.select_related("action__priority", "agency")
    if stage:
        reminders = reminders.filter(stage=stage)
    return {(r.action.ref, r.agency.short_name) for r in reminders}


@pytest.fixture
def partners(davss_user, police_user, lookahead_user):
    return [davss_user, police_user, lookahead_user]


def test_q4_is_due_on_30_april(q4):
    assert q4.due == datetime.date(2023, 4, 30)


def test_reminders_go_once_per_agency_and_never_twice(q4, partners, mailoutbox):
    summary = remind(f"--today={DUE_SOON}")

    deliver_queued_mail()
    assert sorted(email.to[0] for email in mailoutbox) == [
        "davss@example.org",
        "lookahead@example.org",
        "police@example.org",
    ]
    assert "sent 3 e-mail(s)" in summary
    davss_email = next(email for email in mailoutbox if email.to == ["davss@example.org"])
    assert davss_email.subject == "Due by 30 April 2023: returns for Q4 2022/23"
    for ref in ("1.1", "1.3", "1.4", "1.8"):
        assert f"- {ref} " in davss_email.body
    # The agencies with no one to e-mail are recorded too, so they are not retried daily.
    assert ("1.2", Agency.objects.get(name="Kent CDAP").short_name) in reminded()
    recorded = Reminder.objects.count()

    mailoutbox.clear()
    summary = remind(f"--today={DUE_SOON}")

    deliver_queued_mail()
    assert mailoutbox == []
    assert "sent 0 e-mail(s)" in summary
    assert Reminder.objects.count() == recorded


def test_due_soon_then_overdue_are_two_different_reminders(q4, davss_user, mailoutbox):
    remind(f"--today={DUE_SOON}")
    remind(f"--today={OVERDUE}")
    remind(f"--today={OVERDUE}")

    deliver_queued_mail()
    assert [email.subject for email in mailoutbox] == [
        "Due by 30 April 2023: returns for Q4 2022/23",
        "Overdue: 4 returns for Q4 2022/23",
    ]
    assert "were due on 30 April 2023" in mailoutbox[1].body
    assert ("1.1", "DAVSS") in reminded(Reminder.Stage.DUE_SOON)
    assert ("1.1", "DAVSS") in reminded(Reminder.Stage.OVERDUE)


def test_the_due_soon_window_is_the_7_days_before_the_due_date(q4, davss_user, mailoutbox):
    remind("--today=2023-04-22")
    deliver_queued_mail()
    assert mailoutbox == []

    remind("--today=2023-04-23")
    remind("--today=2023-04-30")
    deliver_queued_mail()
    assert len(mailoutbox) == 1
    assert not reminded(Reminder.Stage.OVERDUE)


def test_submitted_and_approved_returns_are_not_reminded(
    q4, davss_user, manager, plan, davss, mailoutbox
):
    save(davss_user, action(plan, "1.1"), davss, q4, submit=True)
    to_approve = save(davss_user, action(plan, "1.3"), davss, q4, submit=True)
    services.approve_return(manager, to_approve, seen_version=1)
    save(davss_user, action(plan, "1.4"), davss, q4)  # a draft is still owed
    deliver_queued_mail()  # the approval's
    mailoutbox.clear()

    remind(f"--today={OVERDUE}")

    deliver_queued_mail()
    [email] = mailoutbox
    assert email.subject == "Overdue: 2 returns for Q4 2022/23"
    assert {ref for ref, short in reminded() if short == "DAVSS"} == {"1.4", "1.8"}


def test_all_partner_actions_remind_those_that_owe_them_never_contributors(q4, davss_user, plan):
    remind(f"--today={OVERDUE}")

    # All partners, no agency named: owed by the coordinating agency alone.
    assert {short for ref, short in reminded() if ref == "3.12"} == {"CST"}
    assert ("5.5", "DAVSS") not in reminded()  # a contribution is optional
    assert ("5.5", "Kent Police") in reminded()


def test_closed_quarters_and_quarters_not_yet_due_are_not_reminded(plan, davss_user, mailoutbox):
    remind("--today=2022-08-15")  # Q1 overdue, but closed
    Quarter.objects.filter(plan=plan, number=4).update(is_open=True)
    remind("--today=2023-03-01")  # Q4 open, not due for weeks

    deliver_queued_mail()
    assert mailoutbox == []
    assert not Reminder.objects.exists()


def test_a_dry_run_sends_and_records_nothing(q4, davss_user, mailoutbox):
    output = remind(f"--today={OVERDUE}", "--dry-run")

    assert "Would remind DAVSS (davss@example.org)" in output
    assert "Dry run for 01 May 2023" in output
    deliver_queued_mail()
    assert mailoutbox == []
    assert not Reminder.objects.exists()


def test_a_failed_email_is_not_recorded_so_the_next_run_tries_again(
    q4, partners, mailoutbox, monkeypatch
):
    from django.core.management.base import CommandError

    from actions import notifications

    send = notifications.reminder

    def police_mail_down(agency, *args, **kwargs):
        if agency.name == "Kent Police":
            raise ConnectionRefusedError("mail server down")
        return send(agency, *args, **kwargs)

    monkeypatch.setattr(notifications, "reminder", police_mail_down)
    with pytest.raises(CommandError, match="1 reminder e-mail"):
        remind(f"--today={DUE_SOON}")
    deliver_queued_mail()
    assert len(mailoutbox) == 2
    assert not Reminder.objects.filter(agency__name="Kent Police").exists()
    assert Reminder.objects.filter(agency__name="DAVSS").count() == 4

    monkeypatch.setattr(notifications, "reminder", send)
    mailoutbox.clear()
    remind(f"--today={DUE_SOON}")
    deliver_queued_mail()
    [email] = mailoutbox
    assert email.to == ["police@example.org"]


def test_a_bad_date_is_refused(q4):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        remind("--today=30/04/2023")


# Seven look-ups, the service's names for the e-mails (once), the death review updates owed
# (for each quarter reminded of, its plan's quarters and the open review actions: one quarter
# here), two more per agency e-mailed (its members' addresses, and queueing its e-mail:
# three here), and one insert of the Reminder rows: 17 on PostgreSQL. SQLite inserts at most 199 rows a statement, so the larger
# run takes one more there.
REMINDER_QUERIES = 18


def test_reminders_run_a_fixed_number_of_queries(
    q4, partners, plan, davss, django_assert_max_num_queries, mailoutbox
):
    # One look-up per agency e-mailed, and a fixed number besides: not one per action.
    with django_assert_max_num_queries(REMINDER_QUERIES):
        remind(f"--today={DUE_SOON}")
    deliver_queued_mail()
    assert len(mailoutbox) == 3

    priority = plan.priorities.get(number=1)
    for number in range(100, 160):
        extra = ActionFactory(priority=priority, number=number)
        extra.agencies.add(davss, agency("Kent Police"), agency("Look Ahead"))
    mailoutbox.clear()
    with django_assert_max_num_queries(REMINDER_QUERIES):
        remind(f"--today={OVERDUE}")
    deliver_queued_mail()
    assert len(mailoutbox) == 3
    assert Reminder.objects.filter(stage=Reminder.Stage.OVERDUE, agency=davss).count() == 64


# Demo returns --------------------------------------------------------------------------------


@pytest.fixture
def demo_returns(plan):
    demodata.create_demo_accounts()
    return demodata.create_demo_returns()


def state_counts() -> dict[str, int]:
    return {state: QuarterlyReturn.objects.filter(state=state).count() for state in State.values}


def test_demo_returns_paint_a_believable_picture(demo_returns, plan):
    pairs = Action.agencies.through.objects.filter(action__priority__plan=plan).count()
    counts = state_counts()

    assert len(demo_returns) == QuarterlyReturn.objects.count()
    assert counts[State.DRAFT] == 0
    assert counts[State.APPROVED] > 0.6 * len(demo_returns)
    assert 0 < counts[State.SENT_BACK] < counts[State.APPROVED]
    assert 0 < counts[State.SUBMITTED] < counts[State.APPROVED]
    assert 3 * pairs - len(demo_returns) > 0.05 * 3 * pairs  # some missing
    rags = {rag: QuarterlyReturn.objects.filter(rag=rag).count() for rag in ("green", "red")}
    assert rags["green"] > len(demo_returns) / 2
    assert 0 < rags["red"] < 0.2 * len(demo_returns)


def test_demo_returns_leave_q4_open_and_empty(demo_returns, plan, action_1_1, davss):
    assert not QuarterlyReturn.objects.filter(quarter__number=4).exists()
    assert not QuarterlyReturn.objects.filter(action=action_1_1, agency=davss, quarter__number=4)
    open_quarters = Quarter.objects.filter(plan=plan, is_open=True)
    assert list(open_quarters.values_list("number", flat=True)) == [4]


def test_demo_returns_read_like_real_ones(demo_returns):
    for quarterly_return in QuarterlyReturn.objects.select_related(
        "quarter__plan", "agency", "submitted_by", "reviewed_by"
    ).prefetch_related("action__metrics"):
        assert quarterly_return.narrative.startswith("Demo figures:")
        in_quarter = quarterly_return.quarter
        submitted_on = timezone.localdate(quarterly_return.submitted_at)
        assert in_quarter.end < submitted_on <= in_quarter.due
        assert submitted_on.weekday() < 5
        expected_submitter = {"DAVSS": "davss", "Kent Police": "police", "Look Ahead": "lookahead"}
        assert quarterly_return.submitted_by.username == expected_submitter.get(
            quarterly_return.agency.name, "manager"
        )
        metrics = quarterly_return.action.metrics.all()
        blank = {
            str(m.pk)
            for m in metrics
            if f'"{m.name}" is blank' in quarterly_return.reviewer_comment
        }
        assert set(quarterly_return.values) == {str(metric.pk) for metric in metrics} - blank
        for metric in metrics:
            if str(metric.pk) in blank:  # what it was sent back for
                continue
            value = quarterly_return.values[str(metric.pk)]
            if metric.kind == "count":
                assert isinstance(value, int) and 0 <= value <= 1000
            elif metric.kind == "yes_no":
                assert value in ("yes", "no")
            else:
                assert isinstance(value, str) and value
        if quarterly_return.rag in ("red", "amber"):
            assert quarterly_return.rag_reason
        if quarterly_return.state == State.SENT_BACK:
            assert quarterly_return.reviewer_comment
        if quarterly_return.state in (State.APPROVED, State.SENT_BACK):
            assert quarterly_return.reviewed_by.username == "manager"
            assert quarterly_return.submitted_at < quarterly_return.reviewed_at
            assert timezone.localdate(quarterly_return.reviewed_at) <= in_quarter.due
        else:
            assert quarterly_return.reviewed_at is None


def test_demo_returns_have_their_history(demo_returns):
    approved = QuarterlyReturn.objects.filter(state=State.APPROVED).first()
    sent_back = QuarterlyReturn.objects.filter(state=State.SENT_BACK).first()
    waiting = QuarterlyReturn.objects.filter(state=State.SUBMITTED).first()

    assert [reason for reason, _ in trail(approved)] == ["Submitted", "Approved"]
    assert trail(sent_back)[-1] == (
        change_reason(f"Sent back: {sent_back.reviewer_comment}"),
        "manager",
    )
    assert [reason for reason, _ in trail(waiting)] == ["Submitted"]
    assert approved.history.earliest("history_date").state == State.SUBMITTED
    assert approved.history.latest("history_date").history_date == approved.reviewed_at
    assert QuarterlyReturn.history.count() == (
        len(demo_returns) + QuarterlyReturn.objects.exclude(state=State.SUBMITTED).count()
    )


def test_demo_returns_are_deterministic_and_idempotent(demo_returns):
    def picture():
        return {
            (r.quarter_id, r.action_id, r.agency_id): (r.state, r.values, r.rag, r.narrative)
            for r in QuarterlyReturn.objects.all()
        }

    first, history = picture(), QuarterlyReturn.history.count()

    assert demodata.create_demo_returns() == []
    assert picture() == first
    assert QuarterlyReturn.history.count() == history

    QuarterlyReturn.objects.all().delete()
    demodata.create_demo_returns()
    assert picture() == first


def test_seed_demo_loads_demo_returns_and_production_seed_does_not(plan, settings):
    call_command("seed", stdout=StringIO())
    assert not QuarterlyReturn.objects.exists()

    settings.DEBUG = True
    call_command("seed", "--demo", stdout=StringIO())
    counts = state_counts()
    assert sum(counts.values()) > 300
    call_command("seed", "--demo", stdout=StringIO())
    assert state_counts() == counts


def test_demo_returns_need_the_demo_accounts(plan):
    with pytest.raises(RuntimeError, match="demo accounts"):
        demodata.create_demo_returns()
