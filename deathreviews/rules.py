"""The one home of the death-review rules: a review's state and the due date of its next
step, a recommendation's status, and who may read what (the querysets in models.py hold
the scoping; this module adds the board's view and the audit entry every view writes).

Time limits are the Home Office statutory guidance's (Multi-agency Statutory Guidance for the
Conduct of Domestic Homicide Reviews, which applies to DARDRs under the Victims and Prisoners
Act 2024, s19): the decision to hold a review within one month of notification; the report
to the Home Office quality assurance panel within six months of the decision; and under s19
the report goes to the Domestic Abuse Commissioner when it goes to the Secretary of State.
"""

import calendar
import datetime
import logging
from dataclasses import dataclass
from enum import StrEnum

from csp.permissions import Capability, may

from .models import Recommendation, Review, ReviewAction

audit = logging.getLogger("csp.audit")

DECISION_MONTHS = 1
REPORT_MONTHS = 6


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day of the month `months` later, or that month's last day where it is
    shorter (31 January + 1 month = 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


class ReviewState(StrEnum):
    AWAITING_DECISION = "awaiting_decision"
    NOT_HELD = "not_held"
    PANEL_TO_CONVENE = "panel_to_convene"
    UNDER_WAY = "under_way"
    WITH_QA_PANEL = "with_qa_panel"
    REVISING = "revising"
    ACCEPTED = "accepted"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    ReviewState.AWAITING_DECISION: "Awaiting decision",
    ReviewState.NOT_HELD: "Not held",
    ReviewState.PANEL_TO_CONVENE: "Panel to convene",
    ReviewState.UNDER_WAY: "Review under way",
    ReviewState.WITH_QA_PANEL: "With the quality assurance panel",
    ReviewState.REVISING: "Revising for the quality assurance panel",
    ReviewState.ACCEPTED: "Accepted, to publish",
    ReviewState.PUBLISHED: "Published",
}


def review_state(review: Review) -> ReviewState:
    if review.published_on:
        return ReviewState.PUBLISHED
    if not review.decision:
        return ReviewState.AWAITING_DECISION
    if review.decision == Review.Decision.NOT_HOLD:
        return ReviewState.NOT_HELD
    if review.qa_outcome == Review.QaOutcome.ACCEPTED:
        return ReviewState.ACCEPTED
    if review.qa_outcome == Review.QaOutcome.RESUBMIT:
        return ReviewState.REVISING
    if review.sent_to_qa_panel_on:
        return ReviewState.WITH_QA_PANEL
    if review.panel_convened_on:
        return ReviewState.UNDER_WAY
    return ReviewState.PANEL_TO_CONVENE


@dataclass(frozen=True)
class Step:
    """A step still to take, and the date the guidance sets for it (None where it sets
    none)."""

    label: str
    due: datetime.date | None

    def is_overdue(self, today: datetime.date) -> bool:
        return self.due is not None and self.due < today


def next_steps(review: Review) -> list[Step]:
    """The steps the review still owes, in order, each with its due date."""
    state = review_state(review)
    steps = []
    if state == ReviewState.AWAITING_DECISION:
        steps.append(
            Step("Decide whether to hold a review", add_months(review.notified_on, DECISION_MONTHS))
        )
    if state in (ReviewState.PANEL_TO_CONVENE,):
        steps.append(Step("Convene the review panel", None))
    if state in (ReviewState.PANEL_TO_CONVENE, ReviewState.UNDER_WAY, ReviewState.REVISING):
        steps.append(
            Step(
                "Send the report to the Home Office quality assurance panel",
                add_months(review.decision_on, REPORT_MONTHS) if review.decision_on else None,
            )
        )
    if (
        review.sent_to_qa_panel_on
        and not review.sent_to_commissioner_on
        and state != ReviewState.NOT_HELD
    ):
        steps.append(
            Step("Send the report to the Domestic Abuse Commissioner", review.sent_to_qa_panel_on)
        )
    if state == ReviewState.ACCEPTED:
        steps.append(Step("Publish the report", None))
    return steps


def overdue_steps(review: Review, today: datetime.date) -> list[Step]:
    return [step for step in next_steps(review) if step.is_overdue(today)]


class RecommendationStatus(StrEnum):
    IMPLEMENTED = "implemented"
    OVERDUE = "overdue"
    IN_PROGRESS = "in_progress"
    NO_ACTIONS = "no_actions"

    @property
    def label(self) -> str:
        return {
            "implemented": "Implemented",
            "overdue": "Overdue",
            "in_progress": "In progress",
            "no_actions": "No actions yet",
        }[self.value]


def action_is_overdue(action: ReviewAction, today: datetime.date) -> bool:
    return action.closed_at is None and action.target_date < today


def recommendation_status(
    actions: list[ReviewAction], today: datetime.date
) -> RecommendationStatus:
    """Implemented when every action is closed; overdue when any open action is past its
    target date; otherwise in progress. Pass the recommendation's actions (prefetched)."""
    if not actions:
        return RecommendationStatus.NO_ACTIONS
    if all(action.closed_at for action in actions):
        return RecommendationStatus.IMPLEMENTED
    if any(action_is_overdue(action, today) for action in actions):
        return RecommendationStatus.OVERDUE
    return RecommendationStatus.IN_PROGRESS


def implemented_on(actions: list[ReviewAction]) -> datetime.date | None:
    """The day the last of its actions closed, once all have."""
    if not actions or not all(action.closed_at for action in actions):
        return None
    return max(action.closed_at for action in actions).date()


def may_read_text(user, recommendation: Recommendation) -> bool:
    """Whether this user may read the recommendation's words (the board: once published)."""
    return Recommendation.objects.visible_to(user).filter(pk=recommendation.pk).exists()


def log_view(user, what: str, pk: int) -> None:
    """Every view of a death review's record is on the audit log."""
    audit.info("death review %s %s viewed by %s", what, pk, user.get_username())


# The board's view (deathreviews/board.py) ------------------------------------------------


def reads_board_figures(user) -> bool:
    """Who reads the counts and states across every review (the board's page, the analysis
    across reviews): whoever reads the board's report (the manager and the board,
    csp.permissions). A partner reads their own agency's recommendations on *Death reviews*,
    never the partnership's totals."""
    return may(user, Capability.VIEW_BOARD_REPORT)


def board_reviews(user):
    """The reviews whose reference, state and counts this user may see (never their
    pseudonym or text): every one for the manager and the board, none for anyone else."""
    return Review.objects.all() if reads_board_figures(user) else Review.objects.none()


def readable_by_the_board(recommendations):
    """Of these recommendations, those whose text every board member may read: the board's
    branch of RecommendationQuerySet.visible_to (once the review is published). For what the
    whole board reads whoever prints it (the board paper, frozen when the manager issues
    it), where visible_to(user) would answer for the manager who issues it."""
    return recommendations.published()
