"""E-mails to an agency about its death review updates. E-mail is less safe than the app,
so they carry references and a link, never a review's or an update's words (not even the
reason an update was sent back: the agency reads it after signing in)."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from actions.notifications import agency_recipients


def _send(template: str, subject: str, update, context: dict) -> int:
    recipients = agency_recipients(update.action.lead_agency)
    if not recipients:
        return 0
    body = render_to_string(
        template,
        context
        | {
            "update": update,
            "site_url": settings.SITE_URL,
            "url": reverse("death_review_update_detail", args=[update.pk]),
        },
    )
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    return 1


def update_approved(update, *, closed: bool) -> int:
    action = update.action
    return _send(
        "deathreviews/email/progress_approved.txt",
        f"Death review update approved: action {action.ref}, {update.quarter.label}",
        update,
        {"closed": closed},
    )


def update_sent_back(update) -> int:
    action = update.action
    return _send(
        "deathreviews/email/progress_sent_back.txt",
        f"Death review update sent back: action {action.ref}, {update.quarter.label}",
        update,
        {},
    )
