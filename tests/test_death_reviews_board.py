"""Death reviews across reviews: the board's page, the analysis, the Commissioner's download
and the board paper's section (deathreviews/board.py and board_views.py).

The world: DARDR 2025/01, published, and DARDR 2025/02, under way. The board reads both
reviews' references, states and counts, and the words of the published one's
recommendations only; nobody outside the manager reads a pseudonym here.
"""

import datetime
import io
import logging
from types import SimpleNamespace

import docx
import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import Agency
from dashboard.models import BoardPaper
from deathreviews import board, rules
from deathreviews.models import ProgressUpdate, Recommendation, Review, ReviewAction, Theme
from priorities.models import Quarter

PUBLISHED_TEXT = "Share MARAC minutes with the GP practice within five working days."
UNPUBLISHED_TEXT = "Review out-of-hours helpline cover for callers in crisis."
MADE_ON = datetime.date(2025, 1, 1)


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture
def dr_world(plan, manager):
    today = timezone.localdate()
    past, future = today - datetime.timedelta(days=30), today + datetime.timedelta(days=90)
    davss = Agency.objects.get(name="DAVSS")
    police = Agency.objects.get(name="Kent Police")
    coercive = Theme.objects.create(partnership=plan.partnership, name="Coercive control")
    marac = Theme.objects.create(partnership=plan.partnership, name="MARAC")
    published = Review.objects.create(
        partnership=plan.partnership,
        reference="DARDR 2025/01",
        pseudonym="Adult Juniper",
        notified_on=datetime.date(2024, 3, 4),
        decision=Review.Decision.HOLD,
        decision_on=datetime.date(2024, 3, 25),
        panel_convened_on=datetime.date(2024, 5, 1),
        sent_to_qa_panel_on=datetime.date(2024, 9, 2),
        qa_outcome=Review.QaOutcome.ACCEPTED,
        qa_outcome_on=datetime.date(2024, 11, 4),
        sent_to_commissioner_on=datetime.date(2024, 9, 2),
        published_on=datetime.date(2024, 12, 2),
    )
    under_way = Review.objects.create(
        partnership=plan.partnership,
        reference="DARDR 2025/02",
        pseudonym="Adult Rowan",
        notified_on=datetime.date(2025, 2, 3),
        decision=Review.Decision.HOLD,
        decision_on=datetime.date(2025, 2, 24),
        panel_convened_on=datetime.date(2025, 4, 7),
    )

    def recommendation(review, number, text, themes, owners):
        item = Recommendation.objects.create(
            review=review, number=number, text=text, made_on=MADE_ON
        )
        item.themes.set(themes)
        item.owners.set(owners)
        return item

    def action(recommendation, number, lead, target, closed=None):
        return ReviewAction.objects.create(
            recommendation=recommendation,
            number=number,
            text=f"Action {recommendation.number}.{number}",
            lead_agency=lead,
            target_date=target,
            evidence_needed="Records.",
            closed_at=at(closed) if closed else None,
            closed_by=manager if closed else None,
        )

    # DARDR 2025/01: 1 implemented in 60 days, 2 in 100 days (its last action), 3 overdue.
    r11 = recommendation(published, 1, "Train every call handler.", [coercive], [davss])
    a111 = action(r11, 1, davss, past, closed=MADE_ON + datetime.timedelta(days=60))
    r12 = recommendation(published, 2, "Audit MARAC referrals.", [coercive, marac], [davss, police])
    action(r12, 1, davss, past, closed=MADE_ON + datetime.timedelta(days=40))
    action(r12, 2, police, past, closed=MADE_ON + datetime.timedelta(days=100))
    r13 = recommendation(published, 3, PUBLISHED_TEXT, [marac], [police])
    action(r13, 1, police, past)
    # DARDR 2025/02: 1 overdue, 2 no actions yet, 3 in progress.
    r21 = recommendation(under_way, 1, UNPUBLISHED_TEXT, [], [davss])
    action(r21, 1, davss, past)
    recommendation(under_way, 2, "Refer every case to the specialist court.", [], [police])
    r23 = recommendation(under_way, 3, "Brief the housing team.", [coercive], [davss])
    action(r23, 1, davss, future)

    # Evidence on 1.1: two approved updates (the later is the summary) and one submitted.
    q3, q4 = Quarter.objects.get(plan=plan, number=3), Quarter.objects.get(plan=plan, number=4)
    for quarter, summary, state, reviewed in [
        (q3, "Half the handlers trained.", ProgressUpdate.State.APPROVED, 1),
        (q4, "Attendance registers for all 12 handlers.", ProgressUpdate.State.APPROVED, 2),
    ]:
        ProgressUpdate.objects.create(
            action=a111,
            quarter=quarter,
            progress="Training delivered.",
            asks_to_close=True,
            evidence_summary=summary,
            state=state,
            reviewed_by=manager,
            reviewed_at=at(MADE_ON + datetime.timedelta(days=reviewed)),
        )
    ProgressUpdate.objects.create(
        action=Recommendation.objects.get(pk=r21.pk).actions.get(),
        quarter=q4,
        progress="Started.",
        evidence_summary="Not yet approved: must not show.",
        state=ProgressUpdate.State.SUBMITTED,
    )
    return SimpleNamespace(
        published=published, under_way=under_way, davss=davss, police=police, today=today
    )


