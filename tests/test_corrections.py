"""Issue 11, rules 3 and 6: corrections in closed quarters, closing a quarter, reminders.

A return sent back in a closed quarter opens for its agency to correct until resubmitted;
the partner's home lists it first; the reopen form refuses an agency that does not report
on the action; the editable states and their messages live in one place. Closing a
quarter asks first and says what is outstanding; a reminder says when it was last sent,
asks before a second within a day, and is not offered where nobody would receive it.
"""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from actions import services
from actions.closing import outstanding_by_agency
from actions.models import AgencyReminder, LockException, QuarterlyReturn
from actions.obligations import obligations
from csp import permissions
from tests.mail_servers import deliver_queued_mail

from .factories import UserFactory
from .test_returns_views import (
    action,
    agency,
    banners,
    check_and_submit,
    document,
    edit_url,
    make_return,
    quarter,
    signed_in,
    text,
)

State = QuarterlyReturn.State
SEND_BACK_REASON = "Referrals managed reads 310: that is the year's total, not Q1's."


def one_one_values(**overrides):
    values = {str(metric.pk): 10 + i for i, metric in enumerate(action("1.1").metrics.all())}
    return values | overrides


@pytest.fixture
def closed_q1_return(davss_user, manager, plan):
    """DAVSS's Q1 return for 1.1, submitted while Q1 was open; Q1 is now closed."""
    q1 = quarter(plan, 1)
    q1.is_open = True
    q1.save()
    submitted = make_return(
        davss_user,
        action("1.1"),
        agency("DAVSS"),
        q1,
        submit=True,
        values=one_one_values(),
        narrative="Helpline staffed throughout.",
        rag="green",
    )
    q1.is_open = False
    q1.save()
    return submitted


def send_back(manager, quarterly_return, reason=SEND_BACK_REASON):
    return services.send_back(
        manager, quarterly_return, comment=reason, seen_version=quarterly_return.version
    )


# Rule 3: corrections --------------------------------------------------------------------------


@pytest.mark.django_db
def test_sending_back_in_a_closed_quarter_opens_the_return_for_its_agency(
    client, closed_q1_return, davss_user, manager, plan
):
    sent_back = send_back(manager, closed_q1_return)

    exception = LockException.objects.get()
    assert (exception.quarter, exception.action, exception.agency) == (
        quarter(plan, 1),
        action("1.1"),
        agency("DAVSS"),
    )
    assert SEND_BACK_REASON in exception.reason
    assert exception.granted_by == manager
    [granted] = exception.history.all()
    assert granted.history_user == manager and granted.history_type == "+"

    assert permissions.may_edit_return(davss_user, sent_back)
    url = edit_url(quarter(plan, 1), action("1.1"), agency("DAVSS"))
    assert signed_in(client, davss_user).get(url).status_code == 200


@pytest.mark.django_db
def test_resubmitting_ends_the_correction(client, closed_q1_return, davss_user, manager, plan):
    send_back(manager, closed_q1_return)
    signed_in(client, davss_user)
    url = edit_url(quarter(plan, 1), action("1.1"), agency("DAVSS"))
    data = {f"metric_{pk}": value for pk, value in one_one_values().items()}
    data |= {
        "narrative": "Helpline staffed throughout; Q1 figures only.",
        "rag": "green",
        "version": QuarterlyReturn.objects.get().version,
        "submit": "1",
    }
    response = check_and_submit(client, url, data)
    assert response.status_code == 302

    resubmitted = QuarterlyReturn.objects.get()
    assert resubmitted.state == State.SUBMITTED
    assert not LockException.objects.exists()
    ended = LockException.history.filter(history_type="-").get()
    assert (ended.history_user, ended.history_change_reason) == (
        davss_user,
        "Ended: the return was resubmitted",
    )
    # The quarter is closed again for DAVSS: no more changes.
    assert not permissions.quarter_takes_entries(
        davss_user, quarter(plan, 1), action("1.1"), agency("DAVSS")
    )


@pytest.mark.django_db
def test_sending_back_in_an_open_quarter_needs_no_exception(davss_user, manager, plan):
    q4 = quarter(plan, 4)
    q4.is_open = True
    q4.save()
    submitted = make_return(
        davss_user,
        action("1.1"),
        agency("DAVSS"),
        q4,
        submit=True,
        values=one_one_values(),
        narrative="Fine.",
        rag="green",
    )
    send_back(manager, submitted)
    assert not LockException.objects.exists()


