"""The figures across death reviews: the board's page, the analysis across reviews, the
Commissioner's and Home Office's download and the board paper's section. One function per
table; each reads its rows in a fixed number of queries (prefetched), whatever the number
of reviews, and asks rules.py for every state, status and date (never re-derives them).

What the board reads: each review's reference and state and the counts, and a
recommendation's text only once its review is published (rules.py); never a pseudonym.
"""

import datetime
import statistics
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch

from csp.exports import Sheet

from . import rules
from .models import ProgressUpdate, Recommendation, Review, ReviewAction

STATUSES = (
    rules.RecommendationStatus.IMPLEMENTED,
    rules.RecommendationStatus.IN_PROGRESS,
    rules.RecommendationStatus.OVERDUE,
    rules.RecommendationStatus.NO_ACTIONS,
)
# Chart series keys (static/js/charts.mjs gives them neutral colours: never RAG's).
STATUS_KEYS = {status: f"status_{status.value}" for status in STATUSES}
NO_THEME = "No theme"


@dataclass
class RecommendationFigures:
    recommendation: Recommendation
    status: rules.RecommendationStatus
    actions_open: int
    actions_closed: int
    actions_overdue: int
    implemented_on: datetime.date | None
    # None where this reader may not read the words (the board, before publication).
    text: str | None = None

    @property
    def days_to_close(self) -> int | None:
        if self.implemented_on is None:
            return None
        return (self.implemented_on - self.recommendation.made_on).days


def _figures(recommendation: Recommendation, today: datetime.date, text=None):
    actions = list(recommendation.actions.all())
    closed = sum(1 for action in actions if action.closed_at)
    return RecommendationFigures(
        recommendation=recommendation,
        status=rules.recommendation_status(actions, today),
        actions_open=len(actions) - closed,
        actions_closed=closed,
        actions_overdue=sum(1 for action in actions if rules.action_is_overdue(action, today)),
        implemented_on=rules.implemented_on(actions),
        text=text,
    )


@dataclass
class ReviewFigures:
    review: Review
    state: rules.ReviewState
    recommendations: list[RecommendationFigures] = field(default_factory=list)

    def _count(self, status) -> int:
        return sum(1 for item in self.recommendations if item.status == status)

    @property
    def implemented(self) -> int:
        return self._count(rules.RecommendationStatus.IMPLEMENTED)

    @property
    def in_progress(self) -> int:
        return self._count(rules.RecommendationStatus.IN_PROGRESS)

    @property
    def overdue(self) -> int:
        return self._count(rules.RecommendationStatus.OVERDUE)

    @property
    def no_actions(self) -> int:
        return self._count(rules.RecommendationStatus.NO_ACTIONS)

    @property
    def actions_open(self) -> int:
        return sum(item.actions_open for item in self.recommendations)

    @property
    def actions_closed(self) -> int:
        return sum(item.actions_closed for item in self.recommendations)

    @property
    def actions_overdue(self) -> int:
        return sum(item.actions_overdue for item in self.recommendations)


def _recommendations_with_actions():
    return Recommendation.objects.prefetch_related(
        Prefetch("actions", queryset=ReviewAction.objects.order_by("number"))
    ).order_by("number")


def board_reviews(user, today: datetime.date) -> list[ReviewFigures]:
    """Every review this user may count (rules.board_reviews), newest first, with each
    recommendation's status and counts, and its text where the user may read it
    (Recommendation.objects.visible_to: the board once the review is published). 3 queries."""
    readable = Recommendation.objects.visible_to(user).filter(pk=OuterRef("pk"))
    reviews = rules.board_reviews(user).prefetch_related(
        Prefetch(
            "recommendations",
            queryset=_recommendations_with_actions().annotate(readable=Exists(readable)),
        )
    )
    result = []
    for review in reviews:
        result.append(
            ReviewFigures(
                review=review,
                state=rules.review_state(review),
                recommendations=[
                    _figures(
                        recommendation,
                        today,
                        recommendation.text if recommendation.readable else None,
                    )
                    for recommendation in review.recommendations.all()
                ],
            )
        )
    return result


# The analysis across reviews ---------------------------------------------------------------


@dataclass
class GroupRow:
    """One theme's or agency's recommendations by status."""

    name: str
    implemented: int = 0
    in_progress: int = 0
    overdue: int = 0
    no_actions: int = 0

    def add(self, status: rules.RecommendationStatus) -> None:
        name = status.value
        setattr(self, name, getattr(self, name) + 1)

    @property
    def total(self) -> int:
        return self.implemented + self.in_progress + self.overdue + self.no_actions

    def counts(self) -> list[int]:
        return [self.total, self.implemented, self.in_progress, self.overdue, self.no_actions]


