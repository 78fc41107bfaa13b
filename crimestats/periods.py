"""Periods the figures are read for, and how the published periods roll up into them.

The Home Office publishes financial quarters (Q1 = April to June); police.uk publishes
months. A period here is a run of whole months, so both sources roll up the same way:

- a calendar year, January to December: Q4 of the previous financial year (January to
  March) and Q1 to Q3 of the financial year that starts in it (April to December);
- a financial year, April to March: its four quarters;
- the plan's assessment period (e.g. January to December 2021), from the plan's dates.

A period that does not start and end on quarter boundaries has no Home Office figure.
"""

import datetime
from dataclasses import dataclass
from enum import StrEnum


class Basis(StrEnum):
    CALENDAR = "calendar"
    FINANCIAL = "financial"


def month_index(day: datetime.date) -> int:
    """Months since year 0, so periods can be compared and shifted with arithmetic."""
    return day.year * 12 + day.month - 1


def month_from_index(index: int) -> datetime.date:
    return datetime.date(index // 12, index % 12 + 1, 1)


def quarter_start(financial_year: int, quarter: int) -> datetime.date:
    """The first month of a financial quarter: 2020 Q1 → April 2020, 2020 Q4 → January 2021."""
    return month_from_index(financial_year * 12 + 3 + 3 * (quarter - 1))


def quarter_of(month: datetime.date) -> tuple[int, int]:
    """The financial year and quarter a month falls in: January 2021 → (2020, 4)."""
    index = month_index(month) - 3  # months since April of year 0
    return index // 12, index % 12 // 3 + 1


def financial_year_label(year: int) -> str:
    """2020 → "2020/21"."""
    return f"{year}/{(year + 1) % 100:02d}"


@dataclass(frozen=True)
class Period:
    """Whole months from ``first`` to ``last`` inclusive (both the first day of a month)."""

    first: datetime.date
    last: datetime.date
    label: str

    @property
    def months(self) -> list[datetime.date]:
        return [
            month_from_index(index)
            for index in range(month_index(self.first), month_index(self.last) + 1)
        ]

    @property
    def quarters(self) -> list[tuple[int, int]] | None:
        """The financial quarters that make up the period, oldest first, or None where the
        period starts or ends part-way through a quarter."""
        first, last = month_index(self.first), month_index(self.last)
        if (first - 3) % 3 or (last - 3) % 3 != 2:
            return None
        return [quarter_of(month_from_index(index)) for index in range(first, last + 1, 3)]

    def shifted(self, years: int, label: str) -> "Period":
        return Period(
            month_from_index(month_index(self.first) + 12 * years),
            month_from_index(month_index(self.last) + 12 * years),
            label,
        )

    def __str__(self) -> str:
        return self.label


def calendar_year(year: int) -> Period:
    return Period(datetime.date(year, 1, 1), datetime.date(year, 12, 1), str(year))


def financial_year(year: int) -> Period:
    return Period(
        datetime.date(year, 4, 1), datetime.date(year + 1, 3, 1), financial_year_label(year)
    )


def year_period(basis: Basis, year: int) -> Period:
    return financial_year(year) if basis == Basis.FINANCIAL else calendar_year(year)


def previous(basis: Basis, year: int) -> Period:
    return year_period(basis, year - 1)


def assessment_period(plan) -> Period:
    """The plan's strategic assessment period, e.g. January to December 2021."""
    first = plan.assessment_start.replace(day=1)
    last = plan.assessment_end.replace(day=1)
    return Period(first, last, f"{first:%B %Y} to {last:%B %Y}")
