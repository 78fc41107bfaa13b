"""The quarterly report as a Word document in the shape of a committee paper.

Each page has a header (the partnership's board and the paper's date), a footer (the
protective marking the manager chose, and "Page X of Y"). The paper opens with a cover
block (meeting, date, author, purpose, recommendation, version, marking), then the key
messages the manager wrote, the returns' summary, a section per priority (RAG counts,
exceptions, the approved narratives under each action's ref and text), the crime table,
the death reviews (counts and references; a recommendation's words only once its review is
published) and the recommendation. RAG cells are shaded and worded, never colour alone.
"""

import datetime
import io
from itertools import groupby

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt

from actions.models import QuarterlyReturn
from crimestats.statistics import CrimeRow, Headline
from csp.exports import Sheet
from csp.text import printable
from deathreviews.board import PaperSection
from priorities.models import Plan, Quarter

from . import downloads
from .models import BoardPaper
from .summaries import PriorityReport

RAG = QuarterlyReturn.RAG
# GOV.UK Frontend's tag colours: light fills that keep black text readable.
RAG_FILLS = {
    RAG.RED.label: "F4CDC6",
    RAG.AMBER.label: "FFF7BF",
    RAG.GREEN.label: "CCE2D8",
    RAG.COMPLETE.label: "BBD4EA",
    RAG.NOT_STARTED.label: "E5E6E7",
}


def long_date(day: datetime.date) -> str:
    """26 November 2026 (strftime's %-d is not portable)."""
    return f"{day.day} {day:%B %Y}"


