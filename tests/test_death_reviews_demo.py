"""The demo death reviews (demodata/demo_death_reviews.py): made up, complete enough to show
every state, and created once however often seed --demo runs."""

import hashlib
import io
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from crimestats.sources.files import Upload
from deathreviews import rules
from deathreviews.models import (
    ProgressUpdate,
    Recommendation,
    Review,
    ReviewAction,
    Theme,
    UpdateEvidence,
)
from demodata import demo_death_reviews
from demodata.demo_returns import create_demo_accounts, demo_plan
from review import evidence as evidence_files
from review.services import evidence_storage

DEATH_REVIEW_MODELS = [
    Review,
    Recommendation,
    ReviewAction,
    ProgressUpdate,
    UpdateEvidence,
    Theme,
]


def death_review_counts() -> dict[str, int]:
    """Rows in every death review table, their histories and many-to-many tables included."""
    counts = {}
    for model in apps.get_app_config("deathreviews").get_models(include_auto_created=True):
        counts[model._meta.db_table] = model.objects.count()
    return counts


@pytest.fixture
def demo(db):
    create_demo_accounts()
    return demo_death_reviews.create_demo_death_reviews()


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.mark.django_db
def test_seed_demo_creates_the_death_reviews_once(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed", "--demo", stdout=out)
    assert "Demo death reviews: 3 created (2 published)." in out.getvalue()
    first = death_review_counts()
    assert first["deathreviews_review"] == 3
    files = sorted(UpdateEvidence.objects.values_list("stored_name", flat=True))

    out = io.StringIO()
    call_command("seed", "--demo", stdout=out)
    assert "Demo death reviews: 0 created (0 published)." in out.getvalue()
    assert death_review_counts() == first
    assert sorted(UpdateEvidence.objects.values_list("stored_name", flat=True)) == files


def test_two_published_reviews_and_one_in_progress(demo, today):
    assert len(demo) == 3
    assert Review.objects.published().count() == 2
    in_progress = Review.objects.get(published_on__isnull=True)
    assert rules.review_state(in_progress) == rules.ReviewState.UNDER_WAY
    # Its report to the quality assurance panel is overdue: the manager's home shows it.
    assert [step.label for step in rules.overdue_steps(in_progress, today)] == [
        "Send the report to the Home Office quality assurance panel"
    ]
    for review in Review.objects.published():
        assert rules.review_state(review) == rules.ReviewState.PUBLISHED
        assert rules.next_steps(review) == []
        assert review.recommendations.exists()


def test_counts(demo):
    assert Recommendation.objects.count() == 8
    assert Recommendation.objects.filter(scope=Recommendation.Scope.NATIONAL).count() == 1
    assert ReviewAction.objects.count() == 11
    assert ReviewAction.objects.filter(closed_at__isnull=False).count() == 4
    assert ProgressUpdate.objects.count() == 22
    assert UpdateEvidence.objects.count() == 1


def test_actions_overdue_open_and_closed(demo, today):
    assert ReviewAction.objects.open().count() == 7
    assert ReviewAction.objects.overdue(today).count() == 4
    # Some open actions are on time whenever the demo is created.
    on_time = ReviewAction.objects.open().filter(target_date__gte=today)
    assert on_time.count() == 3
    statuses = [
        rules.recommendation_status(list(recommendation.actions.all()), today)
        for recommendation in Recommendation.objects.prefetch_related("actions")
    ]
    assert set(statuses) == {
        rules.RecommendationStatus.IMPLEMENTED,
        rules.RecommendationStatus.IN_PROGRESS,
        rules.RecommendationStatus.OVERDUE,
    }


def test_every_closed_action_has_an_approved_update_asking_to_close_with_evidence(demo):
    manager = User.objects.get(username="manager")
    closed = ReviewAction.objects.filter(closed_at__isnull=False)
    for action in closed:
        closing = action.updates.get(asks_to_close=True)
        assert closing.state == ProgressUpdate.State.APPROVED
        assert closing.evidence_summary
        assert closing.reviewed_by == manager
        assert action.closed_at == closing.reviewed_at
        assert action.closed_by == manager
        # Its history, in date order, ends with the closing.
        assert action.history.order_by("history_date").last().closed_at == action.closed_at
        assert action.history.earliest("history_date").closed_at is None
    # No open action has an approved request to close it.
    assert not ProgressUpdate.objects.filter(
        asks_to_close=True, state=ProgressUpdate.State.APPROVED, action__closed_at__isnull=True
    ).exists()


def test_the_evidence_file_is_a_real_pdf_in_the_evidence_storage(demo):
    attached = UpdateEvidence.objects.get()
    assert attached.update.action.is_closed
    with evidence_storage().open(attached.stored_name) as stored:
        content = stored.read()
    assert len(content) == attached.size
    assert hashlib.sha256(content).hexdigest() == attached.sha256
    assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
    assert b"MADE UP" in content
    # The app's own check of what a file is agrees it is a PDF.
    upload = Upload(name=attached.name, stream=io.BytesIO(content), size=len(content))
    assert evidence_files.identify(upload) == UpdateEvidence.Kind.PDF
    # The cross-reference table points at each object.
    startxref = int(re.search(rb"startxref\n(\d+)", content).group(1))
    assert content[startxref:].startswith(b"xref")
    for number, offset in enumerate(re.findall(rb"(\d{10}) 00000 n", content), start=1):
        assert content[int(offset) :].startswith(b"%d 0 obj" % number)


def test_updates_in_every_state_for_the_demo_plans_quarters(demo):
    plan = demo_plan()
    assert not ProgressUpdate.objects.exclude(quarter__plan=plan).exists()
    states = dict(
        ProgressUpdate.objects.values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    assert states == {"approved": 16, "submitted": 3, "draft": 2, "sent_back": 1}
    sent_back = ProgressUpdate.objects.get(state=ProgressUpdate.State.SENT_BACK)
    assert sent_back.reviewer_comment
    for update in ProgressUpdate.objects.exclude(state=ProgressUpdate.State.DRAFT):
        assert update.submitted_at and update.submitted_by
        # Written after its quarter ended.
        assert update.submitted_at.date() > update.quarter.end
        assert update.created_at <= update.submitted_at
    # Partners write their own agency's updates.
    assert ProgressUpdate.objects.filter(
        action__lead_agency__name="DAVSS", created_by__username="davss"
    ).exists()
    assert ProgressUpdate.objects.filter(
        action__lead_agency__name="Kent Police", created_by__username="police"
    ).exists()


def test_owners_and_lead_agencies(demo):
    owners = set(Recommendation.objects.values_list("owners__name", flat=True))
    assert {"DAVSS", "Kent Police"} < owners
    # Each action's lead agency owns its recommendation, so its users can report on it.
    for action in ReviewAction.objects.select_related("recommendation", "lead_agency"):
        assert action.lead_agency in action.recommendation.owners.all()


def test_who_sees_the_demo(demo):
    in_progress = Review.objects.get(published_on__isnull=True)
    police = User.objects.get(username="police")
    davss = User.objects.get(username="davss")
    board = User.objects.get(username="board")
    # The demo police user sits on the in-progress review's panel; nobody else does.
    assert list(in_progress.panel_members.all()) == [police]
    assert list(Review.objects.visible_to(police)) == [in_progress]
    assert not Review.objects.visible_to(davss).exists()
    # DAVSS reads the recommendations it owns, in the in-progress review too.
    assert set(Recommendation.objects.visible_to(davss)) == set(
        Recommendation.objects.filter(owners__name="DAVSS")
    )
    assert Recommendation.objects.visible_to(davss).filter(review=in_progress).exists()
    # The board reads the words of the published reviews' recommendations only.
    assert Recommendation.objects.visible_to(board).count() == 6
    assert not Recommendation.objects.visible_to(board).filter(review=in_progress).exists()


def test_every_review_is_made_up(demo):
    for review in Review.objects.all():
        assert review.reference.startswith("DEMO DARDR ")
        assert "made up" in review.pseudonym
        assert "made up" in review.decision_reason.lower()


def test_no_field_holds_a_date_of_birth_a_real_name_or_an_address():
    forbidden = re.compile(r"birth|dob|born|address|real_name|first_name|surname|postcode")
    for model in DEATH_REVIEW_MODELS:
        for model_field in model._meta.get_fields():
            assert not forbidden.search(model_field.name), (model, model_field.name)


def test_the_default_themes_merge_with_a_list_already_kept(db):
    create_demo_accounts()
    partnership = demo_plan().partnership
    kept = Theme.objects.create(partnership=partnership, name="coercive control")
    demo_death_reviews.create_demo_death_reviews()
    themes = Theme.objects.filter(partnership=partnership)
    assert themes.count() == len(demo_death_reviews.DEFAULT_THEMES)
    assert themes.filter(name__iexact="Coercive control").get() == kept
    assert kept.recommendations.exists()
    used = {name.lower() for name in Recommendation.objects.values_list("themes__name", flat=True)}
    assert used <= {name.lower() for name in demo_death_reviews.DEFAULT_THEMES}


def test_targets_counted_from_today_fall_after_it(demo, today):
    counted = {
        (review.reference, recommendation.number, action.number)
        for review in demo_death_reviews.REVIEWS
        for recommendation in review.recommendations
        for action in recommendation.actions
        if isinstance(action.target, demo_death_reviews.FromToday)
    }
    assert len(counted) == 3
    for reference, recommendation, number in counted:
        action = ReviewAction.objects.get(
            recommendation__review__reference=reference,
            recommendation__number=recommendation,
            number=number,
        )
        assert action.target_date > today


def test_no_death_review_model_is_in_the_django_admin():
    """The admin shows records without the audit entry every view of a review writes."""
    from django.contrib import admin

    registered = set(admin.site._registry)
    assert not registered & set(
        apps.get_app_config("deathreviews").get_models(include_auto_created=True)
    )
    assert registered  # the admin itself is there, so the check above can fail
