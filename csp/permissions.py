"""Who may do what: the one place the role rules live.

Views ask ``may(user, capability)`` (through ``@requires``) and fetch objects through the
scoping helpers here, so an object outside a user's reach is a 404 and a capability the
role lacks is a 403. Templates ask through ``user_capabilities``.
"""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.views.decorators.http import require_safe

from accounts.models import Role


class Capability(StrEnum):
    READ_PLAN = "read_plan"  # priorities, actions, agencies, crime statistics, dashboards
    EDIT_PLAN = "edit_plan"  # plan, priorities, actions, measures, agencies, users
    ENTER_RETURNS = "enter_returns"  # create, edit, submit returns (partners: own agencies)
    REVIEW_RETURNS = "review_returns"  # approve, send back, reopen
    VIEW_COMPLETENESS = "view_completeness"
    # The quarterly board paper: every agency's approved narratives, so not for partners,
    # who see their own agencies' returns only.
    VIEW_BOARD_REPORT = "view_board_report"
    ENTER_CRIME_STATISTICS = "enter_crime_statistics"
    # Remove another user's second factor (a lost phone): they set it up again.
    RESET_SECOND_FACTOR = "reset_second_factor"


RULES: dict[Capability, frozenset[str]] = {
    Capability.READ_PLAN: frozenset({Role.PARTNER, Role.MANAGER, Role.BOARD}),
    Capability.EDIT_PLAN: frozenset({Role.MANAGER}),
    Capability.ENTER_RETURNS: frozenset({Role.PARTNER, Role.MANAGER}),
    Capability.REVIEW_RETURNS: frozenset({Role.MANAGER}),
    Capability.VIEW_COMPLETENESS: frozenset({Role.MANAGER, Role.BOARD}),
    Capability.VIEW_BOARD_REPORT: frozenset({Role.MANAGER, Role.BOARD}),
    Capability.ENTER_CRIME_STATISTICS: frozenset({Role.MANAGER}),
    Capability.RESET_SECOND_FACTOR: frozenset({Role.MANAGER}),
}


# Capabilities that only read. A view guarded by one answers GET and HEAD alone (405 to
# anything else), so reading can never change data, whatever the view forgets.
READ_ONLY_CAPABILITIES = frozenset(
    {Capability.READ_PLAN, Capability.VIEW_COMPLETENESS, Capability.VIEW_BOARD_REPORT}
)
# Roles that never change anything: refused (403) any unsafe method on any guarded view,
# even one whose capability a future rule grants them by mistake.
READ_ONLY_ROLES = frozenset({Role.BOARD})
SAFE_METHODS = ("GET", "HEAD")


def may(user, capability: Capability) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.role in RULES[capability]


def user_capabilities(user) -> dict[str, bool]:
    return {capability.value: may(user, capability) for capability in Capability}


def requires(capability: Capability) -> Callable:
    """Refuse (403) a signed-in user whose role lacks the capability; refuse unsafe
    methods on read-only capabilities (405) and to read-only roles (403).

    Anonymous users never get this far: LoginRequiredMiddleware sends them to sign in.
    The rule is recorded on the view so the URL × role tests can find views without one.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not may(request.user, capability):
                raise PermissionDenied
            if request.method not in SAFE_METHODS:
                if capability in READ_ONLY_CAPABILITIES:
                    return HttpResponseNotAllowed(SAFE_METHODS)
                if request.user.role in READ_ONLY_ROLES:
                    raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.access_rule = capability
        return wrapped

    return decorator


def own_account(view):
    """Mark a view as any signed-in user's, about their own account alone (their second
    factor), as Django's change-password view is: the board may POST to it, since it
    changes nothing of the partnership's."""
    view.access_rule = "own_account"
    return view


def public(view):
    """Mark a view as open to anonymous visitors (health check, accessibility statement).

    Public views only read (GET and HEAD); signing in and resetting a password are
    Django's own views.
    """
    from django.contrib.auth.decorators import login_not_required

    view = login_not_required(require_safe(view))
    view.access_rule = "public"
    return view


# Returns --------------------------------------------------------------------------------


def reporting_agencies(user, action):
    """The agencies on whose behalf this user may report against this action.

    A partner reports for those of their agencies that lead the action (every one of their
    agencies where the action is for all partners); the manager for any lead agency, or
    any active agency where the action is for all partners.
    """
    from actions.models import Agency

    if not may(user, Capability.ENTER_RETURNS):
        return Agency.objects.none()
    agencies = Agency.objects.active()
    if not action.all_partners:
        agencies = agencies.filter(actions=action)
    if user.is_partner:
        agencies = agencies.filter(members=user)
    return agencies.distinct()


def may_report_for(user, action, agency) -> bool:
    return reporting_agencies(user, action).filter(pk=agency.pk).exists()


def quarter_takes_entries(user, quarter, action, agency) -> bool:
    """Open quarters take returns; a closed one only where the manager granted a lock
    exception for this action and agency. The manager, who opens and closes quarters,
    may always enter."""
    if user.is_manager or quarter.is_open:
        return True
    return quarter.lock_exceptions.filter(action=action, agency=agency).exists()


def may_edit_return(user, quarterly_return) -> bool:
    from actions.models import QuarterlyReturn

    editable = {QuarterlyReturn.State.DRAFT, QuarterlyReturn.State.SENT_BACK}
    return (
        quarterly_return.state in editable
        and may_report_for(user, quarterly_return.action, quarterly_return.agency)
        and quarter_takes_entries(
            user, quarterly_return.quarter, quarterly_return.action, quarterly_return.agency
        )
    )
