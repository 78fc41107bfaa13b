from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.functional import cached_property
from django.views import csrf
from django.views.decorators.http import require_GET, require_POST, require_safe

from actions.models import Action, Agency, QuarterlyReturn
from actions.obligations import obligations
from crimestats import statistics
from csp import cache, kept_input, outbox
from csp.permissions import Capability, public, requires
from dashboard import summaries
from deathreviews import home as death_reviews
from deathreviews import obligations as death_review_obligations
from priorities.picker import chosen_plan
from priorities.quarters import open_for_entry, plan_quarters, previous_quarter, reporting_quarter
from review.models import FollowUp

EARLIER_PER_PAGE = 50
MAIL_PER_PAGE = 50
EARLIER_FIELDS = (
    "state",
    "rag",
    "action__number",
    "action__description",
    "action__priority__number",
    "agency__short_name",
    "quarter__number",
    "quarter__plan__financial_year",
)


class CountedPaginator(Paginator):
    """A paginator told how many objects there are (a count kept in the cache)."""

    def __init__(self, object_list, per_page, count: int):
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


@requires(Capability.READ_PLAN)
def home(request: HttpRequest) -> HttpResponse:
    """Each role's starting point: what they owe, review or read."""
    user = request.user
    plan = chosen_plan(request)
    priorities = list(plan.priorities.all()) if plan else []
    context = {"plan": plan, "priorities": priorities}
    if not user.is_partner:  # the partner home shows no crime headline
        area, year = statistics.latest_published()
        if year is not None:
            context["headline"] = statistics.headline(area, year)
    if user.is_partner:
        agencies = list(user.agencies.order_by("name"))
        quarters = list(plan.quarters.select_related("plan")) if plan else []
        open_quarters = open_for_entry(quarters)
        context["agencies"] = agencies
        context["open_quarters"] = open_quarters
        context["open_quarters_label"] = " and ".join(q.label for q in open_quarters)
        # What this partner's agencies owe, and a page of their earlier returns, from the
        # cache until a return, action, quarter or their agencies change (csp/cache.py);
        # "overdue" moves with the day. Newest quarter first. Contributions ("All partners"
        # actions) are listed apart: optional, never overdue.
        today = timezone.localdate()
        mine = (plan.pk if plan else None, cache.viewer(user))

        def owed_tables() -> str:
            rows = obligations(open_quarters, agencies=agencies, offered=True, today=today)
            rows.sort(key=lambda row: -row.quarter.number)
            return render_to_string(
                "home/includes/owed_tables.html",
                {
                    "owed": [row for row in rows if row.required],
                    "contributions": [row for row in rows if row.optional],
                    "open_quarters": open_quarters,
                    "open_quarters_label": context["open_quarters_label"],
                    "agencies": agencies,
                    "user": user,
                },
            )

        # Kept as rendered: the rows' links and state tags cost more to render than to read.
        context["owed_tables"] = cache.cached("partner-owed-tables", (*mine, today), owed_tables)
        # The death review actions the agencies lead, until one of them (or its updates)
        # changes.
        context["death_reviews"] = cache.cached(
            "partner-death-reviews",
            (*mine, today),
            lambda: death_review_obligations.partner_home(agencies, open_quarters),
        )
        # First on the page: what the manager sent back, with the reason, while it can be
        # corrected (in a closed quarter, until resubmitted).
        context["to_correct"] = cache.cached(
            "partner-to-correct",
            mine,
            lambda: list(
                QuarterlyReturn.objects.visible_to(user)
                .filter(agency__in=agencies)
                .to_correct()
                .select_related("action__priority", "agency", "quarter__plan", "reviewed_by")
                .order_by(
                    "quarter__plan__financial_year",
                    "quarter__number",
                    "action__priority__number",
                    "action__number",
                )
            ),
        )
        # Figures the manager asked about, until answered (review.models.FollowUp): read live,
        # as the cache does not watch `review`.
        context["follow_ups"] = list(
            FollowUp.objects.visible_to(user)
            .open()
            .select_related(
                "metric",
                "quarterly_return__action__priority",
                "quarterly_return__agency",
                "quarterly_return__quarter__plan",
            )
            .order_by("raised_at", "pk")
        )
        earlier = (
            QuarterlyReturn.objects.visible_to(user)
            # The same agencies as visible_to's, by id: PostgreSQL then reads just their
            # returns by index, where the subquery had it join every agency's history.
            .filter(agency__in=agencies)
            .exclude(quarter__in=open_quarters)
            # Only what the table shows: the whole history is sorted to find a page of it,
            # and narrow rows sort in half the time of whole returns.
            .select_related("action__priority", "agency", "quarter__plan")
            .only(*EARLIER_FIELDS)
            .order_by(
                "-quarter__plan__financial_year",
                "-quarter__number",
                "action__priority__number",
                "action__number",
            )
        )
        # A page at a time: years of history would otherwise make the home page ever longer.
        # Sorting that history to count it and find a page is the page's heaviest work.
        count = cache.cached("partner-earlier-count", mine, earlier.count)
        page = CountedPaginator(earlier, EARLIER_PER_PAGE, count).get_page(request.GET.get("page"))
        # The page's rows, rendered: fifty rows of state and RAG tags cost more to render
        # than to read.
        context["earlier"] = page
        context["earlier_rows"] = cache.cached(
            "partner-earlier-rows",
            (*mine, page.number),
            lambda: render_to_string(
                "home/includes/earlier_rows.html", {"earlier": page, "user": user}
            ),
        )
    elif user.is_board_member and plan is not None:
        # The plan's progress in the reporting quarter, in thirty seconds.
        quarters = plan_quarters(plan)
        quarter = reporting_quarter(quarters)
        if quarter is not None:
            previous = previous_quarter(quarters, quarter)
            today = timezone.localdate()
            context["board"] = cache.cached(
                "board-home",
                (plan.pk, quarter.pk, today, cache.viewer(user)),
                lambda: summaries.board_picture(plan, quarter, previous, user, today),
            )
    elif user.is_manager:
        context["agency_count"] = Agency.objects.active().count()
        context["action_count"] = Action.objects.in_plan(plan).count() if plan else 0
        context["awaiting_review"] = (
            QuarterlyReturn.objects.visible_to(user).awaiting_review().count()
        )
        context["death_review_updates_waiting"] = death_review_obligations.waiting_for_review()
        context["death_reviews_overdue"] = death_reviews.manager_summary(timezone.localdate())
    return render(request, f"home/{user.role}.html", context)


