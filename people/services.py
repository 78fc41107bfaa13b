"""The manager's changes to agencies and users, in the shape of actions/services.py.

Each runs in one transaction, locks the rows it changes, checks the state it starts from,
raises PeopleError with a message for the user when it cannot go ahead, records who did
it and why in the history, logs it on the audit logger and queues any e-mail.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Role, User, hash_token
from actions.models import (
    Action,
    Agency,
    AgencyReminder,
    LockException,
    QuarterlyReturn,
    Reminder,
)
from csp import permissions
from csp.naming import names
from priorities.models import Partnership

audit = logging.getLogger("csp.audit")

# simple_history's change reason column holds 100 characters.
CHANGE_REASON_LENGTH = 100


class PeopleError(Exception):
    """A change that cannot happen; the message is for the user."""


class InvitationNotUsable(PeopleError):
    """An invitation link that was used, cancelled or has expired."""


def _check_may_manage(user) -> None:
    if not permissions.may(user, permissions.Capability.MANAGE_PEOPLE):
        raise PeopleError("Only the community safety manager can manage agencies and users.")


def _reason(text: str) -> str:
    if len(text) <= CHANGE_REASON_LENGTH:
        return text
    return text[: CHANGE_REASON_LENGTH - 1] + "…"


def _save(obj, by, reason: str) -> None:
    # Set explicitly: outside a request (commands, tests) the history middleware knows no user.
    obj._history_user = by
    obj._change_reason = _reason(reason)
    obj.save()


def _agency_names(agencies) -> str:
    return ", ".join(sorted(agency.short_name or agency.name for agency in agencies)) or "none"


# Invitations -------------------------------------------------------------------------------


def _send_invitation(invitation: Invitation, token: str) -> int:
    user = invitation.user
    service = names()
    body = render_to_string(
        "people/email/invitation.txt",
        service
        | {
            "user": user,
            "invited_by": invitation.invited_by,
            "url": settings.SITE_URL + reverse("invitation_accept", args=[token]),
            "expires_at": invitation.expires_at,
            "site_url": settings.SITE_URL,
        },
    )
    subject = f"You are invited to {service['service_name']}"
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


def _issue(user: User, by) -> Invitation:
    """Cancel any earlier link (one usable link per person) and send a new one."""
    now = timezone.now()
    user.invitations.pending().update(cancelled_at=now)
    invitation, token = Invitation.issue(user, by)
    transaction.on_commit(lambda: _send_invitation(invitation, token))
    return invitation


@transaction.atomic
def invite(
    by, *, first_name: str, last_name: str, email: str, role: str, agencies, job_title: str = ""
) -> Invitation:
    """Create the account, inactive and with no password, and e-mail a link to choose one.

    The username is the e-mail address, in lower case.
    """
    _check_may_manage(by)
    email = email.strip().lower()
    if (
        User.objects.filter(email__iexact=email).exists()
        or User.objects.filter(username__iexact=email).exists()
    ):
        raise PeopleError(f"{email} already has an account.")
    agencies = list(agencies) if role == Role.PARTNER else []
    if role == Role.PARTNER and not agencies:
        raise PeopleError("Select the agencies a partner user reports for.")
    user = User(
        username=email,
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        job_title=job_title.strip(),
        role=role,
        is_active=False,
    )
    user.set_unusable_password()
    _save(user, by, f"Invited by {by.username} as {Role(role).label}")
    user.agencies.set(agencies)
    if agencies:
        _save(user, by, f"Agencies: {_agency_names(agencies)}")
    invitation = _issue(user, by)
    audit.info(
        "invitation sent to user=%s role=%s agencies=%s by %s",
        user.username,
        role,
        _agency_names(agencies),
        by.username,
    )
    return invitation


def _locked_user(user: User) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def resend_invitation(by, user: User) -> Invitation:
    _check_may_manage(by)
    user = _locked_user(user)
    if user.has_usable_password():
        raise PeopleError(f"{user} has already accepted their invitation.")
    invitation = _issue(user, by)
    audit.info("invitation resent to user=%s by %s", user.username, by.username)
    return invitation


@transaction.atomic
def cancel_invitation(by, user: User) -> int:
    _check_may_manage(by)
    user = _locked_user(user)
    cancelled = user.invitations.pending().update(cancelled_at=timezone.now())
    if not cancelled:
        raise PeopleError(f"{user} has no invitation waiting to be accepted.")
    _save(user, by, "Invitation cancelled")
    audit.info("invitation cancelled for user=%s by %s", user.username, by.username)
    return cancelled


def usable_invitation(token: str) -> Invitation | None:
    """The invitation behind a link: None for a link that never existed; raises
    InvitationNotUsable, with the reason, for one used, cancelled or expired."""
    invitation = (
        Invitation.objects.select_related("user", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None:
        return None
    state = invitation.state
    if state == "accepted":
        raise InvitationNotUsable(
            "This invitation has already been used. Sign in with your e-mail address and the "
            "password you chose, or reset your password."
        )
    if state == "cancelled":
        raise InvitationNotUsable(
            "This invitation has been cancelled or replaced by a newer one. Use the link in "
            "the latest e-mail, or ask the community safety manager to send a new one."
        )
    if state == "expired":
        raise InvitationNotUsable(
            "This invitation has expired. Ask the community safety manager to send a new one."
        )
    return invitation


@transaction.atomic
def accept_invitation(token: str, password: str) -> User:
    """Set the password chosen (validated by the form against the password rules) and
    activate the account; the link cannot be used again."""
    invitation = usable_invitation(token)
    if invitation is None:
        raise InvitationNotUsable("This invitation link is not valid.")
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    # Checked again under the lock: two tabs accepting at once make one acceptance.
    if invitation.state != "pending":
        raise InvitationNotUsable("This invitation has already been used.")
    user = _locked_user(invitation.user)
    user.set_password(password)
    user.is_active = True
    _save(user, user, "Accepted the invitation and chose a password")
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    audit.info("invitation accepted: user=%s", user.username)
    return user


# Changing users ----------------------------------------------------------------------------


def _check_may_change(by, user: User) -> None:
    _check_may_manage(by)
    if user.pk == by.pk:
        raise PeopleError(
            "You cannot change your own role or deactivate yourself; ask another manager."
        )
    if user.is_superuser:
        raise PeopleError("Superusers are looked after in the Django admin.")


@transaction.atomic
def change_user(
    by, user: User, *, first_name: str, last_name: str, job_title: str, role: str, agencies
) -> User:
    """Change a user's name, role and agencies; it takes effect on their next request."""
    _check_may_change(by, user)
    user = _locked_user(user)
    agencies = list(agencies) if role == Role.PARTNER else []
    if role == Role.PARTNER and not agencies:
        raise PeopleError("Select the agencies a partner user reports for.")
    changes = []
    if role != user.role:
        changes.append(f"role {Role(user.role).label} → {Role(role).label}")
    before = set(user.agencies.values_list("pk", flat=True))
    if before != {agency.pk for agency in agencies}:
        changes.append(f"agencies: {_agency_names(agencies)}")
    names = (first_name.strip(), last_name.strip(), job_title.strip())
    if names != (user.first_name, user.last_name, user.job_title):
        changes.append("name or job title")
    if not changes:
        return user
    user.first_name, user.last_name, user.job_title = names
    user.role = role
    user.agencies.set(agencies)
    _save(user, by, "Changed " + "; ".join(changes))
    audit.info("user=%s changed by %s: %s", user.username, by.username, "; ".join(changes))
    return user


