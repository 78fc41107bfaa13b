"""Agencies' quarterly progress on death review actions, and the manager's review of it.

A partner sees an action their agency leads, its recommendation's words (their agency
owns the work) and the updates on it: nothing else of the review (no pseudonym, no dates,
no other recommendation). Every page is on the audit log (rules.log_view).
"""

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from actions.forms import ApproveForm, ReasonForm
from csp.kept_input import keeps_typed_input, restore
from csp.permissions import Capability, may, requires
from review import evidence as files

from . import progress
from .models import ProgressUpdate
from .obligations import (
    current_update_quarter,
    evidence_visible_to,
    reportable_actions,
    updates_visible_to,
)
from .progress_forms import UpdateForm
from .rules import action_is_overdue, log_view, may_read_text

ACTION_CONTEXT = ("recommendation__review", "lead_agency", "closed_by")


def _earlier(user, action, but=None) -> list[ProgressUpdate]:
    """The action's other updates this user may read, newest first."""
    updates = (
        updates_visible_to(user)
        .filter(action=action)
        .select_related("quarter__plan", "submitted_by", "reviewed_by")
        .prefetch_related("evidence")
        .order_by("-quarter__plan__financial_year", "-quarter__number")
    )
    if but is not None:
        updates = updates.exclude(pk=but.pk)
    return list(updates)


@keeps_typed_input()
@requires(Capability.REPORT_DEATH_REVIEW_ACTIONS)
def death_review_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Write (or change) this quarter's update on an action the user's agency leads: save a
    draft, or submit it for the manager's review."""
    action = get_object_or_404(
        reportable_actions(request.user).select_related(*ACTION_CONTEXT), pk=pk
    )
    log_view(request.user, "action", action.pk)
    if action.is_closed:
        messages.info(request, progress.closed_message(action))
        return redirect("home")
    quarter = current_update_quarter()
    if quarter is None:
        messages.info(request, "No quarter is open for returns, so updates cannot be written now.")
        return redirect("home")
    existing = (
        ProgressUpdate.objects.filter(action=action, quarter=quarter)
        .select_related("reviewed_by")
        .first()
    )
    if existing is not None and not existing.is_editable:
        messages.info(request, progress.locked_message(existing))
        return redirect("death_review_update_detail", existing.pk)
    attached = list(progress.attached(existing)) if existing else []
    if request.method == "POST":
        submitting = "submit" in request.POST
        form = UpdateForm(
            request.POST, request.FILES, submitting=submitting, attached=len(attached)
        )
        if form.is_valid():
            try:
                saved = progress.save_update(
                    request.user,
                    action,
                    quarter,
                    progress=form.cleaned_data["progress"].strip(),
                    asks_to_close=form.cleaned_data["asks_to_close"],
                    evidence_summary=form.cleaned_data["evidence_summary"].strip(),
                    uploads=form.cleaned_data["files"],
                    seen_version=form.cleaned_data["version"],
                    submit=submitting,
                )
            except progress.AlreadySubmitted as error:
                messages.info(request, str(error))
                return redirect("death_review_update_detail", existing.pk)
            except progress.ProgressError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    f"Update on action {action.ref} submitted for review."
                    if submitting
                    else f"Draft of the update on action {action.ref} saved.",
                )
                return redirect("death_review_update_detail", saved.pk)
    else:
        # What was typed as the session ended comes back once signed in (files cannot).
        kept = restore(request)
        form = (
            UpdateForm(kept, attached=len(attached))
            if kept is not None
            else UpdateForm(initial=UpdateForm.initial_from(existing))
        )
    return render(
        request,
        "deathreviews/progress_form.html",
        {
            "action": action,
            "recommendation": action.recommendation,
            "may_read_recommendation": may_read_text(request.user, action.recommendation),
            "action_overdue": action_is_overdue(action, timezone.localdate()),
            "quarter": quarter,
            "update": existing,
            "attached": attached,
            "earlier": _earlier(request.user, action, but=existing),
            "form": form,
        },
    )