def headline_sentence(headline: Headline | None) -> str:
    if headline is None:
        return "No crime figures have been published yet."
    row = headline.row
    if headline.direction == "unchanged":
        movement = "unchanged on the year before"
    else:
        movement = (
            f"{headline.direction} {abs(row.change):,} ({row.percent_change_display}) "
            "on the year before"
        )
    sentence = (
        f"All recorded crime in {headline.year} (the latest year published): "
        f"{row.this_year_display} crimes "
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


def _shade(cell, fill: str) -> None:
    """Shade a table cell (w:shd), as Word's own Shading button does."""
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _cell_text(value) -> str:
    return "" if value is None else f"{value:,}" if isinstance(value, int) else _text(value)


def _table(document, sheet: Sheet, skip: int = 0) -> None:
    """A sheet as a Word table, without its first ``skip`` columns (the section heading
    already says them). A RAG status cell, and a heading that is a RAG status, is shaded
    in its colour as well as worded."""
    headers = list(sheet.headers)[skip:]
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.text = _text(header)
        for run in cell.paragraphs[0].runs:
            run.bold = True
        if header in RAG_FILLS:
            _shade(cell, RAG_FILLS[header])
    rag_column = headers.index("RAG status") if "RAG status" in headers else None
    for row in sheet.rows:
        cells = table.add_row().cells
        for index, (cell, value) in enumerate(zip(cells, list(row)[skip:], strict=True)):
            cell.text = _cell_text(value)
            if index == rag_column and str(value) in RAG_FILLS:
                _shade(cell, RAG_FILLS[str(value)])
    document.add_paragraph()


def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that Word fills in as it lays out the pages."""
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    shown = OxmlElement("w:t")
    shown.text = "1"
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, text, separate, shown, end):
        run._r.append(element)


def version_line(paper: BoardPaper) -> str:
    if paper.is_issued:
        return f"Version {paper.version}, issued {long_date(paper.issued_at.date())}"
    return f"Version {paper.version}: DRAFT, not issued"


def _header_and_footer(document, plan: Plan, paper: BoardPaper) -> None:
    section = document.sections[0]
    header = section.header.paragraphs[0]
    header.text = _text(f"{plan.partnership} Board · {long_date(paper.meeting_date)}")
    if not paper.is_issued:
        header.add_run(" · DRAFT").bold = True
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run(paper.marking).bold = True
    page = section.footer.add_paragraph()
    page.alignment = WD_ALIGN_PARAGRAPH.CENTER
    page.add_run("Page ")
    _field(page, "PAGE")
    page.add_run(" of ")
    _field(page, "NUMPAGES")


def _narratives(document, report: PriorityReport) -> None:
    """Each action's ref and text, then each agency's RAG status and narrative."""
    if not report.narratives:
        document.add_paragraph("No approved narratives for this quarter.")
    for _, returns in groupby(report.narratives, key=lambda r: r.action_id):
        returns = list(returns)
        action = returns[0].action
        document.add_heading(_text(f"{action.ref} {action.description}"), level=4)
        for quarterly_return in returns:
            paragraph = document.add_paragraph()
            paragraph.add_run(
                _text(f"{quarterly_return.agency.name} ({quarterly_return.get_rag_display()}): ")
            ).bold = True
            paragraph.add_run(_text(quarterly_return.narrative))


def death_reviews_sentence(section: PaperSection) -> str:
    if not section.reviews:
        return "No death reviews have been recorded."
    return (
        f"{section.reviews:,} death review{'s' if section.reviews != 1 else ''} with "
        f"{section.recommendations:,} recommendation{'s' if section.recommendations != 1 else ''}; "
        f"{section.overdue_actions:,} action{'s are' if section.overdue_actions != 1 else ' is'} "
        "past its target date. Reviews are named by reference only; a recommendation's words "
        "are given once its review is published."
    )


def _death_reviews(document, section: PaperSection) -> None:
    """Counts and references; the words only of published reviews' recommendations
    (deathreviews.board.paper_section chose them)."""
    document.add_paragraph(death_reviews_sentence(section))
    if not section.reviews:
        return
    by_state, by_status, overdue = section.sheets()
    document.add_heading("Reviews by state", level=3)
    _table(document, by_state)
    document.add_heading("Recommendations by status", level=3)
    _table(document, by_status)
    document.add_heading("Overdue actions by lead agency", level=3)
    if overdue.rows:
        _table(document, overdue)
    else:
        document.add_paragraph("No action is past its target date.")
    if section.published_overdue:
        document.add_heading("Overdue recommendations of published reviews", level=3)
        for item in section.published_overdue:
            paragraph = document.add_paragraph()
            paragraph.add_run(
                _text(
                    f"{item.review_reference} recommendation {item.number} "
                    f"(overdue: {', '.join(item.refs)}): "
                )
            ).bold = True
            paragraph.add_run(_text(item.text))


def board_paper(
    plan: Plan,
    quarter: Quarter,
    reports: list[PriorityReport],
    past_due: bool,
    headline: Headline | None,
    crime_rows: list[CrimeRow],
    crime_year: int | None,
    paper: BoardPaper,
    now: datetime.datetime,
    death_reviews: PaperSection,
) -> bytes:
    """The committee paper for a quarter, with ``paper``'s cover and messages."""
    document = Document()
    properties = document.core_properties
    properties.title = _text(
        f"{plan.partnership} Board: quarterly performance report, {quarter.label}"
    )
    properties.subject = _text(f"{plan.title}: {quarter.label}")
    properties.author = _text(paper.author)
    properties.last_modified_by = _text(paper.author)
    properties.created = now
    properties.modified = now
    properties.revision = paper.version
    properties.keywords = paper.marking
    properties.comments = ""
    properties.category = "Committee paper"
    document.styles["Normal"].font.name = "Arial"
    document.styles["Normal"].font.size = Pt(11)
    _header_and_footer(document, plan, paper)

    document.add_paragraph(_text(paper.meeting))
    document.add_heading(_text(f"Quarterly performance report: {quarter.label}"), level=0)
    cover = document.add_table(rows=0, cols=2)
    cover.style = "Table Grid"
    for key, value in [
        ("Meeting", paper.meeting),
        ("Date", long_date(paper.meeting_date)),
        ("Author", paper.author),
        ("Purpose", paper.purpose),
        ("Recommendation", paper.recommendation),
        ("Protective marking", paper.marking),
        ("Version", version_line(paper)),
        ("Quarter", f"{quarter.label}: {quarter.months} (returns due {long_date(quarter.due)})"),
    ]:
        cells = cover.add_row().cells
        cells[0].text, cells[1].text = key, _text(value)
        cells[0].paragraphs[0].runs[0].bold = True
    document.add_paragraph()

    document.add_heading("1. Purpose of the report", level=1)
    document.add_paragraph(_text(paper.purpose))

    document.add_heading("2. Key messages", level=1)
    messages = paper.key_message_list()
    if not messages:
        document.add_paragraph("No key messages have been written yet.")
    for message in messages:
        document.add_paragraph(_text(message), style="List Bullet")
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
            _table(document, downloads.exceptions_sheet([report]), skip=1)
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
        _narratives(document, report)

    document.add_heading("4. Crime and disorder", level=1)
    if crime_year is not None and crime_rows:
        document.add_paragraph(_text(headline_sentence(headline)))
        _table(document, downloads.crime_sheet(crime_rows, crime_year))
        document.add_paragraph(
            "County position ranks the Kent districts by rate per 1,000 residents: 1 is the "
            "lowest rate; “=3” is a shared position; “--” means no position was published."
        )
    else:
        document.add_paragraph("No crime figures have been published yet.")

    document.add_heading("5. Death reviews", level=1)
    _death_reviews(document, death_reviews)

    document.add_heading("6. Recommendation", level=1)
    document.add_paragraph(_text(paper.recommendation))

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
