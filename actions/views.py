from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from csp import cache, querystring
from csp.kept_input import keeps_typed_input, restore
from csp.permissions import (
    Capability,
    get_return_for_user,
    get_return_to_fill_in,
    may,
    may_recall_return,
    reporting_agencies,
    requires,
    why_not_editable,
)
from priorities.models import Plan, Quarter
from priorities.quarters import chosen_quarter, plan_quarters

from . import services, targets
from .closing import outstanding_by_agency
from .filters import ReviewFilter
from .forms import (
    ApproveForm,
    LockExceptionForm,
    MetricTargetForm,
    ReasonForm,
    ReturnForm,
    VersionForm,
    metric_field_name,
)
from .models import Action, Agency, LockException, Metric, QuarterlyReturn
from .obligations import Tally, obligations
from .tables import ReviewTable

REVIEW_PAGE_SIZES = (50,)  # the queue offers one page size
QUEUE_SESSION_KEY = "review_queue_query"


def continued_progress(user, action: Action) -> dict:
    """The action this one continues (from an earlier year's plan) and its last approved
    RAG and narrative, as far as this user may see returns."""
    earlier = Action.objects.select_related("priority", "priority__plan").get(
        pk=action.continues_id
    )
    latest = (
        QuarterlyReturn.objects.visible_to(user)
        .approved()
        .filter(action=earlier)
        .select_related("agency", "quarter", "quarter__plan")
        .order_by("-quarter__number", "-reviewed_at", "-pk")
        .first()
    )
    return {"action": earlier, "latest": latest}


@requires(Capability.READ_PLAN)
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An action, and every agency's return for a chosen quarter side by side."""
    action = get_object_or_404(
        Action.objects.filter(priority__plan__in=Plan.objects.visible_to(request.user))
        .select_related("priority", "priority__plan")
        .prefetch_related("agencies", "metrics"),
        pk=pk,
    )
    quarters = plan_quarters(action.priority.plan)
    quarter = chosen_quarter(quarters, request.GET.get("quarter"))
    returns = list(
        QuarterlyReturn.objects.visible_to(request.user)
        .filter(action=action, quarter=quarter)
        .select_related("agency")
        .order_by("agency__name")
    )
    metrics = list(action.metrics.all())
    rows = []
    for metric in metrics:
        values = [r.values.get(str(metric.pk)) for r in returns]
        counted = [v for v in values if isinstance(v, int)]
        added_up = metric.kind in (Metric.Kind.COUNT, Metric.Kind.MONEY) and counted
        total = targets.format_value(metric, sum(counted)) if added_up else None
        shown = [None if v is None else targets.format_value(metric, v) for v in values]
        rows.append({"metric": metric, "values": shown, "total": total})
    # Who owes the quarter's return, who has contributed one, and how far each has got.
    owed = obligations([quarter], actions=[action]) if quarter else []
    owers = [row.agency for row in owed if row.required]
    context = {
        "action": action,
        "quarters": quarters,
        "quarter": quarter,
        "returns": returns,
        "figure_rows": rows,
        "obligations": owed,
        "tally": Tally.of(owed),
        "owing_agencies": owers,
        # No lead agency named (or none active): the coordinating agency owes it.
        "coordinated": not set(owers) & set(action.agencies.all()),
        # Partners fill in for their own agencies; the manager on behalf of any that owes.
        "reporting_agencies": list(reporting_agencies(request.user, action))
        if request.user.is_partner
        else owers
        if may(request.user, Capability.ENTER_RETURNS)
        else [],
    }
    if action.continues_id:
        context["continues"] = continued_progress(request.user, action)
    if may(request.user, Capability.EDIT_PLAN):
        context["history"] = action.history.select_related("history_user")[:20]
        context["may_edit_plan"] = True
    return render(request, "actions/action_detail.html", context)


def _with_members(agencies):
    """Each agency with its members, one query for them all; ``agency.active_members``
    (who can submit for it) is set by ``_who_can_submit``."""
    return agencies.prefetch_related(
        Prefetch(
            "members",
            queryset=User.objects.order_by("last_name", "first_name"),
            to_attr="member_list",
        )
    )


def _who_can_submit(agency):
    agency.active_members = [member for member in agency.member_list if member.is_active]
    return agency


