"""The manager edits a plan in pages (issue 12): a draft freely, an active plan with a
reason, a closed plan never; what has returns is withdrawn or retired, never deleted."""

import pytest
from django.test import Client
from django.urls import reverse

from actions import editing, obligations, services
from actions.models import Action, Agency, Metric
from priorities.editing import FREE, LOCKED, WITH_REASON, EditError, edit_mode
from priorities.models import Plan, Quarter

from .factories import ActionFactory, PlanFactory, PriorityFactory


@pytest.fixture
def draft(db):
    """A draft 2023/24 plan: priorities 1 and 2, with actions 1.1, 1.2, 1.3 and 2.1."""
    plan = PlanFactory(financial_year=2023, state=Plan.State.DRAFT)
    for number in range(1, 5):
        Quarter.objects.create(plan=plan, number=number)
    first = PriorityFactory(plan=plan, number=1, title="Domestic abuse", short_title="DA")
    second = PriorityFactory(plan=plan, number=2, title="Anti-social behaviour", short_title="ASB")
    for number, description in enumerate(["Helpline", "Refuge", "Training"], start=1):
        ActionFactory(priority=first, number=number, description=description)
    ActionFactory(priority=second, number=1, description="Patrols")
    return plan


def refs(plan) -> dict[str, str]:
    return {
        action.ref: action.description
        for action in Action.objects.filter(priority__plan=plan).with_plan_order()
    }


def priority_post(**changes) -> dict:
    return {
        "number": "1",
        "title": "Serious violence",
        "short_title": "Violence",
        "rationale": "Knife crime rose.",
        "recommendation": "",
    } | changes


def action_post(priority, **changes) -> dict:
    return {
        "priority": priority.pk,
        "description": "Run a helpline for victims",
        "lead_agencies": "Domestic Abuse Volunteer Support Services and KFRS",
        "measure": "Calls answered",
        "outcome": "",
    } | changes


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


# The rule ------------------------------------------------------------------------------------


def test_only_a_draft_is_freely_editable_an_active_plan_with_a_reason_a_closed_one_never(plan):
    assert edit_mode(plan) == WITH_REASON
    assert edit_mode(Plan(state=Plan.State.DRAFT)) == FREE
    assert edit_mode(Plan(state=Plan.State.CLOSED)) == LOCKED


# Priorities ----------------------------------------------------------------------------------


def test_a_priority_added_at_number_1_moves_the_others_and_their_refs_down(manager_client, draft):
    response = manager_client.post(
        reverse("edit_priority_add", args=[2023]), priority_post(number="1")
    )
    assert response.status_code == 302
    assert list(draft.priorities.values_list("number", "short_title")) == [
        (1, "Violence"),
        (2, "DA"),
        (3, "ASB"),
    ]
    assert refs(draft) == {"2.1": "Helpline", "2.2": "Refuge", "2.3": "Training", "3.1": "Patrols"}
    added = draft.priorities.get(number=1)
    assert added.rationale == "Knife crime rose."
    assert added.history.first().history_user.username == "manager"


