"""The manager's changes to the record of death reviews: a review and its panel, its
recommendations and their actions, and the list of themes. (Progress updates and their
approval are in progress.py.)

Each change runs in one transaction, locks the row it changes, checks what it may change,
raises RecordError with a message for the user when it cannot go ahead, and writes one line
to the audit log. The forms (forms.py) check the values; the services check the state.
"""

import logging

from django.db import transaction

from priorities.models import Partnership

from .models import Recommendation, Review, ReviewAction, Theme

audit = logging.getLogger("csp.audit")


class RecordError(Exception):
    """A change that cannot happen; the message is for the user."""


def _save(instance, user, reason: str) -> None:
    # Set explicitly: outside a request (commands, tests) the history middleware knows no user.
    instance._history_user = user
    instance._change_reason = reason
    instance.save()


REVIEW_FIELDS = (
    "reference",
    "pseudonym",
    "notified_on",
    "decision",
    "decision_on",
    "decision_reason",
    "panel_convened_on",
    "sent_to_qa_panel_on",
    "qa_outcome",
    "qa_outcome_on",
    "sent_to_commissioner_on",
    "published_on",
)


@transaction.atomic
def save_review(user, review: Review | None, *, panel_members, **values) -> Review:
    """Record a new review, or change one; its panel is set to exactly these users."""
    if review is None:
        review = Review(partnership=Partnership.objects.deployed(), created_by=user)
        if review.partnership.pk is None:
            raise RecordError("Load the partnership (the seed) before recording a review.")
        verb = "recorded"
    else:
        review = Review.objects.select_for_update().get(pk=review.pk)
        verb = "changed"
    for name in REVIEW_FIELDS:
        value = values[name]
        setattr(review, name, value if value is not None else ("" if _is_text(name) else None))
    _save(review, user, f"Review {verb}")
    review.panel_members.set(panel_members)
    audit.info("death review %s %s by %s", review.pk, verb, user.get_username())
    return review


def _is_text(name: str) -> bool:
    return name in ("decision", "decision_reason", "qa_outcome")


def _refuse_with_updates(action_or_actions, what: str) -> None:
    if action_or_actions.filter(updates__isnull=False).exists():
        raise RecordError(
            f"The {what} has progress updates, so it stays on the record. Change it instead."
        )


@transaction.atomic
def save_recommendation(
    user, review: Review, recommendation: Recommendation | None, *, owners, themes, **values
) -> Recommendation:
    if recommendation is None:
        recommendation = Recommendation(review=review)
        verb = "added"
    else:
        recommendation = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        verb = "changed"
    for name in ("number", "text", "scope", "made_on"):
        setattr(recommendation, name, values[name])
    _save(recommendation, user, f"Recommendation {verb}")
    recommendation.owners.set(owners)
    recommendation.themes.set(themes)
    audit.info(
        "death review %s recommendation %s %s by %s",
        review.pk,
        recommendation.pk,
        verb,
        user.get_username(),
    )
    return recommendation


@transaction.atomic
def delete_recommendation(user, recommendation: Recommendation) -> None:
    """Only while none of its actions has a progress update: after that it is history."""
    recommendation = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
    _refuse_with_updates(
        ReviewAction.objects.filter(recommendation=recommendation),
        f"recommendation {recommendation.number}",
    )
    pk = recommendation.pk
    recommendation._history_user = user
    recommendation.delete()
    audit.info(
        "death review %s recommendation %s deleted by %s",
        recommendation.review_id,
        pk,
        user.get_username(),
    )


def _refuse_closed(action: ReviewAction) -> None:
    if action.is_closed:
        raise RecordError(
            f"Action {action.ref} is closed: the manager approved its evidence, so it stays "
            "as it was closed."
        )


@transaction.atomic
def save_action(
    user, recommendation: Recommendation, action: ReviewAction | None, **values
) -> ReviewAction:
    if action is None:
        action = ReviewAction(recommendation=recommendation)
        verb = "added"
    else:
        action = (
            ReviewAction.objects.select_for_update()
            .select_related("recommendation")
            .get(pk=action.pk)
        )
        _refuse_closed(action)
        verb = "changed"
    for name in ("number", "text", "lead_agency", "target_date", "evidence_needed"):
        setattr(action, name, values[name])
    _save(action, user, f"Action {verb}")
    audit.info(
        "death review action %s %s by %s (recommendation %s)",
        action.pk,
        verb,
        user.get_username(),
        recommendation.pk,
    )
    return action


@transaction.atomic
def delete_action(user, action: ReviewAction) -> None:
    action = (
        ReviewAction.objects.select_for_update().select_related("recommendation").get(pk=action.pk)
    )
    _refuse_closed(action)
    _refuse_with_updates(ReviewAction.objects.filter(pk=action.pk), f"action {action.ref}")
    pk = action.pk
    action._history_user = user
    action.delete()
    audit.info("death review action %s deleted by %s", pk, user.get_username())


# Themes -------------------------------------------------------------------------------------

DEFAULT_THEMES = (
    "Coercive control",
    "MARAC",
    "Substance use",
    "Mental health",
    "Information sharing",
    "Training and awareness",
    "Risk assessment",
    "Housing",
    "Children and young people",
    "Older people",
)


def seed_themes(partnership: Partnership) -> int:
    """The default list, for a partnership that has no themes yet (a second run, or a list
    the manager has changed, is left as it is). How many were added."""
    if Theme.objects.filter(partnership=partnership).exists():
        return 0
    Theme.objects.bulk_create(Theme(partnership=partnership, name=name) for name in DEFAULT_THEMES)
    return len(DEFAULT_THEMES)


@transaction.atomic
def add_theme(user, name: str) -> Theme:
    partnership = Partnership.objects.deployed()
    if partnership.pk is None:
        raise RecordError("Load the partnership (the seed) before adding themes.")
    theme = Theme(partnership=partnership, name=name)
    _save(theme, user, "Theme added")
    audit.info("death review theme %s added by %s", theme.pk, user.get_username())
    return theme


@transaction.atomic
def rename_theme(user, theme: Theme, name: str) -> Theme:
    theme = Theme.objects.select_for_update().get(pk=theme.pk)
    theme.name = name
    _save(theme, user, "Theme renamed")
    audit.info("death review theme %s renamed by %s", theme.pk, user.get_username())
    return theme


@transaction.atomic
def set_theme_retired(user, theme: Theme, retired: bool) -> Theme:
    """A retired theme is no longer offered for new recommendations; those that have it
    keep it."""
    theme = Theme.objects.select_for_update().get(pk=theme.pk)
    if theme.retired == retired:
        raise RecordError(f"{theme.name} is already {'retired' if retired else 'in use'}.")
    theme.retired = retired
    _save(theme, user, "Theme retired" if retired else "Theme restored")
    audit.info(
        "death review theme %s %s by %s",
        theme.pk,
        "retired" if retired else "restored",
        user.get_username(),
    )
    return theme
