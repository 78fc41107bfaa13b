"""What the performance work changed on the pages, checked against generated history: the
partner's earlier returns come a page at a time, the agency list still counts only the
current plan's actions, table cells keep their GOV.UK markup, the action plan's own row
template shows what django-tables2 would, and bench/run's query-count header is there only
when asked for."""

import django_tables2 as tables
import pytest
from django.db import connection
from django.template import engines
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import html

from accounts.models import Role
from actions.models import Action, Agency, QuarterlyReturn
from actions.tables import ReviewTable
from csp.query_count import HEADER
from csp.views import EARLIER_PER_PAGE
from demodata import demo_returns, generate
from priorities.filters import with_latest_rag
from priorities.models import Plan
from priorities.quarters import plan_quarters, reporting_quarter
from priorities.tables import ActionTable

from .factories import UserFactory

EARLIER = "Earlier returns"


def rows(response, caption: str) -> list[list[str]]:
    """The body of the table with this caption, as rows of cell texts."""
    document = html.fromstring(response.content.decode())
    [body] = document.xpath(f"//table[normalize-space(caption)='{caption}']/tbody")
    return [
        [" ".join(cell.text_content().split()) for cell in row.xpath("./th|./td")]
        for row in body.xpath("./tr")
    ]


@pytest.mark.django_db
def test_partner_home_pages_the_earlier_returns_newest_first(client, davss_user):
    generate.generate(2)
    davss = Agency.objects.get(name="DAVSS")
    earlier = QuarterlyReturn.objects.filter(agency=davss)
    total = earlier.count()
    assert total > EARLIER_PER_PAGE
    client.force_login(davss_user)

    first = client.get(reverse("home"))
    page_one = rows(first, EARLIER)
    assert len(page_one) == EARLIER_PER_PAGE
    assert page_one[0][2] == "Q4 2021/22"  # no quarter is open: the newest first
    assert 'aria-label="Earlier returns"' in first.content.decode()
    last = client.get(reverse("home"), {"page": 2})
    assert len(rows(last, EARLIER)) == total - EARLIER_PER_PAGE
    assert rows(last, EARLIER)[-1][2] == "Q1 2020/21"
    # A page number out of range or not a number still gives a page.
    assert rows(client.get(reverse("home"), {"page": "x"}), EARLIER) == page_one
    assert (
        len(rows(client.get(reverse("home"), {"page": "99"}), EARLIER)) == total - EARLIER_PER_PAGE
    )


@pytest.mark.django_db
def test_agency_list_counts_only_the_current_plans_actions(client, board_member):
    client.force_login(board_member)
    before = rows(client.get(reverse("agency_list")), "Agencies")
    generate.generate(2)
    after = rows(client.get(reverse("agency_list")), "Agencies")
    # Name, short name, kind and actions led; who can submit changes with the generated users.
    assert [row[:4] for row in after] == [row[:4] for row in before]
    led = {row[0]: int(row[3]) for row in after}
    assert (led["Kent Police"], led["DAVSS"]) == (28, 4)


class FigureTable(tables.Table):
    name = tables.Column(attrs={"td": {"scope": "row"}})
    count = tables.Column(attrs={"cell": {"class": "numeric"}})
    note = tables.Column(attrs={"td": {"data-kind": lambda record: record["kind"]}})


def render_table(data) -> str:
    request = RequestFactory().get("/")
    template = engines["django"].from_string("{% load django_tables2 %}{% render_table table %}")
    return template.render({"table": FigureTable(data)}, request)


def test_table_cells_keep_their_govuk_markup():
    document = html.fromstring(
        render_table([{"name": "All crime", "count": 7679, "note": "<b>up</b>", "kind": "crime"}])
    )
    [row] = document.xpath("//tbody/tr")
    header, count, note = row.xpath("./th|./td")
    assert (header.tag, header.get("class"), header.get("scope")) == (
        "th",
        "govuk-table__header",
        "row",
    )
    assert header.text == "All crime"
    assert count.tag == "td"
    assert count.get("class") == "govuk-table__cell govuk-table__cell--numeric numeric"
    assert count.text == "7679"
    # Attributes computed from the record, and text escaped.
    assert (note.get("class"), note.get("data-kind")) == ("govuk-table__cell", "crime")
    assert note.text == "<b>up</b>"


@pytest.mark.django_db
def test_query_count_header_is_off_by_default(client):
    assert HEADER not in client.get(reverse("health"))


@pytest.mark.django_db
def test_query_count_header_counts_the_requests_queries(client, board_member, settings):
    middleware = ["csp.query_count.QueryCountHeaderMiddleware", *settings.MIDDLEWARE]
    client.force_login(board_member)
    with override_settings(MIDDLEWARE=middleware):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("crime_statistics"))
        assert int(response[HEADER]) == len(queries) > 5
        client.logout()
        assert client.get(reverse("health"))[HEADER] == "1"  # SELECT 1, and no session


def body_rows(content: str) -> list[list[str]]:
    """Each body row's cells as normalised HTML."""
    document = html.fromstring(content)
    return [
        [" ".join(html.tostring(cell, encoding="unicode").split()) for cell in row]
        for row in document.xpath("//tbody/tr")
    ]


def plan_actions():
    """The plan's actions as the board reads them: every approved RAG status."""
    plan = Plan.objects.get(financial_year=2022)
    return with_latest_rag(
        Action.objects.in_plan(plan).with_plan_order(),
        reporting_quarter(plan_quarters(plan)),
        UserFactory(username="board", role=Role.BOARD),
    )


def waiting_returns():
    return QuarterlyReturn.objects.awaiting_review().with_context()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table_class", "rows", "template"),
    [
        (ActionTable, plan_actions, "priorities/action_table.html"),
        (ReviewTable, waiting_returns, "actions/review_table.html"),
    ],
    ids=["action plan", "review queue"],
)
def test_tables_with_their_own_rows_show_the_cells_django_tables2_would(
    rf, table_class, rows, template
):
    demo_returns.create_demo_accounts()
    demo_returns.create_demo_returns()  # RAG statuses for the plan, submitted returns for the queue
    data = rows()
    request = rf.get("/")
    engine = engines["django"]
    own, generic = (
        engine.from_string(f"{{% load django_tables2 %}}{{% render_table table {name} %}}").render(
            {"table": table_class(data)}, request
        )
        for name in ("table.template_name", "'django_tables2/govuk.html'")
    )
    assert table_class.Meta.template_name == template
    own_rows = body_rows(own)
    assert len(own_rows) == len(data) > 10
    assert {len(row) for row in own_rows} == {len(table_class.base_columns)}
    assert own_rows == body_rows(generic)


@pytest.mark.django_db
def test_the_action_plans_rag_column_says_when_nothing_is_reported(rf):
    demo_returns.create_demo_accounts()
    demo_returns.create_demo_returns()
    request = rf.get("/")
    template = engines["django"].from_string("{% load django_tables2 %}{% render_table table %}")
    rows = body_rows(template.render({"table": ActionTable(plan_actions())}, request))
    assert {row[-1] for row in rows} >= {
        '<td class="govuk-table__cell">Green</td>',
        '<td class="govuk-table__cell">No approved return yet</td>',
    }
