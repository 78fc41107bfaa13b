"""The yearly cycle in a real browser: the manager starts 2023/24 from 2022/23 leaving one
action out, sends it for sign-off (the board reads it with its banner), records the board's
decision and makes it active; DAVSS then owes its 2023/24 Q1 returns."""

import pytest
from playwright.sync_api import expect

from actions.models import Action
from priorities.models import Plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_starts_signs_off_and_activates_next_years_plan(
    page, browser, live_server, axe, sign_in, manager, davss_user
):
    sign_in(manager)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Plans").click()
    axe(page)
    page.get_by_role("link", name="2022/23").click()
    expect(page.locator("#plan-state")).to_have_text("Active")
    page.get_by_role("link", name="Start next year's plan from this one").click()
    axe(page)
    # A mistake first: said beside the field, what was typed kept.
    page.get_by_label("Assessment period ends").fill("2021-06-30")
    page.get_by_role("button", name="Start the draft").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "The assessment period must end after it starts"
    )
    page.get_by_label("Assessment period ends").fill("2022-12-31")
    leave_out = Action.objects.get(
        priority__plan__financial_year=2022, priority__number=1, number=1
    )
    page.locator(f'input[name="actions"][value="{leave_out.pk}"]').uncheck()
    page.get_by_role("button", name="Start the draft").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "The 2023/24 plan has been started as a draft"
    )
    expect(page.locator("#plan-state")).to_have_text("Draft")
    draft = Plan.objects.get(financial_year=2023)
    assert (
        Action.objects.in_plan(draft).count()
        == Action.objects.in_plan(leave_out.priority.plan).count() - 1
    )
    page.get_by_role("button", name="Send for sign-off").click()
    expect(page.locator("#plan-state")).to_have_text("Awaiting sign-off")
    expect(page.locator("main")).to_contain_text("This is a draft for sign-off")
    axe(page)

    page.get_by_role(
        "link", name="Record the board's decision and the date sent to the PCC"
    ).click()
    page.get_by_label("Date of the board meeting").fill("2023-02-16")
    page.get_by_label("Approved", exact=True).check()
    page.get_by_label("Date sent to the Police and Crime Commissioner (optional)").fill(
        "2023-02-20"
    )
    axe(page)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#make-active-effect")).to_contain_text(
        "The 2022/23 plan then becomes Closed"
    )
    page.get_by_role("button", name="Make active").click()
    expect(page.locator("#plan-state")).to_have_text("Active")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Q1 is open")

    # DAVSS now owes its 2023/24 Q1 returns.
    page.context.clear_cookies()
    sign_in(davss_user)
    expect(page.locator("main")).to_contain_text("Q1 2023/24")
