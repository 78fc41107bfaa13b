"""E-mails about the conversation on a return: each goes to the other side (queued, as
actions.notifications' are)."""

from django.urls import reverse

from accounts.models import Role, User
from actions.notifications import _reachable, _send, agency_recipients


def manager_recipients() -> list[str]:
    return sorted(
        _reachable(User.objects.filter(role=Role.MANAGER)).values_list("email", flat=True)
    )


def _about(quarterly_return) -> str:
    return f"action {quarterly_return.action.ref}, {quarterly_return.agency.short_name}, {quarterly_return.quarter.label}"


def comment_added(comment) -> int:
    quarterly_return = comment.quarterly_return
    from_manager = comment.author.is_manager
    recipients = (
        agency_recipients(quarterly_return.agency) if from_manager else manager_recipients()
    )
    recipients = [address for address in recipients if address != comment.author.email]
    return _send(
        "review/email/comment_added.txt",
        f"New comment on the return for {_about(quarterly_return)}",
        recipients,
        {
            "comment": comment,
            "return": quarterly_return,
            "url": reverse("return_detail", args=[quarterly_return.pk]),
        },
    )


def follow_up_raised(follow_up) -> int:
    quarterly_return = follow_up.quarterly_return
    return _send(
        "review/email/follow_up_raised.txt",
        f"A figure to follow up: {_about(quarterly_return)}",
        agency_recipients(quarterly_return.agency),
        {
            "follow_up": follow_up,
            "return": quarterly_return,
            "url": reverse("return_detail", args=[quarterly_return.pk]),
        },
    )
