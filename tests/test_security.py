"""Security controls, each tested the way an attacker or an auditor would try it: fields a
partner may not set, sign-in lockouts, passwords, password reset, sessions, response
headers and cookies, escaping of everything users type, spreadsheet downloads, the
source's use of raw HTML and SQL, the audit log, and the accessibility statement.

The role × URL table is tests/test_access.py; bad input is tests/test_fuzz.py; two people
at once is tests/test_concurrency.py. docs/security.md maps each to ASVS 5.0.
"""

import ast
import csv
import datetime
import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import openpyxl
import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from lxml import html

from accounts.models import Role
from actions import services
from actions.models import Action, Agency, LockException, Metric, QuarterlyReturn
from crimestats.models import CrimeType, PendingImport

from . import test_access
from .factories import PASSWORD
from .mail_servers import deliver_queued_mail
from .test_access import ACCESS, PERSONAS, ROLES, database_state, policy_nonce, url_name

# DAVSS's draft, submitted and approved returns in an opened Q4 (tests/test_access.py).
world = test_access.world

BASE_DIR = Path(settings.BASE_DIR)


def action(ref: str) -> Action:
    priority, number = (int(part) for part in ref.split("."))
    return Action.objects.get(
        priority__plan__financial_year=2022, priority__number=priority, number=number
    )


def text(response) -> str:
    return " ".join(html.fromstring(response.content.decode()).text_content().split())


# Fields and workflow: a partner sets only what the form has -----------------------------------


def edit_url(quarterly_return: QuarterlyReturn) -> str:
    return reverse(
        "return_edit",
        args=[quarterly_return.quarter_id, quarterly_return.action_id, quarterly_return.agency_id],
    )


@pytest.mark.django_db
def test_a_posted_version_is_compared_never_saved(client, davss_user, world):
    draft = world.draft
    client.force_login(davss_user)

    ahead = client.post(edit_url(draft), {"narrative": "Mine", "version": "999", "save": "1"})
    assert ahead.status_code == 200  # refused as stale: the form again, text kept
    assert "after you opened it" in text(ahead)
    assert "Mine" in ahead.content.decode()
    draft.refresh_from_db()
    assert (draft.version, draft.narrative) == (1, "Helpline staffed.")

    current = client.post(edit_url(draft), {"narrative": "Mine", "version": "1", "save": "1"})
    assert current.status_code == 302
    draft.refresh_from_db()
    assert (draft.version, draft.narrative) == (2, "Mine")  # raised by one, whatever was sent


