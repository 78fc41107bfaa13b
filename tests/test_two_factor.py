"""The second factor (accounts/second_factor.py): with it required, the manager sets up an
authenticator app at sign-in, then signs in with password and code, or a recovery code
once; wrong codes count on both sign-in limits; a half-signed-in session reaches nothing
but the code page; a manager's reset is logged and e-mailed. And signing in by e-mail
address or username in any case, counted as one account by every limit."""

import logging
import re
from base64 import b32decode
from urllib.parse import quote

import pytest
from axes.models import AccessAttempt
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from lxml import html

from accounts import second_factor
from tests.mail_servers import deliver_queued_mail

from .factories import PASSWORD
from .test_access import ACCESS, database_state, url_name, world  # noqa: F401 (a fixture)
from .test_security import production_settings, reset_link

pytestmark = pytest.mark.django_db
REQUIRED = override_settings(MFA_REQUIRED=True, MFA_REQUIRED_ROLES=["manager"])
HOME = "10.1.1.1"


def text(response) -> str:
    return " ".join(html.fromstring(response.content.decode()).text_content().split())


def sign_in(client, username, password=PASSWORD, ip=HOME):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def send_code(client, code, ip=HOME):
    return client.post(reverse("two_factor_verify"), {"code": code}, REMOTE_ADDR=ip)


def code_for(secret: str, steps_ahead: int = 0) -> str:
    """What the app shows now (or a step of 30 seconds later), from the secret as typed."""
    key = b32decode(secret.replace(" ", ""))
    return f"{totp(key, t0=-30 * steps_ahead, drift=0):06d}"


def secret_on(response) -> str:
    return html.fromstring(response.content.decode()).get_element_by_id("secret").text_content()


def codes_on(response) -> list[str]:
    page = html.fromstring(response.content.decode())
    return [code.text_content() for code in page.get_element_by_id("recovery-codes").iter("code")]


def page_of(client) -> str:
    """Where the home page leaves a session: the path it is sent to, or home itself."""
    response = client.get(reverse("home"))
    return response["Location"].split("?")[0] if response.status_code == 302 else "home"


def enrol(client) -> tuple[str, list[str]]:
    page = client.get(reverse("two_factor_enrol"))
    secret = secret_on(page)
    done = client.post(reverse("two_factor_enrol"), {"code": code_for(secret)}, follow=True)
    return secret, codes_on(done)


@pytest.fixture
def enrolled_manager(manager):
    """The manager with an app (secret returned) and recovery codes, signed out."""
    client = Client()
    client.force_login(manager)
    secret, codes = enrol(client)
    return manager, secret, codes


# Enrolment at sign-in, then password and code -----------------------------------------


