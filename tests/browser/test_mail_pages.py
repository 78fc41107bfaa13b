"""The manager's Outgoing e-mail page in a real browser: a reminder sent while the mail server
is down waits with the server's answer, and *Try again* delivers it once the server is back."""

import pytest
from playwright.sync_api import expect

from accounts.models import User
from csp import outbox
from demodata.demo_returns import DEMO_PASSWORD
from tests.board_helpers import load_demo
from tests.mail_servers import SmtpSink, closed_port

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_manager_sees_a_failed_email_and_tries_it_again(
    page, axe, sign_in, settings, artifacts
):
    load_demo()
    settings.POST_OFFICE = settings.POST_OFFICE | {
        "BACKENDS": {"default": "django.core.mail.backends.smtp.EmailBackend"}
    }
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 1
    sign_in(User.objects.get(username="manager"), DEMO_PASSWORD)
    page.goto("/completeness/")
    page.get_by_role("button", name="Send reminder to Look Ahead for Q3 2022/23").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Reminder sent to Look Ahead"
    )
    assert outbox.deliver_queued() == outbox.Delivery(requeued=1)

    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Outgoing e-mail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Outgoing e-mail")
    row = page.locator("tbody tr").filter(has_text="lookahead@example.org")
    expect(row).to_contain_text("Will try again")
    expect(row).to_contain_text("attempt 2 of 7")
    expect(row).to_contain_text("Connection refused")
    page.screenshot(path=artifacts / "outgoing-mail.png", full_page=True)
    axe(page)

    with SmtpSink() as sink:
        settings.EMAIL_PORT = sink.port
        row.get_by_role("button", name="Try again").click()
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
            "The e-mail to lookahead@example.org will be sent again in a moment."
        )
        assert outbox.deliver_queued() == outbox.Delivery(sent=1)
    assert [recipients for _, recipients, _ in sink.messages] == [["lookahead@example.org"]]
    page.reload()
    expect(page.locator("tbody tr").first).to_contain_text("Sent")
    expect(page.get_by_role("button", name="Try again")).to_have_count(0)
