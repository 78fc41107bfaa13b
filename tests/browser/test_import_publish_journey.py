"""Import and publish in a real browser: the manager imports a priority of actions into a
draft from a spreadsheet, resolving two names on the preview; publishes 2022/23; and a
visitor who never signed in reads the public page."""

import csv

import pytest
from playwright.sync_api import expect

from actions.models import Action, Agency
from priorities import plan_import
from priorities.models import Plan
from tests.factories import PlanFactory
from tests.test_plan_import import ROWS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_imports_a_priority_and_publishes_the_plan(
    page, browser, live_server, axe, sign_in, manager, tmp_path
):
    plan = Plan.objects.get(financial_year=2022)
    draft = PlanFactory(partnership=plan.partnership, financial_year=2023)
    spreadsheet = tmp_path / "priority-6.csv"
    with open(spreadsheet, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(plan_import.COLUMNS)
        writer.writerows(ROWS)

    sign_in(manager)
    page.goto(f"/plans/{draft.pk}/import/")
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose a spreadsheet to upload")
    axe(page)
    page.get_by_label("Spreadsheet").set_input_files(spreadsheet)
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator("main")).to_contain_text("Priority 6: Serious Violence")
    expect(page.locator("main")).to_contain_text("adds 10 actions")
    axe(page)
    page.get_by_label("“Borough Youth Forum”").select_option(label="Kenward Trust")
    page.get_by_label("“Night Guardians”").select_option("new")
    page.get_by_role("button", name="Confirm and import").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("10 new")
    assert Action.objects.filter(priority__plan=draft).count() == 10
    assert Agency.objects.filter(name="Night Guardians").exists()

    page.goto("/plan/")
    page.get_by_role("link", name="publish it").click()
    axe(page)
    page.get_by_role("button", name="Publish the plan").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("is published")

    visitor = browser.new_context(base_url=live_server.url)
    public = visitor.new_page()
    public.goto("/public/plan/")
    expect(public.locator("h1")).to_have_text("Community Safety Partnership Plan 2022-23")
    expect(public.locator("main")).to_contain_text("Priority 1: Domestic Abuse")
    expect(public.get_by_role("button", name="Sign out")).to_have_count(0)
    axe(public)
    visitor.close()
