"""Throttles an attacker cannot spread out: limits on guesses and e-mails counted per
account or per address, whichever address or session the attempts come from.

django-axes already locks a username *from one address* after 10 failures (settings.py).
These add what axes cannot: a count per account across all addresses, on the
change-password form's current password, and on password-reset e-mails per address and per
account. Each is a ``Limit``; a new guarded thing (a one-time code, a sign-in by e-mail
address) is one more ``Limit`` here, used the same way:

    until = LIMIT.refused_until(key)   # before checking: refuse while this is set
    LIMIT.record(key)                  # after a wrong guess (returns the new refusal, if any)
    LIMIT.forgive(key)                 # after a right one
    LIMIT.allow(key)                   # a rate (e-mails): check and count in one step

Counts live in the database (accounts.Throttle), not Django's cache: the default cache is
per process, so each gunicorn worker would keep its own count and an attacker would get
the limit once per worker; a row locked while it is updated holds across workers,
processes and restarts, on SQLite and PostgreSQL alike, with no service to run.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from csp import audit

from .identity import lockout_name
from .models import Throttle

# A key nobody has tried for this long is forgotten, with its refusals in a row.
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` within ``within``; then refused for ``refuse_for``, twice as
    long for each refusal in a row up to ``longest``. Without ``refuse_for``, a rate:
    refused until the window ends."""

    name: str
    attempts: int
    within: timedelta
    refuse_for: timedelta | None = None
    longest: timedelta | None = None

    def key(self, value) -> str:
        """The stored key: an HMAC, so the table holds no usernames or addresses."""
        text = str(value).strip().casefold()
        return salted_hmac(f"csp.throttle.{self.name}", text).hexdigest()

    def refused_until(self, value) -> datetime | None:
        return (
            Throttle.objects.filter(
                limit=self.name, key=self.key(value), refused_until__gt=timezone.now()
            )
            .values_list("refused_until", flat=True)
            .first()
        )

    def record(self, value) -> datetime | None:
        """Count one attempt; until when attempts are refused if this one reached the limit
        (or they already were, in which case it is not counted)."""
        with transaction.atomic():
            throttle, now = self._locked(value)
            if throttle.refused_until and throttle.refused_until > now:
                return throttle.refused_until
            self._count(throttle, now)
            throttle.save()
            return throttle.refused_until

    def allow(self, value) -> bool:
        """For rates: True, counting the attempt, if it is within the limit."""
        with transaction.atomic():
            throttle, now = self._locked(value)
            if throttle.refused_until and throttle.refused_until > now:
                return False
            self._count(throttle, now)
            throttle.save()
            return True

    def forgive(self, value) -> None:
        """A right guess: forget the count and the refusals in a row."""
        Throttle.objects.filter(limit=self.name, key=self.key(value)).delete()

    def minutes_left(self, until: datetime) -> int:
        return max(1, math.ceil((until - timezone.now()).total_seconds() / 60))

    # -----------------------------------------------------------------------------------

    def _locked(self, value) -> tuple[Throttle, datetime]:
        now = timezone.now()
        Throttle.objects.filter(
            limit=self.name, window_started__lt=now - max(FORGET_AFTER, self.within)
        ).exclude(refused_until__gt=now).delete()
        throttle, _ = Throttle.objects.select_for_update().get_or_create(
            limit=self.name, key=self.key(value), defaults={"window_started": now}
        )
        return throttle, now

    def _count(self, throttle: Throttle, now: datetime) -> None:
        if throttle.window_started + self.within <= now:
            throttle.window_started, throttle.attempts = now, 0
        throttle.attempts += 1
        throttle.refused_until = None  # any earlier refusal has ended
        if throttle.attempts < self.attempts:
            return
        if self.refuse_for is None:  # a rate: refused until the window ends
            throttle.refused_until = throttle.window_started + self.within
            return
        throttle.refusals += 1
        # (The exponent is bounded: refusals go on counting while an attack does.)
        refusal = self.refuse_for * 2 ** min(throttle.refusals - 1, 20)
        throttle.refused_until = now + min(refusal, self.longest or self.refuse_for)
        throttle.window_started, throttle.attempts = now, 0


