"""The completeness grid: every return's state and timeliness against the demo returns,
worked out again here; each agency's reporting rate; the manager's reminder; who may see
and do what; the downloads; and a fixed number of queries whatever the number of returns."""

import datetime
import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import Agency, QuarterlyReturn, Reminder

from .board_helpers import (
    action,
    all_tables,
    body_rows,
    csv_rows,
    demo_plan,
    document,
    expected_grid,
    expected_rates,
    grow,
    headers,
    load_demo,
    quarter,
    shown_rows,
    table,
    text,
    workbook,
)
from .mail_servers import deliver_queued_mail


@pytest.fixture
def users(db):
    return load_demo()


def get(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response


def grid_on_page(response) -> dict[tuple[str, str], list[str]]:
    """(action ref, agency) → the quarters' cells as read on screen."""
    grid = {}
    for each in all_tables(response, "app-table--completeness"):
        for row in body_rows(each, hidden=False):
            ref, agency, *cells = row
            assert (ref, agency) not in grid
            grid[(ref, agency)] = cells
    return grid


def make_late(number: int = 2) -> QuarterlyReturn:
    """An approved return whose latest submission came a week after the due date."""
    late = (
        QuarterlyReturn.objects.filter(quarter=quarter(number), state="approved")
        .order_by("pk")
        .first()
    )
    due = quarter(number).due
    late.submitted_at = timezone.make_aware(
        datetime.datetime.combine(due + datetime.timedelta(days=7), datetime.time(11))
    )
    late.save()
    return late


# The grid -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_grid_shows_every_returns_state_and_timeliness(client, users):
    late = make_late()
    response = get(client, users["manager"], reverse("completeness") + "?priority=all")
    shown = grid_on_page(response)
    expected = expected_grid(demo_plan(), timezone.localdate())
    assert shown == expected
    # Every state and every timeliness is there in words.
    words = " ".join(" ".join(cells) for cells in shown.values())
    for phrase in [
        "Approved On time",
        "Approved Late",
        "Waiting for review On time",
        "Sent back Missing",
        "Not started Missing",
    ]:
        assert phrase in words, phrase
    assert shown[(late.action.ref, late.agency.name)][1] == "Approved Late"
    # The board, which sees approved returns only, knows no other state.
    response = get(client, users["board"], reverse("completeness") + "?priority=all")
    board_words = grid_on_page(response)
    assert board_words == expected_grid(demo_plan(), timezone.localdate(), board=True)
    board_text = " ".join(" ".join(cells) for cells in board_words.values())
    assert "No approved return yet Missing" in board_text
    for word in ("Waiting for review", "Sent back", "Draft", "Not started"):
        assert word not in board_text
    # Rows are grouped by priority, actions in plan order.
    captions = [
        text(t.xpath("./caption")[0]) for t in all_tables(response, "app-table--completeness")
    ]
    assert [c.split(":")[0] for c in captions] == [f"Priority {n}" for n in range(1, 6)]
    first = body_rows(all_tables(response, "app-table--completeness")[0], hidden=False)
    assert first[0][:2] == ["1.1", "DAVSS"]
    assert headers(all_tables(response, "app-table--completeness")[0]) == [
        "Action",
        "Agency",
        *(f"Q{n} 2022/23" for n in range(1, 5)),
    ]


@pytest.mark.django_db
def test_a_quarter_not_yet_due_shows_not_due_yet_rather_than_missing(client, users):
    q4 = quarter(4)
    plan = q4.plan
    plan.return_due_days = 365 * 10  # Q4 returns due in 2033: not yet
    plan.save()
    response = get(client, users["manager"], reverse("completeness") + "?priority=all")
    shown = grid_on_page(response)
    assert shown[("1.1", "DAVSS")][3] == "Not started Not due yet"
    assert shown == expected_grid(plan, timezone.localdate())


@pytest.mark.django_db
def test_a_non_lead_agency_reporting_on_an_all_partner_action_gets_a_row(client, users):
    shared = action("3.10")  # for all partners
    davss = Agency.objects.get(name="DAVSS")
    assert not shared.agencies.filter(pk=davss.pk).exists()
    QuarterlyReturn.objects.create(
        action=shared, agency=davss, quarter=quarter(2), state="draft", narrative="Started."
    )
    shown = grid_on_page(get(client, users["manager"], reverse("completeness") + "?priority=all"))
    # A contribution is optional: a draft one is never missing.
    assert shown[("3.10", "DAVSS")] == [
        "Not required",
        "Draft",
        "Not required",
        "Not required",
    ]
    shown = grid_on_page(get(client, users["board"], reverse("completeness") + "?priority=all"))
    assert shown[("3.10", "DAVSS")][1] == "No approved return yet"


@pytest.mark.django_db
def test_the_board_can_open_approved_returns_only(client, users):
    response = get(client, users["board"], reverse("completeness") + "?priority=all")
    linked = {
        int(a.get("href").rstrip("/").rsplit("/", 1)[1])
        for a in document(response).xpath(
            "//table[contains(@class, 'app-table--completeness')]//td//a"
        )
    }
    approved = set(QuarterlyReturn.objects.filter(state="approved").values_list("pk", flat=True))
    assert linked == approved
    manager_page = get(client, users["manager"], reverse("completeness") + "?priority=all")
    manager_links = document(manager_page).xpath(
        "//table[contains(@class, 'app-table--completeness')]//td//a"
    )
    assert len(manager_links) == QuarterlyReturn.objects.count()


# Reporting rates ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("number", [3, 4])
def test_reporting_rates_by_agency(client, users, number):
    make_late()
    response = get(client, users["board"], f"{reverse('completeness')}?quarter={number}")
    rates = table(response, "app-table--rates")
    assert headers(rates) == [
        "Agency",
        "Returns due",
        "Received",
        "On time",
        "Late",
        "Missing",
        "Reporting rate",
        f"Not received for Q{number} 2022/23",
    ]
    shown = {row[0]: row[1:] for row in body_rows(rates)}
    expected = expected_rates(demo_plan(), timezone.localdate(), quarter(number))
    assert shown == expected
    assert sum(int(row[3]) for row in shown.values()) == 1  # the one late return
    # DAVSS, worked out by hand from its own rows of the grid.
    davss = {
        key: cells
        for key, cells in expected_grid(demo_plan(), timezone.localdate()).items()
        if key[1] == "DAVSS"
    }
    due = sum(1 for cells in davss.values() for cell in cells if cell != "Not required")
    received = sum(
        1
        for cells in davss.values()
        for cell in cells
        if cell.startswith(("Approved", "Waiting for review"))
    )
    assert shown["DAVSS"][:2] == [str(due), str(received)]
    assert shown["DAVSS"][5] == f"{round(100 * received / due)}%"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["grid", "rates"])
