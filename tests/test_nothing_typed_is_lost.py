"""Nothing typed is lost (issue 11, rule 5): a form posted after the session ended or its
token expired comes back, after signing in, with what was typed; the timeout warning;
"Check your answers" before a return is submitted; recalling a submitted return; Enter
never submits for review; figures with thousands separators."""

import logging
import time
from urllib.parse import unquote

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse

from actions import services
from actions.models import QuarterlyReturn
from crimestats.models import CrimeFigure, CrimeType
from csp import kept_input
from csp.numbers import parse_count

from .factories import PASSWORD
from .test_returns_views import (
    action,
    agency,
    banners,
    complete_post,
    detail_url,
    document,
    edit_url,
    error_summary,
    form_values,
    history_reasons,
    make_return,
    metric_fields,
    open_q4,
    submitted_return,
    text,
    the_return,
)
from .test_security import audit_lines

pytestmark = pytest.mark.django_db


def session_ends():
    """The server forgets every session, as when the idle limit passes."""
    Session.objects.all().delete()


def sign_in_again(client, user, next_url: str):
    """Through the real sign-in form, as the redirect asks; the page it lands on."""
    return client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD, "next": next_url},
        follow=True,
    )


def signed_in_on(client, user, url: str):
    """Signed in, with the form open (which is when the browser learns who is signed in)."""
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    assert kept_input.cookie_name() in response.cookies
    return response


def next_url(response) -> str:
    """Where the sign-in page will send the user back to."""
    assert response.status_code == 302
    login, _, query = response["Location"].partition("?next=")
    assert login == reverse("login")
    return unquote(query)


def q4_return_url(plan):
    return edit_url(open_q4(plan), action("1.1"), agency("DAVSS"))


# Thousands separators: one parser ---------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "count"), [("1200", 1200), ("1,200", 1200), (" 7,679 ", 7679), ("0", 0)]
)
def test_a_count_is_read_with_or_without_thousands_separators(typed, count):
    assert parse_count(typed, "Helpline calls") == count


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1,20", "Helpline calls must be a whole number, like 1,234"),
        ("12.5", "Helpline calls must be a whole number, like 1,234"),
        ("-1,200", "Helpline calls must be 0 or more"),
        ("1,000,001", "Helpline calls must be 1,000,000 or fewer"),
    ],
)
def test_a_count_that_is_not_a_whole_number_is_refused_with_a_message(typed, message):
    with pytest.raises(ValueError, match=message):
        parse_count(typed, "Helpline calls")


def test_the_return_form_takes_1_200(client, davss_user, plan):
    url = q4_return_url(plan)
    client.force_login(davss_user)
    fields = metric_fields("1.1")
    response = client.post(
        url, complete_post(submit=None, save="1", **{fields["Helpline calls"]: "1,200"})
    )
    assert response.status_code == 302, error_summary(response)
    saved = the_return(action("1.1"), agency("DAVSS"), open_q4(plan))
    assert saved.values[fields["Helpline calls"].removeprefix("metric_")] == 1200


def test_the_return_form_refuses_a_badly_grouped_figure_beside_the_field(client, davss_user, plan):
    url = q4_return_url(plan)
    client.force_login(davss_user)
    fields = metric_fields("1.1")
    response = client.post(url, complete_post(**{fields["Helpline calls"]: "1,20"}))
    assert response.status_code == 200
    assert (
        f"#id_{fields['Helpline calls']}",
        "Helpline calls must be a whole number, like 1,234",
    ) in error_summary(response)
    assert form_values(response)[fields["Helpline calls"]] == "1,20"
    assert the_return(action("1.1"), agency("DAVSS"), open_q4(plan)) is None


# Enter never submits for review -------------------------------------------------------------


def test_the_return_forms_first_button_saves_a_draft(client, davss_user, plan):
    """The first submit button is the one Enter in a field presses (HTML's implicit
    submission), with or without JavaScript."""
    response = signed_in_on(client, davss_user, q4_return_url(plan))
    form = document(response).xpath("//form[.//textarea[@name='narrative']]")[0]
    buttons = form.xpath(".//button[@type='submit'] | .//input[@type='submit']")
    assert [(b.get("name"), text(b)) for b in buttons] == [
        ("save", "Save draft"),
        ("submit", "Check and submit"),
    ]


