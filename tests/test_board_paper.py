"""The committee paper: the manager writes its cover, key messages and recommendation,
chooses its protective marking and issues it; the Word file opened with python-docx has
page numbers, a header and footer, the cover, RAG cells shaded and worded, real document
properties; an issued version is frozen while later approvals change the live report, and
a new version carries its number on the cover."""

import datetime
import io

import docx
import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import QuarterlyReturn
from dashboard.models import BoardPaper

from .board_helpers import (
    SECRET_NARRATIVE,
    demo_plan,
    document,
    load_demo,
    plant_unapproved,
    quarter,
)

PAPER = {
    "meeting": "Tunbridge Wells Community Safety Partnership Board",
    "meeting_date": "2023-02-14",
    "author": "Sam Clerk, Community Safety Manager",
    "purpose": "To update the board on Q3.",
    "key_messages": "Violence is down in the town centre\n- Two returns are overdue",
    "recommendation": "The board is asked to NOTE-THIS-PAPER.",
    "marking": "OFFICIAL-SENSITIVE",
}
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture
def users(db):
    return load_demo()


def paper_url(number: int = 3) -> str:
    return f"{reverse('board_paper')}?quarter={number}"


def docx_url(number: int = 3, extra: str = "") -> str:
    return f"{reverse('quarterly_report')}?quarter={number}&format=docx{extra}"


def open_paper(response) -> docx.document.Document:
    assert response.status_code == 200
    return docx.Document(io.BytesIO(response.content))


def body(paper) -> str:
    cells = [c.text for t in paper.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in paper.paragraphs] + cells)


def cover(paper) -> dict[str, str]:
    return {row.cells[0].text: row.cells[1].text for row in paper.tables[0].rows}


def write(client, manager, **changes):
    client.force_login(manager)
    response = client.post(paper_url(), {**PAPER, **changes})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def issue(client, manager):
    client.force_login(manager)
    response = client.post(reverse("board_paper_issue") + "?quarter=3")
    assert response.status_code == 302
    return response


@pytest.mark.django_db
def test_the_word_paper_has_header_footer_cover_and_properties(client, users):
    write(client, users["manager"])
    before = timezone.now()
    paper = open_paper(client.get(docx_url(extra="&draft=1")))
    section = paper.sections[0]
    header = " ".join(p.text for p in section.header.paragraphs)
    assert "Tunbridge Wells" in header and "14 February 2023" in header and "DRAFT" in header
    footer_xml = section.footer._element.xml
    assert "OFFICIAL-SENSITIVE" in " ".join(p.text for p in section.footer.paragraphs)
    instructions = [node.text.strip() for node in section.footer._element.iter(f"{W}instrText")]
    assert instructions == ["PAGE", "NUMPAGES"], footer_xml
    details = cover(paper)
    assert details["Meeting"] == PAPER["meeting"]
    assert details["Date"] == "14 February 2023"
    assert details["Author"] == PAPER["author"]
    assert details["Purpose"] == PAPER["purpose"]
    assert details["Recommendation"] == PAPER["recommendation"]
    assert details["Protective marking"] == "OFFICIAL-SENSITIVE"
    assert details["Version"] == "Version 1: DRAFT, not issued"
    bullets = [p.text for p in paper.paragraphs if p.style.name == "List Bullet"]
    assert bullets[:2] == ["Violence is down in the town centre", "Two returns are overdue"]
    properties = paper.core_properties
    assert properties.author == PAPER["author"]
    assert "Q3 2022/23" in properties.title
    created = properties.created.replace(tzinfo=datetime.UTC)
    assert before - datetime.timedelta(seconds=5) <= created <= timezone.now()
    assert "python-docx" not in (properties.comments + properties.last_modified_by)


@pytest.mark.django_db
def test_rag_cells_are_shaded_and_worded(client, users):
    paper = open_paper(get_as(client, users["board"], docx_url()))
    fills = {}
    for table in paper.tables:
        headers = [c.text for c in table.rows[0].cells]
        if "RAG status" not in headers:
            continue
        column = headers.index("RAG status")
        assert headers[0] == "Action"  # grouped under its priority: no Priority column
        for row in table.rows[1:]:
            cell = row.cells[column]
            shading = cell._tc.find(f"{W}tcPr/{W}shd")
            assert shading is not None, cell.text
            fills[cell.text] = shading.get(f"{W}fill")
    # Red and amber exceptions; a green one where its RAG differs from the figures.
    assert (fills["Red"], fills["Amber"]) == ("F4CDC6", "FFF7BF")
    assert set(fills) <= {"Red", "Amber", "Green"}


def get_as(client, user, url):
    client.force_login(user)
    return client.get(url)


