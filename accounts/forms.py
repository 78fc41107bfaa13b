"""Django's account forms with the throttles of accounts/throttles.py."""

from axes.utils import reset as reset_axes_lockouts
from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordForm,
    UsernameField,
)
from django.core.exceptions import ValidationError

from csp import audit
from csp.text import PrintableCharField, validate_printable

from . import throttles
from .identity import lockout_name


class SignInForm(AuthenticationForm):
    username = UsernameField(
        widget=forms.TextInput(attrs={"autofocus": True}), validators=[validate_printable]
    )
    # GOV.UK's pattern for a wrong username or password: what to do, not what went wrong,
    # and never which of the two was wrong.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter the correct username and password",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        username = self.fields["username"]
        username.label = "Email address or username"
        username.max_length = username.widget.attrs["maxlength"] = 254

    def get_invalid_login_error(self):
        until = getattr(self.request, throttles.REFUSED_UNTIL, None)
        if until is None:
            return super().get_invalid_login_error()
        return ValidationError(
            "There have been too many failed attempts to sign in as %(username)s. You can "
            "try again in %(minutes)s minutes, or reset your password to sign in now.",
            code="throttled",
            params={
                "username": self.cleaned_data.get("username"),
                "minutes": throttles.SIGN_IN.minutes_left(until),
            },
        )


class ThrottledPasswordResetForm(PasswordResetForm):
    """At most so many reset e-mails an hour to one address and to one account. The page
    that follows is the same whether or not one was sent, as it is whether or not the
    address has an account."""

    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        validators=[validate_printable],
    )

    def save(self, *args, request=None, **kwargs):
        self.request = request
        return super().save(*args, request=request, **kwargs)

    def get_users(self, email):
        per_address = throttles.RESET_EMAILS_PER_ADDRESS
        if not per_address.allow(email):
            audit.throttled(self.request, per_address.name, email, per_address.refused_until(email))
            return
        per_account = throttles.RESET_EMAILS_PER_ACCOUNT
        for user in super().get_users(email):
            if per_account.allow(user.pk):
                yield user
            else:
                until = per_account.refused_until(user.pk)
                audit.throttled(self.request, per_account.name, user.get_username(), until)


class ResetPasswordForm(SetPasswordForm):
    """A new password from a reset link also lifts every sign-in limit on the account, so
    a stranger's guessing never keeps its owner out for long."""

    def save(self, commit=True):
        user = super().save(commit)
        username = lockout_name(user.get_username())
        throttles.SIGN_IN.forgive(username)
        throttles.CURRENT_PASSWORD.forgive(user.pk)
        reset_axes_lockouts(username=username)
        return user


class CodeForm(forms.Form):
    """A code from the authenticator app, or (signing in) a recovery code."""

    code = PrintableCharField(
        label="Code",
        max_length=40,
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "spellcheck": "false",
                "class": "govuk-input govuk-input--width-10",
            }
        ),
    )

    def __init__(self, *args, help_text="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = help_text
