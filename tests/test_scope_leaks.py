"""Nothing of a return reaches someone outside its scope, on any page or in any download.

Kent Police's return for action 2.7 was drafted, sent back ("Remove the victim's name …")
and approved; its return for 4.14 waits for review. Every text in them carries a marker.
The tests walk every page of the URLconf (the role × URL table of tests/test_access.py,
which a meta-test keeps complete), Kent Police's own pages, and every link a page makes to
itself with a query string (its downloads, quarters, sort orders), and read each answer,
CSV, Excel workbook and Word document included:

- DAVSS, a partner of another agency, reads none of it, and nothing DAVSS reads changes
  when Kent Police's approved return says something else (another RAG status included);
- the board reads the approved return's approved content and its approval, and nothing of
  the draft, the send-back or the return still waiting for review.

A new page that reads returns without ``QuarterlyReturn.objects.visible_to(user)`` fails
here without anyone having to remember to add it.
"""

import io
import re
from types import SimpleNamespace
from urllib.parse import urljoin, urlsplit

import docx
import openpyxl
import pytest
from django.urls import reverse
from lxml import html

from actions import services
from actions.models import Action, Agency, QuarterlyReturn

from . import test_access
from .test_access import ACCESS, ROLES, url_name, url_patterns

world = test_access.world

# Markers: each text typed into Kent Police's returns, unique to where it was typed.
DRAFT = "kp-draft-7f3a"  # the first submission of 2.7, later sent back
SENT_BACK = "kp-sent-back-7f3a"  # the manager's reason for sending it back
APPROVED = "kp-approved-7f3a"  # what was approved
CHANGED = "kp-changed-7f3a"  # what the approved return says in the second reading
WAITING = "kp-waiting-7f3a"  # 4.14, submitted and not yet reviewed
DRAFT_COUNT, APPROVED_COUNT, CHANGED_COUNT, WAITING_COUNT = 918_273, 827_364, 736_455, 645_546


def action(ref: str) -> Action:
    priority, number = (int(part) for part in ref.split("."))
    return Action.objects.get(
        priority__plan__financial_year=2022, priority__number=priority, number=number
    )


def counted(action: Action, count: int) -> dict:
    return {str(metric.pk): count for metric in action.metrics.filter(kind="count")}


@pytest.fixture
def kent_police(world, police_user, manager):
    """Kent Police's returns for Q4 (opened by ``world``): 2.7 approved after being sent
    back once, 4.14 submitted."""
    kp = Agency.objects.get(name="Kent Police")
    gangs, funding = action("2.7"), action("4.14")
    assert not gangs.all_partners and list(gangs.agencies.all()) == [kp]

    def submit(subject, count, marker, rag):
        return services.save_return(
            police_user,
            subject,
            kp,
            world.q4,
            values=counted(subject, count),
            narrative=f"{marker} narrative",
            rag=rag,
            rag_reason=f"{marker} reason",
            seen_version=None,
            submit=True,
        )

    first = submit(gangs, DRAFT_COUNT, DRAFT, "red")
    services.send_back(
        manager,
        first,
        comment=f"{SENT_BACK} Remove the victim's name from the narrative.",
        seen_version=None,
    )
    approved = services.approve_return(
        manager, submit(gangs, APPROVED_COUNT, APPROVED, "amber"), seen_version=None
    )
    waiting = submit(funding, WAITING_COUNT, WAITING, "red")
    return SimpleNamespace(
        agency=kp, gangs=gangs, funding=funding, approved=approved, waiting=waiting
    )


# Walking the site --------------------------------------------------------------------------


