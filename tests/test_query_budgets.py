"""Every page in the navigation, for each role that reads it, runs the same number of queries
whatever the partnership's history: measured with generated history at scale 1 and again at
scale 10 (demodata.generate, as `generate_history` makes it), against one budget for both.

The history is built once for the module, inside a transaction rolled back at the end, and
each page is requested twice at each size (the first request warms the session).
To budget a new page, add one line to PAGES (SHOW_QUERY_COUNTS=1 with -s prints each
page's count); a page in a role's navigation without a line here fails
test_every_navigation_page_has_a_budget_for_each_role.
"""

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import pytest
from django.db import connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from accounts.models import User
from actions.models import Action, Agency, QuarterlyReturn
from crimestats.models import CrimeType
from csp import seed
from csp.context_processors import navigation
from deathreviews.models import Recommendation, Review, ReviewAction, Theme
from demodata import demo_returns, generate
from priorities.models import Plan

SMALL, LARGE = 1, 10


class Objects:
    """The seeded objects the pages are about."""

    @cached_property
    def plan(self) -> Plan:
        return Plan.objects.get(financial_year=2022)

    @cached_property
    def priority(self):
        return self.plan.priorities.get(number=1)

    @cached_property
    def action(self) -> Action:
        return Action.objects.get(priority=self.priority, number=1)

    @cached_property
    def davss(self) -> Agency:
        return Agency.objects.get(name="DAVSS")

    @cached_property
    def open_quarter(self):
        return self.plan.quarters.get(number=4)

    @cached_property
    def all_crime(self):
        return CrimeType.objects.get(name="All crime")

    @cached_property
    def death_review(self) -> Review:
        """A review whose recommendations and actions grow with each size (grow_death_reviews)."""
        return Review.objects.filter(reference="DARDR budget").first() or Review.objects.create(
            partnership=self.plan.partnership,
            reference="DARDR budget",
            pseudonym="Adult A",
            notified_on=datetime.date(2024, 1, 8),
            decision=Review.Decision.HOLD,
            decision_on=datetime.date(2024, 2, 1),
            decision_reason="Made up for the budget.",
        )

    @cached_property
    def davss_return(self) -> QuarterlyReturn:
        return QuarterlyReturn.objects.filter(
            agency=self.davss, quarter__plan=self.plan, state="approved"
        ).earliest("quarter__number", "action__priority__number", "action__number")


@dataclass(frozen=True)
class Page:
    name: str  # the URL name
    user: str  # the demo account that reads it
    url: Callable[[Objects], str]
    budget: int  # the most queries it may run, at both sizes


def url(name: str, *args, **query) -> Callable[[Objects], str]:
    def build(o: Objects) -> str:
        address = reverse(name, args=[arg(o) if callable(arg) else arg for arg in args])
        if query:
            values = {key: value(o) if callable(value) else value for key, value in query.items()}
            address += "?" + "&".join(f"{key}={value}" for key, value in values.items())
        return address

    return build


def action(o: Objects) -> int:
    return o.action.pk