@pytest.mark.parametrize("export_format", ["csv", "xlsx"])
def test_completeness_downloads_have_the_columns_on_screen(client, users, name, export_format):
    page = get(client, users["board"], f"{reverse('completeness')}?quarter=3&priority=all")
    response = get(
        client,
        users["board"],
        f"{reverse('completeness')}?quarter=3&download={name}&format={export_format}",
    )
    if export_format == "csv":
        rows = csv_rows(response)
    else:
        book = workbook(response)
        rows = [
            ["" if v is None else str(v) for v in row]
            for row in shown_rows(book, book.sheetnames[0])
        ]
    if name == "rates":
        on_screen = table(page, "app-table--rates")
        assert rows[0] == headers(on_screen)
        assert rows[1:] == body_rows(on_screen)
    else:
        first = all_tables(page, "app-table--completeness")[0]
        assert rows[0] == ["Priority", *headers(first)]
        shown = grid_on_page(page)
        downloaded = {(row[1], row[2]): row[3:] for row in rows[1:]}
        # On screen the timeliness sits on its own line; downloaded it follows a comma.
        assert downloaded == {
            key: [
                cell.replace(" On time", ", on time")
                .replace(" Late", ", late")
                .replace(" Missing", ", missing")
                .replace(" Not due yet", ", not due yet")
                for cell in cells
            ]
            for key, cells in shown.items()
        }
        assert rows[1][0] == "Priority 1: Domestic Abuse"


# Reminders ------------------------------------------------------------------------------------


def remind(client, user, agency, number=3):
    client.force_login(user)
    return client.post(
        reverse("send_reminder"), {"agency": agency.pk, "quarter": quarter(number).pk}, follow=True
    )


