"""Throttles an attacker cannot spread out (accounts/throttles.py): wrong passwords for one
account from any number of addresses, wrong current passwords from a signed-in session,
and password-reset e-mails per address and per account. Each as the attacker tried it:
360 wrong passwords from 40 addresses locked nothing; the current password could be
guessed without limit; 20 reset e-mails went to one address in 0.4 s.

django-axes's lock on a username from one address is tests/test_security.py's.
"""

import datetime
import logging
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from lxml import html

from accounts import throttles
from accounts.models import Throttle
from tests.mail_servers import deliver_queued_mail

from .factories import PASSWORD

WRONG = "wrong-password-123"
pytestmark = pytest.mark.django_db


def text(response) -> str:
    return " ".join(html.fromstring(response.content.decode()).text_content().split())


def sign_in(username: str, password: str = PASSWORD, ip: str = "10.0.0.1", client=None):
    client = client or Client()
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def spread_failures(username: str, count: int) -> list[int]:
    """``count`` wrong passwords, each from another address (none reaches axes's 10)."""
    return [sign_in(username, WRONG, ip=f"198.51.100.{n % 250}").status_code for n in range(count)]


def refusal_ends_now():
    """As if the refusal's time had passed."""
    Throttle.objects.update(refused_until=timezone.now() - datetime.timedelta(seconds=1))


def signed_in_as(client) -> str | None:
    response = client.get(reverse("home"))
    return response.context["user"].username if response.status_code == 200 else None


# Sign-in: per account, from any address ------------------------------------------------------


def test_guesses_spread_over_forty_addresses_lock_the_account(davss_user):
    """The report's attack (there, 9 from each of 40 addresses, under axes's 10 each)."""
    statuses = [
        sign_in("davss", WRONG, ip=f"203.0.113.{address}").status_code
        for _ in range(2)
        for address in range(40)
    ]
    assert statuses[:19] == [200] * 19  # the form again, with its error
    assert set(statuses[19:]) == {429}  # the twentieth on: refused, checked or not

    client = Client()
    right = sign_in("davss", ip="192.0.2.99", client=client)  # the right one, from anywhere
    assert right.status_code == 429
    assert signed_in_as(client) is None


def test_the_page_says_what_happened_and_how_to_get_in(davss_user, caplog):
    spread_failures("davss", 19)
    with caplog.at_level(logging.WARNING, logger="csp.audit"):
        response = sign_in("davss", WRONG, ip="192.0.2.1")
    assert response.status_code == 429
    page = text(response)
    assert "too many failed attempts to sign in as davss" in page
    assert "You can try again in 15 minutes, or reset your password to sign in now." in page
    assert 'value="davss"' in response.content.decode()  # what was typed is kept
    assert re.search(r"throttled sign-in: davss refused until \S+ ip=192\.0\.2\.1", caplog.text), (
        caplog.text
    )


def test_an_unknown_username_is_refused_the_same_way(client):
    """Refusals tell nobody which usernames exist."""
    assert spread_failures("no-such-user", 21) == [200] * 19 + [429, 429]
    assert "too many failed attempts to sign in as no-such-user" in text(sign_in("no-such-user"))


def test_the_lockout_is_short_and_doubles_up_to_two_hours(davss_user):
    lengths = []
    for _ in range(5):
        for _ in range(20):
            throttles.SIGN_IN.record("davss")
        until = Throttle.objects.get(limit="sign-in").refused_until
        lengths.append(round((until - timezone.now()).total_seconds() / 60))
        refusal_ends_now()
    assert lengths == [15, 30, 60, 120, 120]
    assert sign_in("davss").status_code == 302  # and then the owner is in


def test_refused_attempts_are_not_counted_and_do_not_lengthen_the_refusal(davss_user):
    spread_failures("davss", 20)
    until = Throttle.objects.get(limit="sign-in").refused_until
    spread_failures("davss", 5)
    throttle = Throttle.objects.get(limit="sign-in")
    assert (throttle.refused_until, throttle.attempts) == (until, 0)


def test_a_successful_sign_in_forgives_the_count(davss_user):
    spread_failures("davss", 19)
    assert sign_in("davss").status_code == 302
    assert spread_failures("davss", 19) == [200] * 19
    assert sign_in("davss").status_code == 302


def test_a_password_reset_lets_the_owner_straight_back_in(davss_user, mailoutbox):
    office = [sign_in("davss", WRONG, ip="10.0.0.1").status_code for _ in range(10)]
    assert office[-1] == 429  # axes: that username from that address
    spread_failures("davss", 10)  # and the account from anywhere
    assert sign_in("davss", ip="192.0.2.50").status_code == 429

    client = Client()
    client.post(reverse("password_reset"), {"email": davss_user.email})
    [email] = deliver_queued_mail()
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", email.body).group(1)
    form = client.get(link)
    new = "harbour-lights-at-dusk"
    done = client.post(form["Location"], {"new_password1": new, "new_password2": new})
    assert done["Location"] == reverse("password_reset_complete")

    assert sign_in("davss", new, ip="10.0.0.1").status_code == 302  # even at the office


