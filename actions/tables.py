import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from .models import QuarterlyReturn
from .states import days_waiting


class ReviewTable(tables.Table):
    # The fields of a return and its relations the columns read (for QuerySet.only).
    FIELDS = (
        "rag",
        "submitted_at",
        "action__number",
        "action__description",
        "action__priority__number",
        "agency__name",
        "quarter__number",
        "quarter__plan__financial_year",
    )

    ref = tables.Column(
        verbose_name="Action",
        accessor="action__ref",
        order_by=("action__priority__number", "action__number"),
        linkify=lambda record: reverse("return_detail", args=[record.pk]),
    )
    description = tables.Column(
        verbose_name="Description", accessor="action__description", orderable=False
    )
    agency = tables.Column(verbose_name="Agency", accessor="agency__name")
    quarter = tables.Column(
        verbose_name="Quarter",
        accessor="quarter__label",
        order_by=("quarter__plan__financial_year", "quarter__number"),
    )
    rag = tables.Column(verbose_name="RAG status")
    submitted_at = tables.DateTimeColumn(verbose_name="Submitted", format="j M Y H:i")
    # Ticked returns go to the confirmation page of review.views.bulk_approve.
    select = tables.Column(verbose_name="Select", accessor="pk", orderable=False)
    waited = tables.Column(
        verbose_name="Waiting", accessor="submitted_at", order_by=("submitted_at",)
    )

    class Meta:
        model = QuarterlyReturn
        fields = (
            "ref",
            "description",
            "agency",
            "quarter",
            "rag",
            "submitted_at",
            "waited",
            "select",
        )
        order_by = ("submitted_at",)
        empty_text = "No returns are waiting for review."
        # Its rows written out for these columns: django-tables2's cell-by-cell rendering
        # was most of the review queue's time (see docs/performance.md).
        template_name = "actions/review_table.html"

    def render_description(self, value):
        return value if len(value) <= 90 else value[:89] + "…"

    def render_rag(self, record):
        return record.get_rag_display() or "Not given"

    def render_select(self, record):
        return format_html(
            '<div class="govuk-checkboxes govuk-checkboxes--small" data-module="govuk-checkboxes">'
            '<div class="govuk-checkboxes__item">'
            '<input class="govuk-checkboxes__input" id="select-{}" name="returns" type="checkbox" value="{}">'
            '<label class="govuk-label govuk-checkboxes__label" for="select-{}">'
            '<span class="govuk-visually-hidden">Select {} {}</span></label></div></div>',
            record.pk,
            record.pk,
            record.pk,
            record.action.ref,
            record.agency.name,
        )

    def render_waited(self, value):
        return days_waiting(value)