@pytest.mark.django_db
def test_the_partner_home_lists_returns_to_correct_first_with_the_reason(
    client, closed_q1_return, davss_user, manager
):
    send_back(manager, closed_q1_return)
    page = document(signed_in(client, davss_user).get(reverse("home")))
    [heading] = page.xpath("//main//h2[@id='to-correct']")
    assert text(heading) == "Returns to correct"
    first_heading = page.xpath("//main//h2 | //main//table/caption")[0]
    assert first_heading is heading
    [link] = page.xpath("//ul[preceding-sibling::h2[@id='to-correct']]//a")
    assert text(link) == "Correct the return for 1.1, Q1 2022/23"
    assert SEND_BACK_REASON in text(page.xpath("//*[contains(@class, 'app-reviewer-comment')]")[0])


@pytest.mark.django_db
def test_a_sent_back_return_without_leave_is_not_listed_to_correct(
    client, closed_q1_return, davss_user, manager
):
    """Sent back before corrections opened closed quarters: nothing the partner can do."""
    send_back(manager, closed_q1_return)
    LockException.objects.all().delete()
    page = document(signed_in(client, davss_user).get(reverse("home")))
    assert not page.xpath("//h2[@id='to-correct']")


@pytest.mark.django_db
def test_the_form_shows_the_reason_first(client, closed_q1_return, davss_user, manager, plan):
    send_back(manager, closed_q1_return)
    response = signed_in(client, davss_user).get(
        edit_url(quarter(plan, 1), action("1.1"), agency("DAVSS"))
    )
    page = document(response)
    [banner] = page.xpath("//*[@id='sent-back-title']/../..")
    assert SEND_BACK_REASON in text(banner)
    assert "Q1 2022/23 is closed, but you may correct this return until you submit it again" in (
        text(banner)
    )
    # Before the action summary and the form: on the first screen whatever the layout.
    order = list(page.iter())
    first_field = page.xpath("//main//form[@method='post']//input[@type!='hidden']")[0]
    summary = page.xpath("//*[contains(@class, 'app-action-summary')]")[0]
    assert order.index(banner) < order.index(summary) < order.index(first_field)


@pytest.mark.django_db
def test_the_reopen_form_refuses_an_agency_that_does_not_report_on_the_action(
    client, manager, plan
):
    response = signed_in(client, manager).post(
        reverse("lock_exception_create"),
        {
            "quarter": quarter(plan, 1).pk,
            "action": action("1.1").pk,
            "agency": agency("Kent Police").pk,
            "reason": "Late figures",
        },
    )
    assert response.status_code == 200
    assert not LockException.objects.exists()
    page = document(response)
    [error] = page.xpath("//div[@id='div_id_agency']//*[contains(@class, 'govuk-error-message')]")
    assert "Kent Police does not lead or contribute to action 1.1. Choose DAVSS" in text(error)
    # What was chosen is kept.
    assert page.xpath("//select[@name='agency']/option[@selected]")[0].text == "Kent Police"


@pytest.mark.django_db
def test_the_reopen_form_offers_each_action_only_its_reporting_agencies(client, manager, plan):
    response = signed_in(client, manager).get(reverse("quarter_list"))
    [script] = document(response).xpath("//script[@id='agencies-by-action']")
    by_action = json.loads(script.text)
    assert by_action[str(action("1.1").pk)] == sorted(
        a.pk for a in permissions.reporting_agencies(manager, action("1.1"))
    )
    assert agency("Kent Police").pk not in by_action[str(action("1.1").pk)]


@pytest.mark.django_db
def test_the_service_refuses_a_pair_that_cannot_report(manager, plan):
    with pytest.raises(services.ReturnError, match="Kent Police does not lead or contribute"):
        services.grant_lock_exception(
            manager, quarter(plan, 1), action("1.1"), agency("Kent Police"), reason="Late"
        )
    assert not LockException.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("state", [State.SUBMITTED, State.APPROVED])
def test_the_editable_states_and_their_messages_have_one_home(client, davss_user, plan, state):
    q4 = quarter(plan, 4)
    q4.is_open = True
    q4.save()
    locked = QuarterlyReturn.objects.create(
        action=action("1.1"), agency=agency("DAVSS"), quarter=q4, state=state
    )
    assert not locked.is_editable
    message = QuarterlyReturn.LOCKED_MESSAGES[state]
    assert locked.locked_message == message
    # The service refuses with it, the form page redirects with it.
    with pytest.raises(services.ReturnError, match=message):
        services.save_return(
            davss_user,
            action("1.1"),
            agency("DAVSS"),
            q4,
            values={},
            narrative="",
            rag="",
            rag_reason="",
            seen_version=None,
            submit=False,
        )
    response = signed_in(client, davss_user).get(
        edit_url(q4, action("1.1"), agency("DAVSS")), follow=True
    )
    assert message in banners(response)
    got, may_change = permissions.get_return_for_user(davss_user, locked.pk)
    assert (got, may_change) == (locked, False)


