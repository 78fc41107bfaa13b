"""The reading pages: each role's home, the action plan with its filters and downloads, the
priority, action and agency pages and the crime table; who may open them, what they show,
the headers they carry, and a fixed number of queries whatever the size of the plan."""

import csv
import io
import json
import re
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse
from django.utils.html import escape
from lxml import html

from actions.models import Action, Agency, Metric, QuarterlyReturn
from crimestats.models import Area, CountyPosition, CrimeFigure, CrimeType
from priorities.models import Plan, Priority, Quarter

from .factories import ActionFactory, AgencyFactory

PLAN_DATA = json.loads(
    (Path(__file__).resolve().parent.parent / "fixtures" / "plan-2022-23.json").read_text(
        encoding="utf-8"
    )
)
ALL_REFS = [row["ref"] for row in PLAN_DATA["actions"]]
PRINTED = {row["ref"]: row for row in PLAN_DATA["actions"]}

ALL_PARTNER_REFS = ["3.10", "3.12", "4.9", "5.5", "5.17", "5.18", "5.21"]
DAVSS_LEADS = ["1.1", "1.3", "1.4", "1.8"]
DAVSS_REFS = [*DAVSS_LEADS, *ALL_PARTNER_REFS]
LOOK_AHEAD_REFS = ["1.3", "1.5", "1.6", "1.8", "1.9", "1.10", "1.11", "1.12", *ALL_PARTNER_REFS]


# Helpers ---------------------------------------------------------------------------------


def action(ref: str) -> Action:
    priority, number = (int(part) for part in ref.split("."))
    return Action.objects.get(
        priority__plan__financial_year=2022, priority__number=priority, number=number
    )


def priority(number: int) -> Priority:
    return Priority.objects.get(plan__financial_year=2022, number=number)


def agency(name: str) -> Agency:
    return Agency.objects.get(name=name)


def tables(response) -> list[list[list[str]]]:
    """Every table body on the page as rows of cell texts, whitespace collapsed."""
    document = html.fromstring(response.content.decode())
    return [
        [
            [" ".join(cell.text_content().split()) for cell in row.xpath("./th|./td")]
            for row in body.xpath("./tr")
        ]
        for body in document.xpath("//table/tbody")
    ]


def first_column(rows: list[list[str]]) -> list[str]:
    return [row[0] for row in rows]


def first_column_refs(rows: list[list[str]]) -> list[str]:
    """The action refs of a table whose first column starts "1.1 <description>"."""
    return [row[0].split()[0] for row in rows]


def plan_refs(response) -> list[str]:
    """The refs in the action plan's table (the last table on the page)."""
    rows = tables(response)[-1]
    if rows == [["No actions match these filters."]]:
        return []
    return first_column(rows)


def signed_in(client, user):
    client.force_login(user)
    return client


# Home: each role's starting point ----------------------------------------------------------


def open_quarter(plan: Plan, number: int) -> Quarter:
    quarter = plan.quarters.get(number=number)
    quarter.is_open = True
    quarter.save()
    return quarter


def owed_refs(response) -> list[str]:
    """The refs in the partner home's first table: the returns owed in the open quarters."""
    return [row[0].split()[0] for row in tables(response)[0]]


@pytest.mark.django_db
def test_partner_home_lists_its_agencys_actions_and_the_all_partner_actions(
    client, davss_user, plan
):
    open_quarter(plan, 1)
    response = signed_in(client, davss_user).get(reverse("home"))
    assert response.status_code == 200
    # (The earlier returns' rows are rendered first, to be cached: csp.views.home.)
    assert "home/partner.html" in [template.name for template in response.templates]
    content = response.content.decode()
    assert '<span class="govuk-caption-l">DAVSS</span>' in content
    assert "Returns owed for Q1 2022/23" in content
    rows = tables(response)[0]
    # Owed: the actions DAVSS leads. The actions for all partners it may contribute to.
    assert owed_refs(response) == DAVSS_LEADS
    assert "Returns you may contribute for Q1 2022/23" in content
    contributions = tables(response)[1]
    assert first_column_refs(contributions) == ALL_PARTNER_REFS
    # Key columns first: action, due, the link to fill it in, state, quarter.
    assert all(row[1] == "Optional" for row in contributions)
    assert rows[0][0] == "1.1 " + PRINTED["1.1"]["description"][:109] + "…"
    assert all(row[4] == "Q1 2022/23" for row in rows)