def test_check_and_submit_saves_a_draft_and_submits_nothing(client, davss_user, plan):
    url = q4_return_url(plan)
    client.force_login(davss_user)
    response = client.post(url, complete_post())
    saved = the_return(action("1.1"), agency("DAVSS"), open_q4(plan))
    assert response["Location"] == reverse("return_check", args=[saved.pk])
    assert saved.state == "draft"
    assert saved.submitted_at is None


# Check your answers ---------------------------------------------------------------------------


def test_check_your_answers_shows_the_figures_narrative_and_rag_with_change_links(
    client, davss_user, plan
):
    url = q4_return_url(plan)
    client.force_login(davss_user)
    check = client.post(url, complete_post(rag="amber", rag_reason="Two staff vacancies."))
    response = client.get(check["Location"])
    assert response.status_code == 200
    page = document(response)
    assert text(page.xpath("//h1")[0]) == "Check your answers before submitting the return"
    rows = [
        (text(row.xpath("./dt")[0]), text(row.xpath("./dd")[0]), text(row.xpath("./dd")[1]))
        for row in page.xpath("//dl[contains(@class, 'govuk-summary-list')]/div")
    ]
    assert rows == [
        ("Helpline calls", "412", "Change helpline calls"),
        ("Referrals managed", "57", "Change referrals managed"),
        ("Programmes run", "3", "Change programmes run"),
        (
            "Progress this quarter",
            "Two new Freedom Programme groups started in Paddock Wood.",
            "Change progress this quarter",
        ),
        ("RAG status", "Amber Two staff vacancies.", "Change RAG status"),
    ]
    links = page.xpath("//dd[contains(@class, 'govuk-summary-list__actions')]/a/@href")
    fields = metric_fields("1.1")
    assert links[0] == f"{url}#id_{fields['Helpline calls']}"
    assert links[3] == f"{url}#id_narrative"
    # Each Change link lands on a field the form has.
    form_page = document(client.get(url))
    for link in links:
        assert form_page.xpath(f"//*[@id='{link.partition('#')[2]}']"), link
    assert [text(b) for b in page.xpath("//main//form//button")] == ["Submit return"]


def test_submit_return_on_check_your_answers_submits_it(client, davss_user, plan):
    url = q4_return_url(plan)
    client.force_login(davss_user)
    check = client.post(url, complete_post())["Location"]
    saved = the_return(action("1.1"), agency("DAVSS"), open_q4(plan))
    response = client.post(check, {"version": str(saved.version)}, follow=True)
    assert response.redirect_chain == [(detail_url(saved), 302)]
    assert "Return for 1.1 submitted for review." in banners(response)
    saved.refresh_from_db()
    assert (saved.state, saved.submitted_by) == ("submitted", davss_user)
    assert history_reasons(saved) == ["Draft saved", "Submitted"]


def test_check_your_answers_sends_an_incomplete_return_back_to_the_form(client, davss_user, plan):
    q4 = open_q4(plan)
    draft = make_return(davss_user, action("1.1"), agency("DAVSS"), q4, narrative="Started.")
    client.force_login(davss_user)
    response = client.get(reverse("return_check", args=[draft.pk]), follow=True)
    assert response.redirect_chain == [(q4_return_url(plan), 302)]
    assert "The return is not complete yet" in banners(response)
    # And posting the page's button anyway submits nothing.
    client.post(reverse("return_check", args=[draft.pk]), {"version": str(draft.version)})
    draft.refresh_from_db()
    assert draft.state == "draft"


def test_submit_return_after_someone_else_changed_it_is_refused(client, davss_user, plan):
    url = q4_return_url(plan)
    client.force_login(davss_user)
    check = client.post(url, complete_post())["Location"]
    saved = the_return(action("1.1"), agency("DAVSS"), open_q4(plan))
    seen = saved.version
    services.save_return(
        davss_user,
        saved.action,
        saved.agency,
        saved.quarter,
        values=saved.values,
        narrative="Changed in another tab.",
        rag="green",
        rag_reason="",
        seen_version=None,
        submit=False,
    )
    response = client.post(check, {"version": str(seen)}, follow=True)
    assert response.redirect_chain == [(check, 302)]
    assert "changed after you opened this page" in banners(response)
    saved.refresh_from_db()
    assert saved.state == "draft"


def test_a_submitted_return_has_no_check_page_to_submit_again(client, davss_user, plan):
    submitted = submitted_return(davss_user, plan)
    client.force_login(davss_user)
    response = client.get(reverse("return_check", args=[submitted.pk]), follow=True)
    assert response.redirect_chain == [(detail_url(submitted), 302)]
    assert "waiting for review" in banners(response)