@public
def health(request: HttpRequest) -> HttpResponse:
    """For load balancers and uptime checks: the app answers and the database responds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@public
def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "accessibility.html")


@requires(Capability.MANAGE_MAIL)
@require_safe
def outgoing_mail(request: HttpRequest) -> HttpResponse:
    """The outgoing e-mail queue, newest first: what is waiting, what was sent, what failed
    and why. Subjects and addresses only: a password reset's link stays out of sight."""
    page = Paginator(outbox.newest_first(), MAIL_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [
        {
            "email": email,
            "state": outbox.state(email, now),
            "next_attempt": outbox.next_attempt(email, now),
            "colour": outbox.tag_colour(email),
            "may_retry": outbox.may_retry(email),
        }
        for email in page
    ]
    return render(
        request,
        "outgoing_mail.html",
        {"page_obj": page, "rows": rows, "counts": outbox.counts()},
    )


@require_POST
@requires(Capability.MANAGE_MAIL)
def retry_mail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        email = outbox.retry(pk)
    except outbox.MailError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"The e-mail to {', '.join(email.to)} will be sent again in a moment."
        )
    return redirect("outgoing_mail")


@require_GET
@requires(Capability.READ_PLAN)
def session_keep_alive(request: HttpRequest) -> HttpResponse:
    """ "Stay signed in" in the timeout warning: any signed-in request restarts the idle
    clock (SESSION_SAVE_EVERY_REQUEST), so this one need do nothing else."""
    return HttpResponse(status=204)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form that keeps typed input goes back to the form with it
    (csp.kept_input), through signing in if the session has ended too; anything else gets
    Django's page (templates/403_csrf.html). Only this site's own posts are kept."""
    if kept_input.same_origin(request):
        user = request.user
        username = user.get_username() if user.is_authenticated else kept_input.owner(request)
        back = kept_input.keep(request, username)
        if back and user.is_authenticated:
            return redirect(back)
        if back:
            messages.info(request, kept_input.SIGN_IN_AGAIN)
            return redirect_to_login(back)
    return csrf.csrf_failure(request, reason)
