from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from accounts.models import User
from csp.permissions import (
    Capability,
    may,
    may_edit_return,
    quarter_takes_entries,
    reporting_agencies,
    requires,
)
from priorities.models import Plan, Quarter

from . import services
from .filters import ReviewFilter
from .forms import ApproveForm, LockExceptionForm, ReasonForm, ReturnForm, metric_field_name
from .models import Action, Agency, LockException, QuarterlyReturn
from .tables import ReviewTable


@requires(Capability.READ_PLAN)
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An action, and every agency's return for a chosen quarter side by side."""
    action = get_object_or_404(
        Action.objects.select_related("priority", "priority__plan").prefetch_related(
            "agencies", "metrics"
        ),
        pk=pk,
    )
    quarters = list(action.priority.plan.quarters.all())
    quarter = _chosen_quarter(request, quarters)
    returns = list(
        QuarterlyReturn.objects.visible_to(request.user)
        .filter(action=action, quarter=quarter)
        .select_related("agency")
        .order_by("agency__name")
    )
    metrics = list(action.metrics.all())
    reported = {r.agency_id for r in returns if r.state in ("submitted", "approved")}
    # Partners fill in their own agencies' returns; the manager may fill in any lead
    # agency's on its behalf.
    if request.user.is_partner:
        reporting = list(reporting_agencies(request.user, action))
    elif may(request.user, Capability.ENTER_RETURNS):
        reporting = list(action.agencies.all())
    else:
        reporting = []
    not_reported = [agency for agency in action.agencies.all() if agency.pk not in reported]
    if request.user.is_partner:
        # A partner sees their own agencies' returns only: whether another agency has
        # reported is not theirs to know, so it is not listed as "not yet reported".
        not_reported = [agency for agency in not_reported if agency in reporting]
    rows = []
    for metric in metrics:
        values = [r.values.get(str(metric.pk)) for r in returns]
        counted = [v for v in values if isinstance(v, int)]
        total = sum(counted) if metric.kind == "count" and counted else None
        rows.append({"metric": metric, "values": values, "total": total})
    context = {
        "action": action,
        "quarters": quarters,
        "quarter": quarter,
        "returns": returns,
        "figure_rows": rows,
        "not_reported": not_reported,
        "reporting_agencies": reporting,
    }
    if may(request.user, Capability.EDIT_PLAN):
        context["history"] = action.history.select_related("history_user")[:20]
    return render(request, "actions/action_detail.html", context)


def _chosen_quarter(request, quarters):
    by_number = {quarter.number: quarter for quarter in quarters}
    try:
        number = int(request.GET.get("quarter", ""))
    except ValueError:
        number = None
    if number in by_number:
        return by_number[number]
    open_quarters = [quarter for quarter in quarters if quarter.is_open]
    return open_quarters[0] if open_quarters else (quarters[-1] if quarters else None)


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
    agency = _who_can_submit(
        get_object_or_404(_with_members(Agency.objects.select_related("merged_into")), pk=pk)
    )
    plan = Plan.objects.current()
    actions = Action.objects.in_plan(plan).filter(agencies=agency).with_plan_order() if plan else []
    shared = Action.objects.in_plan(plan).filter(all_partners=True).exclude(agencies=agency)
    context = {
        "agency": agency,
        "plan": plan,
        "actions": actions,
        "all_partner_actions": shared.with_plan_order() if plan else [],
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

CLOSED = "{q.label} is closed for returns. Ask the community safety manager to reopen it."
READ_ONLY_REASONS = {
    QuarterlyReturn.State.SUBMITTED: "This return has been submitted and is waiting for review.",
    QuarterlyReturn.State.APPROVED: "This return has been approved and can no longer be changed.",
}


@requires(Capability.ENTER_RETURNS)
def return_edit(request: HttpRequest, quarter_pk: int, action_pk: int, agency_pk: int):
    """Fill in, save as draft, or submit an agency's return for one action and quarter."""
    action = get_object_or_404(
        Action.objects.select_related("priority", "priority__plan").prefetch_related("metrics"),
        pk=action_pk,
    )
    # Out of the user's reach is a 404, whatever the ids in the URL.
    agency = get_object_or_404(reporting_agencies(request.user, action), pk=agency_pk)
    quarter = get_object_or_404(
        Quarter.objects.select_related("plan"), pk=quarter_pk, plan=action.priority.plan
    )
    existing = (
        QuarterlyReturn.objects.visible_to(request.user)
        .filter(action=action, agency=agency, quarter=quarter)
        .select_related("updated_by")
        .first()
    )
    if existing and not may_edit_return(request.user, existing):
        messages.info(request, READ_ONLY_REASONS.get(existing.state, CLOSED).format(q=quarter))
        return redirect("return_detail", existing.pk)
    if existing is None and not quarter_takes_entries(request.user, quarter, action, agency):
        messages.info(request, f"{quarter.label} is closed for returns.")
        return redirect("home")

    metrics = action.metrics.all()
    if request.method == "POST":
        submitting = "submit" in request.POST
        form = ReturnForm(request.POST, metrics=metrics, submitting=submitting)
        if form.is_valid():
            # 0: opened before there was a return. The service decides under its row
            # lock whether one has been started since (then 0 is stale and refused);
            # deciding here, from `existing`, would race with a save in between.
            seen_version = form.cleaned_data["version"]
            try:
                saved = services.save_return(
                    request.user,
                    action,
                    agency,
                    quarter,
                    values=form.values(),
                    narrative=form.cleaned_data["narrative"],
                    rag=form.cleaned_data["rag"],
                    rag_reason=form.cleaned_data["rag_reason"].strip(),
                    seen_version=seen_version,
                    submit=submitting,
                )
            except services.AlreadySubmitted as error:
                # A second click on Submit: the first one counted.
                messages.info(request, str(error))
                submitted = QuarterlyReturn.objects.visible_to(request.user).get(
                    action=action, agency=agency, quarter=quarter
                )
                return redirect("return_detail", submitted.pk)
            except services.ReturnError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    f"Return for {action.ref} submitted for review."
                    if submitting
                    else f"Draft of the return for {action.ref} saved.",
                )
                return redirect("return_detail", saved.pk)
    else:
        form = ReturnForm(initial=ReturnForm.initial_from(existing, metrics), metrics=metrics)

    metric_fields = [form[metric_field_name(metric)] for metric in metrics]
    return render(
        request,
        "actions/return_form.html",
        {
            "action": action,
            "agency": agency,
            "quarter": quarter,
            "quarterly_return": existing,
            "form": form,
            "metric_fields": metric_fields,
        },
    )