@pytest.mark.django_db
def test_partner_home_shows_only_its_own_agencys_actions(client, police_user, plan):
    open_quarter(plan, 1)
    response = signed_in(client, police_user).get(reverse("home"))
    refs = owed_refs(response)
    assert "1.1" not in refs  # DAVSS's
    assert {"5.2", "5.19", "5.5"} <= set(refs)
    assert refs == [ref for ref in ALL_REFS if "Kent Police" in PRINTED[ref]["agencies"]]
    assert first_column_refs(tables(response)[1]) == [
        ref for ref in ALL_PARTNER_REFS if "Kent Police" not in PRINTED[ref]["agencies"]
    ]


@pytest.mark.django_db
def test_partner_home_with_no_open_quarter_says_so(client, davss_user):
    response = signed_in(client, davss_user).get(reverse("home"))
    assert response.status_code == 200
    assert "No quarter is open for returns at the moment." in response.content.decode()


@pytest.mark.django_db
def test_manager_home_has_the_headline_and_the_plan_in_numbers(client, manager):
    response = signed_in(client, manager).get(reverse("home"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Community safety manager" in content
    assert "<strong>7,679</strong> crimes (previous year 7,830)" in content
    assert "Down 151 (-1.9%)" in content
    assert "has 5 priorities and 71 actions" in content
    assert reverse("plan") in content
    assert "Returns owed" not in content


@pytest.mark.django_db
def test_board_home_has_the_headline_and_the_priorities(client, board_member):
    response = signed_in(client, board_member).get(reverse("home"))
    assert response.status_code == 200
    content = response.content.decode()
    # The reporting quarter's picture (Q1: none closed yet, the first) opens the page.
    assert "The plan in Q1 2022/23" in content
    assert "<strong>7,679</strong>" in content
    assert "County position: <strong>1</strong> of 12 Kent areas (best in Kent)" in content
    for number in range(1, 6):
        assert reverse("priority_detail", args=[priority(number).pk]) in content
    assert "Returns owed" not in content


# Who may open what -----------------------------------------------------------------------

SIGNED_IN_PAGES = [
    ("home", lambda: []),
    ("plan", lambda: []),
    ("priority_detail", lambda: [priority(1).pk]),
    ("action_detail", lambda: [action("1.1").pk]),
    ("agency_list", lambda: []),
    ("agency_detail", lambda: [agency("DAVSS").pk]),
    ("crime_statistics", lambda: []),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "args"), SIGNED_IN_PAGES, ids=[p[0] for p in SIGNED_IN_PAGES])
def test_anonymous_visitors_are_sent_to_sign_in(client, name, args):
    url = reverse(name, args=args())
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.django_db
def test_anonymous_download_is_sent_to_sign_in_with_its_query(client):
    response = client.get(reverse("plan"), {"_export": "csv", "q": "MARAC"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/plan/%3F_export%3Dcsv%26q%3DMARAC"
    assert "text/csv" not in response.get("Content-Type", "")


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "args"), SIGNED_IN_PAGES, ids=[p[0] for p in SIGNED_IN_PAGES])
@pytest.mark.parametrize("persona", ["davss_user", "manager", "board_member"])
def test_every_role_reads_every_page(client, request, persona, name, args):
    user = request.getfixturevalue(persona)
    response = signed_in(client, user).get(reverse(name, args=args()))
    assert response.status_code == 200


@pytest.mark.django_db
def test_login_page_is_public(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="username"' in content
    assert 'name="password"' in content


@pytest.mark.django_db
def test_health_check_is_public(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_accessibility_statement_is_public(client):
    response = client.get(reverse("accessibility"))
    assert response.status_code == 200
    assert "Accessibility statement for Community safety plan" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/actions/999999/", "/agencies/999999/", "/plan/priorities/999999/"]
)
def test_missing_objects_are_404(client, davss_user, url):
    assert signed_in(client, davss_user).get(url).status_code == 404


# The action plan ---------------------------------------------------------------------------


@pytest.fixture
def reader(client, davss_user):
    return signed_in(client, davss_user)


@pytest.mark.django_db
def test_plan_lists_all_71_actions_in_plan_order(reader):
    response = reader.get(reverse("plan"))
    assert response.status_code == 200
    assert plan_refs(response) == ALL_REFS
    content = response.content.decode()
    assert "Action plan 2022/23" in content
    assert "signed off by the partnership on 17 February 2022" in content


@pytest.mark.django_db
def test_plan_filtered_by_priority(reader):
    response = reader.get(reverse("plan"), {"priority": priority(4).pk})
    refs = plan_refs(response)
    assert refs == [f"4.{n}" for n in range(1, 16)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("agency_name", "refs"),
    [("DAVSS", DAVSS_REFS), ("Look Ahead", LOOK_AHEAD_REFS)],
)
def test_plan_filtered_by_agency_includes_the_all_partner_actions(reader, agency_name, refs):
    response = reader.get(reverse("plan"), {"agency": agency(agency_name).pk})
    assert plan_refs(response) == refs


@pytest.mark.django_db
def test_all_partner_action_with_no_named_agency_appears_under_any_agency(reader):
    # 5.18 is printed "All partners": no agency is linked, yet every agency may report on it.
    assert not action("5.18").agencies.exists()
    for name in ("Kent Fire and Rescue Service", "Street Pastors"):
        assert "5.18" in plan_refs(reader.get(reverse("plan"), {"agency": agency(name).pk}))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("q", "refs"),
    [
        ("MARAC", ["1.1"]),
        ("marac", ["1.1"]),  # case does not matter
        ("stalking", ["1.11", "1.12", "1.13", "5.19", "5.20"]),
        ("CCTV", ["3.3", "3.7", "5.2", "5.3", "5.4", "5.5", "5.10"]),  # lead agencies too
        ("  knife  ", ["3.9"]),
        ("no such words anywhere", []),
    ],
)
def test_plan_text_search(reader, q, refs):
    response = reader.get(reverse("plan"), {"q": q})
    assert response.status_code == 200
    assert plan_refs(response) == refs


@pytest.mark.django_db
def test_plan_filters_combine(reader):
    response = reader.get(reverse("plan"), {"priority": priority(5).pk, "q": "CCTV"})
    assert plan_refs(response) == ["5.2", "5.3", "5.4", "5.5", "5.10"]


@pytest.mark.django_db
def test_plan_no_match_says_so(reader):
    response = reader.get(reverse("plan"), {"q": "no such words anywhere"})
    assert "No actions match these filters." in response.content.decode()


@pytest.mark.django_db
def test_plan_sorts_by_ref_numerically_both_ways(reader):
    assert plan_refs(reader.get(reverse("plan"), {"sort": "ref"})) == ALL_REFS
    assert plan_refs(reader.get(reverse("plan"), {"sort": "-ref"})) == ALL_REFS[::-1]


@pytest.mark.django_db
def test_plan_sorts_by_priority(reader):
    refs = plan_refs(reader.get(reverse("plan"), {"sort": "-priority"}))
    assert len(refs) == 71
    assert [ref.split(".")[0] for ref in refs] == sorted(
        (ref.split(".")[0] for ref in ALL_REFS), reverse=True
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "priority=abc",
        "priority=999999",
        "agency=999999",
        "agency=-1",
        "sort=nonsense",
        "sort=",
        "page=9999",
        "page=x",
        "page=-1",
        "q=%00",
        "q=" + "x" * 5000,
        "_export=pdf",
        "priority=1&priority=2",
        "priority=%F0%9F%98%80",
    ],
)
def test_plan_malformed_query_strings_give_a_page_not_an_error(reader, query):
    response = reader.get(f"{reverse('plan')}?{query}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Action plan 2022/23" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["priority=abc", "agency=999999"])
