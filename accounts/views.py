"""Django's account views, with the throttles of accounts/throttles.py, and the second
factor's (accounts/second_factor.py)."""

from urllib.parse import quote

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, views
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_safe
from django_otp.plugins.otp_static.models import StaticDevice

from csp import audit
from csp.naming import names
from csp.permissions import Capability, own_account, requires

from . import forms, second_factor, throttles
from .models import User


class SignInView(views.LoginView):
    form_class = forms.SignInForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", "throttled"):
            response.status_code = 429
        return response


class PasswordChangeView(views.PasswordChangeView):
    """Someone holding a signed-in session but not its password cannot guess the current
    password here: after throttles.CURRENT_PASSWORD's wrong guesses the session is
    signed out, and for a while any further attempt signs out without checking."""

    def post(self, request, *args, **kwargs):
        if throttles.CURRENT_PASSWORD.refused_until(request.user.pk):
            return self.sign_out()
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if form.has_error("old_password", "password_incorrect"):
            limit = throttles.CURRENT_PASSWORD
            until = limit.record(self.request.user.pk)
            if until:
                audit.throttled(self.request, limit.name, self.request.user.get_username(), until)
                return self.sign_out()
        return super().form_invalid(form)

    def form_valid(self, form):
        throttles.CURRENT_PASSWORD.forgive(self.request.user.pk)
        return super().form_valid(form)

    def sign_out(self):
        logout(self.request)
        messages.warning(
            self.request,
            "You have been signed out because the current password was entered wrongly too "
            "many times. Sign in again, or use “I have forgotten my password”.",
        )
        return redirect("login")


class PasswordResetView(views.PasswordResetView):
    form_class = forms.ThrottledPasswordResetForm

    def form_valid(self, form):
        # The e-mail and its subject call the service and the partnership by their names.
        self.extra_email_context = names()
        return super().form_valid(form)


class PasswordResetConfirmView(views.PasswordResetConfirmView):
    form_class = forms.ResetPasswordForm


# The second factor ---------------------------------------------------------------------

# Recovery codes just made, shown once by the next page.
NEW_CODES = "two_factor_new_codes"


@own_account
@require_safe
def two_factor(request):
    user = request.user
    return render(
        request,
        "accounts/two_factor.html",
        {
            "is_on": second_factor.is_on(user),
            "required": second_factor.required_for(user),
            "codes_left": second_factor.recovery_codes_left(user),
        },
    )


@own_account
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_enrol(request):
    """Set up an authenticator app: the secret as a QR code and as text, confirmed by a
    code. Reached at sign-in where a second factor is required and not yet set up, or from
    the two-factor page by anyone who wants one."""
    next_url = _next(request)
    if second_factor.is_on(request.user):
        return redirect("two_factor")
    device = second_factor.pending_app(request)
    form = forms.CodeForm(
        request.POST or None,
        help_text=f"The 6-digit code your app shows for {names()['service_name']} now.",
    )
    if form.is_valid():
        codes = second_factor.confirm_app(request, device, form.cleaned_data["code"])
        if codes is not None:
            request.session[NEW_CODES] = codes
            messages.success(request, "Two-factor authentication is on.")
            return redirect(_with_next(reverse("two_factor_recovery_codes"), next_url))
        form.add_error(
            "code",
            "That code is not right. Enter the 6-digit code your app shows now (check that "
            "the secret was typed exactly)",
        )
    return render(
        request,
        "accounts/two_factor_enrol.html",
        {
            "form": form,
            "qr_svg": second_factor.qr_svg(device),
            "secret": second_factor.secret_text(device),
            "required": second_factor.required_for(request.user),
            "next": next_url,
        },
    )


@own_account
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_verify(request):
    """The second step of signing in. A wrong code counts as a wrong password (both
    limits); a refused account is signed out."""
    next_url = _next(request)
    user = request.user
    if second_factor.stage(request) is not second_factor.Stage.CODE:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    if request.method == "POST" and throttles.sign_in_refused(request, user):
        return _refused(request)
    form = forms.CodeForm(
        request.POST or None,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
    )
    if form.is_valid():
        device = second_factor.verify(request, form.cleaned_data["code"])
        if device is not None:
            request.session.cycle_key()
            django_otp.login(request, device)
            throttles.signed_in_fully(request, user)
            audit.log.info(
                "second factor verified: user=%s ip=%s",
                audit.clean(user.get_username()),
                audit.client_ip(request) or "-",
            )
            if isinstance(device, StaticDevice):
                left = second_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You used a recovery code. You have {left} left: make new ones from "
                    "Two-factor authentication if you are running out.",
                )
            return redirect(next_url or settings.LOGIN_REDIRECT_URL)
        if throttles.count_wrong_code(request, user):
            return _refused(request)
        form.add_error(
            "code",
            "That code is not right. Enter the code your authenticator app shows now, or one "
            "of your recovery codes",
        )
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": next_url})


@own_account
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_recovery_codes(request):
    """POST: ten new recovery codes, the old ones no longer work. GET: codes just made,
    shown once (otherwise back to the two-factor page)."""
    if request.method == "POST":
        if not second_factor.is_on(request.user):
            messages.error(request, "Set up two-factor authentication first.")
            return redirect("two_factor")
        request.session[NEW_CODES] = second_factor.new_recovery_codes(request)
        return redirect("two_factor_recovery_codes")
    codes = request.session.pop(NEW_CODES, None)
    if not codes:
        return redirect("two_factor")
    return render(
        request, "accounts/two_factor_recovery_codes.html", {"codes": codes, "next": _next(request)}
    )


@requires(Capability.RESET_SECOND_FACTOR)
@require_http_methods(["GET", "HEAD", "POST"])
def two_factor_reset(request, pk):
    """A manager removes another user's second factor (a lost phone): confirmed, logged
    and e-mailed to the user."""
    person = get_object_or_404(User.objects.exclude(pk=request.user.pk), pk=pk)
    if request.method == "POST":
        if second_factor.reset(request, person):
            messages.success(
                request,
                f"Two-factor authentication for {person} has been reset. They have been sent "
                "an e-mail, and will set it up again when they next sign in.",
            )
        else:
            messages.info(request, f"{person} has no two-factor authentication to reset.")
        return redirect("two_factor_reset", pk=person.pk)
    return render(
        request,
        "accounts/two_factor_reset.html",
        {"person": person, "is_on": second_factor.is_on(person)},
    )


def _refused(request):
    logout(request)
    messages.error(
        request,
        "You have been signed out: there have been too many wrong passwords or codes for "
        "this account. Try again later, or reset your password.",
    )
    return redirect("login")


def _next(request) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if safe else ""


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?next={quote(next_url)}" if next_url else url
