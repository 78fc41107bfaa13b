from django import template

from priorities.tables import rag_label as label

register = template.Library()


@register.filter
def rag_label(value) -> str:
    """An action's latest approved RAG status in words, as the action plan's column shows it."""
    return label(value)
