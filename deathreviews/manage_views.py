"""The record of death reviews: the list and each review's page for the manager and the
review's panel members, and the manager's pages to record reviews, recommendations, actions
and themes. Who reads which review is Review.objects.visible_to (a review outside it is a
404); every view of a review's record is on the audit log (rules.log_view)."""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from accounts.models import User
from csp.kept_input import keeps_typed_input, restore
from csp.permissions import Capability, requires
from priorities.models import Partnership

from . import rules, services
from .forms import RecommendationForm, ReviewActionForm, ReviewForm, ThemeForm
from .models import ProgressUpdate, Recommendation, Review, ReviewAction, Theme
from .obligations import updates_visible_to
from .services import RecordError


def _posted(request):
    return request.POST if request.method == "POST" else restore(request)


# Reading -----------------------------------------------------------------------------------


@requires(Capability.READ_DEATH_REVIEWS)
@require_safe
def death_review_list(request: HttpRequest) -> HttpResponse:
    """Every review for the manager, the reviews a panel member sits on; anyone else is told
    what they can see of death reviews."""
    user = request.user
    reviews = list(Review.objects.visible_to(user).order_by("-notified_on", "reference"))
    owned = _owned_recommendations(user, timezone.localdate())
    if not reviews and not user.is_manager:
        return render(
            request,
            "deathreviews/record_none.html",
            {
                "owned": owned,
                "board_url": reverse("death_review_board") if user.is_board_member else None,
                # The actions an agency leads are on its home page, beside its returns.
                "actions_url": f"{reverse('home')}#death-review-actions"
                if user.is_partner
                else None,
            },
        )
    today = timezone.localdate()
    rows = []
    for review in reviews:
        steps = rules.next_steps(review)
        step = steps[0] if steps else None
        rows.append(
            {
                "review": review,
                "state": rules.review_state(review),
                "step": step,
                "overdue": step is not None and step.is_overdue(today),
            }
        )
    return render(request, "deathreviews/record_list.html", {"rows": rows, "owned": owned})


def _owned_recommendations(user, today) -> list[dict]:
    """A partner's agencies' recommendations (those they own), each with its status and
    actions: all an agency reads of a review besides the reference. Each is a view of the
    review's record, so each is logged. Four queries, however many."""
    if not user.is_partner:
        return []
    recommendations = (
        Recommendation.objects.visible_to(user)
        .filter(owners__members=user)
        .distinct()
        .select_related("review")
        .prefetch_related(
            "owners",
            "themes",
            Prefetch("actions", queryset=ReviewAction.objects.select_related("lead_agency")),
        )
        .order_by("review__reference", "number")
    )
    mine = set(user.agencies.values_list("pk", flat=True))
    rows = []
    for recommendation in recommendations:
        rules.log_view(user, "recommendation", recommendation.pk)
        actions = list(recommendation.actions.all())
        rows.append(
            {
                "recommendation": recommendation,
                "status": rules.recommendation_status(actions, today),
                "actions": [
                    {
                        "action": action,
                        "overdue": rules.action_is_overdue(action, today),
                        "ours": action.lead_agency_id in mine,
                    }
                    for action in actions
                ],
                "many_agencies": len(mine) > 1,
            }
        )
    return rows


def _actions_with_status(actions, today):
    """Each action with its status in words, and the updates a reader goes on to: the one
    whose approved evidence closed it, or one waiting for the manager's review (only those
    the user may read: `shown_updates`, newest quarter first)."""
    rows = []
    for action in actions:
        updates = getattr(action, "shown_updates", [])
        rows.append(
            {
                "action": action,
                "status": "closed"
                if action.is_closed
                else "overdue"
                if rules.action_is_overdue(action, today)
                else "open",
                "closing_update": next(
                    (
                        u
                        for u in updates
                        if action.is_closed
                        and u.asks_to_close
                        and u.state == ProgressUpdate.State.APPROVED
                    ),
                    None,
                ),
                "waiting_update": next(
                    (u for u in updates if u.state == ProgressUpdate.State.SUBMITTED), None
                ),
            }
        )
    return rows