def test_plan_invalid_filter_is_reported_and_the_whole_plan_shown(reader, query):
    response = reader.get(f"{reverse('plan')}?{query}")
    content = response.content.decode()
    assert "govuk-error-message" in content
    assert "Select a valid choice" in content
    assert plan_refs(response) == ALL_REFS


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["page=9999", "page=x", "sort=nonsense"])
def test_plan_bad_page_or_sort_still_lists_the_plan(reader, query):
    assert plan_refs(reader.get(f"{reverse('plan')}?{query}")) == ALL_REFS


# Downloads ---------------------------------------------------------------------------------

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["Ref", "Priority", "Action", "Lead agencies", "Measure", "RAG status"]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list[str]]:
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = workbook.worksheets[0]
    return [["" if cell is None else str(cell) for cell in row] for row in sheet.values]


@pytest.mark.django_db
def test_plan_csv_download_has_every_action_verbatim(reader):
    response = reader.get(reverse("plan"), {"_export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == CSV_TYPE
    assert 'filename="action-plan-2022.csv"' in response["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header == HEADER
    assert first_column(rows) == ALL_REFS
    by_ref = {row[0]: row for row in rows}
    for ref in ("1.1", "1.10", "5.2", "5.22"):
        printed = PRINTED[ref]
        assert by_ref[ref][2:5] == [
            printed["description"],
            printed["lead_agencies"],
            printed["measure"],
        ]


@pytest.mark.django_db
def test_plan_excel_download_has_every_action_verbatim(reader):
    response = reader.get(reverse("plan"), {"_export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert 'filename="action-plan-2022.xlsx"' in response["Content-Disposition"]
    header, *rows = xlsx_rows(response)
    assert header == HEADER
    assert first_column(rows) == ALL_REFS
    one_one = rows[0]
    assert one_one[2] == PRINTED["1.1"]["description"]
    assert one_one[4] == PRINTED["1.1"]["measure"]


@pytest.mark.django_db
@pytest.mark.parametrize(("export", "read"), [("csv", csv_rows), ("xlsx", xlsx_rows)])
def test_downloads_hold_the_filtered_rows(reader, export, read):
    response = reader.get(reverse("plan"), {"agency": agency("DAVSS").pk, "_export": export})
    assert first_column(read(response)[1:]) == DAVSS_REFS
    response = reader.get(
        reverse("plan"), {"priority": priority(5).pk, "q": "CCTV", "_export": export}
    )
    assert first_column(read(response)[1:]) == ["5.2", "5.3", "5.4", "5.5", "5.10"]


@pytest.mark.django_db
def test_download_is_in_the_sorted_order(reader):
    response = reader.get(reverse("plan"), {"sort": "-ref", "_export": "csv"})
    assert first_column(csv_rows(response)[1:]) == ALL_REFS[::-1]


# Priority, action and agency pages ---------------------------------------------------------


@pytest.mark.django_db
def test_priority_page_lists_its_actions_and_the_assessment(reader):
    road_safety = priority(4)
    response = reader.get(reverse("priority_detail", args=[road_safety.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert '<h1 class="govuk-heading-l">Road Safety</h1>' in content
    assert escape(road_safety.recommendation) in content
    rows = tables(response)[0]  # the actions; each action's figures by quarter follow
    assert first_column(rows) == [f"4.{n}" for n in range(1, 16)]
    assert rows[3][1:4] == [
        PRINTED["4.4"][key] for key in ("description", "lead_agencies", "measure")
    ]


@pytest.mark.django_db
def test_action_page_shows_the_plan_text_verbatim(reader):
    one_one = action("1.1")
    response = reader.get(reverse("action_detail", args=[one_one.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Action 1.1" in content
    printed = PRINTED["1.1"]
    assert f'<dd class="govuk-summary-list__value">{escape(printed["description"])}</dd>' in content
    assert f'<dd class="govuk-summary-list__value">{escape(printed["measure"])}</dd>' in content
    assert f'<dd class="govuk-summary-list__value">{printed["lead_agencies"]}</dd>' in content
    assert "Not stated in the plan" in content  # 1.1 prints no outcome
    for metric in ("Helpline calls (count)", "Referrals managed (count)", "Programmes run (count)"):
        assert metric in content


@pytest.mark.django_db
def test_action_page_with_quotes_is_escaped_not_mangled(reader):
    # 5.2's text has an apostrophe: escaped in the markup, exact on the screen.
    response = reader.get(reverse("action_detail", args=[action("5.2").pk]))
    document = html.fromstring(response.content.decode())
    values = [dd.text_content().strip() for dd in document.xpath("//dd")]
    assert PRINTED["5.2"]["description"] == (
        "Exclude individuals convicted of violence offences from Pubwatch members' licensed premises."
    )
    assert PRINTED["5.2"]["description"] in values
    assert "Safe Town Partnership (STP), CCTV, Kent Police" in values


@pytest.mark.django_db
def test_action_page_links_the_canonical_agencies(reader):
    response = reader.get(reverse("action_detail", args=[action("5.2").pk]))
    document = html.fromstring(response.content.decode())
    links = {
        link.text_content(): link.get("href")
        for link in document.xpath("//main//a")
        if re.fullmatch(r"/agencies/\d+/", link.get("href"))
    }
    assert links == {
        name: reverse("agency_detail", args=[agency(name).pk])
        for name in ("Kent Police", "Safe Town Partnership", "TWBC CCTV")
    }


@pytest.mark.django_db
def test_all_partner_action_page_says_so(reader):
    response = reader.get(reverse("action_detail", args=[action("5.18").pk]))
    content = " ".join(response.content.decode().split())
    assert "<li>Any other partner agency may contribute</li>" in content
    # It names no lead: the coordinating agency owes it.
    assert "TWBC Community Safety Team</a> (the coordinating agency:" in content


@pytest.mark.django_db
def test_agency_page_lists_the_actions_it_leads_and_those_for_all_partners(reader):
    response = reader.get(reverse("agency_detail", args=[agency("DAVSS").pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Actions it leads (4)" in content
    assert "Returns for Q1 2022/23" in content  # the reporting quarter: none closed or open
    leads, owed, shared = tables(response)
    assert first_column(leads) == DAVSS_LEADS
    assert first_column_refs(owed) == DAVSS_LEADS
    assert first_column_refs(shared) == ALL_PARTNER_REFS


@pytest.mark.django_db
def test_agency_page_does_not_list_an_action_twice(reader):
    # 5.5 is Kent Police's and also open to all partners: it belongs in the first table only.
    leads, owed, shared = tables(
        reader.get(reverse("agency_detail", args=[agency("Kent Police").pk]))
    )
    assert "5.5" in first_column(leads)
    assert "5.5" in first_column_refs(owed)
    assert "5.5" not in first_column_refs(shared)
    assert len(leads) == len(owed) == 28
    assert first_column_refs(shared) == ["3.12", "4.9", "5.17", "5.18", "5.21"]


@pytest.mark.django_db
def test_agency_page_shows_the_names_the_plan_uses(reader):
    response = reader.get(reverse("agency_detail", args=[agency("TWBC Community Safety Team").pk]))
    content = response.content.decode()
    assert "Also named in the plan as:" in content
    assert "CST" in content


@pytest.mark.django_db
def test_agency_list_counts_the_actions_each_agency_leads(reader):
    response = reader.get(reverse("agency_list"))
    assert response.status_code == 200
    [rows] = tables(response)
    assert len(rows) == Agency.objects.active().count() == 34
    led = {row[0]: int(row[3]) for row in rows}
    assert led["TWBC Community Safety Team"] == 35
    assert led["Kent Police"] == 28
    assert led["DAVSS"] == 4
    assert led["Family Matters"] == 1


# Crime statistics --------------------------------------------------------------------------


@pytest.mark.django_db
def test_crime_statistics_reproduce_the_published_table(reader):
    response = reader.get(reverse("crime_statistics"))
    assert response.status_code == 200
    content = response.content.decode()
    for printed in ("-1.9%", "-151", "=3", "--"):
        assert printed in content
    [rows] = tables(response)
    assert len(rows) == 16
    assert rows[0] == ["All crime", "7,679", "7,830", "-1.9%", "-151", "1", "1"]
    trafficking = next(row for row in rows if "Drug Trafficking" in row[0])
    assert trafficking[5:] == ["--", "=3"]


@pytest.mark.django_db
@pytest.mark.parametrize("year", ["abc", "1900", "", "2021.5", "-1"])
def test_crime_statistics_with_a_bad_year_show_the_latest(reader, year):
    response = reader.get(reverse("crime_statistics"), {"year": year})
    assert response.status_code == 200
    assert "Crime statistics 2021" in response.content.decode()
    assert len(tables(response)[0]) == 16


# Response headers --------------------------------------------------------------------------


def csp_nonce(response) -> str:
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    match = re.search(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{16,})'", policy)
    assert match, policy
    return match.group(1)


@pytest.mark.django_db
def test_signed_in_pages_carry_the_security_headers(reader):
    first = reader.get(reverse("home"))
    second = reader.get(reverse("plan"))
    for response in (first, second):
        assert response["Cache-Control"] == "no-store"
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert "object-src 'none'" in response["Content-Security-Policy"]
    # The one inline script carries this response's nonce; every response gets a fresh one.
    nonce = csp_nonce(first)
    assert f'<script nonce="{nonce}">' in first.content.decode()
    assert csp_nonce(second) != nonce


@pytest.mark.django_db
def test_downloads_are_not_cached_either(reader):
    response = reader.get(reverse("plan"), {"_export": "csv"})
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_login_page_carries_the_policy_too(client):
    response = client.get(reverse("login"))
    nonce = csp_nonce(response)
    assert f'nonce="{nonce}"' in response.content.decode()
    assert response["X-Frame-Options"] == "DENY"


# Query counts: fixed whatever the size of the plan -----------------------------------------

# The most queries each page may run, the same budget at the seed's size and at ten times it.
# Every signed-in request spends 5 of them on the session and the user (read the session,
# read the user, and the savepoint, update and release of SESSION_SAVE_EVERY_REQUEST).
# A page that needs more for a bigger plan has an N+1; one that needs a new fixed query
# raises its budget here, deliberately.
# Every page reads the partnership for its header (csp.context_processors): 1 each.
QUERY_BUDGETS = {
    # 1 paging the earlier returns; 4 who owes what (obligations); 1 returns to correct;
    # 1 figures to follow up (review); 2 the death review actions the agencies lead and this
    # quarter's updates on them (deathreviews.obligations). A partner's page: 1 whether Death
    # reviews is in their navigation. The manager's home: 1 death review updates waiting for
    # review, 1 the death reviews' overdue steps.
    "home (partner)": 27,
    "home (manager)": 19,
    # 11: the board's picture of the reporting quarter and the one before, and exceptions.
    "home (board)": 24,
    "plan": 16,
    "plan (filtered)": 17,
    "plan (csv)": 9,
    "priority_detail": 11,  # with the quarters, metrics and approved returns (dashboard/)
    "action_detail": 15,  # 3 who owes the quarter's return and how far each has got; 1 who may fill in
    "agency_list": 11,  # 1 for who can submit for each agency
    "agency_detail": 16,  # 1 the quarters, 4 what it owes and may contribute; 1 who can submit
    "crime_statistics": 12,
}

PAGES = {
    "home (partner)": ("davss_user", lambda: reverse("home")),
    "home (manager)": ("manager", lambda: reverse("home")),
    "home (board)": ("board_member", lambda: reverse("home")),
    "plan": ("davss_user", lambda: reverse("plan")),
    "plan (filtered)": (
        "davss_user",
        lambda: f"{reverse('plan')}?agency={agency('DAVSS').pk}&q=a&sort=-priority&page=2",
    ),
    "plan (csv)": ("board_member", lambda: f"{reverse('plan')}?_export=csv"),
    "priority_detail": ("board_member", lambda: reverse("priority_detail", args=[priority(1).pk])),
    "action_detail": ("manager", lambda: reverse("action_detail", args=[action("1.1").pk])),
    "agency_list": ("police_user", lambda: reverse("agency_list")),
    "agency_detail": ("manager", lambda: reverse("agency_detail", args=[agency("DAVSS").pk])),
    "crime_statistics": ("board_member", lambda: reverse("crime_statistics")),
}


def add_returns(actions, agency: Agency, plan: Plan) -> None:
    """An approved Q1 return and a submitted Q2 return from the agency for each action."""
    q1, q2 = plan.quarters.get(number=1), plan.quarters.get(number=2)
    QuarterlyReturn.objects.bulk_create(
        QuarterlyReturn(
            action=action,
            agency=agency,
            quarter=quarter,
            state=state,
            rag="green",
            narrative="On track.",
        )
        for action in actions
        for quarter, state in ((q1, "approved"), (q2, "submitted"))
    )


def grow_tenfold(plan: Plan) -> None:
    """Make the current plan ten times the seed's size: 639 more actions spread over its
    priorities, each led by DAVSS and one other agency (a tenth for all partners), with a
    metric and DAVSS's returns; nine times more agencies; eight more years of crime figures
    and county positions; and 50 more agencies on action 1.1."""
    priorities = list(plan.priorities.order_by("number"))
    seeded = Action.objects.in_plan(plan).count()
    davss = agency("DAVSS")
    agencies = list(Agency.objects.order_by("pk")) + AgencyFactory.create_batch(
        Agency.objects.count() * 9
    )
    new_actions = Action.objects.bulk_create(
        ActionFactory.build(
            priority=priorities[i % len(priorities)],
            number=100 + i,
            lead_agencies=f"{agencies[i % len(agencies)].short_name} and DAVSS",
            all_partners=i % 10 == 0,
        )
        for i in range(seeded * 9)
    )
    Through = Action.agencies.through
    Through.objects.bulk_create(
        [Through(action_id=new.pk, agency_id=davss.pk) for new in new_actions]
        + [
            Through(action_id=new.pk, agency_id=agencies[i % len(agencies)].pk)
            for i, new in enumerate(new_actions)
            if agencies[i % len(agencies)] != davss
        ]
    )
    Metric.objects.bulk_create(Metric(action=new, name="Things done") for new in new_actions)
    add_returns(new_actions, davss, plan)
    action("1.1").agencies.add(*agencies[:50])

    area_ids = list(Area.objects.values_list("pk", flat=True))
    crime_type_ids = list(CrimeType.objects.values_list("pk", flat=True))
    years = range(2012, 2020)
    CrimeFigure.objects.bulk_create(
        CrimeFigure(area_id=area, crime_type_id=crime_type, year=year, count=100 + year % 7)
        for area in area_ids
        for crime_type in crime_type_ids
        for year in years
    )
    CountyPosition.objects.bulk_create(
        CountyPosition(area_id=area, crime_type_id=crime_type, year=year, position=1 + i % 12)
        for i, area in enumerate(area_ids)
        for crime_type in crime_type_ids
        for year in years
    )
    assert Action.objects.in_plan(plan).count() == seeded * 10


@pytest.mark.django_db
@pytest.mark.parametrize("page", list(PAGES))
def test_query_count_does_not_grow_with_the_plan(
    client, request, django_assert_max_num_queries, plan, page
):
    persona, url = PAGES[page]
    signed_in(client, request.getfixturevalue(persona))
    # Mid-year: Q1 closed with DAVSS's returns approved, Q2 open with them submitted.
    open_quarter(plan, 2)
    davss = agency("DAVSS")
    add_returns(Action.objects.in_plan(plan).led_by([davss]), davss, plan)
    budget = QUERY_BUDGETS[page]
    target = url()
    assert client.get(target).status_code == 200  # warm up: session, content types

    with django_assert_max_num_queries(budget, info=f"{page} at the seed's size") as seed_size:
        assert client.get(target).status_code == 200
    grow_tenfold(plan)
    with django_assert_max_num_queries(budget, info=f"{page} at ten times") as ten_times:
        response = client.get(target)
        assert response.status_code == 200

    assert len(ten_times) == len(seed_size), "the page runs more queries for a bigger plan"
    if page == "plan (csv)":
        assert len(csv_rows(response)) == 1 + 710  # the download is every action, unpaginated
    if page == "home (partner)":
        assert len(owed_refs(response)) == 4 + 639  # every new action is DAVSS's