@pytest.mark.django_db
def test_the_default_marking_is_official_and_the_board_gets_the_live_draft(client, users):
    response = get_as(client, users["board"], docx_url())
    assert response["Content-Disposition"].endswith('-draft.docx"')
    paper = open_paper(response)
    assert paper.sections[0].footer.paragraphs[0].text == "OFFICIAL"
    assert cover(paper)["Version"] == "Version 1: DRAFT, not issued"
    # The board may not ask for versions that do not exist.
    assert get_as(client, users["board"], docx_url(extra="&version=1")).status_code == 404


@pytest.mark.django_db
def test_an_issued_paper_is_frozen_and_a_new_version_can_be_issued(client, users):
    manager, board = users["manager"], users["board"]
    planted = plant_unapproved(demo_plan(), "submitted")
    write(client, manager)
    issue(client, manager)
    first = BoardPaper.objects.get(quarter=quarter(3), version=1)
    assert first.is_issued and first.issued_by == manager

    # The return is approved after the paper was issued.
    QuarterlyReturn.objects.filter(pk=planted.pk).update(state="approved")
    response = get_as(client, board, docx_url())
    assert response["Content-Disposition"].endswith('-v1.docx"')
    frozen = open_paper(response)
    assert SECRET_NARRATIVE not in body(frozen)
    assert cover(frozen)["Version"].startswith("Version 1, issued ")
    assert "DRAFT" not in " ".join(p.text for p in frozen.sections[0].header.paragraphs)
    assert response.content == bytes(BoardPaper.objects.get(pk=first.pk).document)
    # The live report and the manager's draft have it.
    assert (
        SECRET_NARRATIVE
        in get_as(client, board, reverse("quarterly_report") + "?quarter=3").content.decode()
    )
    assert SECRET_NARRATIVE in body(open_paper(get_as(client, manager, docx_url(extra="&draft=1"))))

    # Saving after the issue starts version 2, prefilled; version 1 is unchanged.
    page = document(get_as(client, manager, paper_url()))
    assert page.xpath("//input[@name='meeting_date']/@value") == ["2023-02-14"]
    assert (
        page.xpath("//textarea[@name='recommendation']")[0].text.strip() == PAPER["recommendation"]
    )
    write(client, manager, recommendation="The board is asked to AGREE.")
    first.refresh_from_db()
    assert first.recommendation == PAPER["recommendation"]
    issue(client, manager)
    response = get_as(client, board, docx_url())
    assert response["Content-Disposition"].endswith('-v2.docx"')
    second = open_paper(response)
    assert cover(second)["Version"].startswith("Version 2, issued ")
    assert cover(second)["Recommendation"] == "The board is asked to AGREE."
    assert SECRET_NARRATIVE in body(second)
    # Version 1 stays downloadable as issued.
    again = get_as(client, board, docx_url(extra="&version=1"))
    assert again.content == response_bytes(first)


def response_bytes(paper: BoardPaper) -> bytes:
    return bytes(BoardPaper.objects.get(pk=paper.pk).document)


@pytest.mark.django_db
def test_issuing_twice_or_with_nothing_written_changes_nothing(client, users):
    manager = users["manager"]
    client.force_login(manager)
    response = client.post(reverse("board_paper_issue") + "?quarter=3", follow=True)
    assert "Save the paper" in response.content.decode()
    assert not BoardPaper.objects.exists()
    write(client, manager)
    issue(client, manager)
    issue(client, manager)  # no draft left: a message, nothing issued
    assert BoardPaper.objects.count() == 1


@pytest.mark.django_db
def test_bad_input_is_refused_beside_the_field_and_kept(client, users):
    client.force_login(users["manager"])
    response = client.post(
        paper_url(), {**PAPER, "meeting_date": "31-02-2023", "marking": "TOP SECRET", "author": ""}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter the date of the meeting as a real date" in page
    assert "Select a protective marking from the list" in page
    assert "Enter the author" in page
    assert "NOTE-THIS-PAPER" in page
    assert not BoardPaper.objects.exists()


@pytest.mark.django_db
def test_the_print_page_shows_the_key_messages_and_recommendation(client, users):
    write(client, users["manager"])
    page = get_as(
        client, users["board"], reverse("quarterly_report") + "?quarter=3"
    ).content.decode()
    assert "Violence is down in the town centre" in page
    assert "NOTE-THIS-PAPER" in page
    assert "OFFICIAL-SENSITIVE" in page


@pytest.mark.django_db
def test_the_paper_typed_as_the_session_ended_comes_back(client, manager):
    """The manager persona (tests/conftest.py), who signs in with the tests' password."""
    from .test_nothing_typed_is_lost import next_url, session_ends, sign_in_again, signed_in_on

    signed_in_on(client, manager, paper_url())
    session_ends()
    back = next_url(client.post(paper_url(), PAPER))
    response = sign_in_again(client, manager, back)
    [messages] = document(response).xpath("//textarea[@name='key_messages']")
    assert "Violence is down in the town centre" in messages.text
    assert not BoardPaper.objects.exists()
