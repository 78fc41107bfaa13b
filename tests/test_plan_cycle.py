"""The yearly cycle (issue 12): the partnership, plan states, starting next year's plan from
this one, sign-off and making it active, the plan picker, closed plans never changing."""

import datetime
import re

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from lxml import html

from actions import services as return_services
from actions.models import Action, Agency, QuarterlyReturn
from actions.obligations import coordinating_agency_among, obligations, owing_agencies
from crimestats import statistics
from priorities import services
from priorities.models import Partnership, Plan, Quarter
from priorities.services import PlanError

from .board_helpers import load_demo
from .factories import ActionFactory

BOARD_DAY = datetime.date(2023, 2, 16)


def start_2023(manager, plan, *, leave_out=()):
    return services.start_next_plan(
        manager,
        plan,
        priorities=plan.priorities.all(),
        actions=Action.objects.in_plan(plan).exclude(pk__in=[a.pk for a in leave_out]),
        assessment_start=datetime.date(2022, 1, 1),
        assessment_end=datetime.date(2022, 12, 31),
    )


def approve_waiting(manager, plan):
    for waiting in QuarterlyReturn.objects.awaiting_review().filter(quarter__plan=plan):
        return_services.approve_return(manager, waiting, seen_version=None)


def signed_off(manager, draft, decision=Plan.BoardDecision.APPROVED):
    services.send_for_sign_off(manager, draft)
    return services.record_sign_off(
        manager,
        draft,
        board_meeting=BOARD_DAY,
        decision=decision,
        sent_to_pcc=datetime.date(2023, 2, 20),
    )


def action(plan, ref):
    priority, number = (int(part) for part in ref.split("."))
    return Action.objects.get(priority__plan=plan, priority__number=priority, number=number)


# The partnership -----------------------------------------------------------------------------


def test_the_seed_loads_the_partnership_and_every_plan_belongs_to_it(plan):
    partnership = Partnership.objects.get()
    assert plan.partnership == partnership
    assert partnership.name == "Tunbridge Wells Community Safety Partnership"
    assert partnership.coordinating_agency.name == "TWBC Community Safety Team"
    assert statistics.home_area().name == "Tunbridge Wells"


def test_the_coordinating_agency_is_the_partnerships(plan, manager):
    no_lead = ActionFactory(priority=plan.priorities.get(number=1), number=99)
    assert {a.name for a in owing_agencies(no_lead)} == {"TWBC Community Safety Team"}
    davss = Agency.objects.get(name="DAVSS")
    partnership = Partnership.objects.get()
    partnership.coordinating_agency = davss
    services.save_partnership(manager, partnership)
    assert set(owing_agencies(no_lead)) == {davss}
    assert coordinating_agency_among(Agency.objects.active()) == davss


def test_the_manager_changes_the_partnership_and_the_header_follows(client, manager):
    client.force_login(manager)
    url = reverse("partnership_edit")
    form = html.fromstring(client.get(url).content)
    assert form.get_element_by_id("id_name").get("value").startswith("Tunbridge Wells")
    davss = Agency.objects.get(name="DAVSS")
    response = client.post(
        url,
        {
            "name": "Anytown Community Safety Partnership",
            "header_name": "Anytown CSP",
            "home_area_code": "E07000116",
            "coordinating_agency": davss.pk,
            "contact_name": "Sam",
            "contact_email": "not an address",
        },
    )
    assert response.status_code == 200
    assert "Enter an e-mail address in the right format" in response.content.decode()
    response = client.post(
        url,
        {
            "name": "Anytown Community Safety Partnership",
            "header_name": "Anytown CSP",
            "home_area_code": "E07000116",
            "coordinating_agency": davss.pk,
            "contact_name": "Sam",
            "contact_email": "sam@example.org",
        },
        follow=True,
    )
    page = html.fromstring(response.content)
    assert page.find_class("govuk-generic-header__homepage-link")[0].text_content() == "Anytown CSP"
    assert (
        "Anytown Community Safety Partnership"
        in page.find_class("app-header__organisation")[0].text_content()
    )
    assert Partnership.objects.get().history.first().history_user == manager