GROUP_HEADERS = ["Recommendations", "Implemented", "In progress", "Overdue", "No actions yet"]


@dataclass(frozen=True)
class CloseTimes:
    """How long implemented recommendations took, in days from agreed to implemented."""

    name: str
    days: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.days)

    @property
    def median(self) -> float | None:
        return statistics.median(self.days) if self.days else None

    @property
    def shortest(self) -> int | None:
        return min(self.days) if self.days else None

    @property
    def longest(self) -> int | None:
        return max(self.days) if self.days else None


@dataclass
class Analysis:
    recommendations: list[RecommendationFigures]
    by_theme: list[GroupRow]
    by_agency: list[GroupRow]
    close_times: CloseTimes
    close_times_by_theme: list[CloseTimes]

    @property
    def totals(self) -> GroupRow:
        row = GroupRow("All recommendations")
        for item in self.recommendations:
            row.add(item.status)
        return row


def _themes(recommendation) -> list[str]:
    return [theme.name for theme in recommendation.themes.all()] or [NO_THEME]


def analysis(today: datetime.date) -> Analysis:
    """Every recommendation of every review, by theme and by owning agency (one that has
    two themes counts under each), and how long those implemented took to close. No text:
    the manager and the board read it alike. 4 queries."""
    recommendations = [
        _figures(recommendation, today)
        for recommendation in _recommendations_with_actions().prefetch_related("themes", "owners")
    ]
    by_theme: dict[str, GroupRow] = {}
    by_agency: dict[str, GroupRow] = {}
    close_days_by_theme: dict[str, list[int]] = {}
    for item in recommendations:
        names = _themes(item.recommendation)
        for name in names:
            by_theme.setdefault(name, GroupRow(name)).add(item.status)
        for agency in item.recommendation.owners.all():
            by_agency.setdefault(agency.name, GroupRow(agency.name)).add(item.status)
        if item.days_to_close is not None:
            for name in names:
                close_days_by_theme.setdefault(name, []).append(item.days_to_close)

    def ordered(rows: dict) -> list:
        # By name, "No theme" last.
        return sorted(rows.values(), key=lambda row: (row.name == NO_THEME, row.name.lower()))

    return Analysis(
        recommendations=recommendations,
        by_theme=ordered(by_theme),
        by_agency=ordered(by_agency),
        close_times=CloseTimes(
            "All recommendations",
            tuple(item.days_to_close for item in recommendations if item.days_to_close is not None),
        ),
        close_times_by_theme=[
            CloseTimes(name, tuple(sorted(days)))
            for name, days in sorted(
                close_days_by_theme.items(), key=lambda pair: (pair[0] == NO_THEME, pair[0].lower())
            )
        ],
    )


def group_chart(rows: list[GroupRow], y_title: str) -> dict:
    """A stacked bar chart of recommendations by status (the JSON static/js/charts.mjs
    reads)."""
    return {
        "type": "bar",
        "stacked": True,
        "horizontal": True,
        "yTitle": y_title,
        "labels": [row.name for row in rows],
        "series": [
            {
                "key": STATUS_KEYS[status],
                "name": status.label,
                "values": [getattr(row, status.value) for row in rows],
            }
            for status in STATUSES
        ],
    }


# The Commissioner's and Home Office's download ----------------------------------------------

DOWNLOAD_HEADERS = [
    "Review reference",
    "Review state",
    "Published",
    "Recommendation",
    "Local or national",
    "Recommendation text",
    "Owning agencies",
    "Themes",
    "Status",
    "Actions open",
    "Actions closed",
    "Evidence (latest approved, per action)",
    "Date implemented",
]


def _latest_evidence(action: ReviewAction) -> str:
    """The action's latest approved update's evidence summary (updates prefetched, newest
    first), or empty."""
    for update in action.updates.all():
        if update.evidence_summary.strip():
            return update.evidence_summary.strip()
    return ""


