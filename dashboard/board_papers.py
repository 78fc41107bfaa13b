"""The committee paper's life: the manager writes a draft (cover, key messages,
recommendation, marking) and issues it. Issuing stores the Word document as generated
then, so later approvals never change an issued paper; changing an issued paper starts
the next version, a draft, prefilled from it.

What the board downloads: the newest issued version; until one is issued, the live draft
paper generated from the approved returns as they stand, marked DRAFT on its cover.
"""

import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from .models import BoardPaper

audit = logging.getLogger("csp.audit")

COPIED = (
    "meeting",
    "meeting_date",
    "author",
    "purpose",
    "key_messages",
    "recommendation",
    "marking",
)


class PaperError(Exception):
    pass


def defaults(quarter, user=None) -> dict:
    """A first draft's cover: the partnership's board, the author, the usual purpose and
    recommendation."""
    plan = quarter.plan
    return {
        "meeting": f"{plan.partnership} Board",
        "meeting_date": timezone.localdate(),
        "author": (
            f"{user.get_full_name() or user.username}, Community Safety Manager"
            if user is not None
            else "Community Safety Manager"
        ),
        "purpose": (
            f"To update the board on progress against the {plan.label} partnership plan in "
            f"{quarter.label} ({quarter.months}), from the partner agencies' approved "
            "quarterly returns, and on recorded crime against the year before."
        ),
        "recommendation": (
            "The board is asked to note the progress reported, and to agree any action on the "
            "red and amber actions and the overdue returns."
        ),
    }


def draft_for(quarter) -> BoardPaper | None:
    """The draft being written, or None when the newest version is issued (or none)."""
    latest = BoardPaper.objects.latest_for(quarter)
    return latest if latest is not None and not latest.is_issued else None


def live_cover(quarter) -> BoardPaper:
    """The cover of the live (not issued) paper: the draft, or the next version as it
    would start."""
    instance, initial = initial_for(quarter)
    for name, value in initial.items():
        setattr(instance, name, value)
    return instance


def initial_for(quarter, user=None) -> tuple[BoardPaper, dict]:
    """The paper to edit and the form's initial values: the draft; else the next version
    prefilled from the newest issued one; else a first version with the defaults."""
    latest = BoardPaper.objects.latest_for(quarter)
    if latest is None:
        return BoardPaper(quarter=quarter, version=1), defaults(quarter, user)
    if latest.is_issued:
        initial = {name: getattr(latest, name) for name in COPIED}
        return BoardPaper(quarter=quarter, version=latest.version + 1), initial
    return latest, {}


def cover_for(quarter) -> BoardPaper:
    """The paper whose cover the live report and draft download show: the newest version,
    or an unsaved first version with the defaults."""
    return BoardPaper.objects.latest_for(quarter) or BoardPaper(
        quarter=quarter, version=1, **defaults(quarter)
    )


@transaction.atomic
def issue(paper: BoardPaper, user, render: Callable[[BoardPaper], bytes]) -> BoardPaper:
    """Freeze a draft: the document as generated now (``render``) is what the board gets."""
    paper = BoardPaper.objects.select_for_update().get(pk=paper.pk)
    if paper.is_issued:
        raise PaperError(f"Version {paper.version} has already been issued.")
    paper.issued_at = timezone.now()
    paper.issued_by = user
    paper.document = render(paper)
    paper.save()
    audit.info(
        "board paper %s version %s issued by %s", paper.quarter, paper.version, user.username
    )
    return paper
