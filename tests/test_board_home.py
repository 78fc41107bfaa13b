"""The board home (the reporting quarter's RAG picture, direction of travel, exceptions and
crime headline), the words every page uses, and the cache of the heaviest pages: each
cached answer changes with the change that makes it stale."""

import re

import pytest
from django.urls import reverse

from actions import services
from actions.models import QuarterlyReturn
from dashboard import summaries

from .board_helpers import body_rows, document, load_demo, quarter, table, text

RAG = QuarterlyReturn.RAG


@pytest.fixture
def users(db):
    return load_demo()


def page_text(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return text(document(response))


# Direction of travel -------------------------------------------------------------------------


def picture(**counts) -> summaries.PriorityPicture:
    return summaries.PriorityPicture(priority=None, rag=counts)


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        ({"red": 2, "green": 2}, {"red": 1, "green": 3}, "better"),
        ({"red": 1, "green": 3}, {"red": 2, "green": 2}, "worse"),
        ({"amber": 1, "green": 3}, {"red": 1, "green": 3}, "same"),  # red or amber: off track
        ({"green": 4}, {"complete": 2, "green": 2}, "same"),  # complete is on track
        ({"red": 1, "green": 9}, {"red": 1, "green": 10}, "same"),  # under 5 points
        ({}, {"green": 1}, "none"),
    ],
)
def test_direction_of_travel_follows_the_share_on_track(before, now, expected):
    assert summaries.direction(picture(**now), picture(**before)).key == expected


def test_no_quarter_before_has_no_direction():
    assert summaries.direction(picture(green=1), None) == summaries.NO_COMPARISON


def test_the_board_home_tells_the_story_of_the_reporting_quarter(client, users):
    page = page_text(client, users["board"], reverse("home"))
    q3 = quarter(3)
    assert f"The plan in {q3.label}" in page
    assert "Since Q2 2022/23" in page
    pictures = summaries.priority_pictures(q3.plan, q3, users["board"])
    before = summaries.priority_pictures(q3.plan, quarter(2), users["board"])
    for now, earlier in zip(pictures, before, strict=True):
        words = summaries.direction(now, earlier).words
        row = re.search(re.escape(now.priority.title) + r"(.*?)(Better|Same|Worse)", page, re.S)
        assert row and row.group(2) == words, now.priority.title
    exceptions = QuarterlyReturn.objects.filter(
        quarter=q3, state="approved", rag__in=[RAG.RED, RAG.AMBER]
    ).count()
    assert f"{exceptions} approved returns red or amber in {q3.label}" in page
    assert "All recorded crime in" in page


# Words ---------------------------------------------------------------------------------------


def test_one_name_per_priority(client, users):
    """Priority 5 is the plan's heading on every page, the assessment's name only where the
    assessment is quoted."""
    q3 = quarter(3)
    priority = q3.plan.priorities.get(number=5)
    assert priority.title != priority.short_title
    for url in [reverse("dashboard"), reverse("completeness"), reverse("quarterly_report")]:
        page = page_text(client, users["manager"], url)
        assert priority.title in page, url
        assert priority.short_title not in page, url
    page = page_text(client, users["manager"], reverse("priority_detail", args=[priority.pk]))
    assert f"Recommended in the strategic assessment as “{priority.short_title}”" in page


def test_the_service_is_called_by_its_name(client, users):
    page = page_text(client, users["board"], reverse("home"))
    assert "Community safety plan" in page
    assert "csp-plan" not in page


def test_crime_headings_are_sentence_case(client, users):
    page = page_text(client, users["board"], reverse("crime_statistics"))
    assert "This year" in page and "Last year" in page
    assert "This Year" not in page and "Last Year" not in page


def test_the_sign_in_error_is_govuk_wording(client, users):
    response = client.post(reverse("login"), {"username": "board", "password": "wrong"})
    page = text(document(response))
    assert "Enter the correct username and password" in page
    assert "Please enter" not in page


def test_thousands_filter():
    from csp.templatetags.wording import thousands

    assert thousands(1234567) == "1,234,567"
    assert thousands(7) == "7"
    assert thousands(None) is None


# The cache: stale only until the change that makes it so --------------------------------------


