"""The second factor: a code from an authenticator app (django-otp's TOTP device) or one of
ten single-use recovery codes (its static device). Who must have one, where a session
stands, and each change to a user's devices, logged on the audit logger."""

import hashlib
import logging
import secrets
import time
from base64 import b32encode, urlsafe_b64encode
from enum import StrEnum

import django_otp
import segno
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils.safestring import mark_safe
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from csp import audit
from csp.naming import names

log = logging.getLogger("csp.audit")

RECOVERY_CODES = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


class Stage(StrEnum):
    """Where a signed-in session stands with its second factor."""

    DONE = "done"  # verified with a code, or no second factor and none required
    CODE = "code"  # a password given; a code must follow
    ENROL = "enrol"  # required, and not yet set up


def required_for(user) -> bool:
    return settings.MFA_REQUIRED and (user.is_superuser or user.role in settings.MFA_REQUIRED_ROLES)


def is_on(user) -> bool:
    return django_otp.user_has_device(user, confirmed=True)


# The session key holding how this session finished signing in ("password" alone, or a
# "code" too), so pages cost no queries for it; dropped at each sign-in.
DONE_KEY = "second_factor_done"


def stage(request) -> Stage:
    """Once a session is done it stays done, unless the device it gave a code for has
    gone (a manager's reset): then it is asked again."""
    user, session = request.user, request.session
    done = session.get(DONE_KEY)
    if done == "password" or (done == "code" and user.is_verified()):
        return Stage.DONE
    if user.is_verified():
        now = Stage.DONE
    elif is_on(user):
        now = Stage.CODE
    elif required_for(user):
        now = Stage.ENROL
    else:
        now = Stage.DONE
    if now is Stage.DONE:
        session[DONE_KEY] = "code" if user.is_verified() else "password"
    else:
        session.pop(DONE_KEY, None)
    return now


def signed_in(sender, request, user, **kwargs):
    """A new sign-in starts again: the password alone is not done if a code must follow."""
    if request is not None and hasattr(request, "session"):
        request.session.pop(DONE_KEY, None)


def connect() -> None:
    from django.contrib.auth import signals

    signals.user_logged_in.connect(signed_in, dispatch_uid="accounts.second_factor.signed_in")


# Enrolment -------------------------------------------------------------------------------


PENDING_KEY = "two_factor_pending_key"


def pending_app(request) -> TOTPDevice:
    """The app being set up, not yet saved: its secret waits in the session until a code
    confirms it, so reloading the set-up page shows the same secret and a GET writes
    nothing."""
    key = request.session.get(PENDING_KEY)
    if not key:
        key = request.session[PENDING_KEY] = default_key()
    return TOTPDevice(user=request.user, name=APP_DEVICE_NAME, key=key, confirmed=True)


def secret_text(device: TOTPDevice) -> str:
    """The secret as an app asks for it when typed: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The app's set-up link as an inline SVG QR code (no script, no style: CSP-safe).
    Safe to include unescaped: segno draws the link as paths; no text of it is in the SVG."""
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#0b0c0c")
    return mark_safe(svg)  # noqa: S308 (see the docstring)


def confirm_app(request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the app with a code it shows now: the second factor is on (any earlier app
    replaced), this session is verified, and the user gets ten recovery codes (returned,
    to be shown once). None if the code is not right."""
    code = clean_code(code)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not code.isdigit() or not totp.verify(int(code), device.tolerance):
        return None
    device.last_t = totp.t()  # this code is used
    with transaction.atomic():
        TOTPDevice.objects.filter(user=device.user).delete()
        device.save()
        codes = _new_recovery_codes(device.user)
    request.session.pop(PENDING_KEY, None)
    request.session.cycle_key()
    django_otp.login(request, device)
    log.info(
        "second factor set up: user=%s ip=%s", audit.clean(device.user.get_username()), _ip(request)
    )
    return codes


def new_recovery_codes(request) -> list[str]:
    """Ten new codes; the old ones stop working."""
    with transaction.atomic():
        codes = _new_recovery_codes(request.user)
    log.info(
        "recovery codes renewed: user=%s ip=%s",
        audit.clean(request.user.get_username()),
        _ip(request),
    )
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _new_recovery_codes(user) -> list[str]:
    """Ten codes of 120 random bits (24 base32 characters, shown in groups of four), kept
    only as hashes: with 112 bits or more a plain SHA-256 will do (ASVS 6.5.2), and
    django-otp's static tokens hold 16 characters, so the first 96 bits of it, in base64."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [b32encode(secrets.token_bytes(15)).decode().lower() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=recovery_code_hash(code)) for code in codes
    )
    return ["-".join(code[i : i + 4] for i in range(0, len(code), 4)) for code in codes]


def recovery_code_hash(code: str) -> str:
    digest = hashlib.sha256(clean_code(code).encode()).digest()
    return urlsafe_b64encode(digest[:12]).decode()


# Signing in ------------------------------------------------------------------------------


def clean_code(text: str) -> str:
    return "".join(str(text).split()).replace("-", "").lower()


def verify(request, code: str):
    """The device the code is right for (the app's, or a recovery code, used up), or None.
    Each device is locked while checked, so no code works twice, however fast it is sent."""
    user, code = request.user, clean_code(code)
    with transaction.atomic():
        if code.isdigit():
            for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
                if device.verify_token(code):
                    return device
            return None
        for device in StaticDevice.objects.filter(user=user, confirmed=True):
            used, _ = device.token_set.filter(token=recovery_code_hash(code)).delete()
            if used:
                return device
    return None


# A manager's reset -----------------------------------------------------------------------


def reset(request, user) -> bool:
    """Remove another user's app and recovery codes: their next sign-in sets the factor up
    again where it is required, and any session verified with them is no longer. Logged,
    and the user is told by e-mail. False if there was nothing to remove."""
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        removed += StaticDevice.objects.filter(user=user).delete()[0]
    if not removed:
        return False
    log.warning(
        "second factor reset: user=%s by=%s ip=%s",
        audit.clean(user.get_username()),
        audit.clean(request.user.get_username()),
        _ip(request),
    )
    if user.email:
        send_mail(
            "Your two-factor authentication was reset",
            f"{request.user} has reset the two-factor authentication on your "
            f"{names()['service_name']} account "
            f"({user.get_username()}).\n\n"
            "The next time you sign in, you will be asked to set it up again with your "
            "authenticator app.\n\n"
            "If you did not ask for this, tell the community safety manager at once.\n\n"
            f"{settings.SITE_URL}\n",
            None,
            [user.email],
        )
    return True


def _ip(request) -> str:
    return audit.client_ip(request) or "-"