def test_the_admin_sign_in_is_throttled_too(davss_user):
    davss_user.is_superuser = davss_user.is_staff = True
    davss_user.save()
    spread_failures("davss", 20)
    client = Client()
    client.post(reverse("admin:login"), {"username": "davss", "password": PASSWORD})
    assert signed_in_as(client) is None


def test_the_count_is_held_without_usernames(davss_user):
    spread_failures("davss", 3)
    [throttle] = Throttle.objects.all()
    assert "davss" not in throttle.key
    assert throttle.attempts == 3


# The current password, from a signed-in session -----------------------------------------------


def change_password(client, current: str, new: str = "lanterns-on-the-pantiles"):
    return client.post(
        reverse("password_change"),
        {"old_password": current, "new_password1": new, "new_password2": new},
    )


def test_guessing_the_current_password_signs_the_session_out(client, davss_user):
    client.force_login(davss_user)
    assert [change_password(client, WRONG).status_code for _ in range(4)] == [200] * 4
    fifth = change_password(client, WRONG)
    assert fifth.status_code == 302
    assert fifth["Location"] == reverse("login")
    assert signed_in_as(client) is None
    page = text(client.get(reverse("login")))
    assert "You have been signed out because the current password was entered wrongly" in page

    # Another session (or the same person back) is not heard for a while, even rightly.
    other = Client()
    other.force_login(davss_user)
    assert change_password(other, PASSWORD)["Location"] == reverse("login")
    assert signed_in_as(other) is None
    davss_user.refresh_from_db()
    assert davss_user.check_password(PASSWORD)

    refusal_ends_now()
    client.force_login(davss_user)
    assert change_password(client, PASSWORD)["Location"] == reverse("password_change_done")


def test_a_right_current_password_forgives_the_count(client, davss_user):
    client.force_login(davss_user)
    for _ in range(4):
        change_password(client, WRONG)
    new = "lanterns-on-the-pantiles"
    assert change_password(client, PASSWORD, new).status_code == 302
    assert [change_password(client, WRONG).status_code for _ in range(4)] == [200] * 4


# Password reset e-mails -------------------------------------------------------------------------


def ask_for_reset(email: str):
    return Client().post(reverse("password_reset"), {"email": email})


def test_at_most_three_reset_emails_an_hour_to_one_address(davss_user, mailoutbox):
    responses = [ask_for_reset(davss_user.email) for _ in range(20)]
    assert len(deliver_queued_mail()) == 3
    # The same answer every time, sent or not, and as for an address with no account.
    assert {response["Location"] for response in responses} == {reverse("password_reset_done")}
    assert ask_for_reset("nobody@example.org")["Location"] == reverse("password_reset_done")
    assert ask_for_reset(davss_user.email.upper()).status_code == 302
    assert len(deliver_queued_mail()) == 3  # however the address is written

    Throttle.objects.update(window_started=timezone.now() - datetime.timedelta(hours=1))
    refusal_ends_now()
    ask_for_reset(davss_user.email)
    assert len(deliver_queued_mail()) == 4  # an hour later


def test_at_most_three_reset_emails_an_hour_to_one_account(davss_user, mailoutbox, caplog):
    for _ in range(3):
        ask_for_reset(davss_user.email)
    davss_user.email = "davss.new@example.org"
    davss_user.save()
    with caplog.at_level(logging.WARNING, logger="csp.audit"):
        assert ask_for_reset(davss_user.email).status_code == 302
    assert len(deliver_queued_mail()) == 3
    assert "throttled reset-account: davss refused until" in caplog.text


# The mechanism ----------------------------------------------------------------------------------


def test_a_rate_refuses_until_its_window_ends():
    limit = throttles.Limit("test-rate", attempts=2, within=datetime.timedelta(minutes=10))
    assert [limit.allow("someone") for _ in range(3)] == [True, True, False]
    until = limit.refused_until("SOMEONE ")  # keys are trimmed and case-folded
    assert until == Throttle.objects.get(limit="test-rate").window_started + limit.within
    limit.forgive("someone")
    assert limit.allow("someone")


def test_a_long_attack_stays_at_the_longest_refusal():
    """Refusals in a row go on counting for as long as an attack does (weeks, perhaps)."""
    limit = throttles.SIGN_IN
    for _ in range(limit.attempts):
        limit.record("davss")
    Throttle.objects.update(refusals=10_000, refused_until=timezone.now())
    for _ in range(limit.attempts):
        until = limit.record("davss")
    assert round((until - timezone.now()).total_seconds() / 60) == 120
