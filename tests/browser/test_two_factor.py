"""The manager's second factor in a real browser, as with DEBUG off: set up at the first
sign-in from the secret shown as text (the code computed here, as the app would), signed
out, then signed in with password and code."""

import time
from base64 import b32decode

import pytest
from django_otp.oath import totp
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def code_for(secret: str, at: float) -> str:
    return f"{totp(b32decode(secret.replace(' ', '')), t0=int(time.time() - at)):06d}"


def test_the_manager_sets_up_and_signs_in_with_a_code(page, axe, manager, settings):
    settings.MFA_REQUIRED = True  # as when DEBUG is off (the live server shares settings)
    settings.MFA_REQUIRED_ROLES = ["manager"]

    page.goto("/accounts/login/")
    page.get_by_label("Email address or username").fill(manager.email.upper())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Required, not set up: the set-up page, and nothing else.
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")
    expect(page.locator(".app-qr-code svg")).to_be_visible()
    axe(page)
    page.goto("/plan/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor authentication")

    secret = page.locator("#secret").inner_text()
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("That code is not right")
    expect(page.locator("#code-error, .govuk-error-message")).to_contain_text("not right")
    page.get_by_label("Code").fill(code_for(secret, at=time.time()))
    page.get_by_role("button", name="Turn on").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    axe(page)
    page.get_by_role("link", name="Continue").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")

    page.get_by_label("Email address or username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    axe(page)
    page.get_by_label("Code").fill(code_for(secret, at=time.time() + 30))  # the next code
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("/")
    page.get_by_role("link", name="Two-factor authentication").click()
    expect(page.locator("main")).to_contain_text("On")
    expect(page.locator("main")).to_contain_text("You have 10 left")