@requires(Capability.READ_PLAN)
def agency_list(request: HttpRequest) -> HttpResponse:
    plan = Plan.objects.current()
    agencies = [_who_can_submit(a) for a in _with_members(Agency.objects.active().order_by("name"))]
    led = {}
    if plan:
        # Counted in the database from the plan's own actions: a count joined from each
        # agency's side reads every action of every earlier plan too.
        led = dict(
            Action.agencies.through.objects.filter(action__priority__plan=plan)
            .values("agency")
            .annotate(actions=Count("action", distinct=True))
            .values_list("agency", "actions")
        )
    rows = [(agency, led.get(agency.pk, 0)) for agency in agencies]
    context = {"plan": plan, "rows": rows}
    if may(request.user, Capability.MANAGE_PEOPLE):
        context["inactive"] = Agency.objects.filter(active=False).select_related("merged_into")
    return render(request, "actions/agency_list.html", context)


@requires(Capability.READ_PLAN)
def agency_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An agency: the actions it leads, and for a chosen quarter the returns it owes and
    those it may contribute, each in its state."""
    agency = _who_can_submit(
        get_object_or_404(_with_members(Agency.objects.select_related("merged_into")), pk=pk)
    )
    plan = Plan.objects.current()
    quarters = plan_quarters(plan)
    quarter = chosen_quarter(quarters, request.GET.get("quarter"))
    rows = obligations([quarter], agencies=[agency], offered=True) if quarter else []
    owed = [row for row in rows if row.required]
    context = {
        "agency": agency,
        "plan": plan,
        "actions": Action.objects.in_plan(plan).filter(agencies=agency).with_plan_order()
        if plan
        else [],
        "quarters": quarters,
        "quarter": quarter,
        "owed": owed,
        "contributions": [row for row in rows if row.optional],
        "tally": Tally.of(rows),
    }
    if may(request.user, Capability.EDIT_PLAN):
        context["history"] = agency.history.select_related("history_user")[:20]
    if may(request.user, Capability.MANAGE_PEOPLE):
        # Invited, not yet accepted: inactive and without a password.
        context["invited"] = [
            member
            for member in agency.member_list
            if not member.is_active and not member.has_usable_password()
        ]
    return render(request, "actions/agency_detail.html", context)


# Quarterly returns ---------------------------------------------------------------------------


@keeps_typed_input()
@requires(Capability.ENTER_RETURNS)
def return_edit(request: HttpRequest, quarter_pk: int, action_pk: int, agency_pk: int):
    """Fill in an agency's return for one action and quarter, and save it as a draft, or
    go on to check it and submit it (return_check).

    Save draft is the form's first button, so Enter in a field saves a draft; nothing is
    submitted for review without the "Check your answers" page."""
    action = get_object_or_404(
        Action.objects.select_related("priority", "priority__plan").prefetch_related("metrics"),
        pk=action_pk,
    )
    quarter = get_object_or_404(
        Quarter.objects.select_related("plan"), pk=quarter_pk, plan=action.priority.plan
    )
    # Out of the user's reach is a 404, whatever the ids in the URL.
    agency, existing, locked = get_return_to_fill_in(request.user, action, agency_pk, quarter)
    if locked:
        messages.info(request, locked)
        return redirect("return_detail", existing.pk) if existing else redirect("home")
    lock_exception = (
        LockException.objects.filter(quarter=quarter, action=action, agency=agency).first()
        if not quarter.is_open
        else None
    )

    metrics = [metric for metric in action.metrics.all() if metric.asked_in(quarter)]
    # The agency's approved returns before this quarter: the trend beside each input, the
    # sums a year's target adds up, and last quarter's narrative.
    earlier = list(
        QuarterlyReturn.objects.visible_to(request.user).approved_before(action, agency, quarter)
    )
    form_kwargs = {"metrics": metrics, "quarter": quarter, "trend": targets.trends(earlier)}
    if request.method == "POST":
        checking = "submit" in request.POST
        form = ReturnForm(request.POST, submitting=checking, **form_kwargs)
        if form.is_valid():
            # 0: opened before there was a return. The service decides under its row
            # lock whether one has been started since (then 0 is stale and refused);
            # deciding here, from `existing`, would race with a save in between.
            try:
                saved = services.save_return(
                    request.user,
                    action,
                    agency,
                    quarter,
                    values={**_retired_values(existing, action), **form.values()},
                    narrative=form.cleaned_data["narrative"],
                    rag=form.cleaned_data["rag"],
                    rag_reason=form.cleaned_data["rag_reason"].strip(),
                    seen_version=form.cleaned_data["version"],
                    submit=False,
                    suggested_rag=form.suggestion.rag,
                    rag_override_reason=form.cleaned_data["rag_override_reason"].strip(),
                    confirmed_values=form.confirmed_values(),
                )
            except services.AlreadySubmitted as error:
                # Submitted meanwhile (from another tab): that submission counted.
                messages.info(request, str(error))
                submitted = QuarterlyReturn.objects.visible_to(request.user).get(
                    action=action, agency=agency, quarter=quarter
                )
                return redirect("return_detail", submitted.pk)
            except services.ReturnError as error:
                form.add_error(None, str(error))
            else:
                if checking:
                    return redirect("return_check", saved.pk)
                messages.success(request, f"Draft of the return for {action.ref} saved.")
                return redirect("return_detail", saved.pk)
    else:
        kept = restore(request)
        if kept is not None:
            form = ReturnForm(kept, **form_kwargs)
            form.is_valid()  # the suggestion and the questions, for what was typed
        else:
            form = ReturnForm(initial=ReturnForm.initial_from(existing, metrics), **form_kwargs)
            if existing is not None:
                # The saved figures' suggestion, worked out as the form would on saving.
                form.suggestion = targets.suggest(
                    metrics, quarter.number, existing.values, form.earlier
                )

    return render(
        request,
        "actions/return_form.html",
        {
            "action": action,
            "agency": agency,
            "quarter": quarter,
            "quarterly_return": existing,
            "lock_exception": lock_exception,
            "form": form,
            "figure_rows": form.figure_rows(),
            "suggestion": form.suggestion,
            "last_approved": earlier[-1] if earlier else None,
        },
    )


def _retired_values(existing: QuarterlyReturn | None, action: Action) -> dict:
    """What a return already holds for the action's retired metrics, kept as it is."""
    if existing is None:
        return {}
    retired = {str(metric.pk) for metric in action.metrics.all() if not metric.asked}
    return {key: value for key, value in existing.values.items() if key in retired}


