"""A return's state in words, as the viewer may know it: the one wording for every page,
download and paper (templates show it through ``includes/return_state.html``); and the
worst-RAG rule, for an action whose agencies report different RAG statuses."""

from django.db.models import Case, IntegerField, Value, When

from .models import QuarterlyReturn

State = QuarterlyReturn.State
RAG = QuarterlyReturn.RAG
NOT_STARTED = "not_started"
# The board sees approved returns only: any other state reads as this.
NO_APPROVED = "no_approved"

STATE_LABELS = {
    NOT_STARTED: "Not started",
    State.DRAFT.value: "Draft",
    State.SUBMITTED.value: "Waiting for review",
    State.SENT_BACK.value: "Sent back",
    State.APPROVED.value: "Approved",
    NO_APPROVED: "No approved return yet",
}


def known_state(state: str | None, user) -> str:
    """The state as this user may know it: partners and the manager know each state; the
    board knows only whether a return has been approved."""
    state = state or NOT_STARTED
    if user is not None and getattr(user, "is_board_member", False):
        return State.APPROVED.value if state == State.APPROVED else NO_APPROVED
    return state


def state_label(state: str | None) -> str:
    return STATE_LABELS[state or NOT_STARTED]


# Where an action's agencies report different RAG statuses, the action shows the worst:
# red, then amber, green, complete; not started or none the least.
RAG_SEVERITY_ORDER = {RAG.RED: 4, RAG.AMBER: 3, RAG.GREEN: 2, RAG.COMPLETE: 1}
RAG_SEVERITY = Case(
    *(When(rag=rag, then=Value(severity)) for rag, severity in RAG_SEVERITY_ORDER.items()),
    default=Value(0),
    output_field=IntegerField(),
)
NO_APPROVED_RAG = "No approved return yet"


def rag_differs_note(quarterly_return) -> str:
    """ "RAG differs from the figures (they suggest red): …", the one wording for every
    page, download and paper; empty where the partner's RAG is the figures' or no figure
    has a target."""
    if not quarterly_return.rag_differs:
        return ""
    suggested = RAG(quarterly_return.suggested_rag).label.lower()
    reason = quarterly_return.rag_override_reason or "no reason given"
    return f"RAG differs from the figures (they suggest {suggested}): {reason}"


def days_waiting(since, now=None) -> str:
    """How long a return has waited (for review, or on its agency), in whole days: the one
    wording for the review queue and the list of returns sent back."""
    from django.utils import timezone

    if since is None:
        return "–"
    days = ((now or timezone.now()) - since).days
    if days < 1:
        return "Less than a day"
    return f"{days} day{'s' if days != 1 else ''}"
