"""The return page's and the return form's view of the conversation and the evidence,
as includes, so the actions templates need only one line each."""

from django import template

from csp.permissions import Capability, may, may_edit_return

from ..conversation import record
from ..forms import CommentForm, FollowUpForm

register = template.Library()


@register.inclusion_tag("review/includes/return_record.html", takes_context=True)
def return_record(context, quarterly_return):
    user = context["request"].user
    shown = record(quarterly_return, user)
    shown["user"] = user
    shown["may_edit"] = (
        may_edit_return(user, quarterly_return) if not user.is_board_member else False
    )
    if shown["converses"]:
        shown["comment_form"] = CommentForm()
        if may(user, Capability.REVIEW_RETURNS):
            shown["follow_up_form"] = FollowUpForm(metrics=quarterly_return.action.metrics.all())
    return shown


@register.inclusion_tag("review/includes/return_form_notes.html", takes_context=True)
def return_form_notes(context, quarterly_return):
    """On the return form: the figures the manager asked about, and the evidence attached."""
    if quarterly_return is None:
        return {"quarterly_return": None}
    return record(quarterly_return, context["request"].user)
