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
    # The committee paper's cover, key messages and recommendation; issuing a version.
    WRITE_BOARD_PAPER = "write_board_paper"
    # The outgoing e-mail queue: who was sent what, what failed and why; retry a failure.
    MANAGE_MAIL = "manage_mail"
    # Agencies (add, edit, merge, deactivate) and users (invite, change, deactivate).
    MANAGE_PEOPLE = "manage_people"
    # Remove another user's second factor (a lost phone): they set it up again.
    RESET_SECOND_FACTOR = "reset_second_factor"
    # Plans page and plans awaiting sign-off (the board reads them, the manager also drafts).
    READ_PLANS = "read_plans"
    # The yearly cycle: start next year's plan, sign-off, make active; the partnership.
    MANAGE_PLANS = "manage_plans"
    # Death reviews (deathreviews/): narrower than the plan. Reading is scoped per record
    # (deathreviews.models: the manager, the review's panel members, an owning agency's users;
    # the board counts and states, and text once published), so every role may ask.
    READ_DEATH_REVIEWS = "read_death_reviews"
    # Record reviews, recommendations, actions and themes; approve progress and closures.
    MANAGE_DEATH_REVIEWS = "manage_death_reviews"
    # Write and submit progress updates (and evidence) on a death review's actions.
    REPORT_DEATH_REVIEW_ACTIONS = "report_death_review_actions"


RULES: dict[Capability, frozenset[str]] = {
    Capability.READ_PLAN: frozenset({Role.PARTNER, Role.MANAGER, Role.BOARD}),
    Capability.EDIT_PLAN: frozenset({Role.MANAGER}),
    Capability.ENTER_RETURNS: frozenset({Role.PARTNER, Role.MANAGER}),
    Capability.REVIEW_RETURNS: frozenset({Role.MANAGER}),
    Capability.VIEW_COMPLETENESS: frozenset({Role.MANAGER, Role.BOARD}),
    Capability.VIEW_BOARD_REPORT: frozenset({Role.MANAGER, Role.BOARD}),
    Capability.ENTER_CRIME_STATISTICS: frozenset({Role.MANAGER}),
    Capability.WRITE_BOARD_PAPER: frozenset({Role.MANAGER}),
    Capability.MANAGE_MAIL: frozenset({Role.MANAGER}),
    Capability.MANAGE_PEOPLE: frozenset({Role.MANAGER}),
    Capability.RESET_SECOND_FACTOR: frozenset({Role.MANAGER}),
    Capability.READ_PLANS: frozenset({Role.MANAGER, Role.BOARD}),
    Capability.MANAGE_PLANS: frozenset({Role.MANAGER}),
    Capability.READ_DEATH_REVIEWS: frozenset({Role.PARTNER, Role.MANAGER, Role.BOARD}),
    Capability.MANAGE_DEATH_REVIEWS: frozenset({Role.MANAGER}),
    Capability.REPORT_DEATH_REVIEW_ACTIONS: frozenset({Role.PARTNER, Role.MANAGER}),
}


