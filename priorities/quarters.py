"""Which quarter a page shows: the one answer for every page with quarter-dependent figures.

The reporting quarter is the latest quarter the manager has closed for entry (closing says
"its returns are in; report it"), or, before any is closed, the first open quarter (and
before any is open, the first). Approving a return moves no page: only closing a quarter
does. A page shows another quarter when asked (?quarter=3), through its quarter picker.
"""

from csp.querystring import whole_number

from .models import Plan, Quarter


def plan_quarters(plan: Plan | None) -> list[Quarter]:
    if plan is None:
        return []
    return list(Quarter.objects.filter(plan=plan).select_related("plan").order_by("number"))


def reporting_quarter(quarters: list[Quarter]) -> Quarter | None:
    """The latest closed quarter; before any is closed, the first open one; else the first."""
    if not quarters:
        return None
    closed = [quarter for quarter in quarters if quarter.closed_at and not quarter.is_open]
    if closed:
        return max(closed, key=lambda quarter: quarter.number)
    return next((quarter for quarter in quarters if quarter.is_open), quarters[0])


def open_for_entry(quarters: list[Quarter]) -> list[Quarter]:
    """The quarters returns are being entered for: those the manager has opened (the
    partner home lists what is owed in each, newest first)."""
    return [quarter for quarter in quarters if quarter.is_open]


def chosen_quarter(quarters: list[Quarter], raw: str | None) -> Quarter | None:
    """The quarter asked for by number (?quarter=3); anything else, the reporting quarter."""
    by_number = {quarter.number: quarter for quarter in quarters}
    return by_number.get(whole_number(raw)) or reporting_quarter(quarters)


def previous_quarter(quarters: list[Quarter], quarter: Quarter) -> Quarter | None:
    """The quarter before, in the same plan year (Q1 has none: the next year's plan has
    different actions)."""
    return next((other for other in quarters if other.number == quarter.number - 1), None)
