"""What is still outstanding when the manager closes a quarter.

Counts through ``actions.obligations``, the one answer to who owes a return: the owed
returns not yet submitted or reviewed, and the contributions submitted and not yet reviewed.
"""

from dataclasses import dataclass

from priorities.models import Quarter

from .models import Agency, QuarterlyReturn
from .obligations import obligations

State = QuarterlyReturn.State


@dataclass
class Outstanding:
    """One agency's owed returns for the quarter that are not yet in or not yet reviewed."""

    agency: Agency
    not_submitted: int = 0  # not started, draft, or sent back and not yet resubmitted
    awaiting_review: int = 0  # submitted, neither approved nor sent back

    @property
    def total(self) -> int:
        return self.not_submitted + self.awaiting_review


def outstanding_by_agency(quarter: Quarter) -> list[Outstanding]:
    """Agencies with owed returns for the quarter not yet submitted or not yet reviewed,
    by name. A fixed number of queries."""
    by_agency: dict[int, Outstanding] = {}
    for owed in obligations([quarter]):
        waiting = owed.state == State.SUBMITTED
        if owed.approved or not (owed.required or waiting):
            continue  # approved, or a contribution not made: nothing outstanding
        row = by_agency.setdefault(owed.agency.pk, Outstanding(owed.agency))
        if waiting:
            row.awaiting_review += 1
        else:
            row.not_submitted += 1
    return sorted(by_agency.values(), key=lambda row: row.agency.name.lower())