@transaction.atomic
def set_user_active(by, user: User, active: bool) -> User:
    """Deactivate (signed out on their next request, no e-mails) or reactivate a user."""
    _check_may_change(by, user)
    user = _locked_user(user)
    if user.is_active == active:
        raise PeopleError(f"{user} is already {'active' if active else 'deactivated'}.")
    if active and not user.has_usable_password():
        raise PeopleError(f"{user} has not accepted their invitation yet: resend it instead.")
    user.is_active = active
    _save(user, by, "Reactivated" if active else "Deactivated")
    if not active:
        user.invitations.pending().update(cancelled_at=timezone.now())
    audit.info(
        "user=%s %s by %s", user.username, "reactivated" if active else "deactivated", by.username
    )
    return user


# Agencies ---------------------------------------------------------------------------------


@transaction.atomic
def save_agency(by, agency: Agency, *, reason: str) -> Agency:
    """Add a new agency or save changes to its name, short name, kind and aliases."""
    _check_may_manage(by)
    created = agency.pk is None
    _save(agency, by, reason)
    audit.info("agency %s %s by %s", agency.pk, "added" if created else "changed", by.username)
    return agency


@transaction.atomic
def set_agency_active(by, agency: Agency, active: bool) -> Agency:
    """Deactivate or reactivate an agency. Agencies are never deleted: their returns stay."""
    _check_may_manage(by)
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    if agency.active == active:
        raise PeopleError(f"{agency} is already {'active' if active else 'inactive'}.")
    if active and agency.merged_into_id:
        raise PeopleError(f"{agency} was merged into {agency.merged_into}; it cannot come back.")
    agency.active = active
    _save(agency, by, "Reactivated" if active else "Deactivated")
    audit.info(
        "agency %s %s by %s", agency, "reactivated" if active else "deactivated", by.username
    )
    return agency