@requires(Capability.READ_PLAN)
def return_detail(request: HttpRequest, pk: int) -> HttpResponse:
    quarterly_return = get_object_or_404(
        QuarterlyReturn.objects.visible_to(request.user)
        .with_context()
        .select_related("submitted_by", "reviewed_by", "updated_by"),
        pk=pk,
    )
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
                (other.quarter, other.values.get(str(metric.pk)), other.pk == quarterly_return.pk)
                for other in earlier
            ],
        }
        for metric in metrics
    ]
    context = {
        "quarterly_return": quarterly_return,
        "action": action,
        "figures": figures,
        "quarters": [other.quarter for other in earlier],
        "may_edit": may_edit_return(request.user, quarterly_return),
        "may_review": may(request.user, Capability.REVIEW_RETURNS),
        "history": quarterly_return.history_visible_to(request.user),
        "reason_form": ReasonForm(initial={"version": quarterly_return.version}),
    }
    return render(request, "actions/return_detail.html", context)


def _review_action(request, pk, transition, form_class, success):
    quarterly_return = get_object_or_404(
        QuarterlyReturn.objects.visible_to(request.user).with_context(), pk=pk
    )
    form = form_class(request.POST)
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
    try:
        transition(request.user, quarterly_return, **kwargs)
    except services.ReturnError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            success.format(ref=quarterly_return.action.ref, agency=quarterly_return.agency.name),
        )
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
    )


@require_POST
@requires(Capability.REVIEW_RETURNS)
def return_send_back(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_action(
        request, pk, services.send_back, ReasonForm, "Return for {ref} sent back to {agency}."
    )


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
    table = ReviewTable(review_filter.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(
        request,
        "actions/review_queue.html",
        {"filter": review_filter, "table": table, "plan": plan},
    )


@requires(Capability.REVIEW_RETURNS)
def quarter_list(request: HttpRequest) -> HttpResponse:
    plan = Plan.objects.current()
    if plan is None:
        raise Http404("No plan has been loaded.")
    form = LockExceptionForm(plan=plan)
    return render(request, "actions/quarter_list.html", _quarter_context(plan, form))


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
    services.set_quarter_open(request.user, quarter, is_open)
    messages.success(request, f"{quarter.label} is now {'open' if is_open else 'closed'}.")
    return redirect("quarter_list")


@require_POST
@requires(Capability.REVIEW_RETURNS)
def lock_exception_create(request: HttpRequest) -> HttpResponse:
    plan = Plan.objects.current()
    if plan is None:
        raise Http404("No plan has been loaded.")
    form = LockExceptionForm(request.POST, plan=plan)
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