# Every signed-in request spends 5 queries on the session and the user (read the session,
# read the user, and the savepoint, update and release of SESSION_SAVE_EVERY_REQUEST),
# and 1 on the partnership for the header (csp.context_processors); a partner's page 1 more
# on whether Death reviews is in their navigation (on a review's panel, or their agency
# owns a recommendation). The manager's home: 1 for the death reviews' overdue steps.
PAGES = {
    # 1: returns to correct; 1: figures the manager marked for follow-up; 3: the death
    # review actions DAVSS leads, this quarter's updates on them and the closed ones.
    "home: partner": Page("home", "davss", url("home"), 28),
    # 1: death review updates waiting for review; 1: the death reviews' overdue steps.
    "home: manager": Page("home", "manager", url("home"), 19),
    # 3: the board's picture of the reporting quarter and the one before, and its exceptions.
    "home: board": Page("home", "board", url("home"), 15),
    "dashboard: partner": Page("dashboard", "davss", url("dashboard"), 20),
    "dashboard: manager": Page("dashboard", "manager", url("dashboard"), 20),
    "dashboard: board": Page("dashboard", "board", url("dashboard"), 20),
    "review queue": Page("review_queue", "manager", url("review_queue"), 14),
    "death review updates": Page("death_review_updates", "manager", url("death_review_updates"), 7),
    # 2: the actions' reporting agencies, for the reopen form.
    "quarters": Page("quarter_list", "manager", url("quarter_list"), 16),
    "outgoing e-mail": Page("outgoing_mail", "manager", url("outgoing_mail"), 9),
    # 3: when each agency was last reminded, and which have someone to remind; 1 more:
    # the overdue death review actions.
    "completeness: manager": Page("completeness", "manager", url("completeness"), 17),
    "completeness: board": Page("completeness", "board", url("completeness"), 14),
    # 3 of them: the death reviews section (reviews, recommendations, actions).
    "quarterly report: manager": Page("quarterly_report", "manager", url("quarterly_report"), 27),
    "quarterly report: board": Page("quarterly_report", "board", url("quarterly_report"), 27),
    # Death reviews across reviews (deathreviews/board.py): reviews, recommendations and
    # their actions; the analysis also their themes and owners.
    "death reviews: board": Page("death_review_board", "board", url("death_review_board"), 20),
    "death reviews: manager": Page("death_review_board", "manager", url("death_review_board"), 20),
    "death review analysis: board": Page(
        "death_review_analysis", "board", url("death_review_analysis"), 20
    ),
    "death review analysis: manager": Page(
        "death_review_analysis", "manager", url("death_review_analysis"), 20
    ),
    "plan: partner": Page("plan", "lookahead", url("plan"), 16),
    "plan: manager": Page("plan", "manager", url("plan"), 15),
    "plan: board": Page("plan", "board", url("plan"), 15),
    "plan: filtered": Page(
        "plan", "board", url("plan", agency=lambda o: o.davss.pk, q="domestic", sort="-ref"), 16
    ),
    "plan: csv": Page("plan", "board", url("plan", _export="csv"), 9),
    # Who can submit for each agency: one query; the manager also reads the inactive ones.
    "agencies: partner": Page("agency_list", "police", url("agency_list"), 11),
    "agencies: manager": Page("agency_list", "manager", url("agency_list"), 11),
    "agencies: board": Page("agency_list", "board", url("agency_list"), 10),
    "people": Page("user_list", "manager", url("user_list"), 9),
    "plans: manager": Page("plan_list", "manager", url("plan_list"), 7),
    "plans: board": Page("plan_list", "board", url("plan_list"), 7),
    "crime statistics: partner": Page("crime_statistics", "davss", url("crime_statistics"), 13),
    "crime statistics: manager": Page("crime_statistics", "manager", url("crime_statistics"), 12),
    "crime statistics: board": Page("crime_statistics", "board", url("crime_statistics"), 12),
    "league table: partner": Page("crime_league", "davss", url("crime_league"), 12),
    "league table: manager": Page("crime_league", "manager", url("crime_league"), 11),
    "league table: board": Page("crime_league", "board", url("crime_league"), 11),
    # Pages one click from the navigation.
    "county positions": Page("crime_positions", "board", url("crime_positions"), 11),
    "neighbourhoods": Page("crime_neighbourhoods", "board", url("crime_neighbourhoods"), 9),
    "crime sources": Page("crime_sources", "manager", url("crime_sources"), 8),
    "crime categories": Page("crime_categories", "manager", url("crime_categories"), 7),
    "priority": Page(
        "priority_detail", "board", url("priority_detail", lambda o: o.priority.pk), 11
    ),
    # Who owes what (actions.obligations): 3 on the action page, 5 on the agency page.
    "action: manager": Page("action_detail", "manager", url("action_detail", action), 15),
    "action: partner": Page("action_detail", "davss", url("action_detail", action), 16),
    "agency": Page("agency_detail", "manager", url("agency_detail", lambda o: o.davss.pk), 16),
    "return form": Page(
        "return_edit",
        "davss",
        url("return_edit", lambda o: o.open_quarter.pk, action, lambda o: o.davss.pk),
        13,  # 1 the partnership; 1 the approved returns before: the trend beside the inputs, targets' sums
    ),
    # 3: the return's evidence, comments and follow-ups (review.conversation); the board
    # reads its evidence alone; the manager also the figures for the follow-up form.
    "return: partner": Page(
        "return_detail", "davss", url("return_detail", lambda o: o.davss_return.pk), 14
    ),
    "return: board": Page(
        "return_detail", "board", url("return_detail", lambda o: o.davss_return.pk), 11
    ),
    # review: the conversation, the evidence and the returns sent back.
    "return conversation": Page(
        "return_conversation", "davss", url("return_conversation", lambda o: o.davss_return.pk), 11
    ),
    "return evidence": Page(
        "evidence_list", "board", url("evidence_list", lambda o: o.davss_return.pk), 8
    ),
    "returns sent back": Page("sent_back_list", "manager", url("sent_back_list"), 7),
    "return: manager": Page(
        "return_detail", "manager", url("return_detail", lambda o: o.davss_return.pk), 14
    ),
    "crime type": Page(
        "crime_type_detail", "board", url("crime_type_detail", lambda o: o.all_crime.pk), 13
    ),
    "crime figures: years": Page("crime_figures", "manager", url("crime_figures"), 8),
    "crime figures: entry": Page(
        "crime_figures_edit", "manager", url("crime_figures_edit", 2021), 15
    ),
    "crime import": Page("crime_import", "manager", url("crime_import"), 8),
    # The plan as published (dashboard/publication.py): plan, priorities, actions, crime table.
    "plan: printable": Page(
        "plan_printable", "board", url("plan_printable", lambda o: o.plan.pk), 14
    ),
    "plan: publication": Page(
        "plan_publication", "manager", url("plan_publication", lambda o: o.plan.pk), 7
    ),
    # Editing the plan: priorities, actions and metrics prefetched; the action's form reads
    # its priorities, the agencies (with their other names) and its metrics and history.
    "edit plan": Page("edit_plan", "manager", url("edit_plan", 2022), 11),
    "edit action": Page("edit_action", "manager", url("edit_action", action), 15),
    # Death reviews (deathreviews/manage_views.py): the board and partners on no panel are
    # told what they can see.
    "death review list: manager": Page("death_review_list", "manager", url("death_review_list"), 7),
    # A partner: 2 more, their agencies and the recommendations those own (with owners,
    # themes and actions where there are any: none here).
    "death review list: panel member": Page(
        "death_review_list", "police", url("death_review_list"), 10
    ),
    "death review list: board": Page("death_review_list", "board", url("death_review_list"), 7),
    # The panel, and the recommendations with their owners, themes, actions and the
    # updates on the actions the reader may follow (waiting for review, or closing one).
    "death review: manager": Page(
        "death_review_detail",
        "manager",
        url("death_review_detail", lambda o: o.death_review.pk),
        13,
    ),
    "death review: panel member": Page(
        "death_review_detail",
        "police",
        url("death_review_detail", lambda o: o.death_review.pk),
        14,
    ),
}


