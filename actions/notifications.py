"""E-mails to partner agencies about their returns.

Each is queued (settings.EMAIL_BACKEND is django-post-office's queue), inside the caller's
transaction, and delivered by the mail worker: nothing here talks to a mail server.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from csp.naming import names


def _reachable(members):
    """The members an e-mail reaches: active, with an address."""
    return members.filter(is_active=True).exclude(email="")


def agency_recipients(agency) -> list[str]:
    return sorted(_reachable(agency.members).values_list("email", flat=True))


def reachable_agencies(agency_ids) -> set[int]:
    """Of these agencies, those with a member an e-mail reaches. One query."""
    from accounts.models import User

    return set(
        _reachable(User.objects.filter(agencies__in=agency_ids)).values_list("agencies", flat=True)
    ) & set(agency_ids)


def _send(template: str, subject: str, recipients: list[str], context: dict) -> int:
    """Queue one e-mail to the recipients; the number queued (0 with no one to tell)."""
    if not recipients:
        return 0
    # The service's names: read here, unless a caller sending many read them once.
    named = context if "service_name" in context else names() | context
    body = render_to_string(template, named | {"site_url": settings.SITE_URL})
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    # The queue's backend counts only what it delivered at once, which is nothing.
    return 1


def return_approved(quarterly_return) -> int:
    return _send(
        "actions/email/return_approved.txt",
        f"Return approved: action {quarterly_return.action.ref}, {quarterly_return.quarter.label}",
        agency_recipients(quarterly_return.agency),
        {"return": quarterly_return, "url": reverse("return_detail", args=[quarterly_return.pk])},
    )


def return_sent_back(quarterly_return) -> int:
    return _send(
        "actions/email/return_sent_back.txt",
        f"Return sent back: action {quarterly_return.action.ref}, {quarterly_return.quarter.label}",
        agency_recipients(quarterly_return.agency),
        {"return": quarterly_return, "url": reverse("return_detail", args=[quarterly_return.pk])},
    )


def reminder(
    agency, quarter, actions, stage, death_review_updates: int = 0, service_names=None
) -> int:
    """``death_review_updates``: how many death review updates the agency still owes for
    the quarter (the caller asks deathreviews; this app sits below it). Only the count and
    a link: e-mail is less safe than the app, so no review's words. ``service_names``:
    csp.naming.names(), read once by a caller reminding many agencies."""
    overdue = stage == "overdue"
    subject = (
        f"Overdue: {len(actions)} return{'s' if len(actions) != 1 else ''} for {quarter.label}"
        if overdue
        else f"Due by {quarter.due:%d %B %Y}: returns for {quarter.label}"
    )
    return _send(
        "actions/email/reminder.txt",
        subject,
        agency_recipients(agency),
        {
            "agency": agency,
            "quarter": quarter,
            "actions": actions,
            "overdue": overdue,
            "death_review_updates": death_review_updates,
            "url": reverse("home"),
        }
        | (service_names or {}),
    )
