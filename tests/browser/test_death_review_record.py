"""The manager records a death review, a recommendation and its action through the pages,
and no page of the record is wider than the window (screenshots at 390 and 1280 px go to
tests/artifacts/death-reviews/)."""

import datetime

import pytest
from django.utils import timezone

from deathreviews.models import Review
from deathreviews.services import seed_themes
from priorities.models import Partnership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDEST = """() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"""


def test_the_manager_records_a_review_and_no_page_scrolls_sideways(
    page, sign_in, manager, davss_user, axe, artifacts
):
    seed_themes(Partnership.objects.deployed())
    notified = timezone.localdate() - datetime.timedelta(days=90)
    sign_in(manager)
    page.get_by_role("link", name="Death reviews").first.click()
    page.get_by_role("link", name="Record a review").click()
    page.get_by_label("Reference").fill("DARDR 2025/03")
    page.get_by_label("Pseudonym").fill("Adult C")
    page.get_by_label("Date the partnership was notified").fill(notified.isoformat())
    page.get_by_label("Hold a review", exact=True).check()
    page.get_by_label("Date of the decision").fill(notified.isoformat())
    page.get_by_role("button", name="Record review").click()
    # The reason is required once a decision is recorded; what was typed stays.
    assert page.locator(".govuk-error-summary").is_visible()
    assert page.get_by_label("Pseudonym").input_value() == "Adult C"
    page.get_by_label("Reason for the decision").fill("The criteria are met.")
    page.get_by_label(davss_user.get_full_name(), exact=False).check()
    page.get_by_role("button", name="Record review").click()
    page.wait_for_url("**/death-reviews/*/")
    review = Review.objects.get()
    assert page.get_by_text("Panel to convene").is_visible()

    page.get_by_role("link", name="Add a recommendation").click()
    page.get_by_label("Recommendation", exact=True).fill(
        "Every agency shares risk information with MARAC within one working day."
    )
    page.get_by_label("DAVSS", exact=True).check()
    page.get_by_label("Kent Police", exact=True).check()
    page.get_by_label("MARAC", exact=True).check()
    page.get_by_role("button", name="Add recommendation").click()
    page.get_by_role("link", name="Add an action to recommendation 1").click()
    page.get_by_label("Action", exact=True).fill("Agree an information sharing protocol.")
    page.get_by_label("Lead agency").select_option(label="Kent Police")
    page.get_by_label("Target date").fill("2030-03-31")
    page.get_by_label("Evidence needed").fill("The signed protocol.")
    page.get_by_role("button", name="Add action").click()
    assert page.get_by_role("cell", name="1.1", exact=True).is_visible()
    axe(page)

    page.goto("/death-reviews/themes/")
    page.get_by_role("button", name="Retire Housing").click()
    assert page.get_by_text("Theme Housing retired.").is_visible()
    page.get_by_role("button", name="Restore Housing").click()
    assert page.get_by_text("Theme Housing restored.").is_visible()
    axe(page)

    folder = artifacts / "death-reviews"
    folder.mkdir(exist_ok=True)
    pages = {
        "list": "/death-reviews/",
        "review": f"/death-reviews/{review.pk}/",
        "edit": f"/death-reviews/{review.pk}/change/",
        "recommendation": f"/death-reviews/recommendations/{review.recommendations.get().pk}/change/",
        "themes": "/death-reviews/themes/",
        "home": "/",
    }
    too_wide = []
    for name, url in pages.items():
        for width in (320, 390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(url)
            scroll_width, window = page.evaluate(WIDEST)
            if scroll_width > window:
                too_wide.append(f"{url} at {width} px: {scroll_width} px wide")
            if width != 320:
                page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    assert not too_wide, "\n".join(too_wide)