def test_a_sent_back_return_is_corrected_checked_and_resubmitted(client, davss_user, manager, plan):
    sent_back = services.send_back(
        manager, submitted_return(davss_user, plan), comment="Check the calls.", seen_version=None
    )
    client.force_login(davss_user)
    fields = metric_fields("1.1")
    check = client.post(
        q4_return_url(plan),
        complete_post(version=str(sent_back.version), **{fields["Helpline calls"]: "2,048"}),
    )["Location"]
    sent_back.refresh_from_db()
    client.post(check, {"version": str(sent_back.version)})
    sent_back.refresh_from_db()
    assert sent_back.state == "submitted"
    assert 2048 in sent_back.values.values()


# Recalling a submitted return -----------------------------------------------------------------


def test_recall_takes_a_submitted_return_back_to_draft_with_its_history(davss_user, plan):
    submitted = submitted_return(davss_user, plan)
    recalled = services.recall_return(davss_user, submitted, seen_version=submitted.version)
    recalled.refresh_from_db()
    assert (recalled.state, recalled.submitted_at, recalled.submitted_by) == ("draft", None, None)
    assert history_reasons(recalled)[-1] == "Recalled to draft"
    assert recalled.history.first().history_user == davss_user


def test_a_reviewed_return_cannot_be_recalled(davss_user, manager, plan):
    approved = services.approve_return(
        manager, submitted_return(davss_user, plan), seen_version=None
    )
    with pytest.raises(services.ReturnError, match="approved, so it cannot be recalled"):
        services.recall_return(davss_user, approved, seen_version=None)
    approved.refresh_from_db()
    assert approved.state == "approved"


def test_another_agency_cannot_recall_a_return(davss_user, police_user, plan):
    submitted = submitted_return(davss_user, plan)
    with pytest.raises(services.ReturnError, match="cannot report for this agency"):
        services.recall_return(police_user, submitted, seen_version=None)


def test_a_return_in_a_closed_quarter_cannot_be_recalled(davss_user, plan):
    submitted = submitted_return(davss_user, plan)
    type(submitted.quarter).objects.filter(pk=submitted.quarter_id).update(is_open=False)
    submitted.refresh_from_db()
    with pytest.raises(services.ReturnError, match="closed for returns"):
        services.recall_return(davss_user, submitted, seen_version=None)


def test_recall_is_refused_after_a_change_the_user_has_not_seen(davss_user, plan):
    submitted = submitted_return(davss_user, plan)
    with pytest.raises(services.StaleReturn):
        services.recall_return(davss_user, submitted, seen_version=submitted.version - 1)


def test_the_return_page_offers_recall_until_the_return_is_reviewed(
    client, davss_user, manager, plan
):
    submitted = submitted_return(davss_user, plan)
    client.force_login(davss_user)
    page = document(client.get(detail_url(submitted)))
    [form] = page.xpath("//form[.//button[normalize-space()='Recall return']]")
    assert form.get("action") == reverse("return_recall", args=[submitted.pk])

    response = client.post(form.get("action"), {"version": str(submitted.version)}, follow=True)
    assert "recalled: it is a draft again" in banners(response)
    submitted.refresh_from_db()
    assert submitted.state == "draft"
    assert not document(response).xpath("//button[normalize-space()='Recall return']")
    assert document(response).xpath("//a[normalize-space()='Continue this return']")

    approved = services.approve_return(
        manager, submitted_return(davss_user, plan, narrative="Again."), seen_version=None
    )
    page = document(client.get(detail_url(approved)))
    assert not page.xpath("//button[normalize-space()='Recall return']")


# Kept input: the session ended ---------------------------------------------------------------


def test_a_narrative_typed_as_the_session_ended_comes_back_after_signing_in(
    client, davss_user, plan
):
    url = q4_return_url(plan)
    signed_in_on(client, davss_user, url)
    session_ends()

    typed = complete_post(submit=None, save="1", narrative="Typed for an hour.", rag="amber")
    refused = client.post(url, typed)
    back = next_url(refused)
    assert back.startswith(f"{url}?kept=")
    assert the_return(action("1.1"), agency("DAVSS"), open_q4(plan)) is None

    response = sign_in_again(client, davss_user, back)
    assert response.redirect_chain[-1] == (back, 302)
    values = form_values(response)
    assert values["narrative"] == "Typed for an hour."
    assert values["rag"] == "amber"
    assert values[metric_fields("1.1")["Helpline calls"]] == "412"
    assert "We kept what you typed; check it and save." in banners(response)
    # Nothing was saved on the user's behalf.
    assert the_return(action("1.1"), agency("DAVSS"), open_q4(plan)) is None

    # Given back once: the same link later shows the form as stored.
    again = client.get(back)
    assert form_values(again)["narrative"] == ""
    assert "We kept what you typed" not in banners(again)


