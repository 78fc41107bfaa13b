"""A partner reads the plan in a real browser: signs in, finds action 1.1 and the crime
table, by mouse and by keyboard, with axe-core checking every page on the way."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from priorities.models import Quarter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAN_DATA = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "plan-2022-23.json").read_text(
        encoding="utf-8"
    )
)
ONE_ONE = next(row for row in PLAN_DATA["actions"] if row["ref"] == "1.1")


def focused(page) -> str:
    """What has the keyboard focus, as a person would name it."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return "nothing";
            const name = el.getAttribute("name");
            if (name) return `${el.tagName.toLowerCase()}[name=${name}]`;
            return `${el.tagName.toLowerCase()} "${el.textContent.trim()}"`;
        }"""
    )


def test_partner_signs_in_and_reads_action_1_1(page, axe, davss_user, artifacts):
    Quarter.objects.filter(plan__financial_year=2022, number=1).update(is_open=True)

    # Anonymous: the home page sends them to sign in, and comes back after.
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
    expect(page).to_have_title("Sign in – Community safety plan")
    axe(page)
    page.get_by_label("Username").fill("davss")
    page.get_by_label("Password").fill("a-long-test-passphrase-7")
    page.get_by_role("button", name="Sign in").click()

    # Home: DAVSS's returns owed this quarter, 1.1 first; then the seven actions for all
    # partners it may contribute to.
    expect(page).to_have_url("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your returns")
    expect(page.locator(".govuk-caption-l")).to_have_text("DAVSS")
    owed = page.locator("main table").first.locator("tbody tr")
    expect(owed).to_have_count(4)
    expect(page.locator("main table").nth(1).locator("tbody tr")).to_have_count(7)
    expect(owed.first).to_contain_text("1.1")
    expect(owed.first.get_by_role("link", name="Fill in return for 1.1")).to_be_visible()
    axe(page)

    # The navigation leads to the action plan: all 71 actions.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Action plan").click()
    expect(page).to_have_url("/plan/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Action plan 2022/23")
    plan_rows = page.locator("table.app-table--plan tbody tr")
    expect(plan_rows).to_have_count(71)
    axe(page)
    page.screenshot(path=artifacts / "plan.png", full_page=True)

    # Search for MARAC: only 1.1 mentions it.
    page.get_by_label("Search").fill("MARAC")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"/plan/\?(.+&)?q=MARAC(&|$)"))
    expect(plan_rows).to_have_count(1)
    expect(plan_rows.first.locator("td").first).to_have_text("1.1")
    expect(page.get_by_label("Search")).to_have_value("MARAC")
    axe(page)

    # Action 1.1, word for word as the plan prints it.
    plan_rows.first.get_by_role("link", name="1.1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Action 1.1")
    values = page.locator("dd.govuk-summary-list__value").all_inner_texts()
    assert ONE_ONE["description"] in values
    assert ONE_ONE["measure"] in values
    assert ONE_ONE["lead_agencies"] in values
    expect(page.locator("main").get_by_role("link", name="DAVSS", exact=True)).to_have_attribute(
        "href", "/agencies/" + str(davss_user.agencies.get().pk) + "/"
    )
    axe(page)

    # The crime table from the strategic assessment.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Crime statistics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Crime statistics 2021")
    crime_rows = page.locator("table.app-crime-table tbody tr")
    expect(crime_rows).to_have_count(16)
    expect(crime_rows.first).to_contain_text("All crime")
    expect(crime_rows.first).to_contain_text("-1.9%")
    expect(crime_rows.first).to_contain_text("-151")
    axe(page)


def test_sign_in_by_keyboard_alone(page, axe, davss_user):
    page.goto("/accounts/login/")

    # Django's login form starts with the focus in the username box (autofocus). Back from
    # there, Shift+Tab reaches the skip link at the top; Tab comes forward again.
    assert focused(page) == "input[name=username]"
    back = []
    while len(back) < 10 and (not back or back[-1] != 'a "Skip to main content"'):
        page.keyboard.press("Shift+Tab")
        back.append(focused(page))
    assert back[-1] == 'a "Skip to main content"', back
    forward = []
    for _ in back:
        page.keyboard.press("Tab")
        forward.append(focused(page))
    assert forward == [*back[-2::-1], "input[name=username]"]
    page.keyboard.type("davss")
    page.keyboard.press("Tab")
    assert focused(page) == "input[name=password]"
    page.keyboard.type("a-long-test-passphrase-7")
    page.keyboard.press("Tab")
    assert focused(page) == 'button "Sign in"'

    page.keyboard.press("Enter")
    expect(page).to_have_url("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your returns")
    axe(page)


def test_wrong_password_shows_the_error_summary(page, axe, davss_user):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("davss")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url("/accounts/login/")
    expect(page).to_have_title("Error: Sign in – Community safety plan")
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("heading", level=2)).to_have_text("There is a problem")
    expect(summary.get_by_role("alert")).to_be_visible()
    link = summary.get_by_role("link", name="Enter the correct username and password")
    expect(link).to_be_visible()
    # govuk-frontend moves focus to the summary, so a screen reader announces it first.
    expect(summary).to_be_focused()
    # The username stays as typed; the password does not.
    expect(page.get_by_label("Username")).to_have_value("davss")
    expect(page.get_by_label("Password")).to_have_value("")
    axe(page)

    # The summary links to the field to correct.
    link.click()
    expect(page.get_by_label("Username")).to_be_focused()


@pytest.mark.parametrize("persona", ["manager", "board_member"])
def test_every_reading_page_passes_axe(page, axe, sign_in, request, persona):
    from actions.models import Action, Agency

    sign_in(request.getfixturevalue(persona))
    axe(page)  # home
    one_one = Action.objects.get(priority__plan__financial_year=2022, priority__number=1, number=1)
    davss = Agency.objects.get(name="DAVSS")
    for path, heading in [
        (f"/plan/priorities/{one_one.priority_id}/", "Domestic Abuse"),
        (f"/actions/{one_one.pk}/", "Action 1.1"),  # with its history, for the manager
        ("/agencies/", "Agencies"),
        (f"/agencies/{davss.pk}/", "DAVSS"),
        ("/plan/?sort=-ref&q=partners", "Action plan 2022/23"),
        ("/crime/", "Crime statistics 2021"),
        ("/accessibility/", "Accessibility statement for Community safety plan"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        axe(page)
