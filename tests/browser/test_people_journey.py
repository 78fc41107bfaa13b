"""People in a real browser: the manager invites a new DAVSS officer; the officer follows the
link from the e-mail, chooses a password, signs in and submits a return; the manager
deactivates the officer, whose open session ends on their next page."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from priorities.models import Quarter
from tests.mail_servers import deliver_queued_mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "lantern-meadow-quiet-river"


def sign_in_as(page, username, password):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("/")


def test_manager_invites_an_officer_who_reports_then_is_let_go(
    page, browser, live_server, axe, sign_in, manager, settings, mailoutbox
):
    settings.SITE_URL = live_server.url
    Quarter.objects.filter(plan__financial_year=2022, number=4).update(is_open=True)

    # The manager: DAVSS has nobody who can submit, and the page says so.
    sign_in(manager)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Agencies").click()
    davss_row = page.locator("main table tbody tr").filter(
        has=page.get_by_role("link", name="DAVSS", exact=True)
    )
    expect(davss_row).to_contain_text("No active user")
    axe(page)

    # Invite from People; a mistake first, kept and said beside the field.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="People").click()
    axe(page)
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("First name").fill("Nadia")
    page.get_by_label("Last name").fill("Officer")
    page.get_by_label("E-mail address").fill("nadia.officer@davss.example.org")
    page.get_by_label("Partner agency user").check()
    page.get_by_role("button", name="Send invitation").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select the agencies a partner user reports for")
    expect(page.get_by_label("First name")).to_have_value("Nadia")
    axe(page)
    page.get_by_label("DAVSS", exact=True).check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Invitation sent to nadia.officer@davss.example.org"
    )
    expect(page.locator("main")).to_contain_text("Invited, not yet accepted")
    axe(page)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")

    # The officer: the link from the e-mail, a password too short, then a good one.
    [email] = [m for m in deliver_queued_mail() if "nadia.officer" in m.to[0]]
    link = re.search(r"(https?://\S+/invitation/\S+/)", email.body).group(1)
    assert link.startswith(live_server.url)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your password")
    axe(page)
    page.get_by_label("Choose a password").fill("short")
    page.get_by_label("Type the password again").fill("short")
    page.get_by_role("button", name="Set password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("too short")
    axe(page)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Type the password again").fill(PASSWORD)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_url("**/accounts/login/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your password is set")

    sign_in_as(page, "nadia.officer@davss.example.org", PASSWORD)
    row = page.locator("main table").first.locator("tbody tr").filter(has_text="1.1 Provide")
    row.get_by_role("link", name="Fill in return for 1.1").click()
    page.get_by_label("Helpline calls").fill("180")
    page.get_by_label("Referrals managed").fill("25")
    page.get_by_label("Programmes run").fill("3")
    page.get_by_label("Progress this quarter").fill("First return from the new officer.")
    page.get_by_label("Green").check()
    page.get_by_role("button", name="Check and submit").click()
    page.wait_for_url("**/check/")
    page.get_by_role("button", name="Submit return").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("submitted for review")

    # The manager, in another browser, deactivates the officer.
    officer = User.objects.get(username="nadia.officer@davss.example.org")
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    try:
        manager_page = context.new_page()
        sign_in_as(manager_page, manager.username, "a-long-test-passphrase-7")
        manager_page.goto("/agencies/")
        expect(
            manager_page.locator("main table tbody tr").filter(
                has=manager_page.get_by_role("link", name="DAVSS", exact=True)
            )
        ).to_contain_text("Nadia Officer")
        manager_page.goto(f"/people/{officer.pk}/")
        manager_page.get_by_role("button", name="Deactivate").click()
        expect(manager_page.locator(".govuk-notification-banner")).to_contain_text("is deactivated")
        axe(manager_page)
    finally:
        context.close()

    # The officer's open session ends on their next page.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Your returns").click()
    page.wait_for_url("**/accounts/login/**")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sign in")


def test_manager_looks_after_agencies_and_a_users_role(page, axe, sign_in, manager, davss_user):
    from tests.factories import AgencyFactory

    AgencyFactory(name="CSU", short_name="CSU")
    sign_in(manager)

    # Add an agency: a name already taken is said beside the field, what was typed kept.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Agencies").click()
    page.get_by_role("link", name="Add an agency").click()
    page.get_by_label("Name", exact=True).fill("DAVSS")
    page.get_by_label("Short name").fill("DV2")
    page.get_by_label("Voluntary and community sector").check()
    page.get_by_role("button", name="Add agency").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "An agency with this name already exists"
    )
    expect(page.get_by_label("Short name")).to_have_value("DV2")
    axe(page)

    # Merge CSU into the Community Safety Team, through the confirmation page.
    page.goto("/agencies/")
    page.get_by_role("link", name="TWBC Community Safety Team", exact=True).click()
    axe(page)
    page.get_by_role("link", name="Merge another agency into this one").click()
    page.get_by_label("Agency to merge into this one").select_option(label="CSU")
    axe(page)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Merge CSU into TWBC Community Safety Team"
    )
    axe(page)
    page.get_by_role("button", name="Merge agencies").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "CSU merged into TWBC Community Safety Team"
    )
    expect(page.locator("main")).to_contain_text("CSU")  # now one of its other names

    # Change the DAVSS officer's role; their page shows it in the history.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="People").click()
    page.get_by_role("link", name=str(davss_user)).first.click()
    axe(page)
    page.get_by_role("link", name="Change role, agencies or name").click()
    page.get_by_label("Board member").check()
    axe(page)
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("saved")
    expect(page.locator("main table")).to_contain_text("role Partner agency user → Board member")
