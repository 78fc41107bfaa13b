"""The tables of figures on the dashboard, completeness and report pages, as downloads.

Each function gives the table with the column headings the page shows (the templates
render their headings from the same Sheet), so a download has the columns on screen. Where
a page splits one table by priority, the download is one table with a Priority column.
"""

from actions.states import rag_differs_note
from crimestats.downloads import position_cell
from crimestats.statistics import CrimeRow
from csp.exports import Percent, Sheet
from priorities.models import Quarter

from .summaries import (
    ActionProgress,
    Completeness,
    PriorityPicture,
    PriorityReport,
    RagChange,
)


def priority_name(priority) -> str:
    return priority.label


def missing_heading(past_due: bool) -> str:
    return "Missing" if past_due else "Not yet received"


def priorities_sheet(pictures: list[PriorityPicture], quarter: Quarter, past_due: bool) -> Sheet:
    headers = [
        "Priority",
        "Returns expected",
        "Received",
        "Approved",
        missing_heading(past_due),
        *(label for _, label, _ in (pictures[0].rag_counts if pictures else [])),
    ]
    rows = [
        [
            priority_name(picture.priority),
            picture.expected,
            picture.received,
            picture.approved,
            picture.missing,
            *(count for _, _, count in picture.rag_counts),
        ]
        for picture in pictures
    ]
    if pictures:
        rows.append(
            [
                "All priorities",
                *(sum(row[column] for row in rows) for column in range(1, len(headers))),
            ]
        )
    return Sheet(f"Priorities {quarter.label}", headers, rows)


def rag_changes_sheet(changes: list[RagChange], previous: Quarter, quarter: Quarter) -> Sheet:
    headers = [
        "Action",
        "Agency",
        previous.label,
        quarter.label,
        "Reason for status",
        "Against the figures",
    ]
    rows = [
        [
            change.quarterly_return.action.ref,
            change.quarterly_return.agency.name,
            change.previous_rag_label,
            change.quarterly_return.get_rag_display(),
            change.quarterly_return.rag_reason,
            rag_differs_note(change.quarterly_return),
        ]
        for change in changes
    ]
    return Sheet("Turned red or amber", headers, rows)


def grid_sheet(grid: Completeness) -> Sheet:
    headers = ["Priority", "Action", "Agency", *(quarter.label for quarter in grid.quarters)]
    rows = [
        [
            priority_name(priority),
            row.action.ref,
            row.agency.name,
            *(cell.text for cell in row.cells),
        ]
        for priority, row in grid.rows
    ]
    return Sheet("Completeness", headers, rows)


def rates_headers(grid: Completeness) -> list[str]:
    headers = ["Agency", "Returns due", "Received", "On time", "Late", "Missing", "Reporting rate"]
    if grid.quarter is not None:
        headers.append(f"Not received for {grid.quarter.label}")
    return headers


def rates_sheet(grid: Completeness) -> Sheet:
    rows = []
    for rate in grid.agencies:
        row = [
            rate.agency.name,
            rate.expected,
            rate.received,
            rate.on_time,
            rate.late,
            rate.missing,
            Percent(rate.rate, printed=True) if rate.rate is not None else rate.rate_display,
        ]
        if grid.quarter is not None:
            row.append(len(rate.outstanding))
        rows.append(row)
    return Sheet("Reporting rates", rates_headers(grid), rows)


CRIME_HEADERS = ["Crime type", "This year", "Last year", "% change", "Number change"]


def crime_headers(year: int) -> list[str]:
    return [*CRIME_HEADERS, f"County position {year - 1}", f"County position {year}"]


def crime_sheet(rows: list[CrimeRow], year: int) -> Sheet:
    return Sheet(
        f"Crime {year}",
        crime_headers(year),
        [
            [
                row.crime_type.label,
                row.this_year,
                row.last_year,
                Percent(row.percent_change),
                row.change,
                position_cell(row.previous_position),
                position_cell(row.position),
            ]
            for row in rows
        ],
    )


def exceptions_sheet(reports: list[PriorityReport]) -> Sheet:
    headers = [
        "Priority",
        "Action",
        "Agency",
        "RAG status",
        "Reason for status",
        "Against the figures",
    ]
    rows = [
        [
            priority_name(report.priority),
            quarterly_return.action.ref,
            quarterly_return.agency.name,
            quarterly_return.get_rag_display(),
            quarterly_return.rag_reason,
            rag_differs_note(quarterly_return),
        ]
        for report in reports
        for quarterly_return in report.exceptions
    ]
    return Sheet("Exceptions", headers, rows)


def overdue_sheet(reports: list[PriorityReport]) -> Sheet:
    headers = ["Priority", "Action", "Agency", "State"]
    rows = [
        [priority_name(report.priority), row.action.ref, row.agency.name, cell.state_label]
        for report in reports
        for row, cell in report.overdue
    ]
    return Sheet("Overdue returns", headers, rows)


def narratives_sheet(reports: list[PriorityReport]) -> Sheet:
    headers = ["Priority", "Action", "Agency", "RAG status", "Progress"]
    rows = [
        [
            priority_name(report.priority),
            quarterly_return.action.ref,
            quarterly_return.agency.name,
            quarterly_return.get_rag_display(),
            quarterly_return.narrative,
        ]
        for report in reports
        for quarterly_return in report.narratives
    ]
    return Sheet("Approved narratives", headers, rows)


def progress_sheet(progress: list[ActionProgress], quarters: list[Quarter], priority) -> Sheet:
    headers = ["Action", "Measure", *(quarter.label for quarter in quarters)]
    rows = [
        [
            item.action.ref,
            row.metric.name,
            *(
                total if total is not None else ("" if text == "–" else text)
                for text, total in zip(row.by_quarter, row.totals, strict=True)
            ),
        ]
        for item in progress
        for row in item.metrics
    ]
    return Sheet(f"Priority {priority.number} figures", headers, rows)
