"""Django's account views, with the throttles of accounts/throttles.py."""

from django.contrib import messages
from django.contrib.auth import logout, views
from django.shortcuts import redirect

from csp import audit

from . import forms, throttles


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


class PasswordResetConfirmView(views.PasswordResetConfirmView):
    form_class = forms.ResetPasswordForm
