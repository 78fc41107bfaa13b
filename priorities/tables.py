import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from actions.models import Action, QuarterlyReturn
from actions.states import NO_APPROVED_RAG
from csp.permissions import Capability, may

RAG_LABELS = dict(QuarterlyReturn.RAG.choices)
# A partner reads their own agencies' returns only: an action without a RAG status may have
# one from another agency, which is not theirs to see (the action page shows them the same).
NONE_VISIBLE = "No approved return you can see"


def rag_label(value, empty: str = NO_APPROVED_RAG) -> str:
    # The column shows approved returns only: no page says "not reported" of a return
    # that may exist and be waiting for review.
    return RAG_LABELS.get(value, empty)


class ActionTable(tables.Table):
    ref = tables.Column(
        verbose_name="Ref",
        accessor="ref",
        order_by=("priority__number", "number"),
        linkify=lambda record: reverse("action_detail", args=[record.pk]),
    )
    priority = tables.Column(
        verbose_name="Priority", accessor="priority__title", order_by=("priority__number",)
    )
    description = tables.Column(verbose_name="Action")
    lead_agencies = tables.Column(verbose_name="Lead agencies")
    measure = tables.Column(verbose_name="Measure")
    latest_rag = tables.Column(verbose_name="RAG status", empty_values=())

    class Meta:
        model = Action
        fields = ("ref", "priority", "description", "lead_agencies", "measure", "latest_rag")
        order_by = ("ref",)
        empty_text = "No actions match these filters."
        attrs = {"class": "govuk-table app-table--plan"}
        # Its rows written out for these columns: django-tables2's cell-by-cell rendering
        # was most of the action plan's time (see docs/performance.md).
        template_name = "priorities/action_table.html"

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        # The manager and the board read every agency's approved returns (as the board
        # paper does); a partner only their own agencies'.
        sees_all = user is None or may(user, Capability.VIEW_BOARD_REPORT)
        self.no_rag_label = NO_APPROVED_RAG if sees_all else NONE_VISIBLE

    def render_ref(self, value, record):
        return format_html('<span class="app-nowrap">{}</span>', value)

    def value_ref(self, value):
        return value

    def render_latest_rag(self, value):
        return rag_label(value, self.no_rag_label)

    def value_latest_rag(self, value):
        return rag_label(value, self.no_rag_label)
