"""The partner home, the quarters page and the admin's changelist of actions, made cheap
at scale (docs/performance.md): what they keep in the cache (csp/cache.py) changes with the
change that makes it stale, and the changelist's queries do not grow with the years."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions import services
from actions.models import Action, Agency
from priorities.models import Quarter

from .factories import PlanFactory
from .test_returns_views import (
    detail_url,
    document,
    edit_url,
    open_q4,
    signed_in,
    submitted_return,
)


def page(client, user, url=None):
    response = signed_in(client, user).get(url or reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def earlier_rows(html: str) -> list[str]:
    rows = document_of(html).xpath("//table[caption[normalize-space()='Earlier returns']]/tbody/tr")
    return [" ".join(row.text_content().split()) for row in rows]


def document_of(html: str):
    from lxml import html as lxml_html

    return lxml_html.fromstring(html)


def led_by(plan, agency_name: str) -> Action:
    return (
        Action.objects.in_plan(plan)
        .filter(agencies__name=agency_name, all_partners=False)
        .with_plan_order()
        .first()
    )


@pytest.mark.django_db
def test_a_submitted_return_shows_on_the_cached_partner_home_at_once(
    client, davss_user, plan, cached_pages
):
    q4 = open_q4(plan)
    one_one = Action.objects.in_plan(plan).get(priority__number=1, number=1)
    davss = Agency.objects.get(name="DAVSS")
    before = page(client, davss_user)
    assert edit_url(q4, one_one, davss) in before
    assert queries(client, davss_user) < queries(client, davss_user, cold=True)  # cached

    submitted = submitted_return(davss_user, plan)

    after = page(client, davss_user)
    assert edit_url(q4, one_one, davss) not in after
    assert detail_url(submitted) in after


def queries(client, user, url=None, *, cold=False) -> int:
    """The queries a request runs: from the cache, or (cold) with the cache emptied."""
    from django.core.cache import cache

    if cold:
        cache.clear()
    with CaptureQueriesContext(connection) as run:
        page(client, user, url)
    return len(run)


@pytest.mark.django_db
def test_closing_a_quarter_moves_its_returns_to_the_cached_earlier_returns(
    client, davss_user, manager, plan, cached_pages
):
    q4 = open_q4(plan)
    submitted = submitted_return(davss_user, plan)
    assert not any(row.startswith("1.1 ") for row in earlier_rows(page(client, davss_user)))

    services.set_quarter_open(manager, Quarter.objects.get(pk=q4.pk), False)

    html = page(client, davss_user)
    assert detail_url(submitted) in html
    [row] = [row for row in earlier_rows(html) if row.startswith("1.1 ")]
    assert "Waiting for review" in row and q4.label in row
    # A changed RAG shows at once too.
    submitted.rag = "red"
    submitted.save()
    [row] = [row for row in earlier_rows(page(client, davss_user)) if row.startswith("1.1 ")]
    assert "Red" in row


@pytest.mark.django_db
def test_a_partner_given_another_agency_sees_its_returns_at_once(
    client, davss_user, plan, cached_pages
):
    q4 = open_q4(plan)
    police = Agency.objects.get(name="Kent Police")
    theirs = led_by(plan, "Kent Police")
    assert edit_url(q4, theirs, police) not in page(client, davss_user)

    davss_user.agencies.add(police)

    assert edit_url(q4, theirs, police) in page(client, davss_user)


def quarter_choices(html: str) -> list[str]:
    return [
        " ".join(option.text_content().split())
        for option in document_of(html).xpath("//select[@name='quarter']/option")
    ]


@pytest.mark.django_db
def test_closing_a_quarter_shows_in_the_cached_reopen_form_at_once(
    client, manager, plan, cached_pages
):
    q4 = open_q4(plan)
    url = reverse("quarter_list")
    before = quarter_choices(page(client, manager, url))
    assert q4.label not in before
    assert queries(client, manager, url) < queries(client, manager, url, cold=True)

    services.set_quarter_open(manager, Quarter.objects.get(pk=q4.pk), False)

    assert quarter_choices(page(client, manager, url)) == [*before, q4.label]


@pytest.mark.django_db
def test_the_reopen_form_keeps_what_was_typed_on_an_error(client, manager, plan, cached_pages):
    page(client, manager, reverse("quarter_list"))  # the empty form, cached
    response = signed_in(client, manager).post(
        reverse("lock_exception_create"), {"reason": "Late figures from the helpline"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Late figures from the helpline" in html
    assert "Select the action" in html


@pytest.mark.django_db
def test_the_admin_changelist_of_actions_runs_the_same_queries_with_more_plans(
    client, admin_user, plan
):
    url = reverse("admin:actions_action_changelist")
    client.force_login(admin_user)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for year in (2030, 2031, 2032):
        PlanFactory(financial_year=year, partnership=plan.partnership)
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert response.status_code == 200
    assert len(after) == len(before)
    # Every plan is still offered in the filter, each by its name.
    filters = document(response).xpath("//nav[@id='changelist-filter']")[0].text_content()
    assert "plan 2032/33" in filters and str(plan) in filters


@pytest.mark.django_db
def test_a_changed_action_shows_in_the_cached_action_plan_at_once(
    client, board_member, davss_user, plan, cached_pages
):
    from priorities.tables import NONE_VISIBLE

    url = reverse("plan")
    one_one = Action.objects.in_plan(plan).get(priority__number=1, number=1)
    assert one_one.description in page(client, board_member, url)
    assert queries(client, board_member, url) < queries(client, board_member, url, cold=True)

    csv_url = url + "?_export=csv"
    assert one_one.description in page(client, board_member, csv_url)
    one_one.description = "Run the domestic abuse helpline, a description of its own"
    one_one.save()

    assert one_one.description in page(client, board_member, url)
    assert one_one.description in page(client, board_member, csv_url)
    # Each viewer has their own table: a partner's RAG column reads their agencies' only.
    assert NONE_VISIBLE not in page(client, board_member, url)
    assert NONE_VISIBLE in page(client, davss_user, url)


@pytest.mark.django_db
def test_publishing_a_crime_year_changes_the_cached_headline_at_once(
    client, manager, board_member, cached_pages
):
    from .test_crime_publishing import headlines, save_one_2022_figure

    assert all("2021" in text for text in headlines(client, board_member).values())
    assert queries(client, board_member, reverse("dashboard")) < queries(
        client, board_member, reverse("dashboard"), cold=True
    )
    save_one_2022_figure(client, manager)  # a draft: still 2021's headline
    assert all("9,999" not in text for text in headlines(client, board_member).values())

    client.force_login(manager)
    client.post(reverse("crime_publish_year", args=[2022]), {"publish": "1"})
    for name, text in headlines(client, board_member).items():
        assert "2022" in text and "9,999" in text, (name, text)

    client.force_login(manager)
    client.post(reverse("crime_publish_year", args=[2022]), {"publish": "0"})
    assert all("2021" in text for text in headlines(client, board_member).values())


@pytest.mark.django_db
def test_a_return_sent_back_shows_on_the_cached_partner_home_at_once(
    client, davss_user, manager, plan, cached_pages
):
    open_q4(plan)
    submitted = submitted_return(davss_user, plan)
    assert "Returns to correct" not in page(client, davss_user)

    services.send_back(
        manager, submitted, comment="Add the helpline's figures", seen_version=submitted.version
    )

    html = page(client, davss_user)
    assert "Returns to correct" in html and "Add the helpline&#x27;s figures" in html


# Death reviews (deathreviews/): the partner home's actions, the navigation's Death reviews
# and the board paper's section are cached too, and move with any change in the module.


def death_review(plan, **fields):
    import datetime

    from deathreviews.models import Review

    return Review.objects.create(
        partnership=plan.partnership,
        reference="DARDR 2025/04",
        pseudonym="Adult D",
        notified_on=datetime.date(2025, 1, 6),
        decision=Review.Decision.HOLD,
        decision_on=datetime.date(2025, 1, 27),
        **fields,
    )


@pytest.mark.django_db
def test_a_new_death_review_action_shows_on_the_cached_partner_home_at_once(
    client, davss_user, plan, cached_pages
):
    import datetime

    from deathreviews.models import Recommendation, ReviewAction

    open_q4(plan)
    davss = Agency.objects.get(name="DAVSS")
    recommendation = Recommendation.objects.create(
        review=death_review(plan), number=1, text="Train the helpline."
    )
    recommendation.owners.add(davss)
    assert "Death review actions" not in page(client, davss_user)
    assert queries(client, davss_user) < queries(client, davss_user, cold=True)  # cached

    action = ReviewAction.objects.create(
        recommendation=recommendation,
        number=1,
        text="Deliver coercive control training.",
        lead_agency=davss,
        target_date=datetime.date(2030, 3, 31),
        evidence_needed="Attendance records.",
    )
    html = page(client, davss_user)
    assert "Death review actions" in html
    assert reverse("death_review_update", args=[action.pk]) in html


@pytest.mark.django_db
def test_death_reviews_joins_the_cached_navigation_when_a_partner_joins_a_panel(
    client, police_user, plan, cached_pages
):
    the_review = death_review(plan)
    assert reverse("death_review_list") not in page(client, police_user)
    the_review.panel_members.add(police_user)
    assert reverse("death_review_list") in page(client, police_user)


@pytest.mark.django_db
def test_a_published_review_shows_in_the_cached_board_report_at_once(
    client, board_member, plan, cached_pages
):
    import datetime

    from deathreviews.models import Recommendation

    the_review = death_review(plan)
    Recommendation.objects.create(review=the_review, number=1, text="Share MARAC minutes sooner.")
    report = reverse("quarterly_report")

    def states(html: str) -> str:
        table = document_of(html).xpath("//table[contains(@class, 'death-review-states')]")[0]
        return [
            tuple(cell.text_content().strip() for cell in row.xpath("th|td"))
            for row in table.xpath("tbody/tr")
        ]

    assert states(page(client, board_member, report)) == [("Panel to convene", "1")]
    assert queries(client, board_member, report) < queries(client, board_member, report, cold=True)
    the_review.published_on = datetime.date(2026, 6, 1)
    the_review.save()
    assert states(page(client, board_member, report)) == [("Published", "1")]
