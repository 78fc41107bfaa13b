"""E-mail on a bad day: the mail server down, hanging, then back.

Requests only queue mail; the worker (csp.outbox, `manage.py deliver_mail`) delivers it.
Every mail server here is real and local: a closed port on 127.0.0.1, a listener that accepts
and never answers, and a small SMTP server (tests/mail_servers.py).
"""

import datetime
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from post_office.models import STATUS, Email

from actions.models import Agency, QuarterlyReturn
from csp import outbox
from csp import settings as project_settings
from priorities.models import Partnership

from .board_helpers import load_demo, quarter
from .mail_servers import HangingServer, SmtpSink, closed_port
from .test_returns_views import banners, detail_url, document, signed_in, submitted_return, text

MAX_RETRIES = 2


@pytest.fixture
def smtp(settings):
    """Deliver through SMTP to 127.0.0.1, at the port the test chooses, with a 1 s timeout."""
    settings.POST_OFFICE = settings.POST_OFFICE | {
        "BACKENDS": {"default": "django.core.mail.backends.smtp.EmailBackend"},
        "MAX_RETRIES": MAX_RETRIES,
    }
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 1

    def point_at(port: int):
        settings.EMAIL_PORT = port

    point_at(closed_port())
    return point_at


def later():
    """Move time on past the retry interval: what was put off is due again."""
    Email.objects.filter(status=STATUS.requeued).update(
        scheduled_time=timezone.now() - datetime.timedelta(seconds=1)
    )


