"""The board's page, the analysis across reviews and the Commissioner's download.

Each is behind a capability (csp.permissions) and then the rule in rules.py for who reads
the partnership's totals: a partner, who may read their own agency's recommendations,
gets 403 here. Every view of a review's figures is on the audit log (rules.log_view).
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from csp import exports
from csp.permissions import Capability, requires

from . import board, rules

audit = logging.getLogger("csp.audit")


def _refuse_unless_board_figures(user) -> None:
    if not rules.reads_board_figures(user):
        raise PermissionDenied


@requires(Capability.READ_DEATH_REVIEWS)
def board_page(request: HttpRequest) -> HttpResponse:
    """Each review's reference and state, its recommendations by status and its actions;
    a recommendation's words only where the reader may read them."""
    _refuse_unless_board_figures(request.user)
    today = timezone.localdate()
    reviews = board.board_reviews(request.user, today)
    for figures in reviews:
        rules.log_view(request.user, "board figures", figures.review.pk)
    return render(
        request,
        "deathreviews/board_reviews.html",
        {
            "reviews": reviews,
            "today": today,
            "may_download": request.user.is_manager,
        },
    )


@requires(Capability.READ_DEATH_REVIEWS)
def analysis_page(request: HttpRequest) -> HttpResponse:
    """Recommendations across every review by theme and by owning agency, and how long they
    take to close: counts only, so the manager and the board read the same page."""
    _refuse_unless_board_figures(request.user)
    today = timezone.localdate()
    figures = board.analysis(today)
    # Counts across reviews, no one review's record: logged, as every death-review page is.
    audit.info("death review analysis viewed by %s", request.user.get_username())
    return render(
        request,
        "deathreviews/board_analysis.html",
        {
            "analysis": figures,
            "headers": board.GROUP_HEADERS,
            "theme_chart": board.group_chart(figures.by_theme, "Recommendations"),
            "agency_chart": board.group_chart(figures.by_agency, "Recommendations"),
            "today": today,
            "may_download": request.user.is_manager,
        },
    )


@requires(Capability.MANAGE_DEATH_REVIEWS)
@require_safe
def download(request: HttpRequest) -> HttpResponse:
    """Every review's recommendations with their status and evidence, as a workbook for the
    Domestic Abuse Commissioner and the Home Office."""
    today = timezone.localdate()
    sheet, reviews = board.recommendations_sheet(today)
    for review in reviews:
        rules.log_view(request.user, "recommendations downloaded", review.pk)
    return exports.xlsx_response([sheet], f"death-review-recommendations-{today:%Y-%m-%d}.xlsx")
