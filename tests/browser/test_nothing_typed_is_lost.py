"""Nothing typed is lost, in a real browser: a narrative survives an expired session; the
timeout warning works by keyboard; Enter in a figure saves a draft and submits nothing;
"Check your answers", then Submit return, then recall."""

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from actions.models import QuarterlyReturn
from priorities.models import Quarter
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_q4():
    Quarter.objects.filter(plan__financial_year=2022, number=4).update(is_open=True)


def davss_return():
    return QuarterlyReturn.objects.filter(
        action__priority__number=1, action__number=1, agency__name="DAVSS", quarter__number=4
    ).first()


def open_return_1_1(page):
    row = page.locator("main table").first.locator("tbody tr").filter(has_text="1.1 Provide")
    row.get_by_role("link", name="Fill in return for 1.1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Return for action 1.1")


def test_a_narrative_survives_an_expired_session(page, axe, sign_in, davss_user):
    open_q4()
    sign_in(davss_user)
    open_return_1_1(page)
    page.get_by_label("Helpline calls").fill("1,200")
    page.get_by_label("Progress this quarter").fill("Written over a long afternoon.")
    page.get_by_label("Amber", exact=True).check()
    page.get_by_label("Reason for a red or amber status").fill("Two vacancies.")

    Session.objects.all().delete()  # the idle limit passes on the server
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Your session ended, so nothing was saved."
    )
    axe(page)
    page.get_by_label("Username").fill(davss_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Return for action 1.1")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "We kept what you typed; check it and save."
    )
    expect(page.get_by_label("Progress this quarter")).to_have_value(
        "Written over a long afternoon."
    )
    expect(page.get_by_label("Helpline calls")).to_have_value("1,200")
    expect(page.get_by_label("Amber", exact=True)).to_be_checked()
    expect(page.get_by_label("Reason for a red or amber status")).to_have_value("Two vacancies.")
    axe(page)
    assert davss_return() is None  # nothing saved on their behalf

    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Draft of the return")
    saved = davss_return()
    assert (saved.state, saved.narrative) == ("draft", "Written over a long afternoon.")
    assert 1200 in saved.values.values()


def test_the_timeout_warning_works_by_keyboard(page, axe, sign_in, davss_user, settings):
    # The warning opens two seconds after each page load or "Stay signed in".
    settings.SESSION_COOKIE_AGE = 3600
    settings.SESSION_TIMEOUT_WARNING = 3598
    sign_in(davss_user)
    dialog = page.get_by_role("dialog", name="You’re about to be signed out")
    expect(dialog).to_be_visible(timeout=10_000)
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    expect(dialog).to_contain_text("we will sign you out in")
    axe(page)

    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Sign out")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(stay).to_be_focused()

    with page.expect_response("**/session/keep-alive/") as pinged:
        page.keyboard.press("Enter")
    assert pinged.value.status == 204
    expect(dialog).to_be_hidden()

    # Again; Escape also means "stay".
    expect(dialog).to_be_visible(timeout=10_000)
    with page.expect_response("**/session/keep-alive/") as pinged:
        page.keyboard.press("Escape")
    assert pinged.value.status == 204
    expect(dialog).to_be_hidden()

    # Sign out, from the keyboard too.
    expect(dialog).to_be_visible(timeout=10_000)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/accounts/login/")
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_enter_in_a_figure_saves_a_draft_and_does_not_submit(page, sign_in, davss_user):
    open_q4()
    sign_in(davss_user)
    open_return_1_1(page)
    page.get_by_label("Helpline calls").fill("212")
    page.get_by_label("Referrals managed").fill("31")
    page.get_by_label("Programmes run").fill("4")
    page.get_by_label("Progress this quarter").fill("Complete enough to submit.")
    page.get_by_label("Green").check()
    page.get_by_label("Programmes run").press("Enter")

    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Draft of the return for 1.1 saved."
    )
    assert davss_return().state == QuarterlyReturn.State.DRAFT


def test_check_your_answers_then_submit_then_recall(page, axe, sign_in, davss_user):
    open_q4()
    sign_in(davss_user)
    open_return_1_1(page)
    page.get_by_label("Helpline calls").fill("1,212")
    page.get_by_label("Referrals managed").fill("31")
    page.get_by_label("Programmes run").fill("4")
    page.get_by_label("Progress this quarter").fill("Busier than Q3.")
    page.get_by_label("Green").check()
    page.get_by_role("button", name="Check and submit").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before submitting the return"
    )
    main = page.locator("main")
    expect(main).to_contain_text("1,212")
    expect(main).to_contain_text("Busier than Q3.")
    expect(main).to_contain_text("Green")
    axe(page)
    assert davss_return().state == QuarterlyReturn.State.DRAFT

    # Change: back to the form at the narrative, and back again.
    page.get_by_role("link", name="Change progress this quarter").click()
    expect(page.get_by_label("Progress this quarter")).to_have_value("Busier than Q3.")
    page.get_by_label("Progress this quarter").fill("Busier than Q3, as expected.")
    page.get_by_role("button", name="Check and submit").click()
    expect(main).to_contain_text("Busier than Q3, as expected.")

    page.get_by_role("button", name="Submit return").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Return for 1.1 submitted for review."
    )
    assert davss_return().state == QuarterlyReturn.State.SUBMITTED
    axe(page)

    page.get_by_role("button", name="Recall return").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("it is a draft again")
    assert davss_return().state == QuarterlyReturn.State.DRAFT
    expect(page.get_by_role("link", name="Continue this return")).to_be_visible()


def test_when_the_warning_is_ignored_the_session_ends_and_the_text_is_kept(
    page, sign_in, davss_user, settings
):
    open_q4()
    settings.SESSION_COOKIE_AGE = 8  # the warning after 2 seconds, signed out after 8
    settings.SESSION_TIMEOUT_WARNING = 6
    sign_in(davss_user)
    open_return_1_1(page)
    page.get_by_label("Progress this quarter").fill("Typed, then away from the desk.")

    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("You have been signed out", timeout=15_000)
    page.keyboard.press("Enter")  # Continue: closes the dialog
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    settings.SESSION_COOKIE_AGE = 1800
    page.get_by_label("Username").fill(davss_user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Progress this quarter")).to_have_value(
        "Typed, then away from the desk."
    )
    assert davss_return() is None
