"""Filters behind ``includes/return_state.html``: a return's state in the one wording of
actions.states, as the viewer may know it."""

from django import template

from actions import states

register = template.Library()

COLOURS = {
    states.State.APPROVED.value: "green",
    states.State.SUBMITTED.value: "blue",
    states.State.SENT_BACK.value: "orange",
    states.State.DRAFT.value: "yellow",
}


@register.filter
def known_to(state, user):
    return states.known_state(state, user)


@register.filter
def state_label(state):
    return states.state_label(state)


@register.filter
def state_colour(state):
    return COLOURS.get(state, "grey")


@register.filter
def rag_differs_note(quarterly_return):
    return states.rag_differs_note(quarterly_return)


@register.filter
def days_waiting(since):
    return states.days_waiting(since)