def test_approving_a_return_changes_the_cached_report(client, users, cached_pages):
    manager, board = users["manager"], users["board"]
    q3 = quarter(3)
    waiting = (
        QuarterlyReturn.objects.filter(quarter=q3, state="submitted")
        .exclude(narrative="")
        .select_related("action")
        .first()
    )
    assert waiting is not None
    waiting.narrative = "Sessions delivered in every ward, a narrative of its own"
    waiting.save()
    url = reverse("quarterly_report") + "?quarter=3"
    before = page_text(client, board, url)
    assert waiting.narrative not in before
    assert page_text(client, board, url) == before  # served again, unchanged
    services.approve_return(manager, waiting, seen_version=waiting.version)
    assert waiting.narrative in page_text(client, board, url)


def test_a_changed_rag_changes_the_cached_board_home_and_completeness(client, users, cached_pages):
    board, manager = users["board"], users["manager"]
    q3 = quarter(3)
    red = QuarterlyReturn.objects.filter(quarter=q3, state="approved", rag=RAG.RED).first()
    count = QuarterlyReturn.objects.filter(
        quarter=q3, state="approved", rag__in=[RAG.RED, RAG.AMBER]
    ).count()
    assert f"{count} approved returns red or amber" in page_text(client, board, reverse("home"))
    red.rag = RAG.GREEN
    red.save()
    assert f"{count - 1} approved returns red or amber" in page_text(client, board, reverse("home"))
    # Sending a return back changes its cell in the completeness grid.
    url = reverse("completeness") + "?quarter=3"
    grid_before = page_text(client, manager, url)
    submitted = QuarterlyReturn.objects.filter(quarter=q3, state="submitted").first()
    services.send_back(
        manager, submitted, comment="Add the figures", seen_version=submitted.version
    )
    assert page_text(client, manager, url) != grid_before


def test_the_review_queue_drops_an_approved_return_at_once(client, users, cached_pages):
    manager = users["manager"]
    page = page_text(client, manager, reverse("review_queue"))
    waiting = QuarterlyReturn.objects.filter(state="submitted").count()
    assert waiting
    submitted = QuarterlyReturn.objects.filter(state="submitted").first()
    services.approve_return(manager, submitted, seen_version=submitted.version)
    assert page_text(client, manager, reverse("review_queue")) != page


def test_each_viewer_has_their_own_cached_answer(client, users, cached_pages):
    """A partner's figures (their agencies' returns only) are never the board's, even with
    the board's answer in the cache."""
    url = reverse("dashboard") + "?quarter=3"
    client.force_login(users["board"])
    board_rows = body_rows(table(client.get(url), "app-table--priorities"))
    client.force_login(users["davss"])
    partner_rows = body_rows(table(client.get(url), "app-table--priorities"))
    approved_green = QuarterlyReturn.objects.filter(
        quarter=quarter(3), state="approved", rag=RAG.GREEN
    )
    assert board_rows != partner_rows
    davss_green = approved_green.filter(agency__name="DAVSS").count()
    # Priority, expected, received, approved, missing, then red, amber, green, ...
    assert sum(int(row[7]) for row in partner_rows[:-1]) == davss_green
    assert sum(int(row[7]) for row in board_rows[:-1]) == approved_green.count()


def test_completeness_shows_one_priority_at_a_time(client, users):
    client.force_login(users["manager"])
    plan = quarter(3).plan
    first, fifth = plan.priorities.get(number=1), plan.priorities.get(number=5)
    page = document(client.get(reverse("completeness")))
    captions = [text(c) for c in page.xpath("//table[contains(@class, 'completeness')]/caption")]
    assert captions == [first.label]
    assert "Reporting rates by agency" in text(page)
    page = document(client.get(reverse("completeness") + "?priority=5"))
    captions = [text(c) for c in page.xpath("//table[contains(@class, 'completeness')]/caption")]
    assert captions == [fifth.label]
    whole = document(client.get(reverse("completeness") + "?priority=all"))
    assert len(whole.xpath("//table[contains(@class, 'completeness')]")) == 5


def test_a_cached_answer_is_served_until_the_data_changes(users, cached_pages):
    from csp import cache

    calls = []

    def build():
        calls.append(1)
        return len(calls)

    assert cache.cached("probe", ("a",), build) == 1
    assert cache.cached("probe", ("a",), build) == 1  # from the cache
    assert cache.cached("probe", ("b",), build) == 2  # another key
    red = QuarterlyReturn.objects.filter(state="approved").first()
    red.save()  # any change to a return
    assert cache.cached("probe", ("a",), build) == 3