def _update_page(request, pk: int, reason_form: ReasonForm | None = None) -> HttpResponse:
    update = get_object_or_404(
        updates_visible_to(request.user).select_related(
            *(f"action__{name}" for name in ACTION_CONTEXT),
            "quarter__plan",
            "submitted_by",
            "reviewed_by",
        ),
        pk=pk,
    )
    log_view(request.user, "update", update.pk)
    action = update.action
    quarter = current_update_quarter()
    may_change = (
        update.is_editable
        and not action.is_closed
        and quarter is not None
        and quarter.pk == update.quarter_id
        and may(request.user, Capability.REPORT_DEATH_REVIEW_ACTIONS)
    )
    return render(
        request,
        "deathreviews/progress_detail.html",
        {
            "update": update,
            "action": action,
            "recommendation": action.recommendation,
            "may_read_recommendation": may_read_text(request.user, action.recommendation),
            "action_overdue": action_is_overdue(action, timezone.localdate()),
            "attached": list(progress.attached(update)),
            "earlier": _earlier(request.user, action, but=update),
            "may_review": may(request.user, Capability.MANAGE_DEATH_REVIEWS),
            "may_change": may_change,
            "reason_form": reason_form or ReasonForm(initial={"version": update.version}),
        },
    )


@requires(Capability.READ_DEATH_REVIEWS)
def death_review_update_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _update_page(request, pk)


def _review(request, pk, transition, form_class, success) -> HttpResponse:
    update = get_object_or_404(
        updates_visible_to(request.user).select_related("action__recommendation", "quarter__plan"),
        pk=pk,
    )
    form = form_class(request.POST)
    if "reason" in form.errors:
        return _update_page(request, pk, form)  # the reason as typed, the error beside it
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("death_review_update_detail", pk)
    kwargs = {"seen_version": form.cleaned_data["version"]}
    if "reason" in form.cleaned_data:
        kwargs["reason"] = form.cleaned_data["reason"]
    try:
        done = transition(request.user, update, **kwargs)
    except progress.ProgressError as error:
        messages.error(request, str(error))
        return redirect("death_review_update_detail", pk)
    messages.success(request, success(done))
    return redirect("death_review_updates")


@require_POST
@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_update_approve(request: HttpRequest, pk: int) -> HttpResponse:
    def said(update):
        closed = " The action is now closed." if update.asks_to_close else ""
        return f"Update on action {update.action.ref} approved.{closed}"

    return _review(request, pk, progress.approve_update, ApproveForm, said)


@require_POST
@requires(Capability.MANAGE_DEATH_REVIEWS)
def death_review_update_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    return _review(
        request,
        pk,
        progress.send_back_update,
        ReasonForm,
        lambda update: (
            f"Update on action {update.action.ref} sent back to {update.action.lead_agency.name}."
        ),
    )


@requires(Capability.MANAGE_DEATH_REVIEWS)
@require_safe
def death_review_updates(request: HttpRequest) -> HttpResponse:
    """The manager's queue: submitted updates, oldest first."""
    waiting = list(
        updates_visible_to(request.user)
        .filter(state=ProgressUpdate.State.SUBMITTED)
        .select_related("action__recommendation__review", "action__lead_agency", "quarter__plan")
        .order_by("submitted_at", "pk")
    )
    log_view(request.user, "update queue", 0)
    return render(request, "deathreviews/progress_queue.html", {"waiting": waiting})


@requires(Capability.READ_DEATH_REVIEWS)
def death_review_update_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """An update's file, under the update's access rule, always as a download."""
    evidence = get_object_or_404(
        evidence_visible_to(request.user).filter(removed_at__isnull=True), pk=pk
    )
    log_view(request.user, "update evidence", evidence.pk)
    try:
        stream = files.evidence_storage().open(evidence.stored_name, "rb")
    except FileNotFoundError:
        messages.error(request, f"{evidence.name} cannot be found in the evidence store.")
        return redirect("death_review_update_detail", evidence.update_id)
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=evidence.name,
        content_type=files.MEDIA_TYPES[evidence.kind],
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
