"""The whole return journey in a real browser: DAVSS submits 1.1 for Q4, the manager sends
it back, DAVSS corrects and resubmits, the manager approves, the board reads the figures."""

import pytest
from playwright.sync_api import expect

from actions.models import QuarterlyReturn
from priorities.models import Quarter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")


def test_return_is_submitted_sent_back_corrected_approved_and_read_by_the_board(
    page, axe, sign_in, davss_user, manager, board_member, artifacts
):
    Quarter.objects.filter(plan__financial_year=2022, number=4).update(is_open=True)

    # DAVSS: 1.1 is owed for Q4, not started, overdue in words.
    sign_in(davss_user)
    row = page.locator("main table").first.locator("tbody tr").filter(has_text="1.1 Provide")
    expect(row).to_contain_text("Not started")
    expect(row).to_contain_text("Overdue")
    axe(page)
    row.get_by_role("link", name="Fill in return for 1.1").click()

    # Submitting with a bad figure and no narrative: the error summary, typed values kept.
    expect(page.get_by_role("heading", level=1)).to_have_text("Return for action 1.1")
    page.get_by_label("Helpline calls").fill("-4")
    page.get_by_label("Referrals managed").fill("31")
    page.get_by_role("button", name="Check and submit").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Helpline calls must be 0 or more")
    expect(summary).to_contain_text("Enter the progress this quarter before you submit")
    expect(page.get_by_label("Referrals managed")).to_have_value("31")
    axe(page)

    # The summary's link takes the keyboard to the field.
    summary.get_by_role("link", name="Helpline calls must be 0 or more").click()
    expect(page.get_by_label("Helpline calls")).to_be_focused()
    page.get_by_label("Helpline calls").fill("212")
    page.get_by_label("Programmes run").fill("4")
    page.get_by_label("Progress this quarter").fill("Helpline busier than Q3.")
    page.get_by_label("Green").check()
    page.get_by_role("button", name="Check and submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before submitting the return"
    )
    page.get_by_role("button", name="Submit return").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("submitted for review")
    expect(page.locator("main")).to_contain_text("Submitted")
    sign_out(page)

    # Manager: the return is in the review queue; send it back with a reason.
    sign_in(manager)
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Review returns").click()
    axe(page)
    page.get_by_role("link", name="1.1").click()
    expect(page.locator("main")).to_contain_text("212")
    axe(page)
    page.get_by_label("Reason for sending it back").fill("Programmes run looks low: check Q4.")
    page.get_by_role("button", name="Send back").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("sent back to DAVSS")
    sign_out(page)

    # DAVSS sees the reason, corrects and resubmits.
    sign_in(davss_user)
    row = page.locator("main table").first.locator("tbody tr").filter(has_text="1.1 Provide")
    expect(row).to_contain_text("Sent back")
    row.get_by_role("link", name="Correct return for 1.1").click()
    expect(page.locator("main")).to_contain_text("Programmes run looks low: check Q4.")
    expect(page.get_by_label("Helpline calls")).to_have_value("212")
    page.get_by_label("Programmes run").fill("6")
    page.get_by_role("button", name="Check and submit").click()
    page.get_by_role("button", name="Submit return").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("submitted for review")
    sign_out(page)

    # Manager approves.
    sign_in(manager)
    page.goto("/review/")
    page.get_by_role("link", name="1.1").click()
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("approved")
    sign_out(page)

    quarterly_return = QuarterlyReturn.objects.get(
        action__priority__number=1,
        action__number=1,
        agency__name="DAVSS",
        quarter__number=4,
    )
    assert quarterly_return.state == QuarterlyReturn.State.APPROVED
    assert sorted(quarterly_return.values.values()) == [6, 31, 212]
    reasons = list(
        quarterly_return.history.order_by("history_date").values_list(
            "history_change_reason", flat=True
        )
    )
    # Each submission is saved as a draft first, then submitted from "Check your answers".
    assert reasons == [
        "Draft saved",
        "Submitted",
        "Sent back: Programmes run looks low: check Q4.",
        "Draft saved",
        "Submitted",
        "Approved",
    ]

    # The board reads the approved figures on the action page.
    sign_in(board_member)
    page.goto(f"/actions/{quarterly_return.action_id}/?quarter=4")
    returns = page.locator("#returns ~ table").first
    expect(returns).to_contain_text("Approved")
    expect(returns).to_contain_text("212")
    expect(returns).to_contain_text("6")
    axe(page)
    page.screenshot(path=artifacts / "return-journey-board.png", full_page=True)