@pytest.mark.django_db
def test_get_return_for_user_says_whether_the_user_may_change_it(
    closed_q1_return, davss_user, police_user, manager
):
    from django.http import Http404

    assert permissions.get_return_for_user(davss_user, closed_q1_return.pk) == (
        closed_q1_return,
        False,
    )
    send_back(manager, closed_q1_return)
    assert permissions.get_return_for_user(davss_user, closed_q1_return.pk)[1] is True
    with pytest.raises(Http404):
        permissions.get_return_for_user(police_user, closed_q1_return.pk)


# Rule 6: closing a quarter --------------------------------------------------------------------


@pytest.mark.django_db
def test_closing_asks_first_and_says_what_is_outstanding_by_agency(
    client, davss_user, manager, plan
):
    q4 = quarter(plan, 4)
    q4.is_open = True
    q4.save()
    make_return(
        davss_user,
        action("1.1"),
        agency("DAVSS"),
        q4,
        submit=True,
        values=one_one_values(),
        narrative="Fine.",
        rag="green",
    )
    outstanding = {row.agency.name: row for row in outstanding_by_agency(q4)}
    davss = outstanding["DAVSS"]
    assert davss.awaiting_review == 1
    owed = [row for row in obligations([q4], agencies=[agency("DAVSS")]) if row.required]
    assert davss.not_submitted == len(owed) - 1

    response = signed_in(client, manager).get(reverse("quarter_close", args=[q4.pk]))
    assert response.status_code == 200
    q4.refresh_from_db()
    assert q4.is_open  # asking changes nothing
    page = document(response)
    main = text(page.xpath("//main")[0])
    assert "Close Q4 2022/23 for returns?" in main
    assert "the board's pages (dashboard, action plan and quarterly report) will move to" in main
    rows = {
        text(row.xpath("./th")[0]): [text(cell) for cell in row.xpath("./td")]
        for row in page.xpath("//table/tbody/tr")
    }
    assert rows["DAVSS"] == [str(davss.not_submitted), "1"]
    total = sum(row.not_submitted for row in outstanding.values())
    assert f"{total} owed returns not yet submitted and 1 not yet reviewed" in main

    response = client.post(reverse("quarter_close", args=[q4.pk]), follow=True)
    q4.refresh_from_db()
    assert not q4.is_open
    assert "Q4 2022/23 is now closed. The board's pages now report Q4 2022/23." in banners(response)


@pytest.mark.django_db
def test_the_quarters_page_links_to_the_confirmation_rather_than_closing(client, manager, plan):
    q4 = quarter(plan, 4)
    q4.is_open = True
    q4.save()
    page = document(signed_in(client, manager).get(reverse("quarter_list")))
    [close] = page.xpath("//main//a[starts-with(normalize-space(.), 'Close')]")
    assert close.get("href") == reverse("quarter_close", args=[q4.pk])
    assert not page.xpath(f"//form[@action='{reverse('quarter_set_open', args=[q4.pk])}']")


# Rule 6: reminders ----------------------------------------------------------------------------


def remind(client, agency_name, number, **extra):
    from priorities.models import Quarter

    the_quarter = Quarter.objects.get(plan__financial_year=2022, number=number)
    return client.post(
        reverse("send_reminder"),
        {"agency": agency(agency_name).pk, "quarter": the_quarter.pk} | extra,
        follow=True,
    )


def rates_row(response, agency_name):
    page = document(response)
    [row] = page.xpath(
        f"//table[contains(@class, 'app-table--rates')]//tr[th[normalize-space(.)='{agency_name}']]"
    )
    return row


