"""Editing a draft plan in a real browser: the manager adds an action, finding its agencies
by typing part of another name and choosing by keyboard (GOV.UK's accessible
autocomplete), then gives it two metrics. axe checks each page."""

import pytest
from playwright.sync_api import expect

from actions.models import Action, Agency
from priorities.models import Plan, Quarter
from tests.factories import PlanFactory, PriorityFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_adds_an_action_with_two_metrics_by_keyboard(page, axe, sign_in, manager):
    plan = PlanFactory(financial_year=2023, state=Plan.State.DRAFT)
    for number in range(1, 5):
        Quarter.objects.create(plan=plan, number=number)
    PriorityFactory(plan=plan, number=1, title="Domestic abuse", short_title="DA")

    sign_in(manager)
    page.goto("/plans/2023/edit/")
    expect(page.locator("h1")).to_have_text("Edit the 2023/24 plan")
    axe(page)
    page.get_by_role("link", name="Add an action to priority 1").click()
    axe(page)

    page.get_by_label("Action", exact=True).fill("Run a helpline for victims")
    page.get_by_label("Lead agencies as printed").fill("DAVSS and partners")
    # Another name of DAVSS finds it; the keyboard chooses it.
    agencies = page.get_by_role("combobox", name="Agencies that report (optional)")
    agencies.press_sequentially("Volunteer Support")
    expect(page.get_by_role("option", name="DAVSS")).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(".app-chosen-agencies")).to_contain_text("DAVSS")
    axe(page)
    accountable = page.get_by_role(
        "combobox", name="Accountable agency when none is named (optional)"
    )
    accountable.press_sequentially("Kent Pol")
    expect(page.get_by_role("option", name="Kent Police")).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.get_by_label("Other partners may contribute a return").check()
    page.get_by_label("Measure").fill("Calls answered each quarter")
    page.get_by_role("button", name="Add action").click()

    expect(page.locator("h1")).to_contain_text("Change action 1.1")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Action 1.1 added")
    axe(page)
    for name, kind in [("Calls answered", "Count"), ("Helpline staffed all quarter", "Yes or no")]:
        page.get_by_role("link", name="Add a metric").click()
        page.get_by_label("Name").fill(name)
        page.get_by_label(kind, exact=True).check()
        axe(page)
        page.get_by_role("button", name="Add metric").click()
        expect(page.locator("#metrics + p + table")).to_contain_text(name)

    action = Action.objects.get(priority__plan=plan)
    assert action.ref == "1.1"
    assert list(action.agencies.all()) == [Agency.objects.get(name="DAVSS")]
    assert action.accountable_agency == Agency.objects.get(name="Kent Police")
    assert action.all_partners
    assert list(action.metrics.values_list("name", "kind")) == [
        ("Calls answered", "count"),
        ("Helpline staffed all quarter", "yes_no"),
    ]
