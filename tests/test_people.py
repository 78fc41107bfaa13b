"""People: the manager invites users and looks after their roles and agencies, and adds,
changes, merges and deactivates agencies (issue 13)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import INVITATION_LIFETIME, Invitation, Role, User
from actions import services as return_services
from actions.models import Action, Agency, LockException, QuarterlyReturn, Reminder
from people import services
from priorities.models import Quarter
from tests.mail_servers import deliver_queued_mail

from .factories import PASSWORD, AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "copper-kettle-orchard-lane"


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def invite_through_the_page(client, capture, **overrides) -> User:
    davss = Agency.objects.get(name="DAVSS")
    data = {
        "first_name": "Nadia",
        "last_name": "Officer",
        "email": "Nadia.Officer@DAVSS.example.org",
        "role": "partner",
        "agencies": [davss.pk],
    } | overrides
    with capture(execute=True):
        response = client.post(reverse("user_invite"), data)
    assert response.status_code == 302, text(response)
    return User.objects.get(email="nadia.officer@davss.example.org")


def link_in(email) -> str:
    match = re.search(r"https?://[^/\s]+(/invitation/[A-Za-z0-9_-]+/)", email.body)
    assert match, email.body
    return match.group(1)


def accept(link, password=GOOD_PASSWORD, again=None):
    return Client().post(link, {"new_password1": password, "new_password2": again or password})


def signs_in(user, password=PASSWORD) -> bool:
    """Through the sign-in form, as a person would (django-axes needs the request)."""
    client = Client()
    client.post(reverse("login"), {"username": user.username, "password": password})
    return client.session.get(SESSION_KEY) == str(user.pk)


# Invitations --------------------------------------------------------------------------------


def test_an_invitation_e_mails_a_one_time_link_to_choose_a_password(
    manager_client, mailoutbox, django_capture_on_commit_callbacks
):
    person = invite_through_the_page(manager_client, django_capture_on_commit_callbacks)

    assert not person.is_active
    assert not person.has_usable_password()
    assert person.username == "nadia.officer@davss.example.org"
    assert person.role == Role.PARTNER
    assert [a.name for a in person.agencies.all()] == ["DAVSS"]
    [email] = deliver_queued_mail()
    assert email.to == ["nadia.officer@davss.example.org"]
    link = link_in(email)
    # Only a hash of the token is stored.
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert not Invitation.objects.filter(token_hash=token).exists()
    assert Invitation.objects.get(user=person).token_hash != token

    visitor = Client()
    page = visitor.get(link, follow=True)
    # The token leaves the address for the session, as in Django's password reset.
    assert page.redirect_chain == [(reverse("invitation_accept", args=["set-password"]), 302)]
    assert page.status_code == 200
    assert "Choose your password" in text(page)
    assert "nadia.officer@davss.example.org" in text(page)

    done = visitor.post(
        reverse("invitation_accept", args=["set-password"]),
        {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD},
    )
    assert done.status_code == 302
    assert done["Location"] == reverse("login")
    person.refresh_from_db()
    assert person.is_active
    assert person.check_password(GOOD_PASSWORD)

    assert signs_in(person, GOOD_PASSWORD)
    reasons = [r.history_change_reason for r in person.history.order_by("history_date")]
    assert reasons[0].startswith("Invited by manager")
    assert "Accepted the invitation and chose a password" in reasons


def test_the_link_works_for_72_hours_and_not_after(
    manager_client, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    invite_through_the_page(manager_client, django_capture_on_commit_callbacks)
    link = link_in(deliver_queued_mail()[0])
    invitation = Invitation.objects.get()
    assert (
        invitation.expires_at - invitation.created_at == INVITATION_LIFETIME == timedelta(hours=72)
    )
    sent = invitation.created_at
    real_now = timezone.now

    monkeypatch.setattr(timezone, "now", lambda: sent + timedelta(hours=71, minutes=59))
    assert Client().get(link, follow=True).status_code == 200

    monkeypatch.setattr(timezone, "now", lambda: sent + timedelta(hours=72, seconds=1))
    expired = Client().get(link)
    assert expired.status_code == 410
    assert "This invitation has expired" in text(expired)
    refused = accept(link)
    assert refused.status_code == 410
    monkeypatch.setattr(timezone, "now", real_now)
    person = User.objects.get(email="nadia.officer@davss.example.org")
    assert not person.is_active
    assert not person.has_usable_password()


def test_a_used_link_is_refused(manager_client, mailoutbox, django_capture_on_commit_callbacks):
    person = invite_through_the_page(manager_client, django_capture_on_commit_callbacks)
    link = link_in(deliver_queued_mail()[0])
    assert accept(link).status_code == 302

    again = Client().get(link)
    assert again.status_code == 410
    assert "already been used" in text(again)
    assert accept(link, password="another-password-entirely").status_code == 410
    person.refresh_from_db()
    assert person.check_password(GOOD_PASSWORD)


def test_an_unknown_link_is_not_found(client):
    assert client.get(reverse("invitation_accept", args=["made-up"])).status_code == 404
    # The password page without a link opened first in this browser.
    assert client.get(reverse("invitation_accept", args=["set-password"])).status_code == 404


def test_the_manager_cancels_an_invitation(
    manager_client, mailoutbox, django_capture_on_commit_callbacks
):
    person = invite_through_the_page(manager_client, django_capture_on_commit_callbacks)
    link = link_in(deliver_queued_mail()[0])
    listed = manager_client.get(reverse("user_list"))
    assert "Invited, not yet accepted" in text(listed)
    assert "Nadia Officer" in text(listed)

    response = manager_client.post(reverse("invitation_cancel", args=[person.pk]), follow=True)
    assert "is cancelled" in text(response)
    assert "No open invitation" in text(manager_client.get(reverse("user_list")))
    cancelled = Client().get(link)
    assert cancelled.status_code == 410
    assert "cancelled" in text(cancelled)
    assert accept(link).status_code == 410


def test_the_manager_resends_an_invitation_and_the_old_link_stops_working(
    manager_client, mailoutbox, django_capture_on_commit_callbacks
):
    person = invite_through_the_page(manager_client, django_capture_on_commit_callbacks)
    first = link_in(deliver_queued_mail()[0])
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("invitation_resend", args=[person.pk]))
    assert len(deliver_queued_mail()) == 2
    second = link_in(deliver_queued_mail()[1])
    assert first != second
    assert Client().get(first).status_code == 410
    assert Client().get(second, follow=True).status_code == 200
    assert accept(second).status_code == 302

    # Accepted: nothing left to resend.
    response = manager_client.post(reverse("invitation_resend", args=[person.pk]), follow=True)
    assert "has already accepted" in text(response)
    assert len(deliver_queued_mail()) == 2


@pytest.mark.parametrize(
    ("password", "again", "message"),
    [
        ("short-pw1", None, "This password is too short. It must contain at least 12 characters."),
        ("password1234", None, "This password is too common."),
        ("123456789012345", None, "This password is entirely numeric."),
        (GOOD_PASSWORD, "a-different-one-typed", "The two password fields didn’t match."),
    ],
)
def test_the_password_rules_apply_on_accepting(
    manager_client, mailoutbox, django_capture_on_commit_callbacks, password, again, message
):
    person = invite_through_the_page(manager_client, django_capture_on_commit_callbacks)
    response = accept(link_in(deliver_queued_mail()[0]), password=password, again=again)
    assert response.status_code == 200
    assert message in text(response)
    assert "There is a problem" in text(response)
    person.refresh_from_db()
    assert not person.is_active
    assert not person.has_usable_password()


def test_the_password_may_not_resemble_the_persons_name(
    manager_client, mailoutbox, django_capture_on_commit_callbacks
):
    invite_through_the_page(manager_client, django_capture_on_commit_callbacks)
    response = accept(link_in(deliver_queued_mail()[0]), password="nadia.officer@davss")
    assert response.status_code == 200
    assert "too similar" in text(response)


def test_the_invitation_form_keeps_what_was_typed_and_says_what_is_wrong(
    manager_client, davss_user, mailoutbox
):
    response = manager_client.post(
        reverse("user_invite"),
        {
            "first_name": "Sam",
            "last_name": "",
            "email": davss_user.email.upper(),
            "role": "partner",
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert "Enter the last name" in page
    assert "Someone already has an account with this e-mail address" in page
    assert "Select the agencies a partner user reports for" in page
    assert 'value="Sam"' in response.content.decode()
    assert deliver_queued_mail() == []


def test_only_the_manager_may_invite(davss_user):
    with pytest.raises(services.PeopleError):
        services.invite(
            davss_user,
            first_name="A",
            last_name="B",
            email="ab@example.org",
            role="manager",
            agencies=[],
        )


# Changes take effect on the next request ---------------------------------------------------


def davss_return_url(plan) -> str:
    action = Action.objects.get(priority__plan=plan, priority__number=1, number=1)
    quarter = Quarter.objects.get(plan=plan, number=4)
    Quarter.objects.filter(pk=quarter.pk).update(is_open=True)
    davss = Agency.objects.get(name="DAVSS")
    return reverse("return_edit", args=[quarter.pk, action.pk, davss.pk])


def test_a_change_of_agencies_applies_on_the_next_request(manager_client, davss_user, plan):
    partner = Client()
    partner.force_login(davss_user)
    url = davss_return_url(plan)
    assert partner.get(url).status_code == 200

    police = Agency.objects.get(name="Kent Police")
    response = manager_client.post(
        reverse("user_edit", args=[davss_user.pk]),
        {
            "first_name": davss_user.first_name,
            "last_name": davss_user.last_name,
            "role": "partner",
            "agencies": [police.pk],
        },
    )
    assert response.status_code == 302, text(response)

    assert partner.get(url).status_code == 404
    record = davss_user.history.order_by("-history_date").first()
    assert record.history_change_reason == f"Changed agencies: {police.short_name}"
    assert record.history_user.username == "manager"


def test_a_change_of_role_applies_on_the_next_request(manager_client, davss_user):
    partner = Client()
    partner.force_login(davss_user)
    assert partner.get(reverse("review_queue")).status_code == 403

    response = manager_client.post(
        reverse("user_edit", args=[davss_user.pk]),
        {"first_name": "Dee", "last_name": "Vass", "role": "manager"},
    )
    assert response.status_code == 302, text(response)

    assert partner.get(reverse("review_queue")).status_code == 200
    davss_user.refresh_from_db()
    assert davss_user.role == Role.MANAGER
    assert list(davss_user.agencies.all()) == []  # agencies are for partners
    assert "role Partner agency user → Community safety manager" in (
        davss_user.history.order_by("-history_date").first().history_change_reason
    )


def test_deactivation_ends_the_session_on_the_next_request_and_reactivation_restores(
    manager_client, davss_user
):
    partner = Client()
    partner.force_login(davss_user)
    assert partner.get(reverse("home")).status_code == 200

    manager_client.post(reverse("user_deactivate", args=[davss_user.pk]))

    response = partner.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    davss_user.refresh_from_db()
    assert not davss_user.is_active
    assert davss_user.history.order_by("-history_date").first().history_change_reason == (
        "Deactivated"
    )
    assert not signs_in(davss_user)

    manager_client.post(reverse("user_reactivate", args=[davss_user.pk]))
    assert signs_in(davss_user)


def test_the_manager_cannot_lock_themselves_out_or_change_a_superuser(
    manager_client, manager, admin_user
):
    response = manager_client.post(reverse("user_deactivate", args=[manager.pk]), follow=True)
    assert "You cannot change your own role or deactivate yourself" in text(response)
    response = manager_client.post(reverse("user_deactivate", args=[admin_user.pk]), follow=True)
    assert "Superusers are looked after in the Django admin" in text(response)
    manager.refresh_from_db()
    admin_user.refresh_from_db()
    assert manager.is_active and admin_user.is_active


def test_the_user_list_shows_last_sign_in_and_never_signed_in(manager_client, davss_user):
    assert signs_in(davss_user)
    never = UserFactory(username="newbie", first_name="Never", last_name="Seen")
    history_rows = davss_user.history.count()

    page = text(manager_client.get(reverse("user_list")))

    davss_user.refresh_from_db()
    assert davss_user.last_login is not None
    assert davss_user.history.count() == history_rows  # signing in is not a change
    row = re.search(r"Never Seen newbie .*?(Never signed in)", page)
    assert row, page
    assert timezone.localtime(davss_user.last_login).strftime("%-d %b %Y") in page
    assert never.last_login is None


# Agencies ----------------------------------------------------------------------------------


def test_the_manager_adds_and_changes_an_agency(manager_client):
    response = manager_client.post(
        reverse("agency_create"),
        {"name": "Town Pastors", "short_name": "TP", "kind": "voluntary", "aliases": "Pastors\n"},
    )
    assert response.status_code == 302, text(response)
    agency = Agency.objects.get(name="Town Pastors")
    assert agency.aliases == ["Pastors"]
    assert agency.history.get().history_user.username == "manager"

    # A name that exists: said beside the field, what was typed kept.
    response = manager_client.post(
        reverse("agency_edit", args=[agency.pk]),
        {"name": "DAVSS", "short_name": "TP2", "kind": "voluntary", "aliases": ""},
    )
    assert response.status_code == 200
    assert "An agency with this name already exists" in text(response)
    assert 'value="TP2"' in response.content.decode()

    response = manager_client.post(
        reverse("agency_edit", args=[agency.pk]),
        {"name": "Town Pastors Trust", "short_name": "SP", "kind": "voluntary", "aliases": "TP"},
    )
    assert response.status_code == 302, text(response)
    agency.refresh_from_db()
    assert (agency.name, agency.short_name, agency.aliases) == ("Town Pastors Trust", "SP", ["TP"])
    assert agency.history.count() == 2


def test_a_deactivated_agency_keeps_its_returns(manager_client, davss_user, plan):
    davss = Agency.objects.get(name="DAVSS")
    quarterly_return = make_return(davss_user, davss, "1.1", 4)
    manager_client.post(reverse("agency_deactivate", args=[davss.pk]))
    davss.refresh_from_db()
    assert not davss.active
    assert QuarterlyReturn.objects.get(pk=quarterly_return.pk).agency == davss
    assert manager_client.get(reverse("agency_detail", args=[davss.pk])).status_code == 200


def test_agencies_with_no_active_user_are_flagged_with_a_link_to_invite(
    manager_client, davss_user, board_member
):
    davss = Agency.objects.get(name="DAVSS")
    police = Agency.objects.get(name="Kent Police")
    invite = f"{reverse('user_invite')}?agency={police.pk}"

    listing = manager_client.get(reverse("agency_list")).content.decode()
    davss_row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*>DAVSS</a>(?:(?!</tr>).)*</tr>", listing, re.S)
    police_row = re.search(
        r"<tr[^>]*>(?:(?!</tr>).)*>Kent Police</a>(?:(?!</tr>).)*</tr>", listing, re.S
    )
    assert "No active user" not in davss_row.group(0)
    assert str(davss_user) in davss_row.group(0)
    assert "No active user" in police_row.group(0)
    assert invite in police_row.group(0)
    detail = manager_client.get(reverse("agency_detail", args=[police.pk])).content.decode()
    assert "No active user" in detail and invite in detail

    # The board reads the flag, without the manager's link.
    board = Client()
    board.force_login(board_member)
    listing = board.get(reverse("agency_list")).content.decode()
    assert "No active user" in listing
    assert reverse("user_invite") not in listing

    # A deactivated user no longer counts.
    services.set_user_active(User.objects.get(username="manager"), davss_user, False)
    detail = text(manager_client.get(reverse("agency_detail", args=[davss.pk])))
    assert "No active user" in detail

    # The link brings DAVSS ticked on the invitation form.
    form = manager_client.get(invite).content.decode()
    assert re.search(rf'value="{police.pk}"[^>]*checked', form)


# Merging -----------------------------------------------------------------------------------


def make_return(user, agency, ref, quarter_number, *, plan_year=2022):
    priority, number = (int(part) for part in ref.split("."))
    action = Action.objects.get(
        priority__plan__financial_year=plan_year, priority__number=priority, number=number
    )
    action.agencies.add(agency)
    quarter = Quarter.objects.get(plan__financial_year=plan_year, number=quarter_number)
    Quarter.objects.filter(pk=quarter.pk).update(is_open=True)
    return return_services.save_return(
        user,
        action,
        agency,
        Quarter.objects.get(pk=quarter.pk),
        values={},
        narrative=f"{agency.short_name} on {ref}",
        rag="green",
        rag_reason="",
        seen_version=None,
        submit=False,
    )


def totals() -> dict:
    return {
        "returns": QuarterlyReturn.objects.count(),
        "narratives": sorted(QuarterlyReturn.objects.values_list("narrative", flat=True)),
        "lock exceptions": LockException.objects.count(),
    }


def test_a_merge_moves_everything_and_loses_nothing(manager_client, manager, plan):
    kept = Agency.objects.get(name="TWBC Community Safety Team")
    csu = AgencyFactory(name="CSU", short_name="CSU", aliases=["Community Safety Unit"])
    both = UserFactory(username="both")
    kept.members.add(both)
    csu.members.add(both, UserFactory(username="csu-officer"))
    make_return(manager, kept, "1.1", 1)
    make_return(manager, csu, "1.1", 2)
    make_return(manager, csu, "2.1", 1)
    q3 = Quarter.objects.get(plan=plan, number=3)
    action = Action.objects.get(priority__plan=plan, priority__number=2, number=1)
    LockException.objects.create(quarter=q3, action=action, agency=csu, reason="late")
    Reminder.objects.create(quarter=q3, action=action, agency=csu, stage="overdue")
    before_kept = services.agency_counts(kept)
    before_csu = services.agency_counts(csu)
    before = totals()
    assert before_csu.returns == 2 and before_csu.members == 2

    confirm = manager_client.get(reverse("agency_merge_confirm", args=[kept.pk, csu.pk]))
    assert confirm.status_code == 200
    assert "Merge CSU into TWBC Community Safety Team" in text(confirm)
    response = manager_client.post(
        reverse("agency_merge_confirm", args=[kept.pk, csu.pk]), follow=True
    )
    assert "CSU merged into TWBC Community Safety Team: 2 returns" in text(response)

    after_kept = services.agency_counts(kept)
    assert services.agency_counts(csu) == services.AgencyCounts(0, 0, 0, 0, 0)
    assert after_kept.returns == before_kept.returns + before_csu.returns
    assert after_kept.members == before_kept.members + before_csu.members - 1  # "both" once
    # Action links: every action either led stays led, once.
    assert after_kept.actions == len(
        set(Action.objects.filter(agencies=kept).values_list("pk", flat=True))
    )
    assert after_kept.actions >= max(before_kept.actions, before_csu.actions)
    assert after_kept.lock_exceptions == before_kept.lock_exceptions + 1
    assert after_kept.reminders == before_kept.reminders + 1
    assert totals() == before
    kept.refresh_from_db()
    csu.refresh_from_db()
    assert {"CSU", "Community Safety Unit"} <= set(kept.aliases)
    assert not csu.active and csu.merged_into == kept
    assert kept.history.first().history_change_reason.startswith("Merged CSU into this agency")
    assert csu.history.first().history_change_reason.startswith(
        "Merged into TWBC Community Safety Team"
    )
    action = Action.objects.get(priority__plan=plan, priority__number=2, number=1)
    assert action.history.first().history_change_reason == (
        "Lead agency merged: CSU into TWBC Community Safety Team"
    )
    recorded = {row.agency.name for row in action.history.first().agencies.all()}
    assert "TWBC Community Safety Team" in recorded and "CSU" not in recorded
    csu_officer = User.objects.get(username="csu-officer")
    assert [a.name for a in csu_officer.agencies.all()] == ["TWBC Community Safety Team"]
    assert csu_officer.history.first().history_change_reason.startswith("Agency merged: CSU")
    moved = QuarterlyReturn.objects.get(narrative="CSU on 2.1")
    assert moved.agency == kept
    assert moved.history.first().history_change_reason.startswith("Agency merged: CSU into")


def test_a_merge_is_refused_where_both_have_a_return_for_the_same_action_and_quarter(
    manager_client, manager, plan
):
    kept = Agency.objects.get(name="TWBC Community Safety Team")
    csu = AgencyFactory(name="CSU", short_name="CSU")
    make_return(manager, kept, "1.1", 2)
    make_return(manager, csu, "1.1", 2)
    make_return(manager, csu, "1.2", 2)
    before = (services.agency_counts(kept), services.agency_counts(csu), totals())

    confirm = text(manager_client.get(reverse("agency_merge_confirm", args=[kept.pk, csu.pk])))
    assert "cannot be merged yet" in confirm
    assert "Action 1.1, Q2" in confirm
    response = manager_client.post(
        reverse("agency_merge_confirm", args=[kept.pk, csu.pk]), follow=True
    )
    assert "Both agencies have a return for the same action and quarter (1.1 Q2" in text(response)
    assert (services.agency_counts(kept), services.agency_counts(csu), totals()) == before
    csu.refresh_from_db()
    assert csu.active and csu.merged_into is None


def test_the_merge_form_sends_to_the_confirmation_page(manager_client):
    kept = Agency.objects.get(name="TWBC Community Safety Team")
    csu = AgencyFactory(name="CSU", short_name="CSU")
    empty = manager_client.post(reverse("agency_merge", args=[kept.pk]), {})
    assert "Select the agency to merge" in text(empty)
    response = manager_client.post(reverse("agency_merge", args=[kept.pk]), {"merged": csu.pk})
    assert response["Location"] == reverse("agency_merge_confirm", args=[kept.pk, csu.pk])
    # An agency cannot be merged into itself.
    assert (
        manager_client.get(reverse("agency_merge_confirm", args=[kept.pk, kept.pk])).status_code
        == 404
    )


def test_seeding_again_after_a_merge_keeps_the_merge(manager, plan):
    from csp import seed

    kept = Agency.objects.get(name="TWBC Community Safety Team")
    cctv = Agency.objects.get(name="TWBC CCTV")
    cctv_actions = set(Action.objects.filter(agencies=cctv).values_list("pk", flat=True))
    assert cctv_actions
    services.merge_agencies(manager, kept, cctv)

    seed.load_plan()

    kept.refresh_from_db()
    assert Action.objects.filter(agencies=cctv).count() == 0
    assert cctv_actions <= set(Action.objects.filter(agencies=kept).values_list("pk", flat=True))
    assert "TWBC CCTV" in kept.aliases


@pytest.mark.django_db
def test_an_agency_id_no_database_can_hold_is_an_invalid_choice(manager_client):
    """Found by the fuzz test on SQLite: an id past 64 bits reached the database and 500'd."""
    data = {
        "first_name": "Ivy",
        "last_name": "Invited",
        "email": "ivy@example.org",
        "role": "partner",
        "agencies": str(2**63),
    }
    response = manager_client.post(reverse("user_invite"), data)
    assert response.status_code == 200
    assert "Select agencies from the list" in response.content.decode()
    assert not User.objects.filter(email="ivy@example.org").exists()