@requires(Capability.READ_DEATH_REVIEWS)
@require_safe
def death_review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(
        Review.objects.visible_to(request.user).prefetch_related(
            Prefetch(
                "panel_members",
                queryset=User.objects.order_by("first_name", "last_name", "username"),
            ),
            Prefetch(
                "recommendations",
                queryset=Recommendation.objects.order_by("number").prefetch_related(
                    "owners",
                    "themes",
                    Prefetch(
                        "actions",
                        queryset=ReviewAction.objects.order_by("number")
                        .select_related("lead_agency")
                        .prefetch_related(
                            Prefetch(
                                "updates",
                                queryset=updates_visible_to(request.user)
                                .filter(
                                    state__in=[
                                        ProgressUpdate.State.SUBMITTED,
                                        ProgressUpdate.State.APPROVED,
                                    ]
                                )
                                .order_by("-quarter__plan__financial_year", "-quarter__number"),
                                to_attr="shown_updates",
                            )
                        ),
                    ),
                ),
            ),
        ),
        pk=pk,
    )
    rules.log_view(request.user, "review", review.pk)
    today = timezone.localdate()
    recommendations = []
    for recommendation in review.recommendations.all():
        actions = list(recommendation.actions.all())
        recommendations.append(
            {
                "recommendation": recommendation,
                "status": rules.recommendation_status(actions, today),
                "actions": _actions_with_status(actions, today),
            }
        )
    waiting = sum(1 for item in recommendations for row in item["actions"] if row["waiting_update"])
    steps = [{"step": step, "overdue": step.is_overdue(today)} for step in rules.next_steps(review)]
    return render(
        request,
        "deathreviews/record_detail.html",
        {
            "review": review,
            "state": rules.review_state(review),
            "steps": steps,
            "recommendations": recommendations,
            "updates_waiting": waiting,
            "next_number": max((r["recommendation"].number for r in recommendations), default=0)
            + 1,
        },
    )


# Reviews -----------------------------------------------------------------------------------


def _review_form_page(request, form, review=None):
    return render(request, "deathreviews/review_form.html", {"form": form, "review": review})


@keeps_typed_input()
@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_add(request: HttpRequest) -> HttpResponse:
    form = ReviewForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            review = services.save_review(request.user, None, **form.cleaned_data)
        except RecordError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Review {review.reference} recorded.")
            return redirect("death_review_detail", review.pk)
    return _review_form_page(request, form)


