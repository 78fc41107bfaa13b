"""One early approval moves no page's quarter: in the demo (Q1 to Q3 closed, Q4 open) the
manager approves a return for Q4, and every quarter-dependent page still opens on Q3, says
so, and offers the other quarters in its picker."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import User
from actions.models import Agency, QuarterlyReturn
from demodata.demo_returns import DEMO_PASSWORD
from priorities.models import Priority, Quarter
from tests.board_helpers import action, load_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_one_early_approval_moves_no_pages_quarter(page, axe, sign_in):
    load_demo()
    one_one, davss = action("1.1"), Agency.objects.get(name="DAVSS")
    q4 = Quarter.objects.get(plan__financial_year=2022, number=4)
    assert q4.is_open and not QuarterlyReturn.objects.filter(quarter=q4).exists()
    early = QuarterlyReturn.objects.create(
        action=one_one, agency=davss, quarter=q4, state="submitted", rag="green"
    )

    sign_in(User.objects.get(username="manager"), DEMO_PASSWORD)
    page.goto(reverse("return_detail", args=[early.pk]))
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("approved")
    early.refresh_from_db()
    assert early.state == "approved"

    priority = Priority.objects.get(plan__financial_year=2022, number=1)
    pages = {
        reverse("dashboard"): "Dashboard: Q3 2022/23",
        reverse("completeness"): "Q3 2022/23",
        reverse("quarterly_report"): "Quarterly report: Q3 2022/23",
        reverse("plan"): "worst approved RAG status for Q3 2022/23",
        reverse("priority_detail", args=[priority.pk]): "Progress by action, as at Q3 2022/23",
        reverse("action_detail", args=[one_one.pk]): "Returns for Q3 2022/23",
        reverse("agency_detail", args=[davss.pk]): "Returns for Q3 2022/23",
    }
    for url, says in pages.items():
        page.goto(url)
        expect(page.locator("main")).to_contain_text(says)
        picker = page.locator("select[name='quarter']")
        expect(picker).to_have_value("3")
    # The picker still takes the reader to Q4, where the early approval shows.
    page.goto(reverse("action_detail", args=[one_one.pk]))
    page.locator("select[name='quarter']").select_option("4")
    page.get_by_role("button", name="Show quarter").click()
    expect(page.locator("main")).to_contain_text("Returns for Q4 2022/23")
    expect(page.locator("#who-reports ~ table").first).to_contain_text("Approved")
    axe(page)
