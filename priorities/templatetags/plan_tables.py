from django import template

from actions.states import NO_APPROVED_RAG
from priorities.tables import rag_label as label

register = template.Library()


@register.filter
def rag_label(value, empty: str = NO_APPROVED_RAG) -> str:
    """An action's latest approved RAG status in words, as the action plan's column shows it
    (``empty`` where there is none: ActionTable.no_rag_label)."""
    return label(value, empty)
