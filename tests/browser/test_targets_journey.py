"""A partner reports against their own trend: last quarter beside the boxes, the question
about a figure far from it, the suggested RAG, and submitting through Check your answers."""

import pytest
from playwright.sync_api import expect

from actions.models import Action, Agency, Metric, QuarterlyReturn
from priorities.models import Quarter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_partner_sees_the_quarters_before_answers_the_question_and_submits(
    page, axe, sign_in, davss_user
):
    Quarter.objects.filter(plan__financial_year=2022, number=4).update(is_open=True)
    action = Action.objects.get(priority__plan__financial_year=2022, priority__number=1, number=1)
    davss = Agency.objects.get(name="DAVSS")
    calls = action.metrics.get(name="Helpline calls")
    Metric.objects.filter(pk=action.metrics.get(name="Referrals managed").pk).update(
        target=50, target_period="quarter"
    )
    for number, value in [(1, 77), (2, 80), (3, 75)]:
        QuarterlyReturn.objects.create(
            action=action,
            agency=davss,
            quarter=Quarter.objects.get(plan__financial_year=2022, number=number),
            values={str(calls.pk): value},
            narrative=f"Helpline staffed all quarter (Q{number}).",
            rag="green",
            state=QuarterlyReturn.State.APPROVED,
        )

    sign_in(davss_user)
    row = page.locator("main table").first.locator("tbody tr").filter(has_text="1.1 Provide")
    row.get_by_role("link", name="Fill in return for 1.1").click()
    expect(page.locator(f"#before-{calls.pk}")).to_have_text(
        "Approved before: Q1 2022/23 77; Q2 2022/23 80; Q3 2022/23 75"
    )
    page.get_by_text("Progress reported for Q3 2022/23 (approved)").click()
    expect(page.locator("details")).to_contain_text("Helpline staffed all quarter (Q3).")
    axe(page)

    page.get_by_label("Helpline calls").fill("7")
    page.get_by_label("Referrals managed").fill("46")
    page.get_by_label("Programmes run").fill("3")
    page.get_by_label("Progress this quarter").fill("Helpline closed for a refit in May.")
    page.get_by_role("radio", name="Amber").check()
    page.get_by_label("Reason for a red or amber status").fill("Helpline refit.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".app-suggested-rag")).to_contain_text("46 of 50 in Q4: 92%")

    # Back on the form: the question, answered.
    page.get_by_role("link", name="Continue this return").click()
    expect(page.locator(".app-outlier")).to_contain_text(
        "Is 7 right? The quarters before: 77, 80, 75."
    )
    axe(page)
    page.get_by_label("Yes, 7 is right").check()
    page.get_by_role("button", name="Check and submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before submitting the return"
    )
    expect(page.locator("main")).to_contain_text("Confirmed as right")
    expect(page.locator("main")).not_to_contain_text("Is 7 right?")
    axe(page)
    page.get_by_role("button", name="Submit return").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("submitted for review")
    submitted = QuarterlyReturn.objects.get(action=action, agency=davss, quarter__number=4)
    assert submitted.state == "submitted"
    assert submitted.confirmed_values == {str(calls.pk): 7}
    assert submitted.suggested_rag == "amber"
