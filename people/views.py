"""The manager's pages for agencies and users, and the invitation a new user accepts."""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Invitation, User
from actions.models import Agency
from csp.permissions import Capability, public_form, requires

from . import services
from .forms import AcceptInvitationForm, AgencyForm, InviteForm, MergeForm, UserChangeForm

# Users -------------------------------------------------------------------------------------


def _users():
    return User.objects.prefetch_related(
        Prefetch("agencies", queryset=Agency.objects.order_by("name")),
        Prefetch(
            "invitations",
            queryset=Invitation.objects.pending().order_by("-created_at"),
            to_attr="pending_invitations",
        ),
    )


@requires(Capability.MANAGE_PEOPLE)
@require_safe
def user_list(request: HttpRequest) -> HttpResponse:
    """Everyone with an account: role, agencies, last sign-in; invitations not accepted."""
    users = list(_users().order_by("last_name", "first_name", "username"))
    invited = [user for user in users if not user.has_usable_password()]
    return render(
        request,
        "people/user_list.html",
        {
            "people": [user for user in users if user.has_usable_password()],
            "invited": invited,
        },
    )


@requires(Capability.MANAGE_PEOPLE)
def user_invite(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = InviteForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                invitation = services.invite(
                    request.user,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    job_title=data["job_title"],
                    role=data["role"],
                    agencies=data["agencies"],
                )
            except services.PeopleError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    f"Invitation sent to {invitation.user.email}. The link works for 72 hours.",
                )
                return redirect("user_detail", invitation.user.pk)
    else:
        initial = {}
        agency = Agency.objects.active().filter(pk=_int(request.GET.get("agency"))).first()
        if agency:
            initial = {"role": "partner", "agencies": [agency]}
        form = InviteForm(initial=initial)
    return render(request, "people/user_invite.html", {"form": form})


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@requires(Capability.MANAGE_PEOPLE)
@require_safe
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(_users(), pk=pk)
    return render(
        request,
        "people/user_detail.html",
        {
            "person": person,
            "invitation": person.pending_invitations[0] if person.pending_invitations else None,
            "history": person.history.select_related("history_user")[:20],
        },
    )


@requires(Capability.MANAGE_PEOPLE)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(User, pk=pk)
    if request.method == "POST":
        form = UserChangeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.change_user(
                    request.user,
                    person,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    job_title=data["job_title"],
                    role=data["role"],
                    agencies=data["agencies"],
                )
            except services.PeopleError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"{person} saved. It applies from their next page.")
                return redirect("user_detail", person.pk)
    else:
        form = UserChangeForm(initial=UserChangeForm.initial_for(person))
    return render(request, "people/user_edit.html", {"form": form, "person": person})


def _user_action(request, pk, action, success: str) -> HttpResponse:
    person = get_object_or_404(User, pk=pk)
    try:
        action(request.user, person)
    except services.PeopleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success.format(person=person))
    return redirect("user_detail", person.pk)


@require_POST
@requires(Capability.MANAGE_PEOPLE)
def user_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _user_action(
        request,
        pk,
        lambda by, person: services.set_user_active(by, person, False),
        "{person} is deactivated and is signed out on their next page.",
    )


@require_POST
@requires(Capability.MANAGE_PEOPLE)
def user_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _user_action(
        request,
        pk,
        lambda by, person: services.set_user_active(by, person, True),
        "{person} is active again.",
    )


@require_POST
@requires(Capability.MANAGE_PEOPLE)
def invitation_resend(request: HttpRequest, pk: int) -> HttpResponse:
    return _user_action(
        request,
        pk,
        services.resend_invitation,
        "A new invitation has been sent to {person.email}; the earlier link no longer works.",
    )


@require_POST
@requires(Capability.MANAGE_PEOPLE)
def invitation_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _user_action(
        request,
        pk,
        services.cancel_invitation,
        "The invitation to {person.email} is cancelled; its link no longer works.",
    )


# Like Django's password reset: the token moves from the address into the session, so it
# is not left in the browser's history, a Referer header or a server's access log.
SET_PASSWORD = "set-password"
SESSION_TOKEN = "_invitation_token"


def _unusable(request, error) -> HttpResponse:
    return render(request, "people/invitation_unusable.html", {"reason": str(error)}, status=410)


