"""Which returns are owed, and in what state: the rows behind the partner home page."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from priorities.models import Quarter

from .models import Action, Agency, QuarterlyReturn

DONE = {QuarterlyReturn.State.SUBMITTED, QuarterlyReturn.State.APPROVED}


@dataclass(frozen=True)
class OwedReturn:
    action: Action
    agency: Agency
    quarter: Quarter
    quarterly_return: QuarterlyReturn | None
    today: datetime.date

    @property
    def state_label(self) -> str:
        if self.quarterly_return is None:
            return "Not started"
        return self.quarterly_return.get_state_display()

    @property
    def state(self) -> str:
        return self.quarterly_return.state if self.quarterly_return else "not_started"

    @property
    def due(self) -> datetime.date:
        return self.quarter.due

    @property
    def overdue(self) -> bool:
        return self.today > self.due and self.state not in DONE


def owed_returns(agencies, quarters, today: datetime.date | None = None) -> list[OwedReturn]:
    """Every (action, agency, quarter) the agencies owe in these quarters, with its return.

    An action for all partners is owed by each of the agencies. Three queries whatever the
    number of actions or returns.
    """
    today = today or timezone.localdate()
    agencies = list(agencies)
    quarters = list(quarters)
    if not agencies or not quarters:
        return []
    agency_ids = {agency.pk for agency in agencies}
    plans = {quarter.plan_id for quarter in quarters}
    actions = (
        Action.objects.filter(priority__plan__in=plans)
        .led_by(agencies)
        .with_plan_order()
        .prefetch_related("agencies")
    )
    returns = {
        (r.action_id, r.agency_id, r.quarter_id): r
        for r in QuarterlyReturn.objects.filter(agency__in=agencies, quarter__in=quarters)
    }
    rows = []
    for quarter in sorted(quarters, key=lambda q: (q.plan.financial_year, q.number), reverse=True):
        for action in actions:
            if action.priority.plan_id != quarter.plan_id:
                continue
            lead_ids = {agency.pk for agency in action.agencies.all()}
            for agency in agencies:
                if action.all_partners or agency.pk in lead_ids & agency_ids:
                    rows.append(
                        OwedReturn(
                            action=action,
                            agency=agency,
                            quarter=quarter,
                            quarterly_return=returns.get((action.pk, agency.pk, quarter.pk)),
                            today=today,
                        )
                    )
    return rows