@REQUIRED
def test_the_manager_sets_up_a_second_factor_at_sign_in_then_signs_in_with_it(manager):
    client = Client()
    assert sign_in(client, "manager").status_code == 302
    assert page_of(client) == reverse("two_factor_enrol")  # nothing else until set up

    page = client.get(reverse("two_factor_enrol"))
    assert page.status_code == 200
    secret = secret_on(page)
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", secret)  # 160 bits, grouped
    svg = html.fromstring(page.content.decode()).find_class("app-qr-code")[0]
    assert svg[0].tag == "svg"  # the QR code, inline
    assert "manager" not in html.tostring(svg).decode()  # drawn, not written
    assert client.get(reverse("two_factor_enrol")).context["secret"] == secret  # same on reload

    wrong = client.post(reverse("two_factor_enrol"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "That code is not right" in text(wrong)
    assert 'value="000000"' in wrong.content.decode()  # what was typed is kept

    done = client.post(reverse("two_factor_enrol"), {"code": code_for(secret)}, follow=True)
    codes = codes_on(done)
    assert len(codes) == 10 == len(set(codes))
    assert all(re.fullmatch(r"([a-z2-7]{4}-){5}[a-z2-7]{4}", code) for code in codes)  # 120 bits
    assert page_of(client) == "home"  # this session is verified
    assert client.get(reverse("two_factor_recovery_codes")).status_code == 302  # shown once

    client.post(reverse("logout"))
    client = Client()
    assert sign_in(client, "Manager").status_code == 302
    assert page_of(client) == reverse("two_factor_verify")
    # The code just used to set up cannot be used again; the next one can.
    assert send_code(client, code_for(secret)).status_code == 200
    response = send_code(client, code_for(secret, steps_ahead=1))
    assert response.status_code == 302
    assert page_of(client) == "home"


@REQUIRED
def test_a_recovery_code_signs_in_once(enrolled_manager):
    _, _, codes = enrolled_manager
    client = Client()
    sign_in(client, "manager")
    response = send_code(client, codes[0].upper())
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert "You used a recovery code. You have 9 left" in text(home)

    client = Client()
    sign_in(client, "manager")
    again = send_code(client, codes[0])
    assert again.status_code == 200
    assert "That code is not right" in text(again)
    assert page_of(client) == reverse("two_factor_verify")


def test_new_recovery_codes_replace_the_old(enrolled_manager):
    manager, _, old = enrolled_manager
    client = Client()
    sign_in(client, "manager")
    send_code(client, old[0])
    new = codes_on(client.post(reverse("two_factor_recovery_codes"), follow=True))
    assert len(new) == 10 and not set(new) & set(old)
    stored = set(StaticToken.objects.filter(device__user=manager).values_list("token", flat=True))
    assert stored == {second_factor.recovery_code_hash(code) for code in new}
    assert not stored & {code.replace("-", "") for code in new}  # never the codes themselves
    for code in old[1:3]:  # the old ones no longer work
        client = Client()
        sign_in(client, "manager", ip=f"10.3.3.{len(code)}")
        assert send_code(client, code).status_code == 200
    client = Client()
    sign_in(client, "manager")
    assert send_code(client, new[0]).status_code == 302


def test_anyone_may_turn_it_on_and_it_is_then_asked_for(davss_user):
    client = Client()
    sign_in(client, "davss")
    assert page_of(client) == "home"  # not required of partners
    assert "Off" in text(client.get(reverse("two_factor")))
    secret, _ = enrol(client)
    client.post(reverse("logout"))
    sign_in(client, "davss")
    assert page_of(client) == reverse("two_factor_verify")
    send_code(client, code_for(secret, steps_ahead=1))
    assert page_of(client) == "home"


def test_required_by_default_in_production_and_not_in_the_demo(manager, settings):
    assert not settings.MFA_REQUIRED  # these tests run with DEBUG=1, as the demo does
    assert production_settings("MFA_REQUIRED", "MFA_REQUIRED_ROLES") == {
        "MFA_REQUIRED": True,
        "MFA_REQUIRED_ROLES": ["manager"],
    }
    client = Client()
    sign_in(client, "manager")
    assert page_of(client) == "home"


@REQUIRED
def test_superusers_must_set_it_up_whatever_their_role(davss_user):
    davss_user.is_superuser = True
    davss_user.save()
    client = Client()
    sign_in(client, "davss")
    assert page_of(client) == reverse("two_factor_enrol")


# Wrong codes count as wrong passwords -------------------------------------------------


def test_wrong_codes_lock_the_username_from_that_address_as_axes_does(enrolled_manager):
    client = Client()
    sign_in(client, "manager")
    statuses = [send_code(client, "123456").status_code for _ in range(10)]
    assert statuses == [200] * 9 + [429]  # the tenth: axes's lockout page
    assert page_of(client) == reverse("login")  # and the half-signed-in session has ended
    assert AccessAttempt.objects.get(username="manager", ip_address=HOME).failures_since_start == 10
    assert sign_in(Client(), "manager").status_code == 429  # the right password too
    assert sign_in(Client(), "manager", ip="10.9.9.9").status_code == 302  # elsewhere: not


def test_wrong_codes_spread_over_addresses_lock_the_account(enrolled_manager, caplog):
    """The password is known; codes are guessed 5 at a time from 4 addresses: signing in
    again each time must not forgive the wrong codes."""
    statuses = []
    for address in range(4):
        client = Client()
        ip = f"203.0.113.{address}"
        assert sign_in(client, "manager", ip=ip).status_code == 302
        with caplog.at_level(logging.WARNING, logger="csp.audit"):
            statuses += [send_code(client, "123456", ip=ip).status_code for _ in range(5)]
    assert statuses[:19] == [200] * 19
    assert statuses[19] == 302  # the twentieth: signed out, to the sign-in page
    assert sign_in(Client(), "manager", ip="192.0.2.50").status_code == 429
    assert "throttled sign-in: manager refused until" in caplog.text
    assert "sign-in failed: username=manager ip=203.0.113.0" in caplog.text


def test_a_right_code_forgives_the_count(enrolled_manager):
    _, secret, _ = enrolled_manager
    client = Client()
    sign_in(client, "manager")
    for _ in range(9):
        send_code(client, "123456")
    assert send_code(client, code_for(secret, steps_ahead=1)).status_code == 302
    assert not AccessAttempt.objects.filter(username="manager").exists()
    client = Client()
    sign_in(client, "manager")
    assert [send_code(client, "123456").status_code for _ in range(9)] == [200] * 9


def test_the_code_page_returns_to_the_page_asked_for_and_never_off_the_site(enrolled_manager):
    _, secret, _ = enrolled_manager
    client = Client()
    sign_in(client, "manager")
    asked = client.get(reverse("plan"))
    assert asked["Location"] == f"{reverse('two_factor_verify')}?next={quote(reverse('plan'))}"
    response = client.post(
        asked["Location"], {"code": code_for(secret, steps_ahead=1), "next": reverse("plan")}
    )
    assert response["Location"] == reverse("plan")

    client = Client()
    sign_in(client, "manager")
    response = client.post(
        reverse("two_factor_verify"),
        {"code": code_for(secret, steps_ahead=2), "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_a_password_reset_does_not_skip_the_code(client, enrolled_manager, mailoutbox):
    manager, _, _ = enrolled_manager
    link = reset_link(client, manager, mailoutbox)
    new = "harbour-lights-at-dusk"
    form = client.get(link)
    client.post(form["Location"], {"new_password1": new, "new_password2": new})
    assert page_of(client) == reverse("login")  # a reset signs nobody in
    sign_in(client, "manager", new)
    assert page_of(client) == reverse("two_factor_verify")


# Half signed in: the code page and signing out, nothing else ---------------------------


def test_a_half_signed_in_user_reaches_no_other_page(client, enrolled_manager, world):  # noqa: F811
    """Every URL in the URLconf (the access table lists them all: tests/test_access.py),
    GET and POST, the admin's and unknown ones too: sent to the code page, nothing changed."""
    manager, _, _ = enrolled_manager
    client.force_login(manager)  # a password given, no code yet
    verify = reverse("two_factor_verify")
    allowed = {"two_factor_verify", "logout"}
    before = database_state()
    urls = [
        reverse(url_name(key), kwargs=row["kwargs"](world))
        for key, row in ACCESS.items()
        if url_name(key) not in allowed
    ]
    urls += ["/admin/", "/admin/accounts/user/", "/no-such-page/"]
    for url in urls:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, (url, method)
            assert response["Location"] == f"{verify}?next={quote(url)}", (url, method)
    assert database_state() == before
    code_page = client.get(verify)
    assert code_page.status_code == 200
    header = html.fromstring(code_page.content.decode()).find_class("govuk-service-navigation")[0]
    assert header.xpath(".//a") == []  # no links that lead nowhere; only "Sign out"
    assert [button.text_content() for button in header.xpath(".//button")] == ["Sign out"]
    assert client.post(reverse("logout")).status_code == 302
    assert page_of(client) == reverse("login")


# A manager's reset ----------------------------------------------------------------------


def test_a_manager_resets_a_users_second_factor_logged_and_emailed(davss_user, manager, caplog):
    davss = Client()
    sign_in(davss, "davss")
    enrol(davss)
    assert second_factor.is_on(davss_user)

    client = Client()
    client.force_login(manager)
    url = reverse("two_factor_reset", kwargs={"pk": davss_user.pk})
    page = client.get(url)
    assert "Reset two-factor authentication for" in text(page)
    with caplog.at_level(logging.INFO, logger="csp.audit"):
        response = client.post(url, REMOTE_ADDR="10.2.2.2")
    assert response.status_code == 302
    assert not second_factor.is_on(davss_user)
    assert not TOTPDevice.objects.filter(user=davss_user).exists()
    assert "second factor reset: user=davss by=manager ip=10.2.2.2" in caplog.text
    assert [message.to for message in deliver_queued_mail()] == [[davss_user.email]]
    assert "reset the two-factor authentication" in deliver_queued_mail()[0].body
    assert page_of(davss) == "home"  # the session verified by the removed app: no longer
    assert not davss.session.get("otp_device_id") or page_of(davss) == "home"

    assert client.post(url).status_code == 302  # nothing left to reset: no second e-mail
    assert len(deliver_queued_mail()) == 1


def test_after_a_reset_a_required_users_open_session_must_set_it_up_again(
    enrolled_manager, admin_user, settings
):
    manager, secret, _ = enrolled_manager
    client = Client()
    sign_in(client, "manager")
    send_code(client, code_for(secret, steps_ahead=1))
    assert page_of(client) == "home"

    admin = Client()
    admin.force_login(admin_user)
    assert TOTPDevice.objects.filter(user=manager).exists()
    admin.post(reverse("two_factor_reset", kwargs={"pk": manager.pk}))
    assert not TOTPDevice.objects.filter(user=manager).exists()
    settings.MFA_REQUIRED = True  # (after the admin's reset: the admin has no code)
    assert page_of(client) == reverse("two_factor_enrol")


def test_only_a_manager_resets_and_not_their_own(client, davss_user, manager):
    client.force_login(davss_user)
    assert client.post(reverse("two_factor_reset", kwargs={"pk": manager.pk})).status_code == 403
    client.force_login(manager)
    assert client.post(reverse("two_factor_reset", kwargs={"pk": manager.pk})).status_code == 404


# E-mail address or username, either case: one account to every limit --------------------


@pytest.mark.parametrize("typed", ["davss", "DAVSS", "davss@example.org", "DAVSS@Example.ORG"])
def test_email_or_username_in_any_case_signs_in(davss_user, typed):
    client = Client()
    assert sign_in(client, typed).status_code == 302
    assert client.get(reverse("home")).context["user"] == davss_user


def test_lockout_counts_every_name_for_the_account_as_one(davss_user):
    names = ["davss", "DAVSS", "davss@example.org", "Davss@Example.org"]
    client = Client()
    statuses = [sign_in(client, names[n % 4], "wrong-password-1").status_code for n in range(10)]
    assert statuses == [200] * 9 + [429]  # axes: one username from one address
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"davss"}
    for name in names:
        assert sign_in(Client(), name).status_code == 429, name

    # Per account from any address (accounts/throttles.py): 20 wrong, by any name; the 10
    # above count too.
    statuses = [
        sign_in(Client(), names[n % 4], "wrong-password-1", ip=f"198.51.100.{n}").status_code
        for n in range(10)
    ]
    assert statuses == [200] * 9 + [429]
    for name in names:
        assert sign_in(Client(), name, ip="192.0.2.77").status_code == 429, name


def test_an_email_address_shared_by_two_accounts_signs_in_neither(davss_user, police_user):
    police_user.email = davss_user.email
    police_user.save()
    assert sign_in(Client(), davss_user.email).status_code == 200
    assert sign_in(Client(), "police").status_code == 302
