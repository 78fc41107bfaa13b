"""Who may do what: the one place the role rules live.

Views ask ``may(user, capability)`` (through ``@requires``) and fetch objects through the
scoping helpers here, so an object outside a user's reach is a 404 and a capability the
role lacks is a 403. Templates ask through ``user_capabilities``.
"""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps

from django.core.exceptions import PermissionDenied

from accounts.models import Role


class Capability(StrEnum):
    READ_PLAN = "read_plan"  # priorities, actions, agencies, crime statistics, dashboards
    EDIT_PLAN = "edit_plan"  # plan, priorities, actions, measures, agencies, users
    ENTER_RETURNS = "enter_returns"  # create, edit, submit returns (partners: own agencies)
    REVIEW_RETURNS = "review_returns"  # approve, send back, reopen
    VIEW_COMPLETENESS = "view_completeness"
    ENTER_CRIME_STATISTICS = "enter_crime_statistics"


RULES: dict[Capability, frozenset[str]] = {
    Capability.READ_PLAN: frozenset({Role.PARTNER, Role.MANAGER, Role.BOARD}),
    Capability.EDIT_PLAN: frozenset({Role.MANAGER}),
    Capability.ENTER_RETURNS: frozenset({Role.PARTNER, Role.MANAGER}),
    Capability.REVIEW_RETURNS: frozenset({Role.MANAGER}),
    Capability.VIEW_COMPLETENESS: frozenset({Role.MANAGER, Role.BOARD}),
    Capability.ENTER_CRIME_STATISTICS: frozenset({Role.MANAGER}),
}


def may(user, capability: Capability) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.role in RULES[capability]


def user_capabilities(user) -> dict[str, bool]:
    return {capability.value: may(user, capability) for capability in Capability}


def requires(capability: Capability) -> Callable:
    """Refuse (403) a signed-in user whose role lacks the capability.

    Anonymous users never get this far: LoginRequiredMiddleware sends them to sign in.
    The rule is recorded on the view so the URL × role tests can find views without one.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not may(request.user, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.access_rule = capability
        return wrapped

    return decorator


def public(view):
    """Mark a view as open to anonymous visitors (login, health check, accessibility)."""
    from django.contrib.auth.decorators import login_not_required

    view = login_not_required(view)
    view.access_rule = "public"
    return view