# Wrong passwords and wrong second-factor codes for one account (by its username, whether
# the username or the e-mail address was typed, in any case: accounts/identity.py; by the
# text typed where it names no account, so unknown names are treated alike), from any address: axes's 10 per address cannot be spread over 40 addresses. Short
# and escalating (15, 30, 60, then 120 minutes), so a stranger cannot shut a real user out
# for long, and a completed password reset lifts it at once (accounts/forms.py).
SIGN_IN = Limit(
    "sign-in",
    attempts=20,
    within=timedelta(hours=1),
    refuse_for=timedelta(minutes=15),
    longest=timedelta(hours=2),
)
# Wrong current passwords on the change-password form, per account: someone holding a
# signed-in session but not the password. The session that reaches the limit is signed out,
# and the form refuses to check (signing out again) for 15 minutes.
CURRENT_PASSWORD = Limit(
    "current-password", attempts=5, within=timedelta(hours=1), refuse_for=timedelta(minutes=15)
)
# Password reset e-mails: at most 3 an hour to one address typed, and 3 an hour per account.
RESET_EMAILS_PER_ADDRESS = Limit("reset-address", attempts=3, within=timedelta(hours=1))
RESET_EMAILS_PER_ACCOUNT = Limit("reset-account", attempts=3, within=timedelta(hours=1))


# Sign-in: a backend before Django's ModelBackend, and receivers of its signals ----------

PASSWORD_CHECKED = "throttle_password_checked"
REFUSED_UNTIL = "throttle_refused_until"


class SignInThrottleBackend:
    """Refuses a sign-in to an account over its limit before any password is checked, from
    every form that signs in (the app's, the admin's). Otherwise notes that the password
    will be checked, so that only real guesses are counted."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or username is None:
            return None
        until = SIGN_IN.refused_until(lockout_name(username))
        if until:
            setattr(request, REFUSED_UNTIL, until)
            raise PermissionDenied
        setattr(request, PASSWORD_CHECKED, True)
        return None

    # No get_user(): it never signs anyone in (and Django's test client would take a
    # backend that has one for force_login).


def count_failed_sign_in(sender, credentials, request=None, **kwargs):
    """Every wrong password counts against the account typed (not attempts refused
    unchecked by axes or by this limit)."""
    username = credentials.get("username")
    if request is None or not username or not getattr(request, PASSWORD_CHECKED, False):
        return
    until = SIGN_IN.record(lockout_name(username))
    if until:
        setattr(request, REFUSED_UNTIL, until)  # the sign-in page says so
        audit.throttled(request, SIGN_IN.name, username, until)


def forgive_sign_in(sender, request, user, **kwargs):
    """A right password forgives the counts, unless a code must follow: then only the right
    code does (accounts/views.py), or the password would reset the count of wrong codes."""
    from django_otp import user_has_device

    if user_has_device(user, confirmed=True):
        return
    signed_in_fully(request, user)


def signed_in_fully(request, user) -> None:
    """Every factor given: forget the wrong guesses at this account (from any address)
    and, as django-axes would on success, at it from this address."""
    from axes.utils import reset as reset_axes

    name = lockout_name(user.get_username())
    SIGN_IN.forgive(name)
    address = audit.client_ip(request)
    if address:
        reset_axes(ip=address, username=name)


# Second-factor codes: each wrong one is a failed sign-in --------------------------------


def sign_in_refused(request, user) -> bool:
    """Whether signing in as this account is refused now, per account or (axes) from
    this address: then no code is checked either."""
    from axes.handlers.proxy import AxesProxyHandler

    name = lockout_name(user.get_username())
    return bool(
        SIGN_IN.refused_until(name) or AxesProxyHandler.is_locked(request, {"username": name})
    )


def count_wrong_code(request, user) -> bool:
    """A wrong code counts as a wrong password would: on both limits (and in the audit
    log), through Django's failed-sign-in signal. True if it reached either limit."""
    from django.contrib.auth import signals

    setattr(request, PASSWORD_CHECKED, True)
    signals.user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )
    return bool(getattr(request, REFUSED_UNTIL, None) or getattr(request, "axes_locked_out", False))


def connect() -> None:
    from django.contrib.auth import signals

    signals.user_login_failed.connect(
        count_failed_sign_in, dispatch_uid="accounts.throttles.count_failed_sign_in"
    )
    signals.user_logged_in.connect(forgive_sign_in, dispatch_uid="accounts.throttles.forgive")
