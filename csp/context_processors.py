from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils.functional import SimpleLazyObject, lazy

from csp import cache
from csp.naming import service_name
from csp.permissions import Capability, may, user_capabilities
from priorities.models import Partnership


def may_see_death_reviews(user) -> bool:
    """Whoever reaches a page under Death reviews: the manager, the board (counts and
    states), and a partner on a review's panel or whose agency owns a recommendation (one
    query, partners only)."""
    if not may(user, Capability.READ_DEATH_REVIEWS):
        return False
    if not user.is_partner:
        return True
    if not hasattr(user, "_reaches_death_reviews"):  # once a request, however many renders
        from deathreviews.models import Review

        # From the cache until a review, its panel or owners, or an agency's members change.
        user._reaches_death_reviews = cache.cached(
            "reaches-death-reviews",
            (user.pk,),
            lambda: Review.objects.filter(
                Q(panel_members=user) | Q(recommendations__owners__members=user)
            ).exists(),
        )
    return user._reaches_death_reviews


def navigation(request):
    user = getattr(request, "user", None)
    # Read once, and only by a page that shows it (the header does).
    partnership = SimpleLazyObject(Partnership.objects.deployed)
    context = {
        "partnership": partnership,
        # What the service is called on every page (the header, titles, sign-in): its name,
        # not the repository's.
        "service_name": lazy(lambda: service_name(partnership), str)(),
        "partnership_name": lazy(lambda: partnership.name, str)(),
    }
    if not (user and user.is_authenticated):
        return context | {"nav_items": [], "can": {}}

    items = [("Your returns" if user.is_partner else "Home", "home")]
    if may(user, Capability.READ_PLAN):
        items.append(("Dashboard", "dashboard"))
    if may(user, Capability.REVIEW_RETURNS):
        items += [("Review returns", "review_queue"), ("Quarters", "quarter_list")]
    if may(user, Capability.VIEW_COMPLETENESS):
        items.append(("Completeness", "completeness"))
    if may(user, Capability.VIEW_BOARD_REPORT):
        items.append(("Quarterly report", "quarterly_report"))
    if may(user, Capability.MANAGE_MAIL):
        items.append(("Outgoing e-mail", "outgoing_mail"))
    if may(user, Capability.MANAGE_PEOPLE):
        items.append(("People", "user_list"))
    if may(user, Capability.READ_PLANS):
        items.append(("Plans", "plan_list"))
    if may_see_death_reviews(user):
        # The board's page is the counts and states; everyone else's the record list, which
        # a partner on no panel finds pointing to their agency's actions.
        board = user.is_board_member
        items.append(("Death reviews", "death_review_board" if board else "death_review_list"))
    if may(user, Capability.READ_PLAN):
        items += [
            ("Action plan", "plan"),
            ("Agencies", "agency_list"),
            ("Crime statistics", "crime_statistics"),
            ("League table", "crime_league"),
        ]
    path = request.path
    nav_items = []
    for label, name in items:
        url = reverse(name)
        current = path == url if url == "/" else path.startswith(url)
        nav_items.append({"label": label, "url": url, "current": current})
    if user.is_superuser:
        nav_items.append({"label": "Admin", "url": reverse("admin:index"), "current": False})
    return context | {
        "nav_items": nav_items,
        "can": user_capabilities(user),
        # For the timeout warning (templates/includes/timeout_warning.html).
        "session_timeout": settings.SESSION_COOKIE_AGE,
        "session_warning": settings.SESSION_TIMEOUT_WARNING,
    }