def approve(client, manager, submitted, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the request commits, as in life
        return signed_in(client, manager).post(
            reverse("return_approve", args=[submitted.pk]),
            {"version": str(submitted.version)},
            follow=True,
        )


def mail_page(client, manager):
    response = signed_in(client, manager).get(reverse("outgoing_mail"))
    assert response.status_code == 200
    return response


def mail_rows(response) -> list[str]:
    return [text(row) for row in document(response).xpath("//table//tbody/tr")]


def test_the_app_queues_every_email_it_sends():
    """The tests put the queue back after Django's test runner takes it away; the settings
    themselves must queue, whatever EMAIL_BACKEND the environment names for delivery."""
    assert project_settings.EMAIL_BACKEND == "post_office.EmailBackend"
    assert project_settings.POST_OFFICE["BACKENDS"]["default"] != "post_office.EmailBackend"
    assert project_settings.EMAIL_TIMEOUT <= 10
    assert project_settings.POST_OFFICE["MAX_RETRIES"] > 0


@pytest.mark.django_db
def test_approve_with_the_mail_server_down_approves_and_keeps_the_notice(
    client, davss_user, manager, plan, smtp, mailoutbox, django_capture_on_commit_callbacks
):
    submitted = submitted_return(davss_user, plan)

    response = approve(client, manager, submitted, django_capture_on_commit_callbacks)

    assert response.redirect_chain == [(detail_url(submitted), 302)]
    assert "approved" in banners(response).lower()
    submitted.refresh_from_db()
    assert submitted.state == QuarterlyReturn.State.APPROVED
    [queued] = Email.objects.all()
    assert (queued.status, queued.to) == (STATUS.queued, ["davss@example.org"])

    delivery = outbox.deliver_queued()

    assert delivery == outbox.Delivery(requeued=1)
    queued.refresh_from_db()
    assert queued.status == STATUS.requeued
    assert queued.scheduled_time > timezone.now()  # put off, not hammered
    [log] = queued.logs.all()
    assert "refused" in log.message.lower()
    assert mailoutbox == []
    page = mail_page(client, manager)
    [row] = mail_rows(page)
    assert "Return approved: action 1.1, Q4 2022/23" in row
    assert "Will try again" in row and f"(attempt 2 of {MAX_RETRIES + 1})." in row
    assert "Mail server:" in row and "refused" in row.lower()

    # Nothing is tried again before its time.
    assert outbox.deliver_queued() == outbox.Delivery()


@pytest.mark.django_db
def test_send_reminder_with_the_mail_server_down_says_sent_and_queues_it(client, smtp, mailoutbox):
    users = load_demo()
    look_ahead = Agency.objects.get(name="Look Ahead")
    client.force_login(users["manager"])

    response = client.post(
        reverse("send_reminder"),
        {"agency": look_ahead.pk, "quarter": quarter(3).pk},
        follow=True,
    )

    assert response.status_code == 200
    assert "Reminder sent to Look Ahead" in banners(response)
    [queued] = Email.objects.all()
    assert queued.to == ["lookahead@example.org"]
    assert outbox.deliver_queued() == outbox.Delivery(requeued=1)
    assert "refused" in queued.logs.get().message.lower()


@pytest.mark.django_db
def test_the_reminders_command_with_the_mail_server_down_queues_and_succeeds(
    plan, davss_user, smtp
):
    from priorities.models import Quarter

    Quarter.objects.filter(plan=plan, number=4).update(is_open=True)
    out = StringIO()
    call_command("send_return_reminders", "--today=2023-05-01", stdout=out, stderr=StringIO())

    assert "sent 1 e-mail(s)" in out.getvalue()
    assert outbox.deliver_queued() == outbox.Delivery(requeued=1)


@pytest.mark.django_db
def test_password_reset_with_the_mail_server_down_still_says_check_your_email(davss_user, smtp):
    response = Client().post(reverse("password_reset"), {"email": davss_user.email})

    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert Email.objects.get().to == [davss_user.email]
    assert outbox.deliver_queued() == outbox.Delivery(requeued=1)


@pytest.mark.django_db
def test_a_hanging_mail_server_holds_the_worker_for_the_timeout_only(
    client, davss_user, manager, plan, smtp, django_capture_on_commit_callbacks
):
    submitted = submitted_return(davss_user, plan)
    with HangingServer() as hanging:
        smtp(hanging.port)
        started = time.monotonic()
        response = approve(client, manager, submitted, django_capture_on_commit_callbacks)
        assert time.monotonic() - started < 1  # the request never waits for mail
        assert response.redirect_chain == [(detail_url(submitted), 302)]

        started = time.monotonic()
        delivery = outbox.deliver_queued()
        waited = time.monotonic() - started

    assert delivery == outbox.Delivery(requeued=1)
    assert 0.9 < waited < 5  # EMAIL_TIMEOUT is 1 s here
    assert "timed out" in Email.objects.get().logs.get().message


@pytest.mark.django_db
def test_when_the_mail_server_comes_back_the_retry_delivers(
    client, davss_user, manager, plan, smtp, django_capture_on_commit_callbacks
):
    submitted = submitted_return(davss_user, plan)
    approve(client, manager, submitted, django_capture_on_commit_callbacks)
    assert outbox.deliver_queued() == outbox.Delivery(requeued=1)

    with SmtpSink() as sink:
        smtp(sink.port)
        assert outbox.deliver_queued() == outbox.Delivery()  # not due yet
        later()
        assert outbox.deliver_queued() == outbox.Delivery(sent=1)

    [(sender, recipients, message)] = sink.messages
    assert recipients == ["davss@example.org"]
    assert message["Subject"] == "Return approved: action 1.1, Q4 2022/23"
    assert detail_url(submitted) in message.get_payload()
    assert Email.objects.get().status == STATUS.sent
    assert "Sent" in mail_rows(mail_page(client, manager))[0]


@pytest.mark.django_db
def test_after_the_last_retry_it_fails_and_the_manager_can_try_again(
    client, davss_user, manager, plan, smtp, django_capture_on_commit_callbacks
):
    submitted = submitted_return(davss_user, plan)
    approve(client, manager, submitted, django_capture_on_commit_callbacks)
    for _ in range(MAX_RETRIES):
        assert outbox.deliver_queued() == outbox.Delivery(requeued=1)
        later()
    assert outbox.deliver_queued() == outbox.Delivery(failed=1)
    email = Email.objects.get()
    assert email.status == STATUS.failed
    assert email.logs.count() == MAX_RETRIES + 1

    page = mail_page(client, manager)
    [row] = mail_rows(page)
    assert "Failed" in row and "refused" in row.lower()
    assert "0 waiting to be sent 0 to be tried again 1 failed" in text(
        document(page).xpath("//ul[@id='mail-counts']")[0]
    )
    retry_url = reverse("outgoing_mail_retry", args=[email.pk])
    [form] = document(page).xpath(f"//form[@action='{retry_url}']")

    with SmtpSink() as sink:
        smtp(sink.port)
        response = client.post(retry_url, follow=True)
        assert "The e-mail to davss@example.org will be sent again in a moment." in (
            banners(response)
        )
        assert outbox.deliver_queued() == outbox.Delivery(sent=1)

    assert [recipients for _, recipients, _ in sink.messages] == [["davss@example.org"]]
    # A sent e-mail is not sent twice.
    response = client.post(retry_url, follow=True)
    assert "That e-mail has been sent." in banners(response)
    assert Email.objects.get().status == STATUS.sent
    assert not document(response).xpath(f"//form[@action='{retry_url}']")


@pytest.mark.django_db
def test_retrying_an_email_that_is_not_there_says_so(client, manager):
    response = signed_in(client, manager).post(
        reverse("outgoing_mail_retry", args=[987654]), follow=True
    )
    assert response.status_code == 200
    assert "That e-mail is no longer in the queue." in banners(response)


@pytest.mark.django_db
def test_the_mail_page_never_shows_a_password_reset_link(client, davss_user, manager):
    # The subject names the partnership's service, whatever it is called.
    Partnership.objects.filter(pk=Partnership.objects.deployed().pk).update(
        header_name="Anytown safety plan"
    )
    Client().post(reverse("password_reset"), {"email": davss_user.email})
    body = Email.objects.get().message
    assert "/accounts/reset/" in body

    page = mail_page(client, manager).content.decode()

    assert "Reset your Anytown safety plan password" in page  # the row is there...
    assert davss_user.email in page
    assert "/accounts/reset/" not in page  # ...without the link that would sign in as them


@pytest.mark.django_db
def test_the_worker_command_delivers_the_queue(
    client, davss_user, manager, plan, smtp, django_capture_on_commit_callbacks
):
    submitted = submitted_return(davss_user, plan)
    approve(client, manager, submitted, django_capture_on_commit_callbacks)
    with SmtpSink() as sink:
        smtp(sink.port)
        out = StringIO()
        call_command("deliver_mail", "--once", stdout=out)

    assert "E-mail: 1 sent, 0 to try again later, 0 failed." in out.getvalue()
    assert len(sink.messages) == 1


@pytest.mark.django_db
def test_the_mail_page_runs_the_same_queries_whatever_the_queue_holds(client, manager, smtp):
    def queue(count):
        for number in range(count):
            Email.objects.create(
                from_email="Community safety plan <noreply@localhost>",
                to=[f"partner{number}@example.org"],
                subject=f"Notice {number}",
                message="…",
                status=STATUS.queued,
            )
        outbox.deliver_queued()  # each fails once, with a log line
        later()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("outgoing_mail")).status_code == 200
        return len(captured)

    queue(3)
    mail_page(client, manager)  # signs in, and warms up the session
    few = queries()
    queue(60)
    assert queries() == few
    assert few <= 10