@pytest.mark.django_db
def test_manager_sends_a_reminder_to_an_agency_from_the_grid(client, users, mailoutbox, caplog):
    look_ahead = Agency.objects.get(name="Look Ahead")
    page = get(client, users["manager"], f"{reverse('completeness')}?quarter=3")
    outstanding = int(
        {row[0]: row for row in body_rows(table(page, "app-table--rates"))}["Look Ahead"][7]
    )
    assert outstanding >= 1
    forms = document(page).xpath(f"//form[input[@name='agency'][@value='{look_ahead.pk}']]")
    assert len(forms) == 1 and forms[0].get("method") == "post"

    with caplog.at_level(logging.INFO, logger="csp.audit"):
        response = remind(client, users["manager"], look_ahead)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"{reverse('completeness')}?quarter=3#reporting-rates"
    plural = "s" if outstanding != 1 else ""
    assert f"Reminder sent to Look Ahead about {outstanding} return{plural} for Q3 2022/23." in (
        response.content.decode()
    )
    deliver_queued_mail()
    [mail] = mailoutbox
    assert mail.to == ["lookahead@example.org"]
    assert mail.subject == f"Overdue: {outstanding} return{plural} for Q3 2022/23"
    # The actions listed are exactly Look Ahead's Q3 returns not yet submitted.
    leads = {a.ref for a in look_ahead.actions.filter(priority__plan=demo_plan())}
    received = set(
        QuarterlyReturn.objects.filter(
            agency=look_ahead, quarter=quarter(3), state__in=["submitted", "approved"]
        ).values_list("action__priority__number", "action__number")
    )
    owed = sorted(ref for ref in leads if tuple(map(int, ref.split("."))) not in received)
    assert len(owed) == outstanding
    listed = [line.split()[1] for line in mail.body.splitlines() if line.startswith("- ")]
    assert sorted(listed) == owed
    assert "reminder for Look Ahead, Q3 2022/23" in caplog.text
    assert not Reminder.objects.exists()  # the daily command's own reminders are untouched


@pytest.mark.django_db
def test_a_reminder_with_nothing_outstanding_sends_nothing(client, users, mailoutbox):
    cgl = Agency.objects.get(name="CGL")
    QuarterlyReturn.objects.filter(agency=cgl, quarter=quarter(3)).update(state="approved")
    for each in cgl.actions.filter(priority__plan=demo_plan()):
        QuarterlyReturn.objects.get_or_create(
            action=each, agency=cgl, quarter=quarter(3), defaults={"state": "approved"}
        )
    response = remind(client, users["manager"], cgl)
    assert "CGL has no returns outstanding for Q3 2022/23." in response.content.decode()
    deliver_queued_mail()
    assert mailoutbox == []


@pytest.mark.django_db
def test_a_reminder_to_an_agency_without_e_mail_addresses_says_so(client, users, mailoutbox):
    council = Agency.objects.get(name="Kent County Council")
    response = remind(client, users["manager"], council, number=4)
    assert (
        "Kent County Council has no active user with an e-mail address" in response.content.decode()
    )
    deliver_queued_mail()
    assert mailoutbox == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"agency": "abc", "quarter": "1"},
        {"agency": "999999", "quarter": "1"},
        {"agency": "1", "quarter": "x" * 5000},
    ],
)
def test_a_malformed_reminder_is_refused_with_a_message(client, users, mailoutbox, data):
    client.force_login(users["manager"])
    if data.get("quarter") == "1":
        data["quarter"] = quarter(1).pk
    response = client.post(reverse("send_reminder"), data, follow=True)
    assert response.status_code == 200
    assert "Choose an agency and a quarter of this plan to remind." in response.content.decode()
    deliver_queued_mail()
    assert mailoutbox == []


@pytest.mark.django_db
def test_only_the_manager_may_send_reminders(client, users, mailoutbox):
    davss = Agency.objects.get(name="DAVSS")
    for username in ["board", "davss"]:
        client.force_login(users[username])
        response = client.post(
            reverse("send_reminder"), {"agency": davss.pk, "quarter": quarter(3).pk}
        )
        assert response.status_code == 403, username
    client.force_login(users["manager"])
    assert client.get(reverse("send_reminder")).status_code == 405
    deliver_queued_mail()
    assert mailoutbox == []
    board_page = get(
        client, users["board"], reverse("completeness") + "?priority=all"
    ).content.decode()
    assert reverse("send_reminder") not in board_page
    assert "Send reminder" not in board_page


@pytest.mark.django_db
def test_partners_cannot_see_the_grid(client, users):
    client.force_login(users["davss"])
    assert client.get(reverse("completeness") + "?priority=all").status_code == 403
    assert client.get(f"{reverse('completeness')}?download=grid&format=csv").status_code == 403


# Query counts ---------------------------------------------------------------------------------

# 3 of them say when each agency was last reminded (2) and which have someone to remind (1);
# 1 reads the overdue death review actions.
COMPLETENESS_BUDGET = 17


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["", "?quarter=2", "?download=grid&format=xlsx"])
def test_query_count_does_not_grow_with_actions_and_returns(
    client, users, django_assert_max_num_queries, query
):
    client.force_login(users["manager"])
    target = reverse("completeness") + query
    assert client.get(target).status_code == 200
    with django_assert_max_num_queries(COMPLETENESS_BUDGET, info="demo size") as small:
        small_response = client.get(target)
    grow(demo_plan(), actions_per_priority=30)
    with django_assert_max_num_queries(COMPLETENESS_BUDGET, info="150 more actions") as large:
        large_response = client.get(target)
    assert len(large) == len(small), "the grid runs more queries for more actions and returns"
    assert len(large_response.content) > len(small_response.content)