@requires(Capability.READ_PLAN)
def return_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _return_page(request, pk)


def _return_page(request, pk: int, reason_form: ReasonForm | None = None) -> HttpResponse:
    """The return's page; with a refused send-back or reopen form, that form as typed, its
    error beside the reason."""
    quarterly_return, may_change = get_return_for_user(request.user, pk)
    action = quarterly_return.action
    metrics = list(action.metrics.all())
    earlier = list(
        QuarterlyReturn.objects.visible_to(request.user)
        .filter(
            action=action,
            agency=quarterly_return.agency,
            quarter__plan=quarterly_return.quarter.plan,
        )
        .select_related("quarter")
        .order_by("quarter__number")
    )
    figures = [
        {
            "metric": metric,
            "by_quarter": [
                (
                    other.quarter,
                    other.values.get(str(metric.pk)),
                    other.pk == quarterly_return.pk,
                    targets.format_value(metric, other.values.get(str(metric.pk))),
                )
                for other in earlier
            ],
            "confirmed": quarterly_return.is_confirmed(metric.pk),
        }
        for metric in metrics
    ]
    number = quarterly_return.quarter.number
    before = targets.trends(
        [r for r in earlier if r.state == r.State.APPROVED and r.quarter.number < number]
    )
    suggestion = targets.suggest(
        metrics, number, quarterly_return.values, targets.earlier_values(before)
    )
    kept = restore(request)
    context = {
        "quarterly_return": quarterly_return,
        "action": action,
        "figures": figures,
        "quarters": [other.quarter for other in earlier],
        "suggestion": suggestion,
        "confirmed": [row for row in figures if row["confirmed"]],
        "may_edit": may_change,
        "may_review": may(request.user, Capability.REVIEW_RETURNS),
        "history": quarterly_return.history_visible_to(request.user),
        "may_recall": may_recall_return(request.user, quarterly_return),
        # A send-back or reopen reason refused, or posted as the session ended, comes back here.
        "reason_form": reason_form
        or (
            ReasonForm(kept)
            if kept is not None
            else ReasonForm(initial={"version": quarterly_return.version})
        ),
    }
    return render(request, "actions/return_detail.html", context)