def page(client, user, name, **query):
    client.force_login(user)
    return client.get(reverse(name), query)


# The board's page ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_board_sees_counts_and_states_and_only_published_words(client, board_member, dr_world):
    response = page(client, board_member, "death_review_board")
    assert response.status_code == 200
    content = response.content.decode()
    assert "DARDR 2025/01" in content and "DARDR 2025/02" in content
    assert "Published" in content and "Review under way" in content
    assert PUBLISHED_TEXT in content
    assert UNPUBLISHED_TEXT not in content
    assert "Adult Juniper" not in content and "Adult Rowan" not in content
    assert "shown once the review is published" in content
    under_way = next(
        figures for figures in response.context["reviews"] if figures.review == dr_world.under_way
    )
    assert (under_way.implemented, under_way.in_progress, under_way.overdue) == (0, 1, 1)
    assert under_way.no_actions == 1
    assert (under_way.actions_open, under_way.actions_closed, under_way.actions_overdue) == (
        2,
        0,
        1,
    )


@pytest.mark.django_db
def test_board_reads_the_words_once_the_review_is_published(client, board_member, dr_world):
    assert UNPUBLISHED_TEXT not in page(client, board_member, "death_review_board").content.decode()
    Review.objects.filter(pk=dr_world.under_way.pk).update(published_on=dr_world.today)
    assert UNPUBLISHED_TEXT in page(client, board_member, "death_review_board").content.decode()


@pytest.mark.django_db
def test_manager_reads_every_recommendations_words(client, manager, dr_world):
    content = page(client, manager, "death_review_board").content.decode()
    assert PUBLISHED_TEXT in content and UNPUBLISHED_TEXT in content
    assert "Adult Rowan" not in content  # the board's page names reviews by reference only
    assert reverse("death_review_download") in content


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["death_review_board", "death_review_analysis"])
def test_partners_are_refused_the_partnerships_totals(
    client, davss_user, police_user, dr_world, name
):
    for partner in (davss_user, police_user):
        response = page(client, partner, name)
        assert response.status_code == 403
        assert UNPUBLISHED_TEXT not in response.content.decode()


@pytest.mark.django_db
def test_only_the_manager_downloads_the_recommendations(client, board_member, davss_user, dr_world):
    for user in (board_member, davss_user):
        assert page(client, user, "death_review_download").status_code == 403


