"""Progress updates on a death review's actions: save, submit, approve, send back.

Shaped like actions.services: each transition runs in one transaction, locks the rows it
changes, checks the state it starts from before the version the user saw, raises
ProgressError with a message for the user when it cannot go ahead, writes the history and
the audit log, and queues the e-mail in the same transaction (the mail worker delivers it
once committed; a transition that rolls back queues nothing).

An action closes only when the manager approves an update that asks to close it with
approved evidence: a summary of how the evidence shows it is done and at least one file.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from actions.services import change_reason
from crimestats.sources.files import Refused
from csp.permissions import Capability, may
from review import evidence as files

from . import notifications
from .models import ProgressUpdate, ReviewAction, UpdateEvidence
from .obligations import reportable_actions

audit = logging.getLogger("csp.audit")
State = ProgressUpdate.State


class ProgressError(Exception):
    """A transition that cannot happen; the message is for the user."""


class StaleUpdate(ProgressError):
    """Someone else saved the update after this user opened it."""


class AlreadySubmitted(ProgressError):
    """The update is waiting for review (a second click on Submit lands here)."""


def locked_message(update: ProgressUpdate) -> str:
    if update.state == State.SUBMITTED:
        return "This update has been submitted and is waiting for the community safety manager."
    return "This update has been approved, so it can no longer be changed."


def closed_message(action: ReviewAction) -> str:
    return f"Action {action.ref} is closed, so it takes no more updates."


def attached(update: ProgressUpdate):
    return UpdateEvidence.objects.filter(update=update, removed_at__isnull=True)


def _check_version(current: ProgressUpdate, seen_version: int | None) -> None:
    if seen_version is not None and current.version != seen_version:
        raise StaleUpdate(
            f"Someone changed this update at "
            f"{timezone.localtime(current.updated_at):%H:%M on %d %B %Y} after you opened it. "
            "Your changes have not been saved; they are still in the form below (choose any "
            "files again). Check the latest version, then save again."
        )


def _save(update: ProgressUpdate, user, reason: str) -> None:
    update.version += 1
    update._history_user = user
    update._change_reason = change_reason(reason)
    update.save()
    audit.info(
        "death review update %s (action %s, %s) %s by %s: %s",
        update.pk,
        update.action_id,
        update.quarter,
        update.state,
        user.username,
        reason,
    )


def _closing_evidence_missing(summary: str, file_count: int) -> str:
    """Why an update asking to close its action lacks the evidence it needs ("" if not)."""
    missing = []
    if not summary.strip():
        missing.append("a summary of how the evidence shows the action is done")
    if file_count == 0:
        missing.append("at least one attached file")
    return " and ".join(missing)


@transaction.atomic
def save_update(
    user,
    action: ReviewAction,
    quarter,
    *,
    progress: str,
    asks_to_close: bool,
    evidence_summary: str,
    uploads=(),
    seen_version: int | None,
    submit: bool,
) -> ProgressUpdate:
    """Save a draft of, or submit, the lead agency's update on an action for the quarter;
    create it on first save, and attach the uploaded files (checked by their content)."""
    if not (
        may(user, Capability.REPORT_DEATH_REVIEW_ACTIONS)
        and reportable_actions(user).filter(pk=action.pk).exists()
    ):
        raise ProgressError("You cannot report on this action.")
    if quarter is None or not quarter.is_open:
        raise ProgressError(
            "No quarter is open for returns, so updates cannot be written now. They open "
            "with the next quarter's returns."
        )
    current_action = ReviewAction.objects.select_for_update().get(pk=action.pk)
    if current_action.closed_at is not None:
        raise ProgressError(closed_message(action))
    # Ordered by pk alone: the default ordering joins other tables, which FOR UPDATE would lock.
    update = (
        ProgressUpdate.objects.select_for_update()
        .filter(action=action, quarter=quarter)
        .order_by("pk")
        .first()
    )
    if update is None:
        if seen_version not in (None, 0):
            raise StaleUpdate("This update has been removed since you opened it.")
        update = ProgressUpdate(action=action, quarter=quarter, created_by=user, version=0)
        file_count = 0
    else:
        # State before version: a double-clicked Submit finds the update already submitted.
        if not update.is_editable:
            error = AlreadySubmitted if update.state == State.SUBMITTED else ProgressError
            raise error(locked_message(update))
        _check_version(update, seen_version)
        file_count = attached(update).count()
    uploads = list(uploads)
    if file_count + len(uploads) > settings.EVIDENCE_MAX_FILES:
        raise ProgressError(
            f"An update may have up to {settings.EVIDENCE_MAX_FILES} files; this one would "
            f"have {file_count + len(uploads)}."
        )
    if submit and asks_to_close:
        missing = _closing_evidence_missing(evidence_summary, file_count + len(uploads))
        if missing:
            raise ProgressError(f"To ask to close the action, give {missing}.")

    update.progress = progress
    update.asks_to_close = asks_to_close
    update.evidence_summary = evidence_summary
    if submit:
        update.state = State.SUBMITTED
        update.submitted_by = user
        update.submitted_at = timezone.now()
    try:
        with transaction.atomic():
            _save(update, user, "Submitted" if submit else "Draft saved")
    except IntegrityError as error:
        # Someone else started this update a moment ago: theirs stands, this is refused.
        raise StaleUpdate(
            "Someone else started this update while you were writing it. Your changes have "
            "not been saved; they are still in the form below."
        ) from error
    for uploaded in uploads:
        _attach(user, update, uploaded)
    return update


def _attach(user, update: ProgressUpdate, uploaded) -> UpdateEvidence:
    try:
        stored = files.store(uploaded, f"death-reviews/{update.pk}")
    except Refused as error:
        raise ProgressError(str(error)) from error
    evidence = UpdateEvidence.objects.create(
        update=update,
        name=stored.name,
        kind=stored.kind,
        size=stored.size,
        sha256=stored.sha256,
        stored_name=stored.stored_name,
        uploaded_by=user,
    )
    audit.info(
        "death review update %s evidence %s added by %s: %s %s bytes sha256 %s",
        update.pk,
        evidence.pk,
        user.username,
        evidence.kind,
        evidence.size,
        evidence.sha256,
    )
    return evidence


def _review(user, update: ProgressUpdate, seen_version: int | None, verb: str):
    if not may(user, Capability.MANAGE_DEATH_REVIEWS):
        raise ProgressError("Only the community safety manager can review updates.")
    current = ProgressUpdate.objects.select_for_update().get(pk=update.pk)
    # State before version: a double-clicked Approve is told the update is approved.
    if current.state != State.SUBMITTED:
        raise ProgressError(
            f"This update is {current.get_state_display().lower()}, so it cannot be {verb}."
        )
    _check_version(current, seen_version)
    return current


@transaction.atomic
def approve_update(user, update: ProgressUpdate, *, seen_version: int | None) -> ProgressUpdate:
    """Approve a submitted update; one that asks to close its action closes it, but only
    with approved evidence (a summary and at least one file)."""
    current = _review(user, update, seen_version, "approved")
    action = ReviewAction.objects.select_for_update().get(pk=current.action_id)
    closes = current.asks_to_close
    if closes:
        if action.closed_at is not None:
            raise ProgressError(f"Action {action.ref} is already closed.")
        missing = _closing_evidence_missing(current.evidence_summary, attached(current).count())
        if missing:
            raise ProgressError(
                f"This update asks to close action {action.ref} without {missing}. An action "
                "closes only with approved evidence: send the update back, asking "
                "for what is missing."
            )
    current.state = State.APPROVED
    current.reviewed_by = user
    current.reviewed_at = timezone.now()
    current.reviewer_comment = ""
    _save(current, user, "Approved, closing the action" if closes else "Approved")
    if closes:
        action.closed_at = current.reviewed_at
        action.closed_by = user
        action._history_user = user
        action._change_reason = change_reason(f"Closed: update {current.pk} approved")
        action.save()
        audit.info(
            "death review action %s closed by %s on update %s", action.pk, user.username, current.pk
        )
    notifications.update_approved(current, closed=closes)
    return current


@transaction.atomic
def send_back_update(
    user, update: ProgressUpdate, *, reason: str, seen_version: int | None
) -> ProgressUpdate:
    """Return a submitted update to its agency, with the reason they will read."""
    reason = reason.strip()
    if not reason:
        raise ProgressError("Enter the reason for sending the update back.")
    current = _review(user, update, seen_version, "sent back")
    current.state = State.SENT_BACK
    current.reviewed_by = user
    current.reviewed_at = timezone.now()
    current.reviewer_comment = reason
    _save(current, user, f"Sent back: {reason}")
    notifications.update_sent_back(current)
    return current