# States and the constraint ---------------------------------------------------------------------


def test_at_most_one_active_plan_per_partnership(plan, manager):
    draft = start_2023(manager, plan)
    with pytest.raises(IntegrityError), transaction.atomic():
        Plan.objects.filter(pk=draft.pk).update(state=Plan.State.ACTIVE)


def test_each_transition_in_turn(plan, manager):
    draft = start_2023(manager, plan)
    assert (draft.state, draft.financial_year, draft.label) == ("draft", 2023, "2023/24")
    with pytest.raises(PlanError, match="cannot be made active"):
        services.make_active(manager, draft)
    with pytest.raises(PlanError, match="cannot be signed off"):
        services.record_sign_off(
            manager, draft, board_meeting=BOARD_DAY, decision="approved", sent_to_pcc=None
        )
    services.send_for_sign_off(manager, draft)
    with pytest.raises(PlanError, match="cannot be sent for sign-off"):
        services.send_for_sign_off(manager, draft)
    with pytest.raises(PlanError, match="Record the board's sign-off"):
        services.make_active(manager, draft)
    with pytest.raises(PlanError, match="before the board met"):
        services.record_sign_off(
            manager,
            draft,
            board_meeting=BOARD_DAY,
            decision="approved",
            sent_to_pcc=BOARD_DAY - datetime.timedelta(days=1),
        )
    services.record_sign_off(
        manager, draft, board_meeting=BOARD_DAY, decision="approved", sent_to_pcc=None
    )
    draft.refresh_from_db()
    assert (draft.state, draft.signed_off) == ("awaiting_sign_off", BOARD_DAY)
    approve_waiting(manager, plan)
    services.make_active(manager, draft)
    draft.refresh_from_db()
    plan.refresh_from_db()
    assert (draft.state, plan.state) == ("active", "closed")
    assert [(q.number, q.is_open) for q in draft.quarters.order_by("number")] == [
        (1, True),
        (2, False),
        (3, False),
        (4, False),
    ]
    assert not plan.quarters.filter(is_open=True).exists()
    assert [h.history_change_reason for h in draft.history.order_by("history_id")] == [
        "Started from 2022/23",
        "Sent for sign-off",
        "Board 16 February 2023: Approved",
        "Made active",
    ]
    assert plan.history.first().history_change_reason == "Closed: 2023/24 plan made active"


def test_a_plan_the_board_did_not_approve_goes_back_to_draft(plan, manager):
    draft = signed_off(manager, start_2023(manager, plan), Plan.BoardDecision.NOT_APPROVED)
    assert (draft.state, draft.signed_off) == ("draft", None)


def test_making_active_is_refused_while_returns_of_the_year_before_await_review(
    plan, manager, davss_user
):
    Quarter.objects.filter(plan=plan, number=4).update(is_open=True)
    return_services.save_return(
        davss_user,
        action(plan, "1.1"),
        Agency.objects.get(name="DAVSS"),
        plan.quarters.get(number=4),
        values={},
        narrative="Done.",
        rag="green",
        rag_reason="",
        seen_version=None,
        submit=True,
    )
    draft = signed_off(manager, start_2023(manager, plan))
    with pytest.raises(PlanError, match="1 return of the 2022/23 plan is awaiting review"):
        services.make_active(manager, draft)
    plan.refresh_from_db()
    assert plan.state == "active"


def test_only_the_manager_runs_the_cycle(plan, board_member, davss_user):
    for user in (board_member, davss_user):
        with pytest.raises(PlanError):
            start_2023(user, plan)


def test_a_year_is_started_once(plan, manager):
    start_2023(manager, plan)
    with pytest.raises(PlanError, match="already exists"):
        start_2023(manager, plan)


# Carry-forward ---------------------------------------------------------------------------------