@dataclass(frozen=True)
class AgencyCounts:
    actions: int
    members: int
    returns: int
    lock_exceptions: int
    reminders: int


def agency_counts(agency: Agency) -> AgencyCounts:
    return AgencyCounts(
        actions=Action.agencies.through.objects.filter(agency=agency).count(),
        members=Agency.members.through.objects.filter(agency=agency).count(),
        returns=QuarterlyReturn.objects.filter(agency=agency).count(),
        lock_exceptions=LockException.objects.filter(agency=agency).count(),
        reminders=Reminder.objects.filter(agency=agency).count(),
    )


def merge_clashes(kept: Agency, merged: Agency) -> list[QuarterlyReturn]:
    """The merged agency's returns for an action and quarter the kept one has a return for."""
    same = QuarterlyReturn.objects.filter(
        agency=kept, action=OuterRef("action"), quarter=OuterRef("quarter")
    )
    return list(
        QuarterlyReturn.objects.filter(agency=merged)
        .filter(Exists(same))
        .select_related("action", "action__priority", "quarter", "quarter__plan", "agency")
        .order_by(
            "quarter__plan__financial_year",
            "quarter__number",
            "action__priority__number",
            "action__number",
        )
    )


# Relations to Agency this function moves itself; any other (a model added later) makes the
# merge refuse rather than leave rows pointing at an agency that is no longer used.
MOVED = {
    (QuarterlyReturn, "agency"),
    (LockException, "agency"),
    (Reminder, "agency"),
    (AgencyReminder, "agency"),
    (Action.agencies.through, "agency"),
    (Agency.members.through, "agency"),
    (Partnership, "coordinating_agency"),
    (Action, "accountable_agency"),
}


def _unmoved_relations(agency: Agency) -> list[str]:
    left = []
    for field in Agency._meta.get_fields(include_hidden=True):
        if not (field.is_relation and field.auto_created and not field.concrete):
            continue
        if field.many_to_many:
            continue  # through its table, listed in MOVED
        model = field.related_model
        if model is Agency or model.__name__.startswith("Historical"):
            continue  # merged_into, and the history tables, which keep the past as it was
        if (model, field.field.name) in MOVED:
            continue
        if model._default_manager.filter(**{field.field.name: agency}).exists():
            left.append(str(model._meta.verbose_name_plural))
    return left