def grow_death_reviews(objects: Objects, scale: int) -> None:
    """Per size: 3 recommendations (2 actions each) more on the measured review, and as many
    reviews more for the list, each with a panel member."""
    review = objects.death_review
    theme, _ = Theme.objects.get_or_create(partnership=review.partnership, name="MARAC")
    panel = User.objects.get(username="police")
    start = review.recommendations.count()
    for number in range(start + 1, start + 1 + 3 * scale):
        recommendation = Recommendation.objects.create(
            review=review, number=number, text="Made up.", made_on=review.decision_on
        )
        recommendation.owners.add(objects.davss)
        recommendation.themes.add(theme)
        for action in (1, 2):
            ReviewAction.objects.create(
                recommendation=recommendation,
                number=action,
                text="Made up.",
                lead_agency=objects.davss,
                target_date=datetime.date(2025, 3, 31),
                evidence_needed="Made up.",
            )
    review.panel_members.add(panel)
    for n in range(Review.objects.count(), Review.objects.count() + scale):
        Review.objects.create(
            partnership=review.partnership,
            reference=f"DARDR budget {n}",
            pseudonym="Adult B",
            notified_on=datetime.date(2024, 1, 8),
        ).panel_members.add(panel)


def count_queries(client: Client, address: str) -> tuple[int, int]:
    client.get(address)  # warm up: the session, content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address)
    if os.environ.get("SHOW_QUERY_COUNTS"):
        print(f"{address}: {len(queries)}")
    return response.status_code, len(queries)


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker):
    """{page: ((status, queries) at SMALL, (status, queries) at LARGE)}."""
    with django_db_blocker.unblock(), transaction.atomic():
        # Transactional tests (browser, concurrency) may have flushed the session's seed
        # before this module runs; loading it again is idempotent and rolled back below.
        seed.load_plan()
        seed.load_crime_statistics()
        demo_returns.create_demo_accounts()
        demo_returns.create_demo_returns()
        objects = Objects()
        clients = {}
        for username in {page.user for page in PAGES.values()}:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        addresses = {key: page.url(objects) for key, page in PAGES.items()}

        sizes, counts = [], []
        for scale in (SMALL, LARGE):
            generate.generate(scale)
            grow_death_reviews(objects, scale)
            sizes.append((Action.objects.count(), QuarterlyReturn.objects.count()))
            counts.append(
                {
                    key: count_queries(clients[page.user], addresses[key])
                    for key, page in PAGES.items()
                }
            )
        transaction.set_rollback(True)
    return {key: (counts[0][key], counts[1][key]) for key in PAGES}, sizes


@pytest.mark.parametrize("key", list(PAGES))
def test_query_count_does_not_grow_with_history(measured, key):
    results, _ = measured
    (small_status, small), (large_status, large) = results[key]
    budget = PAGES[key].budget
    assert (small_status, large_status) == (200, 200)
    assert small <= budget, f"{key}: {small} queries at scale {SMALL}, budget {budget}"
    assert large <= budget, f"{key}: {large} queries at scale {LARGE}, budget {budget}"
    assert large == small, f"{key} runs more queries with more history ({small} → {large})"


def test_the_history_grew_tenfold(measured):
    _, [(small_actions, small_returns), (large_actions, large_returns)] = measured
    # The seeded plan's 71 actions and 71 more per scale.
    assert (small_actions, large_actions) == (71 * (1 + SMALL), 71 * (1 + LARGE))
    assert large_returns > 7 * small_returns


ROLES = {username: role for username, role, *_ in demo_returns.DEMO_ACCOUNTS}


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["davss", "manager", "board"])
def test_every_navigation_page_has_a_budget_for_each_role(username):
    demo_returns.create_demo_accounts()
    request = RequestFactory().get("/")
    request.user = User.objects.get(username=username)
    nav_items = navigation(request)["nav_items"]
    in_navigation = {resolve(item["url"]).url_name for item in nav_items}
    role = ROLES[username]
    budgeted = {page.name for page in PAGES.values() if ROLES[page.user] == role}
    missing = in_navigation - budgeted
    assert not missing, f"add a line to PAGES for {sorted(missing)} read as a {role}"