@pytest.fixture
def audit_log(caplog):
    """As in test_security: csp.audit does not propagate to the root logger."""
    logger = logging.getLogger("csp.audit")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="csp.audit")
    yield caplog
    logger.removeHandler(caplog.handler)


def test_the_sign_in_page_says_why_and_that_nothing_was_saved(client, davss_user, plan, audit_log):
    url = q4_return_url(plan)
    signed_in_on(client, davss_user, url)
    session_ends()
    response = client.post(url, complete_post(narrative="Kept."), follow=True)
    assert "Your session ended, so nothing was saved." in banners(response)
    assert (
        f"form input kept after the session or token ended: user=davss path={url} ip=127.0.0.1"
        in audit_lines(audit_log)
    )


def test_what_one_user_typed_is_never_given_to_another(client, davss_user, manager, plan):
    """A shared computer: DAVSS's session ends, the manager signs in with the same link."""
    url = q4_return_url(plan)
    signed_in_on(client, davss_user, url)
    session_ends()
    back = next_url(client.post(url, complete_post(narrative="DAVSS's words.")))

    response = sign_in_again(client, manager, back)
    assert response.status_code == 200
    assert form_values(response)["narrative"] == ""
    assert "We kept what you typed" not in banners(response)


def test_nothing_is_kept_without_knowing_who_typed_it(client, plan):
    """No sign of who was signed in (a browser that never signed in, or another site's
    post, which does not carry the SameSite cookie): the usual sign-in redirect."""
    url = q4_return_url(plan)
    response = client.post(url, complete_post(narrative="From elsewhere."))
    assert next_url(response) == url
    assert kept_input.SESSION_KEY not in client.session


def test_a_forged_owner_cookie_keeps_nothing(client, plan):
    url = q4_return_url(plan)
    client.cookies[kept_input.cookie_name()] = "davss"  # not signed by the server
    assert next_url(client.post(url, complete_post(narrative="x"))) == url


def test_kept_input_expires_with_the_idle_session_limit(client, davss_user, plan, settings):
    url = q4_return_url(plan)
    signed_in_on(client, davss_user, url)
    session_ends()
    back = next_url(client.post(url, complete_post(narrative="Old words.")))
    session = client.session
    for entry in session[kept_input.SESSION_KEY].values():
        entry["at"] -= settings.SESSION_COOKIE_AGE + 1
    session.save()

    response = sign_in_again(client, davss_user, back)
    assert form_values(response)["narrative"] == ""


def test_signing_out_forgets_who_was_signed_in(client, davss_user, plan):
    url = q4_return_url(plan)
    signed_in_on(client, davss_user, url)
    response = client.post(reverse("logout"))
    assert response.cookies[kept_input.cookie_name()]["max-age"] == 0
    assert next_url(client.post(url, complete_post(narrative="x"))) == url


def test_a_form_posted_after_the_absolute_session_limit_is_kept(client, davss_user, plan):
    url = q4_return_url(plan)
    signed_in_on(client, davss_user, url)
    session = client.session
    session["signed_in_at"] = int(time.time()) - 13 * 60 * 60
    session.save()

    back = next_url(client.post(url, complete_post(narrative="Late in the day.")))
    response = sign_in_again(client, davss_user, back)
    assert form_values(response)["narrative"] == "Late in the day."


def test_a_send_back_reason_typed_as_the_session_ended_comes_back(
    client, davss_user, manager, plan
):
    submitted = submitted_return(davss_user, plan)
    signed_in_on(client, manager, detail_url(submitted))
    session_ends()

    refused = client.post(
        reverse("return_send_back", args=[submitted.pk]),
        {"reason": "Programmes run looks low.", "version": str(submitted.version)},
    )
    back = next_url(refused)
    assert back.startswith(f"{detail_url(submitted)}?kept=")

    response = sign_in_again(client, manager, back)
    [reason] = document(response).xpath("//textarea[@name='reason']")
    assert reason.text.strip() == "Programmes run looks low."
    assert "We kept what you typed" in banners(response)
    submitted.refresh_from_db()
    assert submitted.state == "submitted"  # sent back only when the manager presses it


