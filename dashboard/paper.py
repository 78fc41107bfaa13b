"""The quarterly report as a Word document in the shape of a committee paper: title and
date, purpose, summary, a section per priority, the crime table, and the recommendation."""

import datetime
import io

from docx import Document
from docx.shared import Pt

from crimestats.statistics import CrimeRow, Headline
from csp.exports import Sheet
from csp.text import printable
from priorities.models import Plan, Quarter

from . import downloads
from .summaries import PriorityReport


def long_date(day: datetime.date) -> str:
    """26 November 2026 (strftime's %-d is not portable)."""
    return f"{day.day} {day:%B %Y}"


def headline_sentence(headline: Headline | None) -> str:
    if headline is None:
        return "No crime figures have been entered yet."
    row = headline.row
    if headline.direction == "unchanged":
        movement = "unchanged on the year before"
    else:
        movement = (
            f"{headline.direction} {abs(row.change):,} ({row.percent_change_display}) "
            "on the year before"
        )
    sentence = (
        f"All recorded crime in {headline.year}: {row.this_year_display} crimes "
        f"(previous year {row.last_year_display}), {movement}."
    )
    if row.position:
        sentence += (
            f" County position {row.position_display} of {headline.areas_compared} Kent areas."
        )
    return sentence


def returns_sentence(reports: list[PriorityReport], quarter: Quarter, past_due: bool) -> str:
    expected = sum(report.picture.expected for report in reports)
    received = sum(report.picture.received for report in reports)
    approved = sum(report.picture.approved for report in reports)
    missing = expected - received
    return (
        f"Of the {expected} returns expected for {quarter.label}, {received} have been "
        f"received and {approved} approved; {missing} "
        f"{'are missing' if past_due else 'are not yet received'}. "
        "Only approved returns are reported below."
    )


def rag_sentence(report: PriorityReport) -> str:
    if not report.picture.rag_total:
        return "No approved returns for this quarter."
    return f"Approved returns by RAG status: {report.picture.rag_summary}."


def _text(value) -> str:
    """Text as a Word file can hold it: text held from before the forms refused hidden
    control characters must not make the paper fail (csp.text.printable)."""
    return printable(str(value))


def _table(document, sheet: Sheet) -> None:
    table = document.add_table(rows=1, cols=len(sheet.headers))
    table.style = "Table Grid"
    for cell, header in zip(table.rows[0].cells, sheet.headers, strict=True):
        cell.text = _text(header)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in sheet.rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = (
                "" if value is None else f"{value:,}" if isinstance(value, int) else _text(value)
            )
    document.add_paragraph()


def board_paper(
    plan: Plan,
    quarter: Quarter,
    reports: list[PriorityReport],
    past_due: bool,
    headline: Headline | None,
    crime_rows: list[CrimeRow],
    crime_year: int | None,
    today: datetime.date,
) -> bytes:
    document = Document()
    document.core_properties.title = f"Quarterly report to the board: {quarter.label}"
    document.core_properties.author = "csp-plan"
    document.styles["Normal"].font.name = "Arial"
    document.styles["Normal"].font.size = Pt(11)

    document.add_paragraph(_text(f"{plan.partnership} Board"))
    document.add_heading(_text(f"Quarterly performance report: {quarter.label}"), level=0)
    details = document.add_table(rows=0, cols=2)
    details.style = "Table Grid"
    for key, value in [
        ("Date", long_date(today)),
        ("Report of", "Community Safety Manager"),
        ("Plan", plan.title),
        ("Quarter", f"{quarter.label}: {quarter.months} (returns due {long_date(quarter.due)})"),
    ]:
        cells = details.add_row().cells
        cells[0].text, cells[1].text = key, _text(value)
    document.add_paragraph()

    document.add_heading("1. Purpose of the report", level=1)
    document.add_paragraph(
        _text(
            f"To update the board on progress against the {plan.label} partnership plan in "
            f"{quarter.label} ({quarter.months}), from the partner agencies' approved "
            "quarterly returns, and on recorded crime against the year before."
        )
    )

    document.add_heading("2. Summary", level=1)
    document.add_paragraph(_text(headline_sentence(headline)))
    document.add_paragraph(returns_sentence(reports, quarter, past_due))
    _table(
        document,
        downloads.priorities_sheet([report.picture for report in reports], quarter, past_due),
    )

    document.add_heading("3. Progress by priority", level=1)
    for report in reports:
        priority = report.priority
        document.add_heading(
            _text(f"3.{priority.number} Priority {priority.number}: {priority.title}"), 2
        )
        document.add_paragraph(rag_sentence(report))
        document.add_heading(
            "Exceptions: red and amber, or a RAG that differs from the figures", level=3
        )
        if report.exceptions:
            _table(document, downloads.exceptions_sheet([report]))
        else:
            document.add_paragraph(
                "No approved return is red or amber, or differs from its figures."
            )
        document.add_heading("Exceptions: overdue returns", level=3)
        if report.overdue:
            for row, cell in report.overdue:
                document.add_paragraph(
                    _text(f"{row.action.ref} {row.agency.name}: {cell.state_label.lower()}"),
                    style="List Bullet",
                )
        else:
            document.add_paragraph("None overdue.")
        document.add_heading("Progress reported", level=3)
        if not report.narratives:
            document.add_paragraph("No approved narratives for this quarter.")
        for quarterly_return in report.narratives:
            paragraph = document.add_paragraph()
            paragraph.add_run(
                _text(
                    f"{quarterly_return.action.ref} {quarterly_return.agency.name} "
                    f"({quarterly_return.get_rag_display()}). "
                )
            ).bold = True
            paragraph.add_run(_text(quarterly_return.narrative))

    document.add_heading("4. Crime and disorder", level=1)
    if crime_year is not None and crime_rows:
        document.add_paragraph(_text(headline_sentence(headline)))
        _table(document, downloads.crime_sheet(crime_rows, crime_year))
        document.add_paragraph(
            "County position ranks the Kent districts by rate per 1,000 residents: 1 is the "
            "lowest rate; “=3” is a shared position; “--” means no position was published."
        )
    else:
        document.add_paragraph("No crime figures have been entered yet.")

    document.add_heading("5. Recommendation", level=1)
    document.add_paragraph(
        "The board is asked to note the progress reported, and to agree any action on the "
        "red and amber actions and the overdue returns."
    )

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