@requires(Capability.ENTER_RETURNS)
def return_check(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Check your answers": the saved draft as it would be submitted, with links back to
    change each answer, and the final Submit return."""
    quarterly_return, may_edit = get_return_for_user(request.user, pk)
    action, quarter = quarterly_return.action, quarterly_return.quarter
    metrics = [metric for metric in action.metrics.all() if metric.asked_in(quarter)]
    edit_url = reverse("return_edit", args=[quarter.pk, action.pk, quarterly_return.agency_id])
    if may_edit:
        earlier = QuarterlyReturn.objects.visible_to(request.user).approved_before(
            action, quarterly_return.agency, quarter
        )
        # Complete enough to submit? The form's own rule, asked of what is stored.
        form = ReturnForm(
            ReturnForm.initial_from(quarterly_return, metrics),
            metrics=metrics,
            quarter=quarter,
            trend=targets.trends(earlier),
            submitting=True,
        )
        if not form.is_valid():
            missing = [error for errors in form.errors.values() for error in errors]
            messages.error(request, f"The return is not complete yet. {'. '.join(missing)}.")
            return redirect(edit_url)

    if request.method == "POST":
        form = VersionForm(request.POST)  # the version the user checked, nothing else
        seen_version = form.cleaned_data["version"] if form.is_valid() else None
        if seen_version is None:
            messages.error(request, "Check your answers again, then submit the return.")
            return redirect("return_check", pk)
        try:
            services.submit_return(request.user, quarterly_return, seen_version=seen_version)
        except services.AlreadySubmitted as error:
            messages.info(request, str(error))  # a second click: the first one counted
        except services.StaleReturn:
            messages.error(
                request,
                "This return was changed after you opened this page, so it has not been "
                "submitted. Check the answers below again, then submit.",
            )
            return redirect("return_check", pk)
        except services.ReturnError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Return for {action.ref} submitted for review.")
        return redirect("return_detail", pk)

    if not may_edit:
        messages.info(request, why_not_editable(request.user, quarterly_return))
        return redirect("return_detail", pk)
    answers = [
        (
            row["metric"].name,
            targets.format_value(row["metric"], quarterly_return.values.get(str(row["metric"].pk))),
            metric_field_name(row["metric"]),
            row["question"] if not quarterly_return.is_confirmed(row["metric"].pk) else "",
            quarterly_return.is_confirmed(row["metric"].pk),
        )
        for row in form.figure_rows()
    ]
    return render(
        request,
        "actions/return_check.html",
        {
            "quarterly_return": quarterly_return,
            "action": action,
            "quarter": quarter,
            "answers": answers,
            "suggestion": form.suggestion,
            "edit_url": edit_url,
        },
    )


@require_POST
@requires(Capability.ENTER_RETURNS)
def return_recall(request: HttpRequest, pk: int) -> HttpResponse:
    """Take back a submitted return the manager has not reviewed yet, to change it."""
    quarterly_return = get_object_or_404(
        QuarterlyReturn.objects.visible_to(request.user).with_context(), pk=pk
    )
    form = VersionForm(request.POST)
    seen_version = form.cleaned_data["version"] if form.is_valid() else None
    try:
        services.recall_return(request.user, quarterly_return, seen_version=seen_version)
    except services.ReturnError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Return for {quarterly_return.action.ref} recalled: it is a draft again, and not "
            "waiting for review. Change it, then submit it again.",
        )
    return redirect("return_detail", pk)


def next_in_queue(request, current) -> int | None:
    """The return after this one in the review queue, in the filter and order the manager
    last gave the queue (the first one when this one is not in it); None when no other
    return waits. Asked before approving: once approved, it has left the queue."""
    query = QueryDict(request.session.get(QUEUE_SESSION_KEY, ""))
    waiting = QuarterlyReturn.objects.visible_to(request.user).awaiting_review()
    review_filter = ReviewFilter(query, queryset=waiting, plan=Plan.objects.current())
    table = ReviewTable(review_filter.qs, order_by=query.get("sort") or None)
    ids = list(table.data.data.values_list("pk", flat=True))
    after = ids[ids.index(current.pk) + 1 :] if current.pk in ids else ids
    others = [pk for pk in after if pk != current.pk] or [pk for pk in ids if pk != current.pk]
    return others[0] if others else None


def _review_action(request, pk, transition, form_class, success, then=None):
    quarterly_return = get_object_or_404(
        QuarterlyReturn.objects.visible_to(request.user).with_context(), pk=pk
    )
    form = form_class(request.POST)
    if "reason" in form.errors:
        return _return_page(request, pk, form)  # the reason as typed, the error beside it
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("return_detail", pk)
    kwargs = {"seen_version": form.cleaned_data["version"]}
    if "reason" in form.cleaned_data:
        kwargs["reason" if transition is services.reopen_return else "comment"] = form.cleaned_data[
            "reason"
        ]
    following = then(request, quarterly_return) if then else None
    try:
        transition(request.user, quarterly_return, **kwargs)
    except services.ReturnError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            success.format(ref=quarterly_return.action.ref, agency=quarterly_return.agency.name),
        )
        if then:
            if following is None:
                messages.info(request, "No other return is waiting for review.")
                return redirect("review_queue")
            return redirect("return_detail", following)
    return redirect("return_detail", pk)


@require_POST
@requires(Capability.REVIEW_RETURNS)
def return_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_action(
        request,
        pk,
        services.approve_return,
        ApproveForm,
        "Return for {ref} from {agency} approved.",
        then=next_in_queue if "next" in request.POST else None,
    )


@keeps_typed_input(back_to="return_detail")
@require_POST
@requires(Capability.REVIEW_RETURNS)
def return_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_action(
        request, pk, services.send_back, ReasonForm, "Return for {ref} sent back to {agency}."
    )


@keeps_typed_input(back_to="return_detail")
@require_POST
@requires(Capability.REVIEW_RETURNS)
def return_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_action(
        request, pk, services.reopen_return, ReasonForm, "Return for {ref} reopened for {agency}."
    )


@requires(Capability.REVIEW_RETURNS)
def review_queue(request: HttpRequest) -> HttpResponse:
    plan = Plan.objects.current()
    # Only the columns the table shows: every submitted return is sorted to find a page of
    # them, and narrow rows sort in half the time of whole returns.
    returns = (
        QuarterlyReturn.objects.visible_to(request.user)
        .awaiting_review()
        .select_related("action__priority", "agency", "quarter__plan")
        .only(*ReviewTable.FIELDS)
    )
    review_filter = ReviewFilter(request.GET, queryset=returns, plan=plan)

    def table_html() -> str:
        table = ReviewTable(review_filter.qs)
        querystring.paginate(request, table, REVIEW_PAGE_SIZES)
        return table.as_html(request)

    # Sorting every submitted return to show a page of them is the page's cost: the table
    # as rendered is kept until a return (or anything it shows) changes (csp/cache.py).
    # Keyed by the day too: the table says how many days each return has waited.
    key = (request.GET.urlencode(), cache.viewer(request.user), timezone.localdate())
    html = cache.cached("review", key, table_html)
    # "Approve and open the next" walks the queue as the manager last filtered and sorted it.
    request.session[QUEUE_SESSION_KEY] = request.GET.urlencode()
    return render(
        request,
        "actions/review_queue.html",
        {"filter": review_filter, "table_html": html, "plan": plan},
    )


@requires(Capability.REVIEW_RETURNS)
def quarter_list(request: HttpRequest) -> HttpResponse:
    plan = Plan.objects.current()
    if plan is None:
        raise Http404("No plan has been loaded.")
    # The empty reopen form lists every action, agency and closed quarter, and renders
    # each option through a template: the page's heaviest part, the same for every visit
    # until one of those changes (csp/cache.py).
    fields = cache.cached(
        "quarters-lock-exception-form",
        (plan.pk,),
        lambda: render_to_string(
            "actions/lock_exception_fields.html",
            {"form": LockExceptionForm(plan=plan, manager=request.user)},
        ),
    )
    context = _quarter_context(plan, form=None) | {"lock_exception_fields": fields}
    return render(request, "actions/quarter_list.html", context)


def _quarter_context(plan, form):
    return {
        "plan": plan,
        "quarters": plan.quarters.all(),
        "closed_quarters": [q for q in plan.quarters.all() if not q.is_open],
        "exceptions": LockException.objects.filter(quarter__plan=plan).select_related(
            "quarter", "quarter__plan", "action", "action__priority", "agency", "granted_by"
        ),
        "form": form,
    }


@require_POST
@requires(Capability.REVIEW_RETURNS)
def quarter_set_open(request: HttpRequest, pk: int) -> HttpResponse:
    quarter = get_object_or_404(Quarter.objects.select_related("plan"), pk=pk)
    is_open = request.POST.get("open") == "1"
    if not is_open and quarter.is_open:
        # Closing is confirmed on its own page, which says what is still outstanding.
        return redirect("quarter_close", quarter.pk)
    services.set_quarter_open(request.user, quarter, is_open)
    messages.success(request, f"{quarter.label} is now {'open' if is_open else 'closed'}.")
    return redirect("quarter_list")


@requires(Capability.REVIEW_RETURNS)
def quarter_close(request: HttpRequest, pk: int) -> HttpResponse:
    """Close a quarter for returns, once the manager has seen what is still outstanding."""
    quarter = get_object_or_404(Quarter.objects.select_related("plan"), pk=pk)
    if not quarter.is_open:
        messages.info(request, f"{quarter.label} is already closed.")
        return redirect("quarter_list")
    if request.method == "POST":
        services.set_quarter_open(request.user, quarter, False)
        messages.success(
            request,
            f"{quarter.label} is now closed. The board's pages now report {quarter.label}.",
        )
        return redirect("quarter_list")
    outstanding = outstanding_by_agency(quarter)
    return render(
        request,
        "actions/quarter_close.html",
        {
            "quarter": quarter,
            "outstanding": outstanding,
            "not_submitted": sum(row.not_submitted for row in outstanding),
            "awaiting_review": sum(row.awaiting_review for row in outstanding),
        },
    )


@require_POST
@requires(Capability.REVIEW_RETURNS)
def lock_exception_create(request: HttpRequest) -> HttpResponse:
    plan = Plan.objects.current()
    if plan is None:
        raise Http404("No plan has been loaded.")
    form = LockExceptionForm(request.POST, plan=plan, manager=request.user)
    if form.is_valid():
        quarter = form.cleaned_data["quarter"]
        try:
            services.grant_lock_exception(
                request.user,
                quarter,
                form.cleaned_data["action"],
                form.cleaned_data["agency"],
                reason=form.cleaned_data["reason"],
            )
        except services.ReturnError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"{form.cleaned_data['agency']} may now edit its return for "
                f"{form.cleaned_data['action'].ref} in {quarter.label}.",
            )
            return redirect("quarter_list")
    return render(request, "actions/quarter_list.html", _quarter_context(plan, form))


@requires(Capability.EDIT_PLAN)
def metric_target(request: HttpRequest, pk: int) -> HttpResponse:
    """A metric's frequency and target, with its history: the manager's page per metric."""
    metric = get_object_or_404(Metric.objects.select_related("action__priority__plan"), pk=pk)
    plan = metric.action.priority.plan
    reason_required = plan.state == Plan.State.ACTIVE
    if request.method == "POST":
        form = MetricTargetForm(request.POST, metric=metric, reason_required=reason_required)
        if form.is_valid():
            changes = {name: value for name, value in form.cleaned_data.items() if name != "reason"}
            try:
                services.set_metric_target(
                    request.user, metric, changes=changes, reason=form.cleaned_data["reason"]
                )
            except services.ReturnError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Target for {metric.name} saved.")
                return redirect("action_detail", metric.action_id)
    else:
        form = MetricTargetForm(
            initial=MetricTargetForm.initial_for(metric),
            metric=metric,
            reason_required=reason_required,
        )
    return render(
        request,
        "actions/metric_target.html",
        {
            "metric": metric,
            "action": metric.action,
            "form": form,
            "reason_required": reason_required,
            "target_shown": targets.format_target(metric, metric.target)
            if metric.has_target
            else "",
            "history": metric.history.select_related("history_user")[:20],
        },
    )