@pytest.mark.django_db
def test_a_partner_cannot_set_who_or_when(client, davss_user, manager, world):
    draft = world.draft
    client.force_login(davss_user)
    response = client.post(
        edit_url(draft),
        {
            "narrative": "Mine",
            "version": "1",
            "save": "1",
            "state": "approved",
            "quarter": str(world.q1.pk),
            "submitted_by": str(manager.pk),
            "submitted_at": "2020-01-01T00:00:00Z",
            "updated_by": str(manager.pk),
            "reviewed_at": "2020-01-01T00:00:00Z",
            "created_at": "2020-01-01T00:00:00Z",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == "draft"
    assert draft.quarter == world.q4
    assert (draft.submitted_by, draft.submitted_at, draft.reviewed_at) == (None, None, None)
    assert draft.updated_by == davss_user
    assert draft.created_at.year == timezone.now().year


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["davss_user", "manager"])
def test_an_approved_return_cannot_be_changed_through_the_form(client, request, world, persona):
    approved = world.approved
    before = database_state()
    client.force_login(request.getfixturevalue(persona))
    response = client.post(
        edit_url(approved),
        {"narrative": "Changed", "rag": "red", "rag_reason": "x", "version": "2", "submit": "1"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("return_detail", args=[approved.pk])
    assert database_state() == before


@pytest.mark.django_db
def test_a_partner_cannot_approve_its_own_return_through_the_service(davss_user, world):
    with pytest.raises(services.ReturnError):
        services.approve_return(davss_user, world.submitted, seen_version=None)
    world.submitted.refresh_from_db()
    assert world.submitted.state == "submitted"


@pytest.mark.django_db
def test_another_manager_cannot_confirm_or_discard_someone_elses_upload(client, admin_user, world):
    """An upload waiting for confirmation is its uploader's alone (the access table's
    302s for these are "already imported or discarded" messages: nothing may change)."""
    pending = world.pending_import
    client.force_login(admin_user)
    before = database_state()
    for name in ("crime_source_confirm", "crime_source_discard"):
        assert client.post(reverse(name, args=[pending.pk])).status_code == 302
    assert client.get(reverse("crime_source_pending", args=[pending.pk])).status_code == 404
    assert database_state() == before
    assert PendingImport.objects.filter(pk=pending.pk).exists()


# Signing in: django-axes on username and address together ------------------------------------

OFFICE = "10.1.1.1"  # one police station's address, shared by its officers
ELSEWHERE = "10.2.2.2"


def sign_in(client, username: str, password: str = PASSWORD, ip: str = OFFICE):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def signed_in_as(client) -> str | None:
    response = client.get(reverse("home"))
    return response.context["user"].username if response.status_code == 200 else None


def fail(client, username: str, times: int, ip: str = OFFICE) -> list[int]:
    return [sign_in(Client(), username, "wrong-password-123", ip).status_code for _ in range(times)]


@pytest.mark.django_db
def test_ten_failures_lock_that_username_from_that_address(client, davss_user):
    assert fail(client, "davss", 9) == [200] * 9  # the form again, with its error
    assert fail(client, "davss", 1) == [429]  # the tenth: locked

    locked = sign_in(client, "davss")  # the right password no longer helps
    assert locked.status_code == 429
    assert signed_in_as(client) is None


@pytest.mark.django_db
def test_a_lockout_does_not_lock_out_colleagues_behind_the_same_address(
    client, davss_user, police_user
):
    fail(client, "davss", 10)
    assert sign_in(client, "police").status_code == 302
    assert signed_in_as(client) == "police"


@pytest.mark.django_db
def test_a_lockout_does_not_follow_the_username_to_another_address(client, davss_user):
    fail(client, "davss", 10)
    assert sign_in(client, "davss", ip=ELSEWHERE).status_code == 302
    assert signed_in_as(client) == "davss"


@pytest.mark.django_db
def test_the_lockout_page_says_what_happened_and_when_to_try_again(client, davss_user):
    fail(client, "davss", 9)
    response = sign_in(client, "davss", "wrong-password-123")
    assert response.status_code == 429
    page = text(response)
    assert "Sign-in locked" in page
    assert "too many failed attempts to sign in as davss" in page
    assert "You can try again in 30 minutes." in page
    assert "wrong-password-123" not in response.content.decode()
    policy_nonce(response)  # the lockout page carries the policy too


@pytest.mark.django_db
def test_an_unknown_username_is_locked_the_same_way(client):
    """Lockouts tell nobody which usernames exist."""
    assert fail(client, "no-such-user", 10) == [200] * 9 + [429]


@pytest.mark.django_db
def test_a_successful_sign_in_resets_the_count(client, davss_user):
    fail(client, "davss", 9)
    assert sign_in(Client(), "davss").status_code == 302
    assert fail(client, "davss", 9) == [200] * 9  # counting again from nothing
    assert sign_in(client, "davss").status_code == 302


@pytest.mark.django_db
def test_a_lockout_cools_off_after_half_an_hour(client, davss_user):
    fail(client, "davss", 10)
    assert sign_in(client, "davss").status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=31))
    assert sign_in(client, "davss").status_code == 302


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_does_not_dodge_the_lockout(client, davss_user):
    """Without trusted proxies the header is the visitor's own text, so it is ignored."""
    for n in range(10):
        Client().post(
            reverse("login"),
            {"username": "davss", "password": "wrong-password-123"},
            REMOTE_ADDR=OFFICE,
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    assert sign_in(client, "davss").status_code == 429


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=1)
def test_behind_a_trusted_proxy_the_address_it_saw_is_locked(client, davss_user):
    proxy = "10.9.9.9"
    for _ in range(10):
        Client().post(
            reverse("login"),
            {"username": "davss", "password": "wrong-password-123"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"198.51.100.7, {OFFICE}",  # forged first entry
        )
    from_office = client.post(
        reverse("login"),
        {"username": "davss", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=OFFICE,
    )
    assert from_office.status_code == 429
    from_home = Client().post(
        reverse("login"),
        {"username": "davss", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR=ELSEWHERE,
    )
    assert from_home.status_code == 302


@pytest.mark.django_db
def test_sign_in_never_redirects_off_the_site(client, davss_user):
    response = client.post(
        f"{reverse('login')}?next=https://evil.example.org/",
        {"username": "davss", "password": PASSWORD, "next": "https://evil.example.org/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


# Passwords ------------------------------------------------------------------------------------


def refusal(password: str, user=None) -> str:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("pale-moon-1", "too short"),  # 11 characters
        ("password1234", "too common"),
        ("qwertyuiop123", "too common"),
        ("Tunbridge-Wells-2024", "tunbridge"),
        ("i-love-KENT-forever", "kent"),
        ("k.e.n.t.harbour.99", "kent"),  # however it is punctuated
        ("SafeTownPartnership88!", "safetownpartnership"),  # an agency's name
        ("street pastors rock 1", "streetpastors"),
        ("Kenward-Trust-99", "kenwardtrust"),
        ("davss-is-my-job-2024", "davss"),
        ("483920174629", "entirely numeric"),
    ],
)
def test_weak_passwords_are_refused(password, reason):
    assert reason in refusal(password)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password", ["pale-moon-rising", "correct horse battery", "Ab3$-river-otter"]
)
def test_good_passwords_of_twelve_or_more_are_accepted(password):
    assert len(password) >= 12
    assert refusal(password) == ""


@pytest.mark.django_db
def test_a_new_agency_name_is_refused_as_soon_as_it_exists():
    assert refusal("Hilltop Refuge 2024") == ""
    Agency.objects.create(name="Hilltop Refuge", short_name="Hilltop", kind="voluntary")
    assert "hilltop" in refusal("Hilltop Refuge 2024")


@pytest.mark.django_db
def test_password_change_applies_the_rules(client, davss_user):
    client.force_login(davss_user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "kent-kent-kent",
            "new_password2": "kent-kent-kent",
        },
    )
    assert response.status_code == 200
    assert "must not contain the name of the partnership" in text(response)
    davss_user.refresh_from_db()
    assert davss_user.check_password(PASSWORD)


def test_passwords_never_expire():
    """NCSC and ASVS advise against forced expiry: nothing in the settings forces one."""
    assert not [name for name in dir(settings) if "EXPIR" in name and "PASSWORD" in name]


# Password reset -------------------------------------------------------------------------------


def without_per_response_values(response) -> str:
    content = response.content.decode()
    content = re.sub(r'nonce="[^"]*"', 'nonce=""', content)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", content)


@pytest.mark.django_db
def test_password_reset_reveals_nothing_about_which_emails_exist(davss_user, mailoutbox):
    known = Client().post(reverse("password_reset"), {"email": davss_user.email}, follow=True)
    unknown = Client().post(reverse("password_reset"), {"email": "nobody@example.org"}, follow=True)

    assert known.redirect_chain == unknown.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert without_per_response_values(known) == without_per_response_values(unknown)
    deliver_queued_mail()
    assert [email.to for email in mailoutbox] == [[davss_user.email]]


@pytest.mark.django_db
def test_no_reset_link_for_a_deactivated_account(davss_user, mailoutbox):
    davss_user.is_active = False
    davss_user.save()
    response = Client().post(reverse("password_reset"), {"email": davss_user.email})
    assert response.status_code == 302
    deliver_queued_mail()
    assert mailoutbox == []


def reset_link(client, user, mailoutbox) -> str:
    client.post(reverse("password_reset"), {"email": user.email})
    deliver_queued_mail()
    [email] = mailoutbox
    match = re.search(r"https?://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)", email.body)
    assert match, email.body
    return match.group(1)


@pytest.mark.django_db
def test_a_reset_link_works_once(client, davss_user, mailoutbox):
    link = reset_link(client, davss_user, mailoutbox)
    form = client.get(link)
    assert form.status_code == 302  # Django moves the token out of the address bar
    new = "harbour-lights-at-dusk"
    done = client.post(form["Location"], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    assert done["Location"] == reverse("password_reset_complete")
    davss_user.refresh_from_db()
    assert davss_user.check_password(new)

    again = Client().get(link, follow=True)
    assert "Reset link not valid" in text(again)
    assert "This link has already been used or has expired." in text(again)


@pytest.mark.django_db
def test_a_reset_link_expires_within_a_day(client, davss_user, mailoutbox):
    assert settings.PASSWORD_RESET_TIMEOUT <= 24 * 60 * 60
    link = reset_link(client, davss_user, mailoutbox)
    later = datetime.datetime.now() + datetime.timedelta(
        seconds=settings.PASSWORD_RESET_TIMEOUT + 1
    )
    with mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=later):
        response = Client().get(link, follow=True)
    assert "Reset link not valid" in text(response)


# Sessions -------------------------------------------------------------------------------------

COOKIE = settings.SESSION_COOKIE_NAME


@pytest.mark.django_db
def test_signing_in_gives_a_new_session_key(client, davss_user):
    """A session key planted before sign-in (session fixation) is worthless after it."""
    planted = SessionStore()
    planted["planted"] = True
    planted.create()
    client.cookies[COOKIE] = planted.session_key

    assert sign_in(client, "davss").status_code == 302
    assert client.cookies[COOKIE].value != planted.session_key
    assert not Session.objects.filter(session_key=planted.session_key).exists()
    assert signed_in_as(client) == "davss"


@pytest.mark.django_db
def test_signing_out_ends_the_session_on_the_server(client, davss_user):
    assert sign_in(client, "davss").status_code == 302
    key = client.cookies[COOKIE].value
    signed_out = client.post(reverse("logout"))
    assert signed_out.status_code == 302
    assert signed_out["Clear-Site-Data"] == '"cache", "storage"'
    assert not Session.objects.filter(session_key=key).exists()

    replay = Client()
    replay.cookies[COOKIE] = key  # the old cookie, kept by whoever copied it
    response = replay.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_an_idle_session_ends_after_thirty_minutes(client, davss_user):
    assert settings.SESSION_COOKIE_AGE <= 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST  # each request starts the 30 minutes again
    client.force_login(davss_user)
    response = client.get(reverse("home"))
    assert response.cookies[COOKIE]["max-age"] == 30 * 60
    session = Session.objects.get(session_key=client.cookies[COOKIE].value)
    assert session.expire_date <= timezone.now() + datetime.timedelta(minutes=30, seconds=5)

    # Thirty-one minutes without a request.
    Session.objects.filter(pk=session.pk).update(
        expire_date=timezone.now() - datetime.timedelta(minutes=1)
    )
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


@pytest.mark.django_db
def test_sign_in_starts_the_absolute_clock(client, davss_user):
    before = int(time.time())
    assert sign_in(client, "davss").status_code == 302
    assert before <= client.session["signed_in_at"] <= int(time.time())


def age_session(client, seconds: int) -> None:
    session = client.session
    session["signed_in_at"] = int(time.time()) - seconds
    session.save()


@pytest.mark.django_db
def test_a_session_ends_twelve_hours_after_sign_in_however_busy(client, davss_user):
    assert settings.SESSION_ABSOLUTE_TIMEOUT == 12 * 60 * 60
    client.force_login(davss_user)
    age_session(client, 12 * 60 * 60 - 60)
    assert client.get(reverse("plan")).status_code == 200  # eleven hours 59: still in

    age_session(client, 12 * 60 * 60 + 1)
    response = client.get(reverse("plan"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/plan/"
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert client.get(reverse("plan")).status_code == 302  # the session is over, not paused


@pytest.mark.django_db
def test_deactivating_a_user_takes_effect_on_the_next_request(client, davss_user):
    client.force_login(davss_user)
    assert client.get(reverse("home")).status_code == 200
    davss_user.is_active = False
    davss_user.save()
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_changing_a_role_takes_effect_on_the_next_request(client, davss_user, world):
    client.force_login(davss_user)
    assert client.get(edit_url(world.draft)).status_code == 200
    davss_user.role = Role.BOARD
    davss_user.save()
    assert client.get(edit_url(world.draft)).status_code == 403


@pytest.mark.django_db
def test_leaving_an_agency_takes_effect_on_the_next_request(client, davss_user, world):
    client.force_login(davss_user)
    detail = reverse("return_detail", args=[world.draft.pk])
    assert client.get(detail).status_code == 200
    world.davss.members.remove(davss_user)
    assert client.get(detail).status_code == 404


@pytest.mark.django_db
def test_a_new_password_ends_the_other_sessions(client, davss_user):
    client.force_login(davss_user)
    davss_user.set_password("harbour-lights-at-dusk")
    davss_user.save()
    assert client.get(reverse("home")).status_code == 302


# Headers and cookies --------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_kind_of_response_carries_the_policy(client, davss_user, board_member, monkeypatch):
    anonymous = Client()
    responses = {
        "404 anonymous": anonymous.get("/no-such-page/"),
        "login": anonymous.get(reverse("login")),
        "health (JSON)": anonymous.get(reverse("health")),
    }
    client.force_login(davss_user)
    responses |= {
        "404 signed in": client.get("/no-such-page/"),
        "403": client.get(reverse("review_queue")),
        "405": client.post(reverse("plan")),
        "CSV download": client.get(reverse("plan"), {"_export": "csv"}),
        "Excel download": client.get(reverse("plan"), {"_export": "xlsx"}),
    }
    expected = {
        "404 anonymous": 404,
        "login": 200,
        "health (JSON)": 200,
        "404 signed in": 404,
        "403": 403,
        "405": 405,
        "CSV download": 200,
        "Excel download": 200,
    }
    assert {name: response.status_code for name, response in responses.items()} == expected
    for response in responses.values():
        policy_nonce(response)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_a_server_error_page_carries_the_policy(davss_user, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database fell over")

    monkeypatch.setattr("csp.views.chosen_plan", broken)
    client = Client(raise_request_exception=False)
    client.force_login(davss_user)
    response = client.get(reverse("home"))
    assert response.status_code == 500
    policy_nonce(response)
    assert "the database fell over" not in response.content.decode()  # no detail leaks
    assert "<script" not in response.content.decode()


@pytest.mark.django_db
@override_settings(WHITENOISE_USE_FINDERS=True, WHITENOISE_AUTOREFRESH=True)
def test_static_files_carry_the_policy():
    response = Client().get(f"{settings.STATIC_URL}css/app.css")
    assert response.status_code == 200
    policy_nonce(response)
    assert response["X-Content-Type-Options"] == "nosniff"


TEMPLATES = sorted(
    path
    for folder in [BASE_DIR / "templates", *BASE_DIR.glob("*/templates")]
    for path in folder.rglob("*.html")
)


def test_no_template_holds_inline_script_or_style():
    """Every template, including those no test renders: script from files (or the one
    nonced line in base.html), no style attributes or elements, no event handlers."""
    assert len(TEMPLATES) > 30
    problems = []
    for path in TEMPLATES:
        source = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", source):
            if "src=" in tag or 'nonce="{{ request.csp_nonce }}"' in tag:
                continue
            if 'type="application/json"' in tag:
                continue
            problems.append(f"{path}: {tag}")
        for pattern in (r"<style\b", r"\sstyle\s*=", r"\son[a-z]+\s*=\s*[\"']", r"javascript:"):
            problems += [f"{path}: {found}" for found in re.findall(pattern, source)]
    assert problems == []


def production_settings(*names: str) -> dict:
    """The named settings as production loads them (DEBUG off), in a fresh interpreter."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {list(names)!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=production_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def production_environment() -> dict:
    """Production's environment: only what a server would set (nothing from this test
    run, such as DEBUG or DJANGO_ALLOW_ASYNC_UNSAFE from the browser tests)."""
    kept = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    return {name: value for name, value in os.environ.items() if name in kept} | {
        "DJANGO_SETTINGS_MODULE": "csp.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "csp-plan.example.org",
        "SITE_URL": "https://csp-plan.example.org",
    }


def test_production_cookies_and_https_settings():
    values = production_settings(
        "DEBUG",
        "SESSION_COOKIE_NAME",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_NAME",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SAMESITE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "X_FRAME_OPTIONS",
        "PASSWORD_HASHERS",
    )
    assert values == {
        "DEBUG": False,
        "SESSION_COOKIE_NAME": "__Host-sessionid",
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_NAME": "__Host-csrftoken",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 60 * 60,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "X_FRAME_OPTIONS": "DENY",
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.PBKDF2PasswordHasher"],
    }


def test_production_refuses_to_start_without_a_secret_key():
    env = production_environment()
    del env["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_refuses_to_start_without_a_site_url():
    """Without it, e-mails would link to http://127.0.0.1:8000/ and nobody would notice."""
    env = production_environment()
    del env["SITE_URL"]
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: SITE_URL must be set when DEBUG is off" in result.stderr


def test_the_deployment_checklist_refuses_a_plain_http_site_url():
    env = production_environment() | {"SITE_URL": "http://csp-plan.example.org"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "csp.W001" in result.stderr
    assert "SITE_URL" in result.stderr


def test_deployment_checklist_passes_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_environment(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


PRODUCTION_COOKIES = {
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SESSION_COOKIE_NAME": "__Host-sessionid",
    "CSRF_COOKIE_NAME": "__Host-csrftoken",
}


@pytest.mark.django_db
@override_settings(**PRODUCTION_COOKIES)
def test_cookies_are_host_only_secure_http_only_and_same_site(client, davss_user):
    form = client.get(reverse("login"))
    response = sign_in(client, "davss")
    cookies = {**form.cookies, **response.cookies}
    assert {"__Host-sessionid", "__Host-csrftoken"} <= set(cookies)
    for name in ("__Host-sessionid", "__Host-csrftoken"):
        cookie = cookies[name]
        assert cookie["secure"] is True, name
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name
        assert (cookie["path"], cookie["domain"]) == ("/", ""), name  # as __Host- requires


@pytest.mark.django_db
@override_settings(SECURE_HSTS_SECONDS=365 * 24 * 60 * 60, SECURE_HSTS_INCLUDE_SUBDOMAINS=True)
def test_https_responses_carry_strict_transport_security(client):
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")


@pytest.mark.django_db
def test_a_forged_cross_site_post_is_refused(davss_user, world):
    """Another site's form posting with the partner's cookie but without the token."""
    forger = Client(enforce_csrf_checks=True)
    forger.force_login(davss_user)
    before = database_state()
    edit = reverse("return_edit", args=[world.q4.pk, world.draft.action_id, world.davss.pk])
    response = forger.post(edit, {"narrative": "Forged", "version": "1", "save": "1"})
    assert response.status_code == 403
    assert database_state() == before
    logout = forger.post(reverse("logout"))
    assert logout.status_code == 403  # not even signing someone out


@pytest.mark.django_db
def test_downloads_are_attachments_never_pages(client, davss_user):
    client.force_login(davss_user)
    for export in ("csv", "xlsx"):
        response = client.get(reverse("plan"), {"_export": export})
        assert response["Content-Disposition"].startswith("attachment;")
        assert "text/html" not in response["Content-Type"]


# Output: everything users type is escaped ----------------------------------------------------

RAW = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")


def payload(tag: str) -> str:
    """Both attacks in one value (58 characters with a 3-character tag, so it fits a
    60-character short name), tagged to find which field it came from."""
    return f'{tag}<script>alert(1)</script>"><img src=x onerror=alert(1)>'


@pytest.fixture
def attacked(world, davss_user, manager, board_member, admin_user):
    """Every text field users type, on the objects the pages show, set to the payload."""
    fields = {}

    def put(tag, obj, field):
        value = payload(tag)
        fields[tag] = f"{obj._meta.label}.{field}"
        type(obj).objects.filter(pk=obj.pk).update(**{field: value})

    # A text metric on the draft's action: its name labels an input on the return form.
    text_metric = Metric.objects.create(action=world.draft.action, name="x", kind="text")
    put("M01", text_metric, "name")
    QuarterlyReturn.objects.filter(pk=world.draft.pk).update(
        values={str(text_metric.pk): payload("R03")}
    )
    fields["R03"] = "metric text value"
    approved = world.approved
    put("R01", approved, "narrative")
    put("R02", approved, "rag_reason")
    QuarterlyReturn.objects.filter(pk=approved.pk).update(rag="red")
    sent_back = services.send_back(
        manager, world.submitted, comment=payload("R04"), seen_version=None
    )
    fields["R04"] = "reviewer comment"
    put("A01", world.davss, "name")
    put("A02", world.davss, "short_name")
    for tag, field in [
        ("X01", "description"),
        ("X02", "measure"),
        ("X03", "outcome"),
        ("X04", "lead_agencies"),
        ("X05", "target"),
    ]:
        put(tag, approved.action, field)
    for tag, field in [
        ("P01", "title"),
        ("P02", "short_title"),
        ("P03", "rationale"),
        ("P04", "recommendation"),
    ]:
        put(tag, world.priority, field)
    exception = LockException.objects.create(
        quarter=world.q1, action=world.action, agency=world.davss, reason="x", granted_by=manager
    )
    put("L01", exception, "reason")
    for tag, user, field in [
        ("U01", davss_user, "first_name"),
        ("U02", davss_user, "last_name"),
        ("U03", manager, "first_name"),
        ("U04", board_member, "first_name"),
    ]:
        put(tag, user, field)
    all_crime = CrimeType.objects.get(name="All crime")
    put("C01", all_crime, "notes")
    put("C03", all_crime, "label")  # also labels the manager's figures form
    put("C02", world.plan, "title")
    put("S01", world.source_category, "label")  # as a public source file published it
    put("S02", world.pending_import, "file_name")  # as the manager's computer named it
    return {"fields": fields, "sent_back": sent_back}


def pages_for(role: str, world) -> list[str]:
    """Every page the access table says this role reads, and the quarter views that show
    Q4's returns."""
    urls = [
        reverse(url_name(key), kwargs=statuses["kwargs"](world))
        for key, statuses in ACCESS.items()
        if statuses["get"][ROLES.index(role)] == 200
    ]
    extras = [
        reverse("action_detail", args=[world.approved.action_id]) + "?quarter=4",
        reverse("action_detail", args=[world.submitted.action_id]) + "?quarter=4",
        reverse("return_detail", args=[world.submitted.pk]),
        reverse("dashboard") + "?quarter=4",
        reverse("completeness") + "?quarter=4",
        reverse("quarterly_report") + "?quarter=4",
        reverse("return_edit", args=[world.q4.pk, world.approved.action_id, world.davss.pk]),
        reverse("return_edit", args=[world.q4.pk, world.submitted.action_id, world.davss.pk]),
    ]
    return urls + extras


@pytest.mark.django_db
def test_what_users_type_is_always_escaped(client, request, world, attacked):
    fields = attacked["fields"]
    shown = set()
    read = 0
    for role in ("davss", "manager", "board"):
        client.force_login(request.getfixturevalue(PERSONAS[role]))
        for url in pages_for(role, world):
            response = client.get(url, follow=True)
            if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
                continue
            read += 1
            content = response.content.decode()
            for raw in RAW:
                assert raw not in content, f"{url} as {role} shows {raw!r} unescaped"
            shown |= {tag for tag in fields if escape(payload(tag)) in content}
    assert read > 60
    assert {fields[tag] for tag in fields.keys() - shown} == set(), "never shown escaped"


# Downloads: nothing a spreadsheet would run ---------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cells(response) -> list[str]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    reader = csv.reader(io.StringIO(content.decode("utf-8-sig")))
    return [cell for row in reader for cell in row]


def xlsx_cells(response) -> list:
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


@pytest.fixture
def formulas(plan):
    """Action descriptions, measures and lead agencies that a spreadsheet would run."""
    planted = {
        "1.1": ('=HYPERLINK("http://evil.example","Click")', "description"),
        "1.2": ("+1+cmd|' /C calc'!A0", "description"),
        "1.3": ("-2+3", "measure"),
        "1.4": ("@SUM(1+1)*cmd|' /C calc'!A0", "lead_agencies"),
    }
    for ref, (value, field) in planted.items():
        Action.objects.filter(pk=action(ref).pk).update(**{field: value})
    return [value for value, _ in planted.values()]


@pytest.mark.django_db
def test_plan_csv_neutralises_formulas(client, davss_user, formulas):
    client.force_login(davss_user)
    cells = csv_cells(client.get(reverse("plan"), {"_export": "csv"}))
    for value in formulas:
        assert "'" + value in cells
        assert value not in cells
    assert [cell for cell in cells if cell.startswith(FORMULA_STARTS)] == []


@pytest.mark.django_db
def test_plan_excel_neutralises_formulas(client, davss_user, formulas):
    client.force_login(davss_user)
    cells = xlsx_cells(client.get(reverse("plan"), {"_export": "xlsx"}))
    values = [cell.value for cell in cells]
    for value in formulas:
        assert "'" + value in values
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []  # no formula
    assert [v for v in values if isinstance(v, str) and v.startswith(FORMULA_STARTS)] == []


# The source: no raw HTML or SQL on user data ---------------------------------------------------

SOURCE_FOLDERS = [
    path
    for path in BASE_DIR.iterdir()
    if path.is_dir()
    and path.name not in {".venv", "node_modules", "static", "staticfiles", "tests", "fixtures"}
    and not path.name.startswith(".")
]
# (file, what) pairs that are known to be safe, each with its reason.
ALLOWED = {
    # The health check's constant query; no user data.
    ("csp/views.py", "execute"),
    # The set-up page's QR code: segno's SVG holds only paths drawn from the app's set-up
    # link, never its text (tests/test_two_factor.py checks no username appears).
    ("accounts/second_factor.py", "mark_safe"),
}
# Text e-mails are not HTML: escaping would show "&amp;" in them.
PLAIN_TEXT_TEMPLATES = {
    "templates/registration/password_reset_email.html",
    "templates/registration/password_reset_subject.txt",
}


def python_files() -> list[Path]:
    return sorted(
        path
        for folder in SOURCE_FOLDERS
        for path in folder.rglob("*.py")
        if "migrations" not in path.parts
    )


def is_constant_text(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def risky_calls(tree) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
        method = isinstance(function, ast.Attribute)
        constant_first = bool(node.args) and is_constant_text(node.args[0])
        if name in {"mark_safe", "SafeString", "RawSQL"} or (method and name in {"raw", "extra"}):
            found.append((node.lineno, name))
        elif name == "format_html" and not constant_first:
            found.append((node.lineno, "format_html with a built string"))
        elif method and name in {"execute", "executemany"} and not constant_first:
            found.append((node.lineno, "execute"))
    return found


def test_no_raw_html_or_sql_in_the_source():
    files = python_files()
    assert len(files) > 30
    problems = []
    for path in files:
        relative = path.relative_to(BASE_DIR).as_posix()
        if relative.startswith("bench/"):
            continue  # the benchmark's own database set-up, never run by the app
        for line, what in risky_calls(ast.parse(path.read_text(), filename=relative)):
            if (relative, what) not in ALLOWED:
                problems.append(f"{relative}:{line} {what}")
    assert problems == []


def test_the_source_check_catches_what_it_should():
    source = """
from django.utils.safestring import mark_safe
mark_safe(user_text)
format_html(f"<b>{name}</b>")
format_html("<b>{}</b>", name)
Action.objects.raw("SELECT * FROM x WHERE y = %s" % value)
Action.objects.extra(where=["1=1"])
cursor.execute(f"SELECT {column}")
cursor.execute("SELECT 1")
"""
    assert [what for _, what in risky_calls(ast.parse(source))] == [
        "mark_safe",
        "format_html with a built string",
        "raw",
        "extra",
        "execute",
    ]


def test_no_template_turns_escaping_off_for_html():
    problems = []
    for path in [*TEMPLATES, *(BASE_DIR / "templates").rglob("*.txt")]:
        relative = path.relative_to(BASE_DIR).as_posix()
        source = path.read_text()
        plain_text = relative in PLAIN_TEXT_TEMPLATES or "/email/" in relative
        for pattern in (r"\|\s*safe\b", r"\|\s*safeseq\b", r"{%\s*autoescape\s+off"):
            for found in re.findall(pattern, source):
                if "autoescape" in found and plain_text:
                    continue
                problems.append(f"{relative}: {found}")
    assert problems == []


# The audit log -------------------------------------------------------------------------------


@pytest.fixture
def audit_log(caplog):
    """The "csp.audit" logger does not propagate to the root logger (settings.LOGGING),
    so attach pytest's handler to it directly."""
    logger = logging.getLogger("csp.audit")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="csp.audit")
    yield caplog
    logger.removeHandler(caplog.handler)


def audit_lines(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == "csp.audit"]


@pytest.mark.django_db
def test_sign_ins_and_sign_outs_are_logged(client, davss_user, audit_log):
    sign_in(client, "davss")
    client.post(reverse("logout"))
    assert audit_lines(audit_log) == [
        f"sign-in: user=davss ip={OFFICE}",
        "sign-out: user=davss ip=127.0.0.1",
    ]


@pytest.mark.django_db
def test_failed_sign_ins_are_logged_without_the_password(client, davss_user, audit_log):
    sign_in(client, "davss", "my-secret-guess-42")
    assert audit_lines(audit_log) == [f"sign-in failed: username=davss ip={OFFICE}"]
    assert "my-secret-guess-42" not in audit_log.text
    assert all("my-secret-guess-42" not in str(record.args) for record in audit_log.records)


@pytest.mark.django_db
def test_a_lockout_is_logged(client, davss_user, audit_log):
    fail(client, "davss", 10)
    assert f"sign-in locked: username=davss ip={OFFICE}" in audit_lines(audit_log)


@pytest.mark.django_db
def test_a_forged_log_line_in_a_username_stays_on_one_line(client, audit_log):
    sign_in(client, "x\nsign-in: user=manager ip=10.0.0.1")
    [line] = audit_lines(audit_log)
    assert "\n" not in line
    assert line == f"sign-in failed: username=x?sign-in: user=manager ip=10.0.0.1 ip={OFFICE}"


@pytest.mark.django_db
def test_refused_requests_are_logged_with_who_asked(client, police_user, world, audit_log):
    client.force_login(police_user)
    client.get(reverse("return_detail", args=[world.submitted.pk]))
    client.post(reverse("return_approve", args=[world.submitted.pk]))
    assert audit_lines(audit_log)[-2:] == [
        f"not found: GET /returns/{world.submitted.pk}/ by user=police ip=127.0.0.1",
        f"access refused: POST /returns/{world.submitted.pk}/approve/ by user=police ip=127.0.0.1",
    ]


@pytest.mark.django_db
def test_every_change_to_a_return_is_logged_and_in_its_history(client, manager, world, audit_log):
    client.force_login(manager)
    submitted = world.submitted
    client.post(
        reverse("return_send_back", args=[submitted.pk]),
        {"reason": "Split the calls by month", "version": submitted.version},
    )
    assert audit_lines(audit_log)[-1] == (
        f"return {submitted.pk} sent_back by manager: Sent back: Split the calls by month"
    )
    latest = submitted.history.order_by("-history_date").first()
    assert (latest.history_user, latest.state) == (manager, "sent_back")


@pytest.mark.django_db
def test_an_expired_session_is_logged(client, davss_user, audit_log):
    client.force_login(davss_user)
    age_session(client, 13 * 60 * 60)
    client.get(reverse("home"))
    assert "session ended after 12 hours: user=davss" in audit_lines(audit_log)


# The accessibility statement -----------------------------------------------------------------


@pytest.mark.django_db
def test_accessibility_statement_has_the_public_sector_shape(client):
    response = client.get(reverse("accessibility"))
    assert response.status_code == 200
    page = html.fromstring(response.content.decode())
    headings = [" ".join(h.text_content().split()) for h in page.xpath("//main//h2|//main//h3")]
    for heading in [
        "How accessible this service is",
        "Feedback and contact information",
        "Reporting accessibility problems with this service",
        "Enforcement procedure",
        "Technical information about this service’s accessibility",
        "Compliance status",
        "Non-accessible content",
        "What we’re doing to improve accessibility",
        "Preparation of this accessibility statement",
    ]:
        assert heading in headings
    body = text(response)
    assert (
        "partially compliant with the Web Content Accessibility Guidelines version 2.2 AA" in body
    )
    assert "Equality Advisory and Support Service (EASS)" in body
    assert re.search(r"This statement was prepared on \d{1,2} \w+ \d{4}", body)
    assert re.search(r"last reviewed on \d{1,2} \w+ \d{4}", body)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", [None, "davss_user", "board_member"])
def test_every_page_links_the_accessibility_statement_in_its_footer(client, request, persona):
    if persona:
        client.force_login(request.getfixturevalue(persona))
    response = client.get(reverse("home") if persona else reverse("login"))
    footer = html.fromstring(response.content.decode()).xpath("//footer")[0]
    assert reverse("accessibility") in [link.get("href") for link in footer.xpath(".//a")]
