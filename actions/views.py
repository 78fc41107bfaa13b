from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from csp.permissions import (
    Capability,
    may,
    may_edit_return,
    quarter_takes_entries,
    reporting_agencies,
    requires,
)
from priorities.models import Plan, Quarter
from priorities.quarters import chosen_quarter, plan_quarters

from . import services
from .filters import ReviewFilter
from .forms import ApproveForm, LockExceptionForm, ReasonForm, ReturnForm, metric_field_name
from .models import Action, Agency, LockException, QuarterlyReturn
from .obligations import Tally, obligations
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
        total = sum(counted) if metric.kind == "count" and counted else None
        rows.append({"metric": metric, "values": values, "total": total})
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
    if may(request.user, Capability.EDIT_PLAN):
        context["history"] = action.history.select_related("history_user")[:20]
    return render(request, "actions/action_detail.html", context)


@requires(Capability.READ_PLAN)
def agency_list(request: HttpRequest) -> HttpResponse:
    plan = Plan.objects.current()
    agencies = Agency.objects.active().order_by("name")
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
    return render(request, "actions/agency_list.html", {"plan": plan, "rows": rows})


@requires(Capability.READ_PLAN)
def agency_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An agency: the actions it leads, and for a chosen quarter the returns it owes and
    those it may contribute, each in its state."""
    agency = get_object_or_404(Agency, pk=pk)
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
        QuarterlyReturn.objects.filter(action=action, agency=agency, quarter=quarter)
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
                submitted = QuarterlyReturn.objects.get(
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
        "history": quarterly_return.history.select_related("history_user").order_by(
            "-history_date"
        ),
        "reason_form": ReasonForm(initial={"version": quarterly_return.version}),
    }
    return render(request, "actions/return_detail.html", context)


def _review_action(request, pk, transition, form_class, success):
    quarterly_return = get_object_or_404(QuarterlyReturn.objects.with_context(), pk=pk)
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
        QuarterlyReturn.objects.awaiting_review()
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