def test_carried_actions_renumber_and_link_to_the_actions_they_continue(plan, manager):
    left_out = [action(plan, "1.1"), action(plan, "1.3")]
    draft = start_2023(manager, plan, leave_out=left_out)
    old, new = action(plan, "1.2"), action(draft, "1.1")
    assert new.continues == old
    assert (new.description, new.lead_agencies, new.measure, new.outcome) == (
        old.description,
        old.lead_agencies,
        old.measure,
        old.outcome,
    )
    assert set(new.agencies.all()) == set(old.agencies.all())
    assert list(new.metrics.values_list("name", "kind", "order")) == list(
        old.metrics.values_list("name", "kind", "order")
    )
    assert Action.objects.in_plan(draft).count() == Action.objects.in_plan(plan).count() - 2
    assert draft.priorities.count() == plan.priorities.count()


def test_by_default_every_action_not_reported_complete_carries_forward(
    client, plan, manager, davss_user
):
    complete = action(plan, "1.1")
    Quarter.objects.filter(plan=plan, number=4).update(is_open=True)
    saved = return_services.save_return(
        davss_user,
        complete,
        Agency.objects.get(name="DAVSS"),
        plan.quarters.get(number=4),
        values={},
        narrative="Finished.",
        rag="complete",
        rag_reason="",
        seen_version=None,
        submit=True,
    )
    return_services.approve_return(manager, saved, seen_version=None)
    assert services.complete_action_ids(plan) == {complete.pk}
    assert services.is_complete(complete)
    client.force_login(manager)
    page = html.fromstring(client.get(reverse("plan_start_next", args=[plan.pk])).content)
    ticked = {int(box.get("value")) for box in page.xpath('//input[@name="actions"][@checked]')}
    assert ticked == set(Action.objects.in_plan(plan).values_list("pk", flat=True)) - {complete.pk}
    assert page.get_element_by_id("id_assessment_start").get("value") == "2022-01-01"
    assert page.get_element_by_id("id_assessment_end").get("value") == "2022-12-31"