def recommendations_sheet(today: datetime.date) -> tuple[Sheet, list[Review]]:
    """One row per recommendation of every review, for the Domestic Abuse Commissioner and
    the Home Office: the manager's download (text of every review). Also the reviews it
    holds, for the audit log. 5 queries."""
    approved = ProgressUpdate.objects.filter(state=ProgressUpdate.State.APPROVED).order_by(
        "-reviewed_at", "-pk"
    )
    recommendations = (
        Recommendation.objects.select_related("review")
        .prefetch_related(
            Prefetch(
                "actions",
                queryset=ReviewAction.objects.order_by("number").prefetch_related(
                    Prefetch("updates", queryset=approved)
                ),
            ),
            "owners",
            "themes",
        )
        .order_by("review__notified_on", "review__reference", "number")
    )
    sheet = Sheet("Recommendations", DOWNLOAD_HEADERS)
    reviews: dict[int, Review] = {}
    for recommendation in recommendations:
        review = recommendation.review
        reviews[review.pk] = review
        item = _figures(recommendation, today)
        actions = list(recommendation.actions.all())
        evidence = [
            f"{action.ref}: {summary}"
            for action in actions
            if (summary := _latest_evidence(action))
        ]
        sheet.rows.append(
            [
                review.reference,
                rules.review_state(review).label,
                review.published_on,
                recommendation.number,
                recommendation.get_scope_display(),
                recommendation.text,
                "; ".join(agency.name for agency in recommendation.owners.all()),
                "; ".join(theme.name for theme in recommendation.themes.all()),
                item.status.label,
                item.actions_open,
                item.actions_closed,
                "\n".join(evidence),
                item.implemented_on,
            ]
        )
    return sheet, list(reviews.values())


# The board paper's section --------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueByAgency:
    agency: str
    refs: list[str]  # "DARDR 2025/01 1.1": the review's reference and the action's ref

    @property
    def count(self) -> int:
        return len(self.refs)


@dataclass(frozen=True)
class PublishedOverdue:
    """A recommendation of a published review with an overdue action: its words may go in
    the paper."""

    review_reference: str
    number: int
    text: str
    refs: list[str]


@dataclass
class PaperSection:
    by_state: list[tuple[str, int]]  # (state label, reviews), states with none left out
    by_status: list[tuple[str, int]]  # (status label, recommendations), every status
    overdue_by_agency: list[OverdueByAgency]
    published_overdue: list[PublishedOverdue]

    @property
    def reviews(self) -> int:
        return sum(count for _, count in self.by_state)

    @property
    def recommendations(self) -> int:
        return sum(count for _, count in self.by_status)

    @property
    def overdue_actions(self) -> int:
        return sum(row.count for row in self.overdue_by_agency)

    def sheets(self) -> list[Sheet]:
        """The section's three tables, as the Word paper draws them."""
        return [
            Sheet("Death reviews by state", ["State", "Reviews"], list(self.by_state)),
            Sheet(
                "Recommendations by status",
                ["Status", "Recommendations"],
                list(self.by_status),
            ),
            Sheet(
                "Overdue actions by agency",
                ["Lead agency", "Overdue actions", "Actions"],
                [[row.agency, row.count, ", ".join(row.refs)] for row in self.overdue_by_agency],
            ),
        ]


def paper_section(today: datetime.date) -> PaperSection:
    """The board paper's "Death reviews": reviews by state, recommendations by status, and
    overdue actions by lead agency, by reference only; the words of a recommendation only
    where its review is published (rules.readable_by_the_board), whoever prints the paper,
    since the whole board reads it. 3 queries."""
    readable = rules.readable_by_the_board(Recommendation.objects.filter(pk=OuterRef("pk")))
    reviews = list(
        Review.objects.prefetch_related(
            Prefetch(
                "recommendations",
                queryset=Recommendation.objects.order_by("number")
                .annotate(board_reads=Exists(readable))
                .prefetch_related(
                    Prefetch("actions", queryset=ReviewAction.objects.select_related("lead_agency"))
                ),
            )
        )
    )
    states = Counter(rules.review_state(review) for review in reviews)
    statuses: Counter = Counter()
    overdue: dict[str, list[str]] = {}
    published_overdue = []
    for review in sorted(reviews, key=lambda review: review.reference):
        for recommendation in review.recommendations.all():
            actions = sorted(recommendation.actions.all(), key=lambda action: action.number)
            statuses[rules.recommendation_status(actions, today)] += 1
            late = [action for action in actions if rules.action_is_overdue(action, today)]
            for action in late:
                overdue.setdefault(action.lead_agency.name, []).append(
                    f"{review.reference} {action.ref}"
                )
            if late and recommendation.board_reads:
                published_overdue.append(
                    PublishedOverdue(
                        review.reference,
                        recommendation.number,
                        recommendation.text,
                        [action.ref for action in late],
                    )
                )
    return PaperSection(
        by_state=[(state.label, states[state]) for state in rules.ReviewState if states[state]],
        by_status=[(status.label, statuses[status]) for status in STATUSES],
        overdue_by_agency=[
            OverdueByAgency(agency, refs)
            for agency, refs in sorted(overdue.items(), key=lambda pair: pair[0].lower())
        ],
        published_overdue=published_overdue,
    )
