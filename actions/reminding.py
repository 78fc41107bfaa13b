"""When each agency was last reminded of its returns, and whether it can be reminded.

The completeness page shows both, asks before reminding an agency again within
``REMIND_AGAIN_AFTER``, and offers no reminder to an agency nobody would receive.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone

from priorities.models import Quarter

from . import notifications
from .models import Agency, AgencyReminder, Reminder

REMIND_AGAIN_AFTER = datetime.timedelta(hours=24)

# What else agencies owe for a quarter, told in the same reminder as a count: death review
# updates (deathreviews.apps registers deathreviews.obligations.outstanding_counts). A
# function of a quarter giving {agency id: how many}. Registered from above, as this app
# sits below the ones that owe alongside returns.
UPDATES_OWED = []


def updates_owed(quarter: Quarter) -> dict[int, int]:
    """For each agency, how many updates it still owes for the quarter (beside returns)."""
    counts: dict[int, int] = {}
    for provider in UPDATES_OWED:
        for agency_pk, count in provider(quarter).items():
            counts[agency_pk] = counts.get(agency_pk, 0) + count
    return counts


@dataclass(frozen=True)
class ReminderStatus:
    agency: Agency
    last_reminded: datetime.datetime | None
    reachable: bool  # has an active member with an e-mail address

    @property
    def recently_reminded(self) -> bool:
        return (
            self.last_reminded is not None
            and timezone.now() - self.last_reminded < REMIND_AGAIN_AFTER
        )


def reminder_statuses(quarter: Quarter, agencies) -> dict[int, ReminderStatus]:
    """Agency id → its status for the quarter: the latest reminder of either kind (the
    manager's from the completeness page, the daily command's). Three queries."""
    agencies = list(agencies)
    ids = [agency.pk for agency in agencies]
    last: dict[int, datetime.datetime] = {}
    for model in (AgencyReminder, Reminder):
        for agency_id, sent_at in (
            model.objects.filter(quarter=quarter, agency__in=ids)
            .values("agency")
            .annotate(last=Max("sent_at"))
            .values_list("agency", "last")
        ):
            last[agency_id] = max(sent_at, last.get(agency_id, sent_at))
    reachable = notifications.reachable_agencies(ids)
    return {
        agency.pk: ReminderStatus(agency, last.get(agency.pk), agency.pk in reachable)
        for agency in agencies
    }


def reminder_status(quarter: Quarter, agency: Agency) -> ReminderStatus:
    return reminder_statuses(quarter, [agency])[agency.pk]


def record_reminder(user, agency: Agency, quarter: Quarter, returns: int) -> AgencyReminder:
    return AgencyReminder.objects.create(
        quarter=quarter, agency=agency, returns=returns, sent_by=user
    )