@public_form
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Where the link in the invitation e-mail lands: choose a password."""
    from_link = token != SET_PASSWORD
    if not from_link:
        token = request.session.get(SESSION_TOKEN, "")
    try:
        invitation = services.usable_invitation(token)
    except services.InvitationNotUsable as error:
        return _unusable(request, error)
    if invitation is None:
        raise Http404("No such invitation")
    if from_link and request.method != "POST":
        request.session[SESSION_TOKEN] = token
        return redirect("invitation_accept", SET_PASSWORD)
    person = invitation.user
    if request.method == "POST":
        form = AcceptInvitationForm(person, request.POST)
        if form.is_valid():
            try:
                services.accept_invitation(token, form.cleaned_data["new_password1"])
            except services.InvitationNotUsable as error:
                return _unusable(request, error)
            request.session.pop(SESSION_TOKEN, None)
            messages.success(
                request,
                f"Your password is set. Sign in with your username, {person.username}, "
                "and your new password.",
            )
            return redirect("login")
    else:
        form = AcceptInvitationForm(person)
    return render(request, "people/invitation_accept.html", {"form": form, "person": person})


# Agencies ----------------------------------------------------------------------------------


@requires(Capability.MANAGE_PEOPLE)
def agency_create(request: HttpRequest) -> HttpResponse:
    return _agency_form(request, Agency(), "Added")


@requires(Capability.MANAGE_PEOPLE)
def agency_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _agency_form(request, get_object_or_404(Agency, pk=pk), "Changed")


def _agency_form(request, agency: Agency, reason: str) -> HttpResponse:
    if request.method == "POST":
        form = AgencyForm(request.POST, instance=agency)
        if form.is_valid():
            changed = ", ".join(form.changed_data) if agency.pk else ""
            saved = services.save_agency(
                request.user,
                form.save(commit=False),
                reason=f"{reason}: {changed}" if changed else reason,
            )
            messages.success(request, f"{saved.name} saved.")
            return redirect("agency_detail", saved.pk)
    else:
        form = AgencyForm(instance=agency)
    return render(request, "people/agency_form.html", {"form": form, "agency": agency})


@require_POST
@requires(Capability.MANAGE_PEOPLE)
def agency_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _agency_active(request, pk, False)


@require_POST
@requires(Capability.MANAGE_PEOPLE)
def agency_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    return _agency_active(request, pk, True)


def _agency_active(request, pk, active: bool) -> HttpResponse:
    agency = get_object_or_404(Agency, pk=pk)
    try:
        services.set_agency_active(request.user, agency, active)
    except services.PeopleError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"{agency.name} is active again."
            if active
            else f"{agency.name} is deactivated. Its returns stay as they are.",
        )
    return redirect("agency_detail", agency.pk)


@requires(Capability.MANAGE_PEOPLE)
def agency_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the agency to merge into this one; the next page confirms."""
    kept = get_object_or_404(Agency.objects.filter(merged_into__isnull=True), pk=pk)
    form = MergeForm(request.POST if request.method == "POST" else None, kept=kept)
    if request.method == "POST" and form.is_valid():
        return redirect("agency_merge_confirm", kept.pk, form.cleaned_data["merged"].pk)
    return render(request, "people/agency_merge.html", {"form": form, "kept": kept})


@requires(Capability.MANAGE_PEOPLE)
def agency_merge_confirm(request: HttpRequest, pk: int, merged_pk: int) -> HttpResponse:
    candidates = Agency.objects.filter(merged_into__isnull=True)
    kept = get_object_or_404(candidates, pk=pk)
    merged = get_object_or_404(candidates.exclude(pk=kept.pk), pk=merged_pk)
    if request.method == "POST":
        try:
            moved = services.merge_agencies(request.user, kept, merged)
        except services.PeopleError as error:
            messages.error(request, str(error))
            return redirect("agency_merge_confirm", kept.pk, merged.pk)
        messages.success(
            request,
            f"{merged.name} merged into {kept.name}: {moved.returns} returns, "
            f"{moved.actions} action links and {moved.members} members moved.",
        )
        return redirect("agency_detail", kept.pk)
    return render(
        request,
        "people/agency_merge_confirm.html",
        {
            "kept": kept,
            "merged": merged,
            "moving": services.agency_counts(merged),
            "clashes": services.merge_clashes(kept, merged),
        },
    )