@keeps_typed_input()
@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_edit(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(Review, pk=pk)
    if request.method != "POST":  # the form shows the record: a view like any other
        rules.log_view(request.user, "review", review.pk)
    form = ReviewForm(_posted(request), review=review, initial=ReviewForm.initial_for(review))
    if request.method == "POST" and form.is_valid():
        try:
            review = services.save_review(request.user, review, **form.cleaned_data)
        except RecordError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Review {review.reference} saved.")
            return redirect("death_review_detail", review.pk)
    return _review_form_page(request, form, review)


# Recommendations ---------------------------------------------------------------------------


def _recommendation_page(request, form, review, recommendation=None, deletable=False):
    return render(
        request,
        "deathreviews/review_recommendation_form.html",
        {
            "form": form,
            "review": review,
            "recommendation": recommendation,
            "deletable": deletable,
        },
    )


@keeps_typed_input()
@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_recommendation_add(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(Review, pk=pk)
    number = max(review.recommendations.values_list("number", flat=True), default=0) + 1
    form = RecommendationForm(
        _posted(request),
        review=review,
        initial={
            "number": number,
            "scope": Recommendation.Scope.LOCAL,
            "made_on": timezone.localdate(),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            recommendation = services.save_recommendation(
                request.user, review, None, **form.cleaned_data
            )
        except RecordError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Recommendation {recommendation.number} added.")
            return redirect(
                reverse("death_review_detail", args=[review.pk])
                + f"#recommendation-{recommendation.number}"
            )
    return _recommendation_page(request, form, review)


def _has_updates(actions) -> bool:
    return actions.filter(updates__isnull=False).exists()


@keeps_typed_input()
@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_recommendation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    recommendation = get_object_or_404(Recommendation.objects.select_related("review"), pk=pk)
    review = recommendation.review
    if request.method != "POST":
        rules.log_view(request.user, "recommendation", recommendation.pk)
    form = RecommendationForm(
        _posted(request),
        review=review,
        recommendation=recommendation,
        initial=RecommendationForm.initial_for(recommendation),
    )
    if request.method == "POST" and form.is_valid():
        try:
            recommendation = services.save_recommendation(
                request.user, review, recommendation, **form.cleaned_data
            )
        except RecordError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Recommendation {recommendation.number} saved.")
            return redirect(
                reverse("death_review_detail", args=[review.pk])
                + f"#recommendation-{recommendation.number}"
            )
    deletable = not _has_updates(recommendation.actions.all())
    return _recommendation_page(request, form, review, recommendation, deletable)


@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_recommendation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    recommendation = get_object_or_404(Recommendation.objects.select_related("review"), pk=pk)
    back = reverse("death_review_detail", args=[recommendation.review_id])
    if request.method == "POST":
        try:
            services.delete_recommendation(request.user, recommendation)
        except RecordError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Recommendation {recommendation.number} deleted.")
        return redirect(back)
    count = recommendation.actions.count()
    return render(
        request,
        "deathreviews/record_confirm.html",
        {
            "review": recommendation.review,
            "title": f"Delete recommendation {recommendation.number}?",
            "body": f"Its words and its {count} action{'' if count == 1 else 's'} go from the "
            "record. A recommendation whose actions have progress updates cannot be deleted.",
            "button": "Delete recommendation",
            "cancel": back,
        },
    )


# Actions -----------------------------------------------------------------------------------


def _action_page(request, form, recommendation, action=None, deletable=False):
    return render(
        request,
        "deathreviews/review_action_form.html",
        {
            "form": form,
            "review": recommendation.review,
            "recommendation": recommendation,
            "action": action,
            "deletable": deletable,
        },
    )


def _to_recommendation(recommendation) -> HttpResponse:
    return redirect(
        reverse("death_review_detail", args=[recommendation.review_id])
        + f"#recommendation-{recommendation.number}"
    )


@keeps_typed_input()
@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_action_add(request: HttpRequest, pk: int) -> HttpResponse:
    recommendation = get_object_or_404(Recommendation.objects.select_related("review"), pk=pk)
    number = max(recommendation.actions.values_list("number", flat=True), default=0) + 1
    form = ReviewActionForm(
        _posted(request), recommendation=recommendation, initial={"number": number}
    )
    if request.method == "POST" and form.is_valid():
        try:
            action = services.save_action(request.user, recommendation, None, **form.cleaned_data)
        except RecordError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Action {action.ref} added.")
            return _to_recommendation(recommendation)
    return _action_page(request, form, recommendation)


@keeps_typed_input()
@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_object_or_404(ReviewAction.objects.select_related("recommendation__review"), pk=pk)
    recommendation = action.recommendation
    if action.is_closed:
        messages.error(
            request,
            f"Action {action.ref} is closed: the manager approved its evidence, so it stays "
            "as it was closed.",
        )
        return _to_recommendation(recommendation)
    form = ReviewActionForm(
        _posted(request),
        recommendation=recommendation,
        action=action,
        initial=ReviewActionForm.initial_for(action),
    )
    if request.method == "POST" and form.is_valid():
        try:
            action = services.save_action(request.user, recommendation, action, **form.cleaned_data)
        except RecordError as error:
            messages.error(request, str(error))
            return _to_recommendation(recommendation)
        messages.success(request, f"Action {action.ref} saved.")
        return _to_recommendation(recommendation)
    deletable = not action.updates.exists()
    return _action_page(request, form, recommendation, action, deletable)


@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_action_delete(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_object_or_404(ReviewAction.objects.select_related("recommendation__review"), pk=pk)
    recommendation = action.recommendation
    if request.method == "POST":
        try:
            services.delete_action(request.user, action)
        except RecordError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Action {action.ref} deleted.")
        return _to_recommendation(recommendation)
    return render(
        request,
        "deathreviews/record_confirm.html",
        {
            "review": recommendation.review,
            "title": f"Delete action {action.ref}?",
            "body": "It goes from the record. An action with progress updates, or closed, "
            "cannot be deleted.",
            "button": "Delete action",
            "cancel": reverse("death_review_detail", args=[recommendation.review_id]),
        },
    )


# Themes ------------------------------------------------------------------------------------


@keeps_typed_input()
@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_themes(request: HttpRequest) -> HttpResponse:
    """The list of themes, and a form to add one."""
    partnership = Partnership.objects.deployed()
    form = ThemeForm(_posted(request), partnership_id=partnership.pk)
    if request.method == "POST" and form.is_valid():
        try:
            theme = services.add_theme(request.user, form.cleaned_data["name"])
        except RecordError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Theme {theme.name} added.")
            return redirect("death_review_themes")
    themes = Theme.objects.filter(partnership=partnership.pk)
    return render(
        request,
        "deathreviews/record_themes.html",
        {
            "form": form,
            "themes": [theme for theme in themes if not theme.retired],
            "retired": [theme for theme in themes if theme.retired],
        },
    )


@keeps_typed_input()
@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_theme_edit(request: HttpRequest, pk: int) -> HttpResponse:
    theme = get_object_or_404(Theme, pk=pk)
    form = ThemeForm(
        _posted(request),
        partnership_id=theme.partnership_id,
        theme=theme,
        initial={"name": theme.name},
    )
    if request.method == "POST" and form.is_valid():
        services.rename_theme(request.user, theme, form.cleaned_data["name"])
        messages.success(request, f"Theme renamed to {form.cleaned_data['name']}.")
        return redirect("death_review_themes")
    return render(request, "deathreviews/record_theme_form.html", {"form": form, "theme": theme})


@require_POST
@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_theme_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """Retire a theme (no longer offered) or, posted with restore, bring it back."""
    theme = get_object_or_404(Theme, pk=pk)
    retire = request.POST.get("restore") is None
    try:
        services.set_theme_retired(request.user, theme, retire)
    except RecordError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Theme {theme.name} {'retired' if retire else 'restored'}.")
    return redirect("death_review_themes")
