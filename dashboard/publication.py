"""The plan as the partnership publishes it: a cover (partnership, title, sign-off date and
contact), the strategic assessment's crime table, each priority's rationale and
recommendation, and one table of actions per priority (Ref, Action, Lead agencies, Measure,
Outcome). One shape for the Word document, the printable page and the public page; the
crime table is the crime statistics page's own (crimestats.statistics)."""

import datetime
import io
from dataclasses import dataclass

from django.db.models import Prefetch
from docx import Document
from docx.shared import Pt

from actions.models import Action
from crimestats import statistics
from crimestats.statistics import CrimeRow
from csp.naming import names
from csp.text import printable
from priorities.models import Plan, Priority
from priorities.publication import partnership_contact, partnership_name

from . import downloads
from .paper import long_date

ACTION_HEADERS = ["Ref", "Action", "Lead agencies", "Measure", "Outcome"]
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class PublishedPlan:
    plan: Plan
    partnership: str
    contact_name: str
    contact_email: str
    priorities: list[Priority]  # with their actions prefetched, in order
    crime_year: int | None
    crime_rows: list[CrimeRow]

    @property
    def action_headers(self) -> list[str]:
        return ACTION_HEADERS

    @property
    def crime_headers(self) -> list[str]:
        return downloads.crime_headers(self.crime_year) if self.crime_year else []

    @property
    def signed_off(self) -> str:
        return long_date(self.plan.signed_off) if self.plan.signed_off else ""

    @property
    def stem(self) -> str:
        return f"plan-{self.plan.financial_year}-{(self.plan.financial_year + 1) % 100:02d}"


def published_plan(plan: Plan) -> PublishedPlan:
    """What the published plan prints, in a handful of queries."""
    priorities = list(
        Priority.objects.filter(plan=plan)
        .order_by("number")
        .prefetch_related(
            Prefetch("actions", Action.objects.select_related("priority").order_by("number"))
        )
    )
    # The assessment period's calendar year, where its figures are held.
    area = statistics.home_area()
    year = plan.assessment_end.year
    rows = statistics.crime_table(area, year) if area else []
    if not any(row.this_year is not None for row in rows):
        year, rows = None, []
    contact_name, contact_email = partnership_contact(plan)
    return PublishedPlan(
        plan=plan,
        partnership=partnership_name(plan),
        contact_name=contact_name,
        contact_email=contact_email,
        priorities=priorities,
        crime_year=year,
        crime_rows=rows,
    )


def _text(value) -> str:
    return printable(str(value))


def _paragraphs(text: str) -> list[str]:
    return [part.strip() for part in text.split("\n\n") if part.strip()]


def _table(document, headers, rows) -> None:
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, header in zip(table.rows[0].cells, headers, strict=True):
        cell.text = _text(header)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        for cell, value in zip(table.add_row().cells, row, strict=True):
            cell.text = _text(value)
    document.add_paragraph()


def word_document(published: PublishedPlan, today: datetime.date) -> bytes:
    plan = published.plan
    document = Document()
    properties = document.core_properties
    properties.title = _text(plan.title)
    properties.subject = _text(f"{published.partnership} plan {plan.label}")
    properties.author = _text(published.contact_name or published.partnership)
    properties.last_modified_by = _text(names()["service_name"])
    properties.keywords = "community safety partnership; strategic assessment; action plan"
    properties.category = "Community Safety Partnership Plan"
    properties.comments = _text(
        f"Signed off by the partnership on {published.signed_off}."
        if published.signed_off
        else "Not yet signed off."
    )
    properties.created = datetime.datetime.combine(today, datetime.time())
    properties.language = "en-GB"
    document.styles["Normal"].font.name = "Arial"
    document.styles["Normal"].font.size = Pt(11)

    # The cover.
    document.add_paragraph(_text(published.partnership))
    document.add_heading(_text(plan.title), level=0)
    if published.contact_name:
        document.add_paragraph(_text(f"Produced by {published.contact_name}"))
    if published.contact_email:
        document.add_paragraph(_text(f"Please contact {published.contact_email}"))
    document.add_paragraph(
        f"Community Safety Partnership sign-off: {published.signed_off}"
        if published.signed_off
        else "Community Safety Partnership sign-off: not yet signed off"
    )
    document.add_page_break()

    document.add_heading("Strategic assessment", level=1)
    document.add_paragraph(_text(f"The strategic assessment covers {plan.assessment_period}."))
    if published.crime_rows:
        document.add_paragraph(
            f"Recorded crime and incidents, {published.crime_year} against "
            f"{published.crime_year - 1}, with county position."
        )
        sheet = downloads.crime_sheet(published.crime_rows, published.crime_year)
        _table(
            document,
            sheet.headers,
            [["" if value is None else f"{value:,}" if isinstance(value, int) else value
              for value in row] for row in sheet.rows],
        )  # fmt: skip
    else:
        document.add_paragraph("No crime figures are held for the assessment period.")

    for priority in published.priorities:
        document.add_heading(_text(priority.short_title or priority.title), level=2)
        for paragraph in _paragraphs(priority.rationale):
            document.add_paragraph(_text(paragraph))
        if priority.recommendation:
            document.add_paragraph(_text(priority.recommendation))

    document.add_heading(_text(f"Recommended Priorities for {plan.label}"), level=1)
    for priority in published.priorities:
        document.add_paragraph(_text(priority.short_title or priority.title), style="List Number")

    document.add_page_break()
    document.add_heading(_text(f"Action Plan {plan.label}"), level=1)
    for priority in published.priorities:
        document.add_heading(_text(f"Priority {priority.number}: {priority.title}"), level=2)
        _table(
            document,
            ACTION_HEADERS,
            [
                [action.ref, action.description, action.lead_agencies, action.measure,
                 action.outcome]
                for action in priority.actions.all()
            ],
        )  # fmt: skip
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