def test_a_priority_refused_shows_the_error_beside_the_field_and_keeps_what_was_typed(
    manager_client, draft
):
    response = manager_client.post(
        reverse("edit_priority_add", args=[2023]), priority_post(title="", rationale="Kept")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter the title" in page
    assert 'id="title-error"' in page or "govuk-error-message" in page
    assert "Kept" in page
    assert draft.priorities.count() == 2


def test_a_priority_is_changed_and_reordered_by_its_number(manager_client, draft):
    first = draft.priorities.get(number=1)
    response = manager_client.post(
        reverse("edit_priority", args=[first.pk]),
        priority_post(number="2", title="Domestic abuse and stalking", short_title="DA"),
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.number, first.title) == (2, "Domestic abuse and stalking")
    assert refs(draft) == {"1.1": "Patrols", "2.1": "Helpline", "2.2": "Refuge", "2.3": "Training"}


def test_move_up_swaps_two_priorities(manager_client, draft):
    second = draft.priorities.get(number=2)
    manager_client.post(reverse("edit_priority_move", args=[second.pk]), {"direction": "up"})
    assert list(draft.priorities.values_list("short_title", flat=True)) == ["ASB", "DA"]


def test_removing_a_priority_takes_its_actions_and_the_next_moves_up(manager_client, draft):
    first = draft.priorities.get(number=1)
    assert manager_client.get(reverse("edit_priority_remove", args=[first.pk])).status_code == 200
    response = manager_client.post(reverse("edit_priority_remove", args=[first.pk]))
    assert response.status_code == 302
    assert list(draft.priorities.values_list("number", "short_title")) == [(1, "ASB")]
    assert refs(draft) == {"1.1": "Patrols"}


# Actions and metrics in a draft ----------------------------------------------------------------


def test_an_action_with_two_metrics_is_added_and_its_printed_agencies_resolve_by_alias(
    manager_client, draft
):
    second = draft.priorities.get(number=2)
    response = manager_client.post(
        reverse("edit_action_add", args=[second.pk]), action_post(second)
    )
    action = Action.objects.get(priority=second, number=2)
    assert response.status_code == 302
    assert response.url == reverse("edit_action", args=[action.pk])
    assert action.ref == "2.2"
    # "Domestic Abuse Volunteer Support Services" is another name of DAVSS; KFRS a short name.
    assert {a.short_name for a in action.agencies.all()} == {"DAVSS", "KFRS"}
    for name, kind in [("Calls answered", "count"), ("Helpline staffed all quarter", "yes_no")]:
        response = manager_client.post(
            reverse("edit_metric_add", args=[action.pk]), {"name": name, "kind": kind}
        )
        assert response.status_code == 302
    assert list(action.metrics.values_list("name", "kind", "order")) == [
        ("Calls answered", "count", 1),
        ("Helpline staffed all quarter", "yes_no", 2),
    ]
    page = manager_client.get(reverse("edit_action", args=[action.pk])).content.decode()
    assert "Helpline staffed all quarter" in page
    assert 'data-aliases="DAVSS|Domestic Abuse Volunteer Support Services"' in page


def test_an_agency_is_found_by_its_name_short_name_or_other_name(db):
    davss = Agency.objects.get(name="DAVSS")
    assert editing.resolve_agency("domestic abuse volunteer support services") == davss
    assert editing.resolve_agency("  DAVSS ") == davss
    assert editing.resolve_agency("Nobody at all") is None
    found, unresolved = editing.resolve_lead_agencies("Kent Police, TWBC CST & Local churches")
    assert [a.name for a in found] == ["Kent Police", "TWBC Community Safety Team"]
    assert unresolved == ["Local churches"]


def test_chosen_agencies_and_an_accountable_agency_are_kept(manager_client, draft):
    first = draft.priorities.get(number=1)
    action = first.actions.get(number=1)
    davss = Agency.objects.get(name="DAVSS")
    police = Agency.objects.get(name="Kent Police")
    response = manager_client.post(
        reverse("edit_action", args=[action.pk]),
        action_post(
            first,
            lead_agencies="Partners",
            agencies=[police.pk],
            all_partners="on",
            accountable_agency=davss.pk,
        ),
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert list(action.agencies.all()) == [police]
    assert action.all_partners and action.accountable_agency == davss


def test_removing_an_action_renumbers_the_refs_after_it(manager_client, draft):
    refuge = Action.objects.get(priority__plan=draft, description="Refuge")
    manager_client.post(reverse("edit_action_remove", args=[refuge.pk]))
    assert refs(draft) == {"1.1": "Helpline", "1.2": "Training", "2.1": "Patrols"}


def test_an_action_moved_to_another_priority_takes_the_next_ref_there(manager_client, draft):
    helpline = Action.objects.get(priority__plan=draft, description="Helpline")
    second = draft.priorities.get(number=2)
    response = manager_client.post(
        reverse("edit_action", args=[helpline.pk]),
        action_post(second, description="Helpline", agencies=[]),
    )
    assert response.status_code == 302
    assert refs(draft) == {"1.1": "Refuge", "1.2": "Training", "2.1": "Patrols", "2.2": "Helpline"}
    assert Action.objects.get(pk=helpline.pk).history.first().history_change_reason == (
        "Moved from priority 1"
    )


def test_an_action_refused_keeps_what_was_typed_with_the_error_beside_the_field(
    manager_client, draft
):
    first = draft.priorities.get(number=1)
    response = manager_client.post(
        reverse("edit_action_add", args=[first.pk]),
        action_post(first, measure="", description="Typed before the error"),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter the measure" in page and "Typed before the error" in page
    assert first.actions.count() == 3


# An active plan -------------------------------------------------------------------------------


def seeded_action(plan, ref="1.1") -> Action:
    priority, number = (int(part) for part in ref.split("."))
    return Action.objects.get(priority__plan=plan, priority__number=priority, number=number)


def test_an_active_plans_action_is_changed_only_with_a_reason_kept_in_the_history(
    manager_client, plan
):
    action = seeded_action(plan)
    post = {
        "description": "Changed words",
        "lead_agencies": action.lead_agencies,
        "agencies": [a.pk for a in action.agencies.all()],
        "measure": action.measure,
        "outcome": action.outcome,
    }
    response = manager_client.post(reverse("edit_action", args=[action.pk]), post)
    assert response.status_code == 200
    assert "Enter the reason for the change" in response.content.decode()
    action.refresh_from_db()
    assert action.description != "Changed words"

    response = manager_client.post(
        reverse("edit_action", args=[action.pk]), post | {"reason": "Board asked for it"}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.description == "Changed words"
    assert action.ref == "1.1"  # the priority field is fixed while the plan is active
    record = action.history.first()
    assert record.history_change_reason == "Board asked for it"
    assert record.history_user.username == "manager"
    page = manager_client.get(reverse("edit_action", args=[action.pk])).content.decode()
    assert "Board asked for it" in page


def test_an_active_plans_priorities_do_not_change(manager, plan):
    priority = plan.priorities.get(number=1)
    from priorities import editing as plan_editing

    with pytest.raises(EditError, match="active"):
        plan_editing.move_priority(manager, priority, 1)


@pytest.fixture
def returned(plan, davss_user, manager):
    """DAVSS's Q1 return against 1.1 of the active plan, with a figure for its metric."""
    Quarter.objects.filter(plan=plan, number=1).update(is_open=True)
    q1 = Quarter.objects.get(plan=plan, number=1)
    action = seeded_action(plan)
    metric = action.metrics.first() or Metric.objects.create(action=action, name="Calls")
    davss = Agency.objects.get(name="DAVSS")
    action.agencies.add(davss)
    services.save_return(
        davss_user,
        action,
        davss,
        q1,
        values={str(metric.pk): 3},
        narrative="Helpline staffed.",
        rag="green",
        rag_reason="",
        seen_version=None,
        submit=True,
    )
    return action, metric, q1


def test_a_metric_with_returns_is_not_deleted_nor_changes_kind_but_is_retired(
    manager_client, returned
):
    action, metric, q1 = returned
    response = manager_client.post(
        reverse("edit_metric_remove", args=[metric.pk]), {"reason": "Not needed"}
    )
    assert response.status_code == 302
    assert Metric.objects.filter(pk=metric.pk).exists()

    response = manager_client.post(
        reverse("edit_metric", args=[metric.pk]),
        {"name": metric.name, "kind": "text", "order": "1", "reason": "Words instead"},
    )
    assert response.status_code == 200
    assert "its kind cannot change" in response.content.decode()
    metric.refresh_from_db()
    assert metric.kind != "text"

    response = manager_client.post(
        reverse("edit_metric_retire", args=[metric.pk]), {"reason": "Not collected now"}
    )
    assert response.status_code == 302
    metric.refresh_from_db()
    assert not metric.asked
    assert metric.history.first().history_change_reason == "Retired: Not collected now"
    # The return form no longer asks it; the return keeps its figure.
    davss = Agency.objects.get(name="DAVSS")
    form = manager_client.get(reverse("return_edit", args=[q1.pk, action.pk, davss.pk]))
    assert f'name="metric_{metric.pk}"' not in form.content.decode()
    assert action.returns.get().values == {str(metric.pk): 3}


def test_a_metric_with_no_returns_is_removed(manager, plan):
    action = seeded_action(plan, "2.1")
    metric = editing.add_metric(manager, action, name="Leaflets", kind="count", reason="New")
    editing.remove_metric(manager, metric, reason="Added by mistake")
    assert not Metric.objects.filter(pk=metric.pk).exists()


def test_an_action_with_returns_is_withdrawn_and_no_longer_owed_from_the_next_quarter(
    manager_client, returned, plan
):
    action, _, q1 = returned
    response = manager_client.post(
        reverse("edit_action_remove", args=[action.pk]), {"reason": "Funding ended"}
    )
    assert Action.objects.filter(pk=action.pk).exists()

    response = manager_client.post(reverse("edit_action_withdraw", args=[action.pk]), {})
    assert response.status_code == 200
    assert "Enter the reason" in response.content.decode()
    response = manager_client.post(
        reverse("edit_action_withdraw", args=[action.pk]), {"reason": "Funding ended"}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.withdrawn_from == 2
    q2 = Quarter.objects.get(plan=plan, number=2)
    owed = {
        (row.quarter.number, row.agency.short_name)
        for row in obligations.obligations([q1, q2], actions=[action])
        if row.required
    }
    assert owed and all(number == 1 for number, _ in owed)
    assert action.returns.count() == 1  # its return stays
    page = manager_client.get(reverse("action_detail", args=[action.pk])).content.decode()
    assert "Withdrawn" in page and "no return is owed from Q2" in page
    assert "Withdrawn" in manager_client.get(reverse("plan")).content.decode()


def test_an_action_naming_no_lead_agency_is_owed_by_its_accountable_agency(manager, plan):
    priority = plan.priorities.get(number=1)
    davss = Agency.objects.get(name="DAVSS")
    action = editing.add_action(
        manager,
        priority,
        reason="New work",
        description="Audit",
        lead_agencies="To be agreed",
        agencies=[],
        all_partners=False,
        accountable_agency=davss,
        measure="Done",
        outcome="",
    )
    assert list(action.agencies.all()) == []
    assert list(obligations.owing_agencies(action)) == [davss]
    q1 = Quarter.objects.get(plan=plan, number=1)
    rows = obligations.obligations([q1], actions=[action])
    assert [(row.agency, row.required) for row in rows] == [(davss, True)]
    client = Client()
    client.force_login(manager)
    page = client.get(reverse("action_detail", args=[action.pk])).content.decode()
    assert "DAVSS</a> (accountable: the plan names no active lead)" in page


# Closed plans and other roles ------------------------------------------------------------------


def test_a_closed_plan_refuses_every_change(manager_client, manager, plan):
    Plan.objects.filter(pk=plan.pk).update(state=Plan.State.CLOSED)
    action = seeded_action(plan)
    response = manager_client.post(
        reverse("edit_action", args=[action.pk]),
        {"description": "Changed", "reason": "Late change"},
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.description != "Changed"
    with pytest.raises(EditError, match="closed"):
        editing.withdraw_action(manager, action, reason="Late change")
    with pytest.raises(EditError, match="closed"):
        editing.add_metric(manager, action, name="More", kind="count", reason="Late")


def test_partners_and_the_board_cannot_edit_the_plan(client, davss_user, board_member, plan):
    action = seeded_action(plan)
    for user in (davss_user, board_member):
        client.force_login(user)
        assert client.get(reverse("edit_plan", args=[2022])).status_code == 403
        response = client.post(
            reverse("edit_action", args=[action.pk]), {"description": "x", "reason": "y"}
        )
        assert response.status_code == 403
    action.refresh_from_db()
    assert action.description != "x"


def test_an_action_typed_as_the_session_ended_comes_back_after_signing_in(client, manager, draft):
    from .test_nothing_typed_is_lost import next_url, session_ends, sign_in_again, signed_in_on

    first = draft.priorities.get(number=1)
    url = reverse("edit_action_add", args=[first.pk])
    signed_in_on(client, manager, url)
    session_ends()
    back = next_url(client.post(url, action_post(first, description="Typed for an hour")))
    assert first.actions.count() == 3  # nothing saved on the manager's behalf

    response = sign_in_again(client, manager, back)
    page = response.content.decode()
    assert "Typed for an hour" in page
    assert "We kept what you typed; check it and save." in page
