"""Publishing a plan: the manager opens an active (or closed) plan's public page, or takes
it down. And the partnership's details as the published plan prints them, read through the
small helpers below (``Plan.partnership`` is the partnership's name today; when it becomes
a ``Partnership``, only these change)."""

from django.db import transaction
from django.utils import timezone

from csp import permissions

from .models import Plan

PUBLISHABLE = (Plan.State.ACTIVE, Plan.State.CLOSED)


class PublicationError(Exception):
    """The plan cannot be published or unpublished now; the message says why."""


def partnership_name(plan: Plan) -> str:
    return plan.partnership.name


def partnership_contact(plan: Plan) -> tuple[str, str]:
    """(contact name, e-mail) for the plan's cover; empty until the partnership holds them."""
    partnership = plan.partnership
    return getattr(partnership, "contact_name", ""), getattr(partnership, "contact_email", "")


def _check(user) -> None:
    if not permissions.may(user, permissions.Capability.EDIT_PLAN):
        raise PublicationError("Only the community safety manager can publish a plan.")


def _save(plan: Plan, user, reason: str) -> None:
    plan._history_user = user
    plan._change_reason = reason
    plan.save(update_fields=["published_at"])


@transaction.atomic
def publish(user, plan: Plan) -> Plan:
    """Open the plan's public page. Only an active or closed plan: a draft is not the
    partnership's plan until the board has signed it off."""
    _check(user)
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.state not in PUBLISHABLE:
        raise PublicationError(
            f"The {plan.label} plan is {plan.get_state_display().lower()}: only an active or "
            "closed plan can be published."
        )
    if plan.published_at is not None:
        raise PublicationError(f"The {plan.label} plan is already published.")
    plan.published_at = timezone.now()
    _save(plan, user, "Published")
    return plan


@transaction.atomic
def unpublish(user, plan: Plan) -> Plan:
    """Take the plan's public page down (it can be published again)."""
    _check(user)
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    if plan.published_at is None:
        raise PublicationError(f"The {plan.label} plan is not published.")
    plan.published_at = None
    _save(plan, user, "Unpublished")
    return plan