def test_the_start_page_keeps_what_was_typed_and_says_what_is_wrong(client, plan, manager):
    client.force_login(manager)
    url = reverse("plan_start_next", args=[plan.pk])
    first = plan.priorities.get(number=1)
    response = client.post(
        url,
        {
            "priorities": [first.pk],
            "actions": [action(plan, "2.1").pk],
            "assessment_start": "2022-12-31",
            "assessment_end": "2022-01-01",
        },
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "The assessment period must end after it starts" in text
    assert "belong to priorities not carried forward" in text
    assert 'value="2022-12-31"' in text
    assert not Plan.objects.filter(financial_year=2023).exists()


def test_a_carried_action_shows_what_it_continues(client, plan, manager, board_member):
    load_demo()
    draft = signed_off(manager, start_2023(manager, plan))
    approve_waiting(manager, plan)
    services.make_active(manager, draft)
    carried = action(draft, "1.1")
    latest = (
        QuarterlyReturn.objects.approved()
        .filter(action=carried.continues)
        .order_by("-quarter__number", "-reviewed_at", "-pk")
        .first()
    )
    client.force_login(board_member)
    page = html.fromstring(client.get(reverse("action_detail", args=[carried.pk])).content)
    shown = " ".join(page.get_element_by_id("continues").text_content().split())
    assert "Continues 1.1 of 2022/23." in shown
    assert latest.quarter.label in shown
    assert " ".join(latest.narrative.split())[:40] in shown


# Who sees what ---------------------------------------------------------------------------------


def test_drafts_are_the_managers_and_the_board_reads_a_plan_awaiting_sign_off(
    client, plan, manager, board_member, davss_user
):
    draft = start_2023(manager, plan)
    url = reverse("plan_state", args=[draft.pk])
    client.force_login(board_member)
    assert client.get(url).status_code == 404
    assert client.get(reverse("action_detail", args=[action(draft, "1.1").pk])).status_code == 404
    services.send_for_sign_off(manager, draft)
    response = client.get(url)
    assert response.status_code == 200
    assert "This is a draft for sign-off by the partnership board" in response.content.decode()
    client.force_login(davss_user)
    assert client.get(reverse("action_detail", args=[action(draft, "1.1").pk])).status_code == 404
    client.force_login(manager)
    listing = client.get(reverse("plan_list")).content.decode()
    assert "2023/24" in listing and "Awaiting sign-off" in listing


def test_davss_owes_2023_q1_returns_once_it_is_active(client, plan, manager, davss_user):
    draft = signed_off(manager, start_2023(manager, plan))
    services.make_active(manager, draft)
    davss = Agency.objects.get(name="DAVSS")
    q1 = draft.quarters.get(number=1)
    owed = [row for row in obligations([q1], agencies=[davss]) if row.required]
    assert owed and all(row.quarter == q1 for row in owed)
    client.force_login(davss_user)
    home = client.get(reverse("home")).content.decode()
    assert "Q1 2023/24" in home


# Closed plans never change ----------------------------------------------------------------------


def test_a_closed_plan_takes_no_returns_and_no_quarter_changes(plan, manager, davss_user):
    draft = signed_off(manager, start_2023(manager, plan))
    services.make_active(manager, draft)
    q4 = plan.quarters.get(number=4)
    with pytest.raises(return_services.ReturnError, match="closed"):
        return_services.save_return(
            manager,
            action(plan, "1.1"),
            Agency.objects.get(name="DAVSS"),
            q4,
            values={},
            narrative="Late.",
            rag="green",
            rag_reason="",
            seen_version=None,
            submit=False,
        )
    with pytest.raises(return_services.ReturnError, match="closed"):
        return_services.set_quarter_open(manager, q4, True)
    with pytest.raises(PlanError, match="cannot be sent for sign-off"):
        services.send_for_sign_off(manager, plan)
    with pytest.raises(PlanError, match="cannot be made active"):
        services.make_active(manager, plan)
    assert not QuarterlyReturn.objects.filter(quarter=q4).exists()


# Every 2022/23 page and figure is unchanged after 2023/24 is made active -----------------------

PAGES = [
    ("plan", ""),
    ("plan", "&_export=csv"),
    ("dashboard", ""),
    ("completeness", ""),
    ("completeness", "&download=grid&format=csv"),
    ("quarterly_report", ""),
    ("quarterly_report", "&quarter=2"),
]


def snapshot(client, plan) -> dict:
    pages = {}
    for name, extra in PAGES:
        response = client.get(f"{reverse(name)}?plan=2022{extra}")
        assert response.status_code == 200, name
        if response["Content-Type"].startswith("text/html"):
            page = html.fromstring(response.content)
            main = page.xpath("//main")[0]
            # The picker lists the plans there are; the tokens change on every response.
            for form in main.xpath('.//form[.//select[@name="plan"]]'):
                form.getparent().remove(form)
            for token in main.xpath('.//input[@name="csrfmiddlewaretoken"]'):
                token.getparent().remove(token)
            # A closed plan is no longer offered for editing: its state, not its figures.
            for edit in main.xpath('.//p[a[contains(@href, "/edit/")]]'):
                edit.getparent().remove(edit)
            text = re.sub(r"\s+", " ", html.tostring(main, encoding="unicode"))
            pages[name + extra] = re.sub(r'nonce="[^"]*"', "", text)
        else:
            pages[name + extra] = response.content
    for priority in plan.priorities.all():
        url = reverse("priority_detail", args=[priority.pk])
        page = client.get(url).content.decode().split("<main", 1)[1]
        page = re.sub(r'nonce="[^"]*"', "", page)
        pages[url] = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)
    return pages


def test_every_2022_page_and_figure_is_unchanged_after_2023_is_made_active(client, plan):
    users = load_demo()
    manager = users["manager"]
    approve_waiting(manager, plan)
    client.force_login(manager)
    before = snapshot(client, plan)
    draft = signed_off(manager, start_2023(manager, plan))
    services.make_active(manager, draft)
    assert Plan.objects.current() == draft
    after = snapshot(client, plan)
    for key in before:
        assert after[key] == before[key], key
    # Without ?plan= the pages follow the active plan.
    assert "Action plan 2023/24" in client.get(reverse("plan")).content.decode()


def test_merging_the_coordinating_agency_moves_the_coordination(plan, manager):
    from people import services as people_services

    kept = Agency.objects.get(name="Tunbridge Wells Borough Council")
    cst = Agency.objects.get(name="TWBC Community Safety Team")
    people_services.merge_agencies(manager, kept=kept, merged=cst)
    assert Partnership.objects.get().coordinating_agency == kept
