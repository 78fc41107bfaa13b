"""What the return page shows of the conversation and the evidence: one place, read by the
return page (review.templatetags.review) and the conversation page. Three queries."""

from dataclasses import dataclass
from datetime import datetime

from .models import Evidence, FollowUp, ReturnComment


@dataclass
class Event:
    """One line of the return's conversation and evidence record, in time order."""

    when: datetime
    who: object
    what: str
    text: str = ""


def evidence_of(quarterly_return):
    return list(
        Evidence.objects.filter(quarterly_return=quarterly_return).select_related(
            "uploaded_by", "removed_by"
        )
    )


def record(quarterly_return, user) -> dict:
    """Evidence for whoever sees the return; the conversation, follow-ups and the record of
    uploads and removals for its agency's users and the manager, never the board."""
    evidence = evidence_of(quarterly_return)
    attached = [item for item in evidence if item.removed_at is None]
    context = {"evidence": attached, "quarterly_return": quarterly_return}
    if user.is_board_member:
        return context | {"converses": False}
    comments = list(
        ReturnComment.objects.filter(quarterly_return=quarterly_return).select_related("author")
    )
    follow_ups = list(
        FollowUp.objects.filter(quarterly_return=quarterly_return).select_related(
            "metric", "raised_by", "cleared_by"
        )
    )
    events = [Event(c.created_at, c.author, "Comment", c.text) for c in comments]
    for item in follow_ups:
        shown = "not given" if item.value_when_raised is None else item.value_when_raised
        events.append(
            Event(
                item.raised_at,
                item.raised_by,
                f"Follow-up: {item.metric.name} ({shown})",
                item.note,
            )
        )
        if item.cleared_at:
            events.append(
                Event(
                    item.cleared_at,
                    item.cleared_by,
                    f"Follow-up cleared: {item.metric.name}",
                    item.get_answer_display(),
                )
            )
    for item in evidence:
        events.append(Event(item.uploaded_at, item.uploaded_by, f"Evidence added: {item.name}"))
        if item.removed_at:
            events.append(Event(item.removed_at, item.removed_by, f"Evidence removed: {item.name}"))
    events.sort(key=lambda event: event.when)
    return context | {
        "converses": True,
        "comments": comments,
        "open_follow_ups": [item for item in follow_ups if item.is_open],
        "events": events,
    }