# Capabilities that only read. A view guarded by one answers GET and HEAD alone (405 to
# anything else), so reading can never change data, whatever the view forgets.
READ_ONLY_CAPABILITIES = frozenset(
    {
        Capability.READ_PLAN,
        Capability.VIEW_COMPLETENESS,
        Capability.VIEW_BOARD_REPORT,
        Capability.READ_PLANS,
        Capability.READ_DEATH_REVIEWS,
    }
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


def public_form(view):
    """Like ``public``, for the one anonymous page that takes a form: accepting an
    invitation (the link in the e-mail is the visitor's credential). GET, HEAD and POST;
    CSRF protection still applies."""
    from django.contrib.auth.decorators import login_not_required
    from django.views.decorators.http import require_http_methods

    view = login_not_required(require_http_methods(["GET", "HEAD", "POST"])(view))
    view.access_rule = "public"
    return view


# Returns --------------------------------------------------------------------------------


def agencies_reporting_on(action, active_agencies: list) -> list:
    """Who reports on an action: its active lead agencies (where it names none, its
    accountable agency, else the coordinating agency), or every active agency where the
    action is for all partners. ``reporting_agencies`` below is the same rule as one query; this form applies it to many actions from prefetched rows (``action.agencies``)
    without a query each. tests/test_corrections.py holds the two together."""
    from actions.obligations import coordinating_agency_among, owers

    if action.all_partners:
        return list(active_agencies)
    active = {agency.pk for agency in active_agencies}
    leads = {agency.pk for agency in action.agencies.all()} & active
    accountable = action.accountable_agency_id if action.accountable_agency_id in active else None
    owing = owers(leads, coordinating_agency_among(active_agencies), accountable)
    return [agency for agency in active_agencies if agency.pk in owing]


def reporting_agencies(user, action):
    """The agencies on whose behalf this user may report against this action.

    A partner reports for those of their agencies that owe the action's return
    (actions.obligations: its lead agencies, or the coordinating agency where it names
    none), or may contribute one (every active agency where the action is for all
    partners); the manager for any of those agencies.
    """
    from actions.models import Agency
    from actions.obligations import owing_agencies

    if not may(user, Capability.ENTER_RETURNS):
        return Agency.objects.none()
    agencies = Agency.objects.active()
    if not action.all_partners:
        agencies = agencies.filter(pk__in=owing_agencies(action).values("pk"))
    if user.is_partner:
        agencies = agencies.filter(members=user)
    return agencies.distinct()


def may_report_for(user, action, agency) -> bool:
    return reporting_agencies(user, action).filter(pk=agency.pk).exists()


def quarter_closed_message(quarter) -> str:
    return f"{quarter.label} is closed for returns. Ask the community safety manager to reopen it."


def quarter_takes_entries(user, quarter, action, agency) -> bool:
    """Open quarters take returns; a closed one only where the manager granted a lock
    exception for this action and agency (sending back a return in a closed quarter grants
    one). The manager, who opens and closes quarters, may always enter."""
    if user.is_manager or quarter.is_open:
        return True
    return quarter.lock_exceptions.filter(action=action, agency=agency).exists()


def may_edit_return(user, quarterly_return) -> bool:
    return (
        quarterly_return.is_editable
        and may_report_for(user, quarterly_return.action, quarterly_return.agency)
        and quarter_takes_entries(
            user, quarterly_return.quarter, quarterly_return.action, quarterly_return.agency
        )
    )


def may_recall_return(user, quarterly_return) -> bool:
    """Whoever may report for the agency may take back a return the manager has not yet
    reviewed, while its quarter takes entries (they then correct and submit it again)."""
    from actions.models import QuarterlyReturn

    return (
        quarterly_return.state == QuarterlyReturn.State.SUBMITTED
        and may_report_for(user, quarterly_return.action, quarterly_return.agency)
        and quarter_takes_entries(
            user, quarterly_return.quarter, quarterly_return.action, quarterly_return.agency
        )
    )


def why_not_editable(user, quarterly_return) -> str:
    """For a user who may report for the return's agency: why they cannot change it now
    (its state, or its quarter closed), in their words; empty when they can."""
    if not quarterly_return.is_editable:
        return quarterly_return.locked_message
    quarter = quarterly_return.quarter
    if not quarter_takes_entries(user, quarter, quarterly_return.action, quarterly_return.agency):
        return quarter_closed_message(quarter)
    return ""


def get_return_for_user(user, pk: int):
    """The return (404 where the user may not see it) and whether the user may change it.

    How the return pages fetch one, as healthchecks' ``_get_check_for_user`` does.
    """
    from django.shortcuts import get_object_or_404

    from actions.models import QuarterlyReturn

    quarterly_return = get_object_or_404(
        QuarterlyReturn.objects.visible_to(user)
        .with_context()
        .select_related("submitted_by", "reviewed_by", "updated_by"),
        pk=pk,
    )
    return quarterly_return, may_edit_return(user, quarterly_return)


def get_return_to_fill_in(user, action, agency_pk: int, quarter):
    """For the return form: the agency (404 unless the user may report for it on this
    action), its return for the quarter if started, and why the user may not change it now
    (empty when they may)."""
    from django.shortcuts import get_object_or_404

    from actions.models import QuarterlyReturn

    agency = get_object_or_404(reporting_agencies(user, action), pk=agency_pk)
    existing = (
        QuarterlyReturn.objects.filter(action=action, agency=agency, quarter=quarter)
        .select_related("updated_by", "action", "agency", "quarter")
        .first()
    )
    if existing is not None:
        reason = why_not_editable(user, existing)
    elif not quarter_takes_entries(user, quarter, action, agency):
        reason = quarter_closed_message(quarter)
    else:
        reason = ""
    return agency, existing, reason
