"""The return workflow's transitions: save, submit, recall, approve, send back, reopen.

Each runs in one transaction, locks the return row, checks the state it starts from and
the version the user saw, raises ReturnError with a message for the user when it cannot
go ahead, records who did it and why in the history, and queues the e-mail in the same
transaction (the mail worker delivers it later: a mail server that is down or slow never
holds up or fails a transition, and a transition that rolls back queues nothing).
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from csp import permissions
from priorities.models import Quarter
from priorities.services import PlanError, refuse_if_closed

from . import notifications
from .models import Action, Agency, LockException, QuarterlyReturn

audit = logging.getLogger("csp.audit")
State = QuarterlyReturn.State


class ReturnError(Exception):
    """A transition that cannot happen; the message is for the user."""


class StaleReturn(ReturnError):
    """Someone else saved the return after this user opened it."""


class AlreadySubmitted(ReturnError):
    """The return is waiting for review (a second click on Submit lands here)."""


def _locked(quarterly_return: QuarterlyReturn) -> QuarterlyReturn:
    _refuse_closed_plan(quarterly_return.quarter)
    return QuarterlyReturn.objects.select_for_update().get(pk=quarterly_return.pk)


def _refuse_closed_plan(quarter: Quarter) -> None:
    """A closed plan never changes: none of its returns or quarters (priorities.services)."""
    try:
        refuse_if_closed(quarter.plan)
    except PlanError as error:
        raise ReturnError(str(error)) from error


def _check_version(current: QuarterlyReturn, seen_version: int | None) -> None:
    if seen_version is not None and current.version != seen_version:
        who = current.updated_by or "someone else"
        raise StaleReturn(
            f"{who} changed this return at {timezone.localtime(current.updated_at):%H:%M on %d %B %Y} "
            "after you opened it. Your changes have not been saved; they are still in the "
            "form below. Check the latest version, then save again."
        )


# simple_history's change reason column holds 100 characters; the full comment is kept on
# the return itself (reviewer_comment), which the history also records.
CHANGE_REASON_LENGTH = 100


def change_reason(reason: str) -> str:
    if len(reason) <= CHANGE_REASON_LENGTH:
        return reason
    return reason[: CHANGE_REASON_LENGTH - 1] + "…"


def _save(quarterly_return: QuarterlyReturn, user, reason: str) -> None:
    quarterly_return.version += 1
    quarterly_return.updated_by = user
    # Set explicitly: outside a request (commands, tests) the history middleware knows no user.
    quarterly_return._history_user = user
    quarterly_return._change_reason = change_reason(reason)
    quarterly_return.save()
    audit.info(
        "return %s %s by %s: %s", quarterly_return.pk, quarterly_return.state, user.username, reason
    )


@transaction.atomic
def save_return(
    user,
    action: Action,
    agency: Agency,
    quarter: Quarter,
    *,
    values: dict,
    narrative: str,
    rag: str,
    rag_reason: str,
    seen_version: int | None,
    submit: bool,
    suggested_rag: str = "",
    rag_override_reason: str = "",
    confirmed_values: dict | None = None,
) -> QuarterlyReturn:
    """Save a draft of, or submit, an agency's return; create it on first save.

    ``suggested_rag`` is the RAG the figures suggest against their targets (the form works
    it out with actions.targets), kept so every page can say where the RAG differs."""
    confirmed_values = confirmed_values or {}
    if not permissions.may_report_for(user, action, agency):
        raise ReturnError("You cannot report for this agency on this action.")
    if not permissions.quarter_takes_entries(user, quarter, action, agency):
        raise ReturnError(permissions.quarter_closed_message(quarter))
    _refuse_closed_plan(quarter)
    # Ordered by pk alone: the default ordering joins the action, agency, quarter, priority
    # and plan, and FOR UPDATE would lock those rows too.
    quarterly_return = (
        QuarterlyReturn.objects.select_for_update()
        .filter(action=action, agency=agency, quarter=quarter)
        .order_by("pk")
        .first()
    )
    if quarterly_return is None:
        # 0 is the version of a return not started yet; None skips the check.
        if seen_version not in (None, 0):
            raise StaleReturn("This return has been removed since you opened it.")
        quarterly_return = QuarterlyReturn(
            action=action, agency=agency, quarter=quarter, created_by=user, version=0
        )
    else:
        # State before version: a double-clicked Submit finds the return already submitted.
        if not quarterly_return.is_editable:
            error = AlreadySubmitted if quarterly_return.state == State.SUBMITTED else ReturnError
            raise error(quarterly_return.locked_message)
        stored = (
            quarterly_return.values,
            quarterly_return.narrative,
            quarterly_return.rag,
            quarterly_return.rag_reason,
            quarterly_return.suggested_rag,
            quarterly_return.rag_override_reason,
            quarterly_return.confirmed_values,
        )
        answers = (
            values,
            narrative,
            rag,
            rag_reason,
            suggested_rag,
            rag_override_reason,
            confirmed_values,
        )
        if not submit and stored == answers:
            # The same answers again (a second click on Save draft or on Check and submit):
            # nothing to save, and nobody's changes to overwrite.
            return quarterly_return
        _check_version(quarterly_return, seen_version)

    quarterly_return.values = values
    quarterly_return.narrative = narrative
    quarterly_return.rag = rag
    quarterly_return.rag_reason = rag_reason
    quarterly_return.suggested_rag = suggested_rag
    quarterly_return.rag_override_reason = rag_override_reason
    quarterly_return.confirmed_values = confirmed_values
    if submit:
        _mark_submitted(quarterly_return, user)
        reason = "Submitted"
    else:
        reason = "Draft saved"
    try:
        with transaction.atomic():
            _save(quarterly_return, user, reason)
    except IntegrityError as error:
        # Someone else started this return a moment ago: theirs stands, this is refused.
        raise StaleReturn(
            "Someone else started this return while you were filling it in. Your changes "
            "have not been saved; they are still in the form below."
        ) from error
    return quarterly_return


def _mark_submitted(quarterly_return: QuarterlyReturn, user) -> None:
    quarterly_return.state = State.SUBMITTED
    quarterly_return.submitted_by = user
    quarterly_return.submitted_at = timezone.now()
    quarter = quarterly_return.quarter
    if not quarter.is_open:
        # A correction in a closed quarter is done once resubmitted: the leave ends.
        _end_lock_exception(user, quarter, quarterly_return.action, quarterly_return.agency)


def _as_reporter(user, quarterly_return: QuarterlyReturn, verb: str) -> QuarterlyReturn:
    """The return, locked, once this user may report for its agency in its quarter."""
    action, agency, quarter = (
        quarterly_return.action,
        quarterly_return.agency,
        quarterly_return.quarter,
    )
    if not permissions.may_report_for(user, action, agency):
        raise ReturnError("You cannot report for this agency on this action.")
    if not permissions.quarter_takes_entries(user, quarter, action, agency):
        raise ReturnError(
            f"{quarter.label} is closed for returns, so this return cannot be {verb}. "
            "Ask the community safety manager."
        )
    return _locked(quarterly_return)


@transaction.atomic
def submit_return(user, quarterly_return, *, seen_version: int | None) -> QuarterlyReturn:
    """Send a saved draft (or a corrected, sent-back return) for review, as checked on the
    "Check your answers" page. Whether it is complete is the form's rule (ReturnForm);
    the view asks it first."""
    current = _as_reporter(user, quarterly_return, "submitted")
    # State before version: a double-clicked Submit return finds it already submitted.
    if not current.is_editable:
        error = AlreadySubmitted if current.state == State.SUBMITTED else ReturnError
        raise error(current.locked_message)
    _check_version(current, seen_version)
    _mark_submitted(current, user)
    _save(current, user, "Submitted")
    return current


@transaction.atomic
def recall_return(user, quarterly_return, *, seen_version: int | None) -> QuarterlyReturn:
    """Take a submitted return back to draft before the manager has reviewed it."""
    current = _as_reporter(user, quarterly_return, "recalled")
    if current.state != State.SUBMITTED:
        raise ReturnError(
            f"This return is {current.get_state_display().lower()}, so it cannot be recalled. "
            "Only a return waiting for review can be."
        )
    _check_version(current, seen_version)
    current.state = State.DRAFT
    current.submitted_by = None
    current.submitted_at = None
    _save(current, user, "Recalled to draft")
    return current


def _review(user, quarterly_return, seen_version, expected: str, verb: str) -> QuarterlyReturn:
    if not permissions.may(user, permissions.Capability.REVIEW_RETURNS):
        raise ReturnError("Only the community safety manager can review returns.")
    current = _locked(quarterly_return)
    # State before version: a double-clicked Approve is told the return is approved.
    if current.state != expected:
        raise ReturnError(
            f"This return is {current.get_state_display().lower()}, so it cannot be {verb}."
        )
    _check_version(current, seen_version)
    return current


@transaction.atomic
def approve_return(user, quarterly_return, *, seen_version: int | None) -> QuarterlyReturn:
    current = _review(user, quarterly_return, seen_version, State.SUBMITTED, "approved")
    current.state = State.APPROVED
    current.reviewed_by = user
    current.reviewed_at = timezone.now()
    current.reviewer_comment = ""
    _save(current, user, "Approved")
    notifications.return_approved(current)
    return current


def _back_to_agency(user, quarterly_return, reason, seen_version, *, expected, verb, label):
    """Return a return to its agency for correction, with the reason they will read."""
    reason = reason.strip()
    if not reason:
        raise ReturnError(f"Enter the reason for {verb} the return.")
    current = _review(user, quarterly_return, seen_version, expected, label)
    current.state = State.SENT_BACK
    current.reviewed_by = user
    current.reviewed_at = timezone.now()
    current.reviewer_comment = reason
    _save(current, user, f"{label.capitalize()}: {reason}")
    if not current.quarter.is_open:
        # In a closed quarter the agency could not otherwise correct it: the send-back
        # (or reopening) grants leave to, until it is resubmitted.
        _grant(
            user, current.quarter, current.action, current.agency, f"{label.capitalize()}: {reason}"
        )
    notifications.return_sent_back(current)
    return current


@transaction.atomic
def send_back(user, quarterly_return, *, comment: str, seen_version: int | None) -> QuarterlyReturn:
    return _back_to_agency(
        user,
        quarterly_return,
        comment,
        seen_version,
        expected=State.SUBMITTED,
        verb="sending back",
        label="sent back",
    )


@transaction.atomic
def reopen_return(user, quarterly_return, *, reason: str, seen_version: int | None):
    """Take an approved return back to the agency for correction."""
    return _back_to_agency(
        user,
        quarterly_return,
        reason,
        seen_version,
        expected=State.APPROVED,
        verb="reopening",
        label="reopened",
    )


@transaction.atomic
def set_quarter_open(user, quarter: Quarter, is_open: bool) -> Quarter:
    if not permissions.may(user, permissions.Capability.REVIEW_RETURNS):
        raise ReturnError("Only the community safety manager can open or close quarters.")
    _refuse_closed_plan(quarter)
    quarter = Quarter.objects.select_for_update().get(pk=quarter.pk)
    if quarter.is_open != is_open:
        quarter.is_open = is_open
        # Closing makes it the reporting quarter (priorities.quarters); reopening undoes it.
        quarter.closed_at = None if is_open else timezone.now()
        quarter._change_reason = "Opened" if is_open else "Closed"
        quarter._history_user = user
        quarter.save()
        audit.info("quarter %s %s by %s", quarter, "opened" if is_open else "closed", user.username)
    return quarter


@transaction.atomic
def grant_lock_exception(user, quarter, action, agency, *, reason: str) -> LockException:
    reason = reason.strip()
    if not permissions.may(user, permissions.Capability.REVIEW_RETURNS):
        raise ReturnError("Only the community safety manager can reopen a closed quarter.")
    if not reason:
        raise ReturnError("Enter the reason for reopening this return.")
    if quarter.is_open:
        raise ReturnError(f"{quarter.label} is open; no exception is needed.")
    _refuse_closed_plan(quarter)
    if not permissions.may_report_for(user, action, agency):
        raise ReturnError(
            f"{agency.name} does not lead or contribute to action {action.ref}, so it has no "
            "return to reopen."
        )
    return _grant(user, quarter, action, agency, reason)


def _grant(user, quarter, action, agency, reason: str) -> LockException:
    exception = LockException.objects.filter(
        quarter=quarter, action=action, agency=agency
    ).first() or LockException(quarter=quarter, action=action, agency=agency)
    exception.reason = reason
    exception.granted_by = user
    exception._history_user = user
    exception._change_reason = change_reason(reason)
    exception.save()
    audit.info("lock exception %s granted by %s: %s", exception, user.username, reason)
    return exception


def _end_lock_exception(user, quarter, action, agency) -> None:
    for exception in LockException.objects.filter(quarter=quarter, action=action, agency=agency):
        exception._history_user = user
        exception._change_reason = "Ended: the return was resubmitted"
        exception.delete()
        audit.info("lock exception %s ended: resubmitted by %s", exception, user.username)


@transaction.atomic
def set_metric_target(user, metric, *, changes: dict, reason: str):
    """How often a metric is asked and its target, with the reason in its history.
    A closed plan never changes."""
    from priorities.models import Plan

    current = (
        type(metric)
        .objects.select_for_update()
        .select_related("action__priority__plan")
        .get(pk=metric.pk)
    )
    if current.action.priority.plan.state == Plan.State.CLOSED:
        raise ReturnError("The plan is closed: its metrics no longer change.")
    for name, value in changes.items():
        setattr(current, name, value)
    current._history_user = user
    current._change_reason = change_reason(reason or "Target and frequency set")
    current.save()
    audit.info("metric %s target set by %s: %s", current.pk, user.username, reason)
    return current
