"""Query strings that 500 (issue 10, finding 7): ?per_page=-1 on the plan and the review queue
answered 500 for every role, and ?per_page=999999999 turned paging off. Page sizes are now
only those offered, and no malformed number in a list page's query string is a 500."""

import django_tables2 as tables
import pytest
from django.test import RequestFactory
from django.urls import reverse

from csp.querystring import paginate, whole_number

from . import board_helpers

MALFORMED = [
    "-1",
    "0",
    "abc",
    "999999999",
    "99999999999999999999999",
    "9" * 5000,  # past int()'s 4,300 digits
    "²",  # a digit to str.isdigit(), not to int()
    "1e3",
    "1.5",
    " 2",
    "",
    "%00",
]
PARAMETERS = [
    "per_page",
    "page",
    "sort",
    "quarter",
    "year",
    "agency",
    "priority",
    "rag",
    "q",
    "crime_type",
    "category",
    "basis",
    "download",
    "format",
    "_export",
]


@pytest.fixture(scope="module")
def list_pages(django_db_blocker):
    with django_db_blocker.unblock():
        from priorities.models import Priority

        priority = Priority.objects.filter(plan__financial_year=2022).order_by("number").first()
    return [
        reverse("home"),
        reverse("plan"),
        reverse("priority_detail", args=[priority.pk]),
        reverse("review_queue"),
        reverse("agency_list"),
        reverse("quarter_list"),
        reverse("dashboard"),
        reverse("completeness"),
        reverse("quarterly_report"),
        reverse("crime_statistics"),
        reverse("crime_figures"),
        reverse("crime_league"),
        reverse("crime_positions"),
        reverse("crime_neighbourhoods"),
        reverse("crime_sources"),
    ]


@pytest.fixture
def users(db):
    return board_helpers.load_demo()


@pytest.mark.django_db
@pytest.mark.parametrize("value", MALFORMED)
def test_no_malformed_number_on_a_list_page_is_a_500(client, users, list_pages, value):
    client.force_login(users["manager"])
    query = "&".join(f"{name}={value}" for name in PARAMETERS)
    for url in list_pages:
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200, f"{url}?{query[:200]}"


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["-1", "0", "999999999", "abc"])
@pytest.mark.parametrize("persona", ["davss", "manager", "board"])
@pytest.mark.parametrize("name", ["plan", "review_queue"])
def test_the_plan_and_the_review_queue_answer_every_role_whatever_the_page_size(
    client, users, persona, name, value
):
    """Each role gets what it gets without the query string: the page, or a refusal."""
    client.force_login(users[persona])
    plain = client.get(reverse(name)).status_code
    assert client.get(f"{reverse(name)}?per_page={value}&page={value}").status_code == plain


# Page sizes are only those offered --------------------------------------------------------


class NumberTable(tables.Table):
    number = tables.Column()


def numbers(count: int) -> NumberTable:
    return NumberTable([{"number": n} for n in range(1, count + 1)])


def shown(query: str, sizes=(25, 50), count: int = 120) -> tuple[int, list[int]]:
    table = paginate(RequestFactory().get(f"/?{query}"), numbers(count), sizes)
    return table.page.number, [row.record["number"] for row in table.page.object_list]


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("", 25),
        ("per_page=50", 50),
        ("per_page=25", 25),
        ("per_page=999999999", 25),  # paging is never turned off
        ("per_page=120", 25),
        ("per_page=-1", 25),
        ("per_page=0", 25),
        ("per_page=abc", 25),
        ("per_page=50.0", 25),
    ],
)
def test_only_the_page_sizes_offered_are_taken(query, size):
    page, rows = shown(query)
    assert (page, rows) == (1, list(range(1, size + 1)))


@pytest.mark.parametrize(
    ("query", "page"),
    [
        ("page=2", 2),
        ("page=5", 5),  # past the end: the last page
        ("page=99999999999999", 1),  # not a page number at all: the first
        ("page=-1", 1),
        ("page=0", 1),
        ("page=abc", 1),
        ("page=²", 1),
    ],
)
def test_a_page_that_is_not_there_shows_the_first_or_the_last(query, page):
    assert shown(query, sizes=(50,))[0] == min(page, 3)


def test_sorting_still_follows_the_query_string():
    assert shown("sort=-number", sizes=(25,))[1][:3] == [120, 119, 118]


@pytest.mark.parametrize(
    ("text", "number"),
    [("3", 3), ("0", 0), ("-1", None), ("abc", None), ("²", None), ("1e3", None), (None, None)],
)
def test_whole_number(text, number):
    assert whole_number(text) == number