@pytest.mark.django_db
def test_a_reminder_says_when_it_was_last_sent_and_asks_before_another_within_a_day(
    client, manager, davss_user, plan, mailoutbox
):
    signed_in(client, manager)
    page = client.get(f"{reverse('completeness')}?quarter=3")
    assert "Not reminded yet" in text(rates_row(page, "DAVSS"))

    remind(client, "DAVSS", 3)
    assert len(deliver_queued_mail()) == 1
    sent = AgencyReminder.objects.get()
    assert (sent.agency, sent.sent_by) == (agency("DAVSS"), manager)
    page = client.get(f"{reverse('completeness')}?quarter=3")
    shown = timezone.localtime(sent.sent_at)
    assert f"Last reminded {shown:%-d %b %Y} at {shown:%H:%M}" in text(rates_row(page, "DAVSS"))

    # Again within 24 hours: a page that asks, and nothing sent.
    response = remind(client, "DAVSS", 3)
    assert "Remind DAVSS again?" in text(document(response).xpath("//h1")[0])
    assert "less than 24 hours ago" in response.content.decode()
    assert len(deliver_queued_mail()) == 1
    assert AgencyReminder.objects.count() == 1

    response = remind(client, "DAVSS", 3, confirm="1")
    assert len(deliver_queued_mail()) == 2
    assert AgencyReminder.objects.count() == 2
    assert "Reminder sent to DAVSS" in banners(response)

    # A day later, no question asked.
    AgencyReminder.objects.update(sent_at=timezone.now() - datetime.timedelta(hours=25))
    remind(client, "DAVSS", 3)
    assert len(deliver_queued_mail()) == 3


@pytest.mark.django_db
def test_no_reminder_is_offered_to_an_agency_with_no_active_user(client, manager, plan, mailoutbox):
    # Kent CDAP has owed returns but nobody signed up; an inactive member does not count.
    inactive = UserFactory(username="gone", role="partner", is_active=False)
    inactive.agencies.add(agency("Kent CDAP"))
    response = signed_in(client, manager).get(f"{reverse('completeness')}?quarter=3")
    row = rates_row(response, "Kent CDAP")
    assert not row.xpath(".//form")
    assert "No active user to remind" in text(row)

    response = remind(client, "Kent CDAP", 3)
    assert "Kent CDAP has no active user with an e-mail address" in banners(response)
    assert deliver_queued_mail() == []
    assert not AgencyReminder.objects.exists()


# The demo follows the rules -------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_sent_back_returns_are_open_to_correct_with_reasons_that_fit(client, plan):
    from demodata import demo_returns

    demo_returns.create_demo_accounts()
    demo_returns.create_demo_returns(plan)
    sent_back = list(
        QuarterlyReturn.objects.filter(state=State.SENT_BACK)
        .select_related("quarter", "action", "agency")
        .prefetch_related("action__metrics")
    )
    assert len(sent_back) > 10
    for quarterly_return in sent_back:
        assert not quarterly_return.quarter.is_open
        exception = LockException.objects.get(
            quarter=quarterly_return.quarter,
            action=quarterly_return.action,
            agency=quarterly_return.agency,
        )
        assert quarterly_return.reviewer_comment in exception.reason
        reason = quarterly_return.reviewer_comment
        metrics = {str(m.pk): m.name for m in quarterly_return.action.metrics.all()}
        named = [pk for pk, name in metrics.items() if f'"{name}"' in reason]
        if "is blank" in reason:
            [pk] = named
            assert pk not in quarterly_return.values
        elif "total since April" in reason:
            [pk] = named
            assert f"reads {quarterly_return.values[pk]}," in reason
        elif "status" in reason or "because" in reason:
            assert quarterly_return.rag in ("amber", "red")
            assert quarterly_return.get_rag_display().lower() in reason
            assert quarterly_return.rag_reason in reason
        else:
            assert f"in {quarterly_return.quarter.months}" in reason

    # Each demo partner sees its agency's first on the home page, and may correct them.
    checked = 0
    for username, agency_name in (
        ("davss", "DAVSS"),
        ("police", "Kent Police"),
        ("lookahead", "Look Ahead"),
    ):
        own = [r for r in sent_back if r.agency.name == agency_name]
        user = agency(agency_name).members.get(username=username)
        page = document(signed_in(client, user).get(reverse("home")))
        links = page.xpath("//ul[preceding-sibling::h2[@id='to-correct']]//a")
        assert len(links) == len(own)
        assert all(permissions.may_edit_return(user, r) for r in own)
        checked += len(own)
    assert checked


@pytest.mark.django_db
def test_both_forms_of_who_reports_on_an_action_agree(manager, davss_user, plan):
    """permissions.reporting_agencies (a query) and agencies_reporting_on (prefetched rows)
    are one rule: for every action of the plan they name the same agencies."""
    from actions.models import Action, Agency

    Agency.objects.filter(name="CGL").update(active=False)  # an inactive lead reports on nothing
    active = list(Agency.objects.active())
    for each in Action.objects.in_plan(plan).prefetch_related("agencies"):
        expected = {a.pk for a in permissions.agencies_reporting_on(each, active)}
        assert {a.pk for a in permissions.reporting_agencies(manager, each)} == expected
        mine = {a.pk for a in permissions.reporting_agencies(davss_user, each)}
        assert mine == expected & {agency("DAVSS").pk}
