"""Comments, follow-up and evidence in a real browser: DAVSS attaches a PDF to its return
for 1.1 and submits it; the manager comments, marks a figure for follow-up and sends it
back; DAVSS answers and resubmits; the manager approves it with "Approve and open the next",
which opens the next return waiting."""

import pytest
from playwright.sync_api import expect

from actions import services
from actions.models import Action, Agency, QuarterlyReturn
from priorities.models import Quarter
from review.models import Evidence, FollowUp, ReturnComment

from ..files import MINIMAL_PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")


def test_evidence_comments_and_follow_up_on_the_way_to_approval(
    page, axe, sign_in, davss_user, manager, artifacts
):
    Quarter.objects.filter(plan__financial_year=2022, number=4).update(is_open=True)
    q4 = Quarter.objects.get(plan__financial_year=2022, number=4)
    davss = Agency.objects.get(name="DAVSS")
    helpline = Action.objects.get(priority__plan=q4.plan, priority__number=1, number=1)
    # Another return already waiting, for "Approve and open the next" to open.
    waiting = services.save_return(
        davss_user,
        Action.objects.get(priority__plan=q4.plan, priority__number=1, number=3),
        davss,
        q4,
        values={},
        narrative="Campaign run.",
        rag="green",
        rag_reason="",
        seen_version=None,
        submit=True,
    )

    # DAVSS saves a draft, attaches the minutes as a PDF, and submits through the check page.
    sign_in(davss_user)
    page.goto(f"/returns/{q4.pk}/{helpline.pk}/{davss.pk}/")
    page.get_by_label("Helpline calls").fill("212")
    page.get_by_label("Referrals managed").fill("31")
    page.get_by_label("Programmes run").fill("1")
    page.get_by_label("Progress this quarter").fill("Helpline busier than Q3.")
    page.get_by_label("Green").check()
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("link", name="Add or remove evidence").click()
    axe(page)
    page.get_by_label("File").set_input_files(
        {"name": "minutes.txt.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf"}
    )
    page.get_by_label("What it shows (optional)").fill("Steering group minutes")
    page.get_by_role("button", name="Attach file").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("is not a PDF")
    expect(page.get_by_label("What it shows (optional)")).to_have_value("Steering group minutes")
    axe(page)
    page.get_by_label("File").set_input_files(
        {"name": "minutes.pdf", "mimeType": "application/pdf", "buffer": MINIMAL_PDF}
    )
    page.get_by_role("button", name="Attach file").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("minutes.pdf attached")
    page.get_by_role("link", name="Continue this return").click()
    expect(page.locator("main")).to_contain_text("minutes.pdf")
    page.get_by_role("button", name="Check and submit").click()
    page.get_by_role("button", name="Submit return").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("submitted for review")
    sign_out(page)

    # The manager comments, marks Programmes run for follow-up, and sends the return back.
    sign_in(manager)
    page.goto("/review/")
    expect(page.locator("main table")).to_contain_text("Less than a day")
    page.get_by_role("link", name="1.1").click()
    expect(page.locator("#evidence ~ table").first).to_contain_text("minutes.pdf")
    page.get_by_label("Add a comment").fill("Only one programme this quarter?")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Comment added")
    page.get_by_label("Figure").select_option(label="Programmes run")
    page.get_by_label("What do you want to know?").fill("1 against 4 last quarter: is it right?")
    page.get_by_role("button", name="Mark for follow-up").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("marked for follow-up")
    axe(page)
    page.get_by_label("Reason for sending it back").fill("See the follow-up on programmes.")
    page.get_by_role("button", name="Send back").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("sent back to DAVSS")
    sign_out(page)

    # DAVSS sees the figure to follow up on its home page and on the form, answers, resubmits.
    sign_in(davss_user)
    follow_ups = page.locator("#follow-ups ~ ul").first
    expect(follow_ups).to_contain_text("Programmes run")
    axe(page)
    follow_ups.get_by_role("link").first.click()
    expect(page.locator("main")).to_contain_text("Only one programme this quarter?")
    page.get_by_role("link", name="Correct and resubmit").click()
    expect(page.locator(".app-follow-ups")).to_contain_text("1 against 4 last quarter")
    page.get_by_label("Programmes run").fill("3")
    page.get_by_role("button", name="Check and submit").click()
    page.get_by_role("button", name="Submit return").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("submitted for review")
    page.get_by_label("Add a comment").fill("Two more ran late in March; corrected to 3.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.locator(".app-conversation")).to_contain_text("Follow-up cleared: Programmes run")
    sign_out(page)

    # The manager approves it and goes straight on to the next return in the queue.
    sign_in(manager)
    page.goto("/review/")
    page.get_by_role("link", name="1.1").click()
    expect(page.locator("main")).to_contain_text("corrected to 3")
    page.get_by_role("button", name="Approve and open the next").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("approved")
    expect(page.get_by_role("heading", level=1)).to_have_text("Return for action 1.3")
    axe(page)

    approved = QuarterlyReturn.objects.get(action=helpline, agency=davss, quarter=q4)
    assert approved.state == QuarterlyReturn.State.APPROVED
    assert approved.values[str(helpline.metrics.get(name="Programmes run").pk)] == 3
    assert list(Evidence.objects.attached().values_list("name", flat=True)) == ["minutes.pdf"]
    assert ReturnComment.objects.filter(quarterly_return=approved).count() == 2
    follow_up = FollowUp.objects.get()
    assert (follow_up.answer, follow_up.cleared_by_id) == ("changed", davss_user.pk)
    assert QuarterlyReturn.objects.get(pk=waiting.pk).state == QuarterlyReturn.State.SUBMITTED
