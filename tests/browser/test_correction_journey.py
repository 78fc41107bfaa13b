"""A return sent back in a closed quarter is corrected and resubmitted by the partner: the
manager closes Q1 (asked first, told what is outstanding), sends DAVSS's Q1 return back;
DAVSS finds it first on the home page, reads the reason on the form, corrects and submits
it; the leave to correct ends and the manager sees it waiting for review."""

import pytest
from playwright.sync_api import expect

from actions import services
from actions.models import LockException, QuarterlyReturn
from priorities.models import Quarter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Referrals managed looks like the year's total: give Q1's figure only."


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")


def submit(page):
    page.get_by_role("button", name="Check and submit").click()
    page.wait_for_url("**/check/")  # Check your answers, then the final submit
    page.get_by_role("button", name="Submit return").click()


def test_a_return_sent_back_in_a_closed_quarter_is_corrected_and_resubmitted(
    page, axe, sign_in, davss_user, manager, artifacts
):
    Quarter.objects.filter(plan__financial_year=2022, number=1).update(is_open=True)
    q1 = Quarter.objects.select_related("plan").get(plan__financial_year=2022, number=1)
    from actions.models import Action, Agency

    one_one = Action.objects.get(priority__plan=q1.plan, priority__number=1, number=1)
    metrics = list(one_one.metrics.all())
    services.save_return(
        davss_user,
        one_one,
        Agency.objects.get(name="DAVSS"),
        q1,
        values={str(metric.pk): 100 + i for i, metric in enumerate(metrics)},
        narrative="Helpline staffed throughout the quarter.",
        rag="green",
        rag_reason="",
        seen_version=None,
        submit=True,
    )

    # The manager closes Q1: asked first, with what is still outstanding.
    sign_in(manager)
    page.goto("/quarters/")
    page.get_by_role("link", name="Close Q1 2022/23").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Close Q1 2022/23 for returns?")
    expect(page.locator("main")).to_contain_text("will move to Q1 2022/23")
    expect(page.locator("main table")).to_contain_text("DAVSS")
    axe(page)
    page.get_by_role("button", name="Close Q1 2022/23").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Q1 2022/23 is now closed")

    # …and sends DAVSS's Q1 return back.
    page.goto("/review/")
    page.get_by_role("link", name="1.1").click()
    page.get_by_label("Reason for sending it back").fill(REASON)
    page.get_by_role("button", name="Send back").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("sent back to DAVSS")
    sign_out(page)

    # DAVSS: first on the home page, with the reason.
    sign_in(davss_user)
    expect(page.locator("main h2").first).to_have_text("Returns to correct")
    expect(page.locator("main")).to_contain_text(REASON)
    axe(page)
    page.get_by_role("link", name="Correct the return for 1.1, Q1 2022/23").click()

    # The reason on the form's first screen, then the correction.
    banner = page.locator(".govuk-notification-banner", has_text="Correct this return")
    expect(banner).to_contain_text(REASON)
    expect(banner).to_contain_text("you may correct this return until you submit it again")
    expect(banner).to_be_in_viewport()
    axe(page)
    page.screenshot(path=artifacts / "correction-form.png", full_page=False)
    page.get_by_label("Referrals managed").fill("31")
    submit(page)
    expect(page.locator(".govuk-notification-banner").first).to_contain_text("submitted for review")

    corrected = QuarterlyReturn.objects.get(action=one_one, agency__name="DAVSS", quarter=q1)
    assert corrected.state == QuarterlyReturn.State.SUBMITTED
    assert 31 in corrected.values.values()
    assert not LockException.objects.filter(quarter=q1, action=one_one).exists()

    # The leave has ended: the home page no longer lists it, the form is closed again.
    page.goto("/")
    expect(page.locator("#to-correct")).to_have_count(0)
    page.goto(f"/returns/{q1.pk}/{one_one.pk}/{corrected.agency_id}/")
    expect(page.locator("main")).to_contain_text("waiting for review")
