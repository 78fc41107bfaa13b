"""Issue 16's journey in a real browser, through the pages only: the manager records a death
review and two recommendations, one with an action led by DAVSS and one by Kent Police;
DAVSS writes its quarter's update, attaches a PDF and asks to close the action; the manager
approves the evidence, which closes it; the board sees one action closed and one open, and
none of the review's words, since it is not published."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from deathreviews.models import ProgressUpdate, Review, ReviewAction
from priorities.models import Quarter
from tests.files import MINIMAL_PDF
from tests.mail_servers import deliver_queued_mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDEST = """() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"""
PSEUDONYM = "Adult K"
DAVSS_RECOMMENDATION = "Every agency offers a domestic abuse advocate at first contact."
POLICE_RECOMMENDATION = "Officers record coercive control on every call-out."
DAVSS_ACTION = "Train front-door staff to offer an advocate."
POLICE_ACTION = "Add coercive control questions to the call-out checklist."
SECRETS = [PSEUDONYM, DAVSS_RECOMMENDATION, POLICE_RECOMMENDATION, DAVSS_ACTION, POLICE_ACTION]


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")


def fits_the_window(page, shot, width: int = 390) -> None:
    """The page as it is now, at `width` px: nothing wider than the window (a screenshot
    goes to tests/artifacts/death-review-journey/); back to 1280."""
    page.screenshot(path=shot.parent / f"{shot.name}-1280.png", full_page=True)
    page.set_viewport_size({"width": width, "height": 900})
    page.reload()
    page.screenshot(path=shot.parent / f"{shot.name}-{width}.png", full_page=True)
    scroll_width, window = page.evaluate(WIDEST)
    assert scroll_width <= window, f"{page.url} at {width} px is {scroll_width} px wide"
    page.set_viewport_size({"width": 1280, "height": 900})


def add_recommendation(page, number: int, text: str, owner: str, action: str, target: str):
    page.get_by_role("link", name="Add a recommendation").click()
    page.get_by_label("Recommendation", exact=True).fill(text)
    page.get_by_label(owner, exact=True).check()
    page.get_by_role("button", name="Add recommendation").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Recommendation {number} added."
    )
    page.get_by_role("link", name=f"Add an action to recommendation {number}").click()
    page.get_by_label("Action", exact=True).fill(action)
    page.get_by_label("Lead agency").select_option(label=owner)
    page.get_by_label("Target date").fill(target)
    page.get_by_label("Evidence needed").fill("What shows it is done.")
    page.get_by_role("button", name="Add action").click()
    expect(page.get_by_role("cell", name=f"{number}.1", exact=True)).to_be_visible()


def test_an_action_is_closed_with_approved_evidence_and_the_board_reads_only_counts(
    page, sign_in, manager, davss_user, board_member, axe, artifacts, tmp_path
):
    Quarter.objects.filter(plan__financial_year=2022, number=4).update(is_open=True)
    shots = artifacts / "death-review-journey"
    shots.mkdir(exist_ok=True)
    notified = timezone.localdate() - datetime.timedelta(days=60)
    target = (timezone.localdate() + datetime.timedelta(days=365)).isoformat()

    # The manager records the review, then two recommendations each with an action.
    sign_in(manager)
    page.get_by_role("link", name="Death reviews").first.click()
    page.get_by_role("link", name="Record a review").click()
    page.get_by_label("Reference").fill("DARDR 2026/01")
    page.get_by_label("Pseudonym").fill(PSEUDONYM)
    page.get_by_label("Date the partnership was notified").fill(notified.isoformat())
    page.get_by_label("Hold a review", exact=True).check()
    page.get_by_label("Date of the decision").fill(notified.isoformat())
    page.get_by_label("Reason for the decision").fill("The criteria are met.")
    page.get_by_role("button", name="Record review").click()
    page.wait_for_url("**/death-reviews/*/")
    review = Review.objects.get()
    add_recommendation(page, 1, DAVSS_RECOMMENDATION, "DAVSS", DAVSS_ACTION, target)
    add_recommendation(page, 2, POLICE_RECOMMENDATION, "Kent Police", POLICE_ACTION, target)
    davss_action = ReviewAction.objects.get(lead_agency__name="DAVSS")
    police_action = ReviewAction.objects.get(lead_agency__name="Kent Police")
    assert [a.name for a in davss_action.recommendation.owners.all()] == ["DAVSS"]
    assert [a.name for a in police_action.recommendation.owners.all()] == ["Kent Police"]
    axe(page)
    fits_the_window(page, shots / "review")
    sign_out(page)

    # DAVSS finds its action on its home page and writes the quarter's update.
    sign_in(davss_user)
    actions = page.locator("#death-review-actions ~ .app-table-container table")
    expect(actions).to_contain_text(DAVSS_ACTION)
    expect(actions).not_to_contain_text(POLICE_ACTION)
    expect(page.locator("main")).not_to_contain_text(PSEUDONYM)
    axe(page)
    fits_the_window(page, shots / "home-davss")
    actions.get_by_role("link", name="Write update on 1.1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Update on death review action 1.1")
    expect(page.locator("main")).to_contain_text(DAVSS_RECOMMENDATION)
    expect(page.locator("main")).not_to_contain_text(PSEUDONYM)
    axe(page)
    fits_the_window(page, shots / "update-form")

    page.get_by_label("Progress this quarter").fill("All 40 front-door staff trained.")
    page.get_by_label("Ask to close this action").check()
    page.get_by_label("How the evidence shows the action is done").fill(
        "The register shows every front-door member of staff trained by March."
    )
    # Asking to close without a file is refused, with what was typed kept.
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Attach at least one file of evidence"
    )
    expect(page.get_by_label("Progress this quarter")).to_have_value(
        "All 40 front-door staff trained."
    )
    axe(page)
    register = tmp_path / "training-register.pdf"
    register.write_bytes(MINIMAL_PDF)
    page.get_by_label("Add files").set_input_files(register)
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Update on action 1.1 submitted for review"
    )
    expect(page.locator("main")).to_contain_text("training-register.pdf")
    axe(page)
    fits_the_window(page, shots / "update")
    update = ProgressUpdate.objects.get()
    assert update.state == ProgressUpdate.State.SUBMITTED and update.asks_to_close
    assert update.evidence.get().name == "training-register.pdf"
    sign_out(page)

    # The manager finds the update from the review's page and approves the evidence.
    sign_in(manager)
    page.goto(f"/death-reviews/{review.pk}/")
    page.get_by_role("link", name="Updates waiting for review").click()
    axe(page)
    fits_the_window(page, shots / "queue")
    page.get_by_role("link", name="1.1").click()
    expect(page.locator("main")).to_contain_text("The register shows every front-door member")
    with page.expect_download() as download:
        page.get_by_role("link", name="training-register.pdf").click()
    assert download.value.suggested_filename == "training-register.pdf"
    axe(page)
    fits_the_window(page, shots / "update-manager")
    page.get_by_role("button", name="Approve and close the action").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Update on action 1.1 approved. The action is now closed."
    )
    davss_action.refresh_from_db()
    police_action.refresh_from_db()
    assert davss_action.is_closed and not police_action.is_closed
    (mail,) = deliver_queued_mail()
    assert mail.to == [davss_user.email] and "The action is now closed." in mail.body
    assert not [secret for secret in SECRETS if secret in mail.body]
    # The review's page shows the action closed, with a way to its evidence and back.
    page.get_by_role("link", name="Death reviews").first.click()
    page.get_by_role("link", name="DARDR 2026/01").click()
    row = page.get_by_role("row").filter(has_text=DAVSS_ACTION)
    expect(row).to_contain_text("Closed")
    axe(page)
    fits_the_window(page, shots / "review-closed")
    row.get_by_role("link", name="Evidence").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Update on death review action 1.1")
    expect(page.locator("main")).to_contain_text("training-register.pdf")
    page.get_by_role("link", name="DARDR 2026/01").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("DARDR 2026/01")
    sign_out(page)

    # DAVSS finds the closed action on its home page, and the evidence that closed it.
    sign_in(davss_user)
    section = page.locator("main")
    expect(section.get_by_role("link", name="Write update on 1.1")).to_have_count(0)
    axe(page)
    fits_the_window(page, shots / "home-davss-closed")
    section.get_by_role("link", name="The evidence that closed it (1.1, DARDR 2026/01)").click()
    expect(page.locator("main")).to_contain_text("Approved by")
    expect(page.locator("main")).to_contain_text("Closed")
    expect(page.locator("main")).not_to_contain_text(PSEUDONYM)
    sign_out(page)

    # The board sees one action closed and one open, and no words of the review.
    sign_in(board_member)
    page.get_by_role("link", name="Death reviews").first.click()
    row = page.get_by_role("row").filter(has_text="DARDR 2026/01")
    expect(row).to_contain_text("Panel to convene")
    cells = row.get_by_role("cell")
    headers = page.locator("#reviews-caption ~ thead th")
    columns = [text.strip() for text in headers.all_inner_texts()]
    figures = dict(
        zip(columns[1:], [text.strip() for text in cells.all_inner_texts()], strict=True)
    )
    assert figures["Actions open"] == "1" and figures["Actions closed"] == "1"
    assert figures["Implemented"] == "1" and figures["In progress"] == "1"
    text = page.locator("main").inner_text()
    assert not [secret for secret in SECRETS if secret in text]
    axe(page)
    fits_the_window(page, shots / "board")
    for url in ("/", "/death-reviews/analysis/", "/report/"):
        page.goto(url)
        text = page.locator("main").inner_text()
        assert not [secret for secret in SECRETS if secret in text], url
    # Not the review's record, nor the update: outside the board's scope (asked for with the
    # board's session, not loaded as a page, whose 404 the browser would report as broken).
    assert page.request.get(f"/death-reviews/{review.pk}/").status == 404
    assert page.request.get(f"/death-reviews/updates/{update.pk}/").status == 404