@transaction.atomic
def merge_agencies(by, kept: Agency, merged: Agency) -> AgencyCounts:
    """Move everything of `merged` to `kept`: action links, members, returns, lock
    exceptions and reminders; its names become aliases of `kept`; it stays, inactive and
    marked as merged, so its history and links read as they were. Returns what moved."""
    _check_may_manage(by)
    if kept.pk == merged.pk:
        raise PeopleError("Choose two different agencies to merge.")
    # Both rows locked, in pk order so two merges the other way round cannot deadlock.
    locked = {
        a.pk: a
        for a in Agency.objects.select_for_update()
        .filter(pk__in=[kept.pk, merged.pk])
        .order_by("pk")
    }
    kept, merged = locked[kept.pk], locked[merged.pk]
    if merged.merged_into_id or kept.merged_into_id:
        raise PeopleError("One of these agencies has already been merged into another.")
    clashes = merge_clashes(kept, merged)
    if clashes:
        listed = ", ".join(f"{r.action.ref} {r.quarter.label}" for r in clashes[:5])
        more = f" and {len(clashes) - 5} more" if len(clashes) > 5 else ""
        raise PeopleError(
            f"Both agencies have a return for the same action and quarter ({listed}{more}). "
            "A merge would lose one of them: settle which stands, then merge."
        )
    left = _unmoved_relations(merged)
    if left:
        raise PeopleError(f"{merged} still has {', '.join(left)} this merge cannot move.")
    moved = agency_counts(merged)

    for quarterly_return in (
        QuarterlyReturn.objects.select_for_update().filter(agency=merged).order_by("pk")
    ):
        quarterly_return.agency = kept
        # A new version: anyone with the return open is told it changed under them.
        quarterly_return.version += 1
        _save(quarterly_return, by, f"Agency merged: {merged.name} into {kept.name}")

    relinked = list(Action.objects.filter(agencies=merged).order_by("pk"))
    members = list(User.objects.filter(agencies=merged).order_by("pk"))
    for through, owner in ((Action.agencies.through, "action"), (Agency.members.through, "user")):
        already = through.objects.filter(agency=kept).values(owner)
        through.objects.filter(agency=merged).exclude(**{f"{owner}__in": already}).update(
            agency=kept
        )
        through.objects.filter(agency=merged).delete()  # links the kept agency already had
    # The table updates above send no signals: a history row on each action and member
    # records its new agencies.
    for action in relinked:
        _save(action, by, f"Lead agency merged: {merged.name} into {kept.name}")
    for member in members:
        _save(member, by, f"Agency merged: {merged.name} into {kept.name}")

    for model, key in (
        (LockException, ("quarter", "action")),
        (Reminder, ("quarter", "action", "stage")),
    ):
        same = model.objects.filter(agency=kept, **{field: OuterRef(field) for field in key})
        model.objects.filter(agency=merged).exclude(Exists(same)).update(agency=kept)
        # The kept agency's own exception or reminder for the same return stands.
        model.objects.filter(agency=merged).delete()
    # When each was last reminded: the merged agency's reminders count for the kept one.
    AgencyReminder.objects.filter(agency=merged).update(agency=kept)
    # A partnership coordinated by the merged agency is coordinated by the kept one.
    Partnership.objects.filter(coordinating_agency=merged).update(coordinating_agency=kept)
    Action.objects.filter(accountable_agency=merged).update(accountable_agency=kept)

    own = {kept.name.casefold(), kept.short_name.casefold()}
    aliases = list(kept.aliases)
    for name in [merged.name, merged.short_name, *merged.aliases]:
        if name and name.casefold() not in own | {alias.casefold() for alias in aliases}:
            aliases.append(name)
    kept.aliases = aliases
    summary = f"{moved.returns} returns, {moved.actions} actions, {moved.members} members"
    _save(kept, by, f"Merged {merged.name} into this agency: {summary}")
    merged.active = False
    merged.merged_into = kept
    _save(merged, by, f"Merged into {kept.name}: {summary}")
    audit.info(
        "agency %s (%s) merged into %s (%s) by %s: %s",
        merged.pk,
        merged.name,
        kept.pk,
        kept.name,
        by.username,
        summary,
    )
    return moved