@pytest.mark.django_db
def test_every_view_of_a_reviews_figures_is_logged(client, board_member, dr_world, caplog):
    with caplog.at_level(logging.INFO, logger="csp.audit"):
        page(client, board_member, "death_review_board")
        page(client, board_member, "death_review_analysis")
    for review in (dr_world.published, dr_world.under_way):
        assert f"death review board figures {review.pk} viewed by board" in caplog.text
    assert "death review analysis viewed by board" in caplog.text


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["death_review_board", "death_review_analysis"])
def test_query_count_does_not_grow_with_reviews(client, board_member, dr_world, plan, name):
    client.force_login(board_member)
    client.get(reverse(name))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name)).status_code == 200
        return len(queries)

    before = count()
    assert before <= 12  # the budget in tests/test_query_budgets.py, here with reviews
    theme = Theme.objects.create(partnership=plan.partnership, name="Substance use")
    for index in range(3):
        review = Review.objects.create(
            partnership=plan.partnership,
            reference=f"DARDR 2026/0{index + 1}",
            pseudonym=f"Adult {index}",
            notified_on=datetime.date(2026, 1, 5),
            published_on=datetime.date(2026, 6, 1) if index else None,
        )
        for number in (1, 2):
            item = Recommendation.objects.create(review=review, number=number, text="More.")
            item.owners.add(dr_world.police)
            item.themes.add(theme)
            ReviewAction.objects.create(
                recommendation=item,
                number=1,
                text="Do it.",
                lead_agency=dr_world.police,
                target_date=datetime.date(2026, 3, 31),
                evidence_needed="Proof.",
            )
    assert count() == before


# The analysis across reviews ---------------------------------------------------------------


def rows(groups) -> dict:
    return {row.name: row.counts() for row in groups}


@pytest.mark.django_db
def test_analysis_counts_by_theme_and_agency_and_days_to_close(client, board_member, dr_world):
    response = page(client, board_member, "death_review_analysis")
    assert response.status_code == 200
    analysis = response.context["analysis"]
    # [total, implemented, in progress, overdue, no actions yet]
    assert rows(analysis.by_theme) == {
        "Coercive control": [3, 2, 1, 0, 0],
        "MARAC": [2, 1, 0, 1, 0],
        "No theme": [2, 0, 0, 1, 1],
    }
    assert [row.name for row in analysis.by_theme][-1] == "No theme"
    assert rows(analysis.by_agency) == {"DAVSS": [4, 2, 1, 1, 0], "Kent Police": [3, 1, 0, 1, 1]}
    assert analysis.totals.counts() == [6, 2, 1, 2, 1]
    times = analysis.close_times
    assert (times.count, times.median, times.shortest, times.longest) == (2, 80, 60, 100)
    by_theme = {row.name: (row.count, row.median) for row in analysis.close_times_by_theme}
    assert by_theme == {"Coercive control": (2, 80), "MARAC": (1, 100)}
    content = response.content.decode()
    assert "median 80 days, from 60 to 100 days" in content
    # The chart's figures are data for the page's script, and its table is always there.
    assert 'id="theme-chart-data" type="application/json"' in content
    assert "Recommendations by theme and status" in content
    assert response.context["theme_chart"]["series"][0] == {
        "key": "status_implemented",
        "name": "Implemented",
        "values": [2, 1, 0],
    }
    assert PUBLISHED_TEXT not in content and UNPUBLISHED_TEXT not in content


@pytest.mark.django_db
def test_analysis_with_no_reviews_says_so(client, manager):
    content = page(client, manager, "death_review_analysis").content.decode()
    assert "No recommendations have been recorded yet." in content
    assert "chart.umd" not in content


# The Commissioner's and Home Office's download --------------------------------------------------


