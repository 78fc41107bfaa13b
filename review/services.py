"""Comments, follow-ups and evidence on a return, and approving several returns at once.

Shaped like actions.services: atomic, the return's row locked where a state matters, a
ReturnError with a message for the user when something cannot happen, a line in the audit
log, the e-mail queued in the same transaction.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from actions import services as return_services
from actions.models import QuarterlyReturn
from actions.services import ReturnError
from crimestats.sources.files import Refused
from csp import permissions

from . import evidence as files
from . import notifications
from .models import Evidence, FollowUp, ReturnComment, returns_in_conversation

audit = logging.getLogger("csp.audit")


def evidence_storage():
    return files.evidence_storage()


def may_converse(user, quarterly_return) -> bool:
    """The manager, and the users of the return's agency; never the board."""
    return returns_in_conversation(user).filter(pk=quarterly_return.pk).exists()


@transaction.atomic
def add_comment(user, quarterly_return, text: str) -> ReturnComment:
    """A comment from the agency's side answers every open follow-up on the return."""
    text = text.strip()
    if not text:
        raise ReturnError("Enter your comment.")
    if not may_converse(user, quarterly_return):
        raise ReturnError("You cannot comment on this return.")
    comment = ReturnComment.objects.create(
        quarterly_return=quarterly_return, author=user, text=text
    )
    if not user.is_manager:
        cleared = FollowUp.objects.filter(quarterly_return=quarterly_return).open()
        cleared.update(
            cleared_by=user, cleared_at=comment.created_at, answer=FollowUp.Answer.COMMENT
        )
    audit.info("return %s comment %s by %s", quarterly_return.pk, comment.pk, user.username)
    notifications.comment_added(comment)
    return comment


@transaction.atomic
def raise_follow_up(user, quarterly_return, metric, note: str) -> FollowUp:
    note = note.strip()
    if not permissions.may(user, permissions.Capability.REVIEW_RETURNS):
        raise ReturnError("Only the community safety manager can mark a figure for follow-up.")
    if not note:
        raise ReturnError("Enter what you want to know about the figure.")
    if metric.action_id != quarterly_return.action_id:
        raise ReturnError("That figure is not part of this return.")
    current = QuarterlyReturn.objects.select_for_update().get(pk=quarterly_return.pk)
    if FollowUp.objects.filter(quarterly_return=current, metric=metric).open().exists():
        raise ReturnError(f"{metric.name} is already marked for follow-up.")
    follow_up = FollowUp.objects.create(
        quarterly_return=current,
        metric=metric,
        note=note,
        value_when_raised=current.values.get(str(metric.pk)),
        raised_by=user,
    )
    audit.info("return %s follow-up on metric %s by %s", current.pk, metric.pk, user.username)
    notifications.follow_up_raised(follow_up)
    return follow_up


def clear_changed_figures(quarterly_return) -> int:
    """On submission: each open follow-up whose figure now differs from when it was raised
    is answered (review.signals calls this inside the submission's transaction)."""
    cleared = 0
    for follow_up in FollowUp.objects.filter(quarterly_return=quarterly_return).open():
        if quarterly_return.values.get(str(follow_up.metric_id)) != follow_up.value_when_raised:
            follow_up.cleared_by = quarterly_return.submitted_by
            follow_up.cleared_at = timezone.now()
            follow_up.answer = FollowUp.Answer.CHANGED
            follow_up.save(update_fields=["cleared_by", "cleared_at", "answer"])
            cleared += 1
    return cleared


def _editable(user, quarterly_return, verb: str) -> QuarterlyReturn:
    if not permissions.may_edit_return(user, quarterly_return):
        raise ReturnError(
            f"Evidence can be {verb} only while the return is a draft or sent back, by its "
            "agency or the community safety manager."
        )
    current = QuarterlyReturn.objects.select_for_update().get(pk=quarterly_return.pk)
    if not current.is_editable:  # changed state since it was read
        raise ReturnError(current.locked_message)
    return current


@transaction.atomic
def attach_evidence(user, quarterly_return, uploaded, description: str = "") -> Evidence:
    """Store an uploaded file against the return, once its content says what it is."""
    current = _editable(user, quarterly_return, "added")
    if Evidence.objects.filter(quarterly_return=current).attached().count() >= (
        settings.EVIDENCE_MAX_FILES
    ):
        raise ReturnError(
            f"This return already has {settings.EVIDENCE_MAX_FILES} files, the most it may "
            "have. Remove one to add another."
        )
    try:
        stored = files.store(uploaded, f"returns/{current.pk}")
    except Refused as error:
        raise ReturnError(str(error)) from error
    attached = Evidence.objects.create(
        quarterly_return=current,
        name=stored.name,
        description=description.strip(),
        kind=stored.kind,
        size=stored.size,
        sha256=stored.sha256,
        stored_name=stored.stored_name,
        uploaded_by=user,
    )
    audit.info(
        "return %s evidence %s added by %s: %s %s bytes sha256 %s",
        current.pk,
        attached.pk,
        user.username,
        attached.kind,
        attached.size,
        attached.sha256,
    )
    return attached


@transaction.atomic
def remove_evidence(user, attached: Evidence) -> Evidence:
    """Remove a file while the return is a draft or sent back. Its row stays (who added it,
    who removed it, when), so the return's record keeps both; the bytes go once the removal
    is committed."""
    _editable(user, attached.quarterly_return, "removed")
    attached = Evidence.objects.select_for_update().get(pk=attached.pk)
    if attached.removed_at is not None:
        raise ReturnError(f"{attached.name} has already been removed.")
    attached.removed_by = user
    attached.removed_at = timezone.now()
    attached.save(update_fields=["removed_by", "removed_at"])
    stored_name = attached.stored_name
    transaction.on_commit(lambda: evidence_storage().delete(stored_name))
    audit.info(
        "return %s evidence %s removed by %s",
        attached.quarterly_return_id,
        attached.pk,
        user.username,
    )
    return attached


def approve_many(user, seen: dict[int, int]):
    """Approve each return (id → the version the manager confirmed) through the one approve
    transition, each in its own transaction: one refused leaves the others approved.
    Returns (approved, [(return, why refused)])."""
    approved, refused = [], []
    returns = QuarterlyReturn.objects.visible_to(user).with_context().filter(pk__in=seen)
    for quarterly_return in returns.order_by(
        "action__priority__number", "action__number", "agency__name"
    ):
        try:
            return_services.approve_return(
                user, quarterly_return, seen_version=seen[quarterly_return.pk]
            )
        except ReturnError as error:
            refused.append((quarterly_return, str(error)))
        else:
            approved.append(quarterly_return)
    return approved, refused
