"""The death reviews panel on the manager's home: every step overdue by the guidance's time
limits (rules.overdue_steps), one query whatever the number of reviews."""

import datetime

from . import rules
from .models import Review


def manager_summary(today: datetime.date) -> list[dict]:
    """Each review with a step overdue, oldest notification first: the review and its
    overdue steps."""
    rows = []
    for review in Review.objects.filter(published_on__isnull=True).order_by(
        "notified_on", "reference"
    ):
        steps = rules.overdue_steps(review, today)
        if steps:
            rows.append({"review": review, "steps": steps})
    return rows