@pytest.mark.django_db
def test_download_is_a_workbook_with_a_row_per_recommendation(client, manager, dr_world):
    response = page(client, manager, "death_review_download")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == board.DOWNLOAD_HEADERS
    assert len(values) == 1 + 6
    assert sheet.freeze_panes == "A2"
    by_ref = {(row[0], row[3]): dict(zip(values[0], row, strict=True)) for row in values[1:]}
    first = by_ref[("DARDR 2025/01", 1)]
    assert first["Review state"] == "Published"
    assert first["Published"].date() == datetime.date(2024, 12, 2)
    assert isinstance(first["Recommendation"], int)
    assert first["Status"] == "Implemented"
    assert (first["Actions open"], first["Actions closed"]) == (0, 1)
    assert isinstance(first["Actions closed"], int)
    assert first["Evidence (latest approved, per action)"] == (
        "1.1: Attendance registers for all 12 handlers."
    )
    assert first["Date implemented"].date() == MADE_ON + datetime.timedelta(days=60)
    second = by_ref[("DARDR 2025/01", 2)]
    assert second["Owning agencies"] == "DAVSS; Kent Police"
    assert second["Themes"] == "Coercive control; MARAC"
    unpublished = by_ref[("DARDR 2025/02", 1)]
    assert unpublished["Recommendation text"] == UNPUBLISHED_TEXT
    assert unpublished["Published"] is None
    assert unpublished["Status"] == "Overdue"
    assert unpublished["Evidence (latest approved, per action)"] is None
    assert by_ref[("DARDR 2025/02", 2)]["Status"] == "No actions yet"


# The board paper ------------------------------------------------------------------------------


def paper_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([paragraph.text for paragraph in document.paragraphs] + cells)


@pytest.mark.django_db
def test_word_paper_has_the_death_reviews_section_without_unpublished_words(
    client, manager, board_member, dr_world
):
    for user in (manager, board_member):
        response = page(client, user, "quarterly_report", quarter=4, format="docx")
        text = paper_text(response.content)
        assert "5. Death reviews" in text
        assert "2 death reviews with 6 recommendations; 2 actions are past" in text
        assert "Review under way" in text and "Published" in text
        # Overdue actions by lead agency: references only.
        assert "DARDR 2025/02 1.1" in text and "DARDR 2025/01 3.1" in text
        assert PUBLISHED_TEXT in text
        assert UNPUBLISHED_TEXT not in text  # even in the manager's copy: the board reads it
        assert "Adult Rowan" not in text and "Adult Juniper" not in text


@pytest.mark.django_db
def test_report_page_has_the_death_reviews_section(client, board_member, dr_world):
    content = page(client, board_member, "quarterly_report", quarter=4).content.decode()
    assert 'id="death-reviews"' in content
    assert "DARDR 2025/01 3.1" in content
    assert PUBLISHED_TEXT in content and UNPUBLISHED_TEXT not in content


@pytest.mark.django_db
def test_an_issued_paper_keeps_its_death_reviews_section(client, manager, dr_world, plan):
    quarter = Quarter.objects.get(plan=plan, number=4)
    BoardPaper.objects.create(
        quarter=quarter,
        version=1,
        meeting="Board",
        meeting_date=dr_world.today,
        author="Manager",
        purpose="Update.",
        key_messages="",
        recommendation="Note.",
    )
    client.force_login(manager)
    response = client.post(f"{reverse('board_paper_issue')}?quarter=4")
    assert response.status_code == 302
    assert BoardPaper.objects.get(quarter=quarter, version=1).is_issued
    # Published afterwards: the live paper has its words, the issued version never will.
    Review.objects.filter(pk=dr_world.under_way.pk).update(published_on=dr_world.today)
    issued = client.get(reverse("quarterly_report"), {"quarter": 4, "format": "docx"})
    assert issued["Content-Disposition"].endswith('-v1.docx"')
    assert UNPUBLISHED_TEXT not in paper_text(issued.content)
    assert "DARDR 2025/02 1.1" in paper_text(issued.content)
    live = client.get(reverse("quarterly_report"), {"quarter": 4, "format": "docx", "draft": 1})
    assert UNPUBLISHED_TEXT in paper_text(live.content)


@pytest.mark.django_db
def test_paper_section_with_no_reviews(plan):
    section = board.paper_section(timezone.localdate())
    assert (section.reviews, section.recommendations, section.overdue_by_agency) == (0, 0, [])


@pytest.mark.django_db
def test_only_the_manager_and_board_read_the_totals(davss_user, manager, board_member, dr_world):
    users = (davss_user, manager, board_member)
    assert [rules.reads_board_figures(user) for user in users] == [False, True, True]
    assert [rules.board_reviews(user).count() for user in users] == [0, 2, 2]