def start_urls(role: str, world, kent_police) -> list[str]:
    """Every URL of the URLconf the access table lets this role read, at the table's
    objects; then Kent Police's objects, and the plan filtered as an attacker would."""
    kp = kent_police
    urls = [
        reverse(name, kwargs=statuses["kwargs"](world))
        for name in dict.fromkeys(name for name, _, _ in url_patterns())
        for key, statuses in ACCESS.items()
        if url_name(key) == name and statuses["get"][ROLES.index(role)] == 200
    ]
    plan = reverse("plan")
    urls += [
        reverse("action_detail", args=[kp.gangs.pk]) + "?quarter=4",
        reverse("action_detail", args=[kp.funding.pk]) + "?quarter=4",
        reverse("return_detail", args=[kp.approved.pk]),
        reverse("return_detail", args=[kp.waiting.pk]),
        reverse("return_edit", args=[world.q4.pk, kp.gangs.pk, kp.agency.pk]),
        reverse("agency_detail", args=[kp.agency.pk]),
        reverse("priority_detail", args=[kp.gangs.priority_id]),
        reverse("priority_detail", args=[kp.funding.priority_id]),
        f"{plan}?agency={kp.agency.pk}&rag=amber",
        f"{plan}?agency={kp.agency.pk}&rag=red",
        f"{plan}?rag=amber",
        f"{plan}?rag=green",
        f"{plan}?q=gangs",
        reverse("dashboard") + "?quarter=3",
        reverse("dashboard") + "?quarter=4",
        reverse("completeness") + "?quarter=4",
        reverse("quarterly_report") + "?quarter=4",
    ]
    return list(dict.fromkeys(urls))


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def readable(response) -> str:
    """The answer as text: a page or CSV as it is, a workbook's cells, a document's words."""
    content_type = response.get("Content-Type", "")
    data = body(response)
    if "spreadsheetml" in content_type:
        book = openpyxl.load_workbook(io.BytesIO(data))
        return "\n".join(
            "\t".join("" if value is None else str(value) for value in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    if "wordprocessingml" in content_type:
        document = docx.Document(io.BytesIO(data))
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        return "\n".join([paragraph.text for paragraph in document.paragraphs] + cells)
    return data.decode("utf-8-sig", errors="replace")


# What differs from one answer to the next whatever the data: the policy's nonce and the
# masked CSRF token.
PER_RESPONSE = [
    (re.compile(r'nonce="[^"]*"'), 'nonce=""'),
    (re.compile(r'(name="csrfmiddlewaretoken" value=)"[^"]*"'), r'\1""'),
]


def comparable(text: str) -> str:
    for pattern, replacement in PER_RESPONSE:
        text = pattern.sub(replacement, text)
    return text


def own_links(response, url: str) -> list[str]:
    """Links a page makes to itself with a query string: downloads, quarters, sorting,
    pages of a long list."""
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    path = urlsplit(url).path
    links = []
    for href in html.fromstring(body(response).decode()).xpath("//a/@href"):
        target = urljoin(url, href)
        parts = urlsplit(target)
        if parts.netloc in ("", "testserver") and parts.path == path and parts.query:
            links.append(f"{parts.path}?{parts.query}")
    return links


def read_everything(client, urls: list[str]) -> dict[str, tuple[int, str, str]]:
    """url → (status, content type, text) for each URL and the links each makes to itself."""
    read = {}
    queue = list(urls)
    while queue:
        url = queue.pop(0)
        if url in read:
            continue
        response = client.get(url)
        read[url] = (response.status_code, response.get("Content-Type", ""), readable(response))
        if url in urls and response.status_code == 200:
            queue += [link for link in own_links(response, url) if link not in read]
    return read


def counts(number: int) -> tuple[str, str]:
    return str(number), f"{number:,}"


def shown(read: dict, needles) -> dict[str, list[str]]:
    """needle → the URLs whose answer holds it."""
    return {
        needle: [url for url, (_, _, text) in read.items() if needle in text]
        for needle in needles
        if any(needle in text for _, _, text in read.values())
    }


# A partner of another agency -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_partner_reads_nothing_of_another_agencys_returns(client, davss_user, world, kent_police):
    client.force_login(davss_user)
    urls = start_urls("davss", world, kent_police)
    first = read_everything(client, urls)

    # Kent Police's approved return says something else: another RAG status, narrative,
    # reason and figures. Nothing DAVSS reads may change.
    QuarterlyReturn.objects.filter(pk=kent_police.approved.pk).update(
        rag="green",
        rag_reason=f"{CHANGED} reason",
        narrative=f"{CHANGED} narrative",
        values=counted(kent_police.gangs, CHANGED_COUNT),
    )
    second = read_everything(client, urls)

    markers = [DRAFT, SENT_BACK, APPROVED, CHANGED, WAITING]
    for number in (DRAFT_COUNT, APPROVED_COUNT, CHANGED_COUNT, WAITING_COUNT):
        markers += counts(number)
    assert shown(first, markers) == {}
    assert shown(second, markers) == {}
    assert sorted(first) == sorted(second)
    changed = [url for url in first if comparable(first[url][2]) != comparable(second[url][2])]
    assert changed == [], "these answers to DAVSS depend on Kent Police's approved return"
    # The walk read pages and downloads, and Kent Police's return itself was out of reach.
    kinds = {content_type.split(";")[0] for status, content_type, _ in first.values()}
    assert {"text/html", "text/csv"} <= kinds
    assert any("spreadsheetml" in kind for kind in kinds)
    assert len([url for url, (status, _, _) in first.items() if status == 200]) > 40
    assert first[reverse("return_detail", args=[kent_police.approved.pk])][0] == 404


@pytest.mark.django_db
def test_a_partner_reads_another_agencys_return_state_never_what_it_says(
    client, davss_user, police_user, world, kent_police
):
    """Issue 11's rule 4: a page says what state another agency's return is in, as the
    viewer may know it, and never "not reported" of a return that exists; what the return
    says (RAG status, narrative, figures) stays the agency's and the manager's."""
    url = reverse("action_detail", args=[kent_police.gangs.pk]) + "?quarter=4"
    client.force_login(davss_user)
    page = client.get(url).content.decode()
    main = html.fromstring(page).xpath("string(//main)")
    assert "ot reported" not in page
    assert "Kent Police" in main and "Approved" in main
    assert shown({url: (200, "text/html", page)}, [APPROVED, *counts(APPROVED_COUNT)]) == {}
    # Kent Police's own partner reads a return not yet started as such.
    client.force_login(police_user)
    page = client.get(reverse("action_detail", args=[kent_police.funding.pk]) + "?quarter=3")
    assert "Not started" in page.content.decode()


# The board ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_board_reads_only_what_was_approved(client, board_member, world, kent_police):
    client.force_login(board_member)
    read = read_everything(client, start_urls("board", world, kent_police))

    never = [DRAFT, SENT_BACK, "Remove the victim", WAITING, *counts(DRAFT_COUNT)]
    never += counts(WAITING_COUNT)
    assert shown(read, never) == {}
    # What was approved is the board's to read, on the return and in the board paper.
    approved = shown(read, [f"{APPROVED} narrative", f"{APPROVED} reason"])
    assert (
        reverse("return_detail", args=[kent_police.approved.pk])
        in approved[f"{APPROVED} narrative"]
    )
    assert any("format=docx" in url for url in approved[f"{APPROVED} narrative"])
    assert any("format=xlsx" in url for url in approved[f"{APPROVED} reason"])
    assert read[reverse("return_detail", args=[kent_police.waiting.pk])][0] == 404


def history_rows(client, quarterly_return) -> list[tuple[str, ...]]:
    """(who, what, state, RAG) of each row of the return page's history, newest first."""
    response = client.get(reverse("return_detail", args=[quarterly_return.pk]))
    assert response.status_code == 200
    page = html.fromstring(response.content.decode())
    # The history is the page's last table.
    rows = page.xpath("(//main//table)[last()]/tbody/tr")
    return [tuple(cell.text_content().strip() for cell in row.xpath("td")[1:]) for row in rows]


@pytest.mark.django_db
def test_the_board_reads_an_approved_returns_approval_only(
    client, board_member, police_user, manager, kent_police
):
    """Not the earlier states, RAG statuses and send-back reason: the review between the
    agency and the manager stays theirs. The agency's partners and the manager read it all."""
    approval = (str(manager), "Approved", "Approved", "Amber")
    client.force_login(board_member)
    assert history_rows(client, kent_police.approved) == [approval]

    sent_back = f"Sent back: {SENT_BACK} Remove the victim's name from the narrative."
    for reader in (police_user, manager):
        client.force_login(reader)
        assert history_rows(client, kent_police.approved) == [
            approval,
            (str(police_user), "Submitted", "Waiting for review", "Amber"),
            (str(manager), sent_back, "Sent back", "Red"),
            (str(police_user), "Submitted", "Waiting for review", "Red"),
        ]