def test_a_reopen_reason_typed_as_the_session_ended_comes_back(client, davss_user, manager, plan):
    approved = services.approve_return(
        manager, submitted_return(davss_user, plan), seen_version=None
    )
    signed_in_on(client, manager, detail_url(approved))
    session_ends()
    back = next_url(
        client.post(reverse("return_reopen", args=[approved.pk]), {"reason": "Wrong quarter."})
    )
    response = sign_in_again(client, manager, back)
    [reason] = document(response).xpath("//textarea[@name='reason']")
    assert reason.text.strip() == "Wrong quarter."


def test_crime_figures_typed_as_the_session_ended_come_back(client, manager):
    url = reverse("crime_figures_edit", args=[2021])
    form = document(signed_in_on(client, manager, url)).xpath("//main//form[@method='post']")[0]
    data = {
        element.get("name"): element.get("value") or ""
        for element in form.xpath(".//input[@name]")
        if element.get("type") != "submit"
    }
    robbery = CrimeType.objects.get(name="Robbery")
    data[f"count_{robbery.pk}"] = "1,234"
    session_ends()

    back = next_url(client.post(url, data))
    response = sign_in_again(client, manager, back)
    assert document(response).xpath(f"//input[@name='count_{robbery.pk}']/@value") == ["1,234"]
    assert "We kept what you typed" in banners(response)
    assert not CrimeFigure.objects.filter(crime_type=robbery, year=2021, count=1234).exists()


# Kept input: the form's token expired (signed in again in another tab) ----------------------


def test_a_form_with_an_expired_token_comes_back_with_what_was_typed(davss_user, plan):
    client = Client(enforce_csrf_checks=True)
    url = q4_return_url(plan)
    signed_in_on(client, davss_user, url)
    typed = complete_post(
        submit=None, save="1", narrative="Mind the token.", csrfmiddlewaretoken="old"
    )

    response = client.post(url, typed, HTTP_ORIGIN="http://testserver", follow=True)

    assert response.redirect_chain[0][0].startswith(f"{url}?kept=")
    assert form_values(response)["narrative"] == "Mind the token."
    assert "We kept what you typed" in banners(response)
    assert the_return(action("1.1"), agency("DAVSS"), open_q4(plan)) is None


def test_another_sites_post_is_refused_and_kept_for_nobody(davss_user, plan):
    client = Client(enforce_csrf_checks=True)
    url = q4_return_url(plan)
    signed_in_on(client, davss_user, url)
    response = client.post(
        url, complete_post(narrative="Injected."), HTTP_ORIGIN="https://evil.example.org"
    )
    assert response.status_code == 403
    assert "The form has expired" in response.content.decode()
    assert kept_input.SESSION_KEY not in client.session


# The timeout warning -------------------------------------------------------------------------


@override_settings(SESSION_COOKIE_AGE=1800, SESSION_TIMEOUT_WARNING=300)
def test_signed_in_pages_carry_the_timeout_warning(client, davss_user):
    client.force_login(davss_user)
    page = document(client.get(reverse("home")))
    [dialog] = page.xpath("//dialog[@data-module='app-timeout-warning']")
    assert (dialog.get("data-timeout"), dialog.get("data-warning")) == ("1800", "300")
    assert dialog.get("data-keep-alive-url") == reverse("session_keep_alive")
    assert text(page.xpath(f"//*[@id='{dialog.get('aria-labelledby')}']")[0]) == (
        "You’re about to be signed out"
    )
    assert [text(b) for b in dialog.xpath(".//button")] == ["Stay signed in", "Sign out"]
    assert page.xpath("//script[contains(@src, 'js/timeout-warning.mjs')]/@nonce")


def test_the_sign_in_page_has_no_timeout_warning(client):
    page = document(client.get(reverse("login")))
    assert not page.xpath("//dialog")


def test_stay_signed_in_restarts_the_idle_clock(client, davss_user):
    client.force_login(davss_user)
    before = Session.objects.get().expire_date
    time.sleep(0.05)
    response = client.get(reverse("session_keep_alive"))
    assert response.status_code == 204
    assert Session.objects.get().expire_date > before


def test_a_recalled_return_shows_no_check_page_for_others(client, police_user, davss_user, plan):
    submitted = submitted_return(davss_user, plan)
    client.force_login(police_user)
    assert client.get(reverse("return_check", args=[submitted.pk])).status_code == 404
    assert client.post(reverse("return_recall", args=[submitted.pk])).status_code == 404
    assert QuarterlyReturn.objects.get(pk=submitted.pk).state == "submitted"
