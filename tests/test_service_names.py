"""E-mails, pages and the authenticator app call the service and the partnership by the
partnership's own names (priorities.models.Partnership), never the repository's name or
the first partnership's: another partnership's deployment reads its own."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role
from actions import services
from people import services as people_services
from priorities.models import Partnership

from .mail_servers import deliver_queued_mail
from .test_returns_views import signed_in, submitted_return

SERVICE = "Anytown safety plan"
PARTNERSHIP = "Anytown Community Safety Partnership"


@pytest.fixture
def anytown(plan):
    """The deployed partnership, renamed: nothing may still say csp-plan or Tunbridge Wells."""
    partnership = Partnership.objects.deployed()
    partnership.name = PARTNERSHIP
    partnership.header_name = SERVICE
    partnership.save()
    assert Partnership.objects.deployed().pk == partnership.pk
    return partnership


def assert_named(text: str) -> None:
    assert "csp-plan" not in text
    assert "Tunbridge" not in text


@pytest.mark.django_db
def test_the_password_reset_email_names_the_service_and_partnership(anytown, davss_user):
    Client().post(reverse("password_reset"), {"email": davss_user.email})
    [message] = deliver_queued_mail()

    assert message.subject == f"Reset your {SERVICE} password"
    assert f"your {SERVICE} account (davss) for the {PARTNERSHIP}." in message.body
    assert message.body.rstrip().endswith(f"{SERVICE}\n{PARTNERSHIP}")
    assert_named(message.subject + message.body)


@pytest.mark.django_db
def test_a_return_email_is_signed_with_the_partnership_names(
    anytown, davss_user, manager, plan, django_capture_on_commit_callbacks
):
    submitted = submitted_return(davss_user, plan)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_return(manager, submitted, seen_version=None)
    [message] = deliver_queued_mail()

    assert message.subject.startswith("Return approved: action 1.1")
    assert f"{SERVICE}, {PARTNERSHIP}" in message.body
    assert_named(message.body)


@pytest.mark.django_db
def test_the_invitation_names_the_service_and_partnership(
    anytown, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        people_services.invite(
            manager,
            first_name="Sam",
            last_name="Jones",
            email="sam@example.org",
            role=Role.BOARD,
            agencies=[],
        )
    [message] = deliver_queued_mail()

    assert message.subject == f"You are invited to {SERVICE}"
    assert f"has invited you to {SERVICE}, the {PARTNERSHIP}'s system" in message.body
    assert f"{SERVICE}, {PARTNERSHIP}" in message.body
    assert_named(message.subject + message.body)


@pytest.mark.django_db
def test_the_authenticator_app_shows_the_service_name(anytown, manager, settings):
    device = TOTPDevice(user=manager, name="app")

    assert "otpauth://totp/Anytown%20safety%20plan%3Amanager?" in device.config_url
    assert "issuer=Anytown%20safety%20plan" in device.config_url
    # A deployment may still name the issuer in its environment.
    settings.OTP_TOTP_ISSUER = "Council CSP"
    assert "issuer=Council%20CSP" in device.config_url


@pytest.mark.django_db
def test_the_code_page_names_the_service(anytown, manager, client):
    TOTPDevice.objects.create(user=manager, name="app", confirmed=True)
    page = signed_in(client, manager).get(reverse("two_factor_verify")).content.decode()

    assert f"enter the code it shows for {SERVICE}." in page
    assert PARTNERSHIP in page  # the footer
    # The footer's copyright still names the council that runs the service: the partnership
    # holds no such name yet.
    assert "csp-plan" not in page


def test_the_error_page_names_no_partnership():
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert "Sorry, there is a problem with the service" in page
    assert_named(page)
