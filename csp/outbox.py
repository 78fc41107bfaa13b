"""Outgoing e-mail: the queue that keeps mail out of requests, and the worker that empties it.

Every e-mail the app sends (a return approved or sent back, a reminder, a password reset)
is a row in django-post-office's queue, written in the same transaction as the change that
caused it (settings.EMAIL_BACKEND). The worker (``manage.py deliver_mail``) delivers what
is due through settings.MAIL_DELIVERY_BACKEND, with settings.EMAIL_TIMEOUT on every SMTP
call; a failure is tried again every RETRY_INTERVAL, MAX_RETRIES times, then marked failed
for the manager to see and retry on the Outgoing e-mail page.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils import timezone
from post_office.mail import get_queued, send_queued
from post_office.models import STATUS, Email, Log
from post_office.settings import get_max_retries

# A pass stops after this many batches (of POST_OFFICE's BATCH_SIZE, 100) even if more is
# due, so a worker always comes back to check whether it has been asked to stop.
MAX_BATCHES_PER_PASS = 20


class MailError(Exception):
    """A retry that cannot happen; the message is for the user."""


@dataclass(frozen=True)
class Delivery:
    sent: int = 0
    failed: int = 0  # given up: no retries left
    requeued: int = 0  # failed this time, tried again later

    def __add__(self, other: "Delivery") -> "Delivery":
        return Delivery(
            self.sent + other.sent,
            self.failed + other.failed,
            self.requeued + other.requeued,
        )


def deliver_queued() -> Delivery:
    """One pass of the worker: try every e-mail that is due, once."""
    total = Delivery()
    for _ in range(MAX_BATCHES_PER_PASS):
        if not get_queued().exists():
            break
        total += Delivery(*send_queued())
    return total


def with_last_error(emails: QuerySet) -> QuerySet:
    """Each e-mail with the error of its latest failed attempt (``last_error``), if any."""
    failures = Log.objects.filter(email=OuterRef("pk"), status=STATUS.failed).order_by("-date")
    return emails.annotate(last_error=Subquery(failures.values("message")[:1]))


def newest_first() -> QuerySet:
    return with_last_error(Email.objects.order_by("-created", "-pk")).only(
        "to", "subject", "status", "created", "last_updated", "scheduled_time", "number_of_retries"
    )


def state(email: Email, now: datetime.datetime | None = None) -> str:
    """The e-mail's state, in words."""
    if email.status == STATUS.sent:
        return "Sent"
    if email.status == STATUS.failed:
        return "Failed"
    if email.status == STATUS.requeued and _put_off(email, now or timezone.now()):
        return "Will try again"
    return "Waiting to be sent"


def next_attempt(email: Email, now: datetime.datetime | None = None) -> str:
    """When an e-mail put off after a failure is tried next, and which try that is."""
    if email.status != STATUS.requeued or not _put_off(email, now or timezone.now()):
        return ""
    when = timezone.localtime(email.scheduled_time)
    return f"Next try at {when:%H:%M} (attempt {email.number_of_retries + 1} of {get_max_retries() + 1})."


def _put_off(email: Email, now: datetime.datetime) -> bool:
    return bool(email.scheduled_time and email.scheduled_time > now)


def tag_colour(email: Email) -> str:
    """The GOV.UK tag colour that repeats what the state's words say."""
    return {STATUS.sent: "green", STATUS.failed: "red"}.get(email.status, "grey")


def counts() -> dict[str, int]:
    """How many e-mails are waiting, waiting to be tried again, and failed."""
    by_status = dict(
        Email.objects.filter(status__in=[STATUS.queued, STATUS.requeued, STATUS.failed])
        .order_by()
        .values("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    return {
        "waiting": by_status.get(STATUS.queued, 0),
        "retrying": by_status.get(STATUS.requeued, 0),
        "failed": by_status.get(STATUS.failed, 0),
    }


def may_retry(email: Email) -> bool:
    return email.status in (STATUS.failed, STATUS.requeued)


@transaction.atomic
def retry(email_id: int) -> Email:
    """Put a failed e-mail (or one waiting to be tried again) back in the queue, due now,
    with its automatic retries renewed."""
    email = Email.objects.select_for_update().filter(pk=email_id).first()
    if email is None:
        raise MailError("That e-mail is no longer in the queue.")
    if not may_retry(email):
        raise MailError(
            "That e-mail has been sent."
            if email.status == STATUS.sent
            else "That e-mail is already waiting to be sent."
        )
    # update(), not save(): post-office's save() re-validates every address, and a retry
    # must not fail on anything but the mail server.
    Email.objects.filter(pk=email.pk).update(
        status=STATUS.queued,
        scheduled_time=None,
        number_of_retries=0,
        last_updated=timezone.now(),
    )
    email.status = STATUS.queued
    return email
