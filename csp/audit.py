"""The security log: sign-ins, failed sign-ins, lockouts, sign-outs, expired sessions and
refused requests, on the "csp.audit" logger beside the workflow's own entries
(actions/services.py).

Never logged: passwords, session keys, reset tokens.

Every entry is written as one JSON object on one line (`JsonLineFormatter`, the formatter of
the "audit" handler in settings.LOGGING): a send-back reason, a lock exception's reason or an
agency's name is the user's own text, and a line break in it would otherwise start a line
that reads like a real entry ("… return 5 approved by manager"). JSON escapes line breaks,
control characters and quotes, and non-ASCII too, so no character of the text can end the
line or the message (ASVS V7.3.1). Usernames typed at the sign-in page are also shortened to
one printable line (`clean`), so that a failed sign-in cannot flood the log.
"""

import ipaddress
import json
import logging
import time

from django.conf import settings

log = logging.getLogger("csp.audit")

LONGEST_LOGGED_TEXT = 150
# The session key holding when its user signed in (the absolute lifetime's start).
SIGNED_IN_AT = "signed_in_at"


class JsonLineFormatter(logging.Formatter):
    """A log entry as one JSON object a line: time, level, logger, message (and the
    exception's traceback, if any), every value escaped by the JSON encoder."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, self.datefmt),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        # ensure_ascii: besides \n and \r, Unicode's own line separators (U+2028, U+0085)
        # are escaped too, so nothing in the text can break the line for any reader.
        return json.dumps(entry, ensure_ascii=True)


def clean(value) -> str:
    """Text from the visitor as one printable line of bounded length."""
    text = "" if value is None else str(value)
    text = "".join(char if char.isprintable() else "?" for char in text)
    if len(text) > LONGEST_LOGGED_TEXT:
        text = text[: LONGEST_LOGGED_TEXT - 1] + "…"
    return text


def client_ip(request) -> str | None:
    """The visitor's address, or None where there is no valid one.

    Behind TRUSTED_PROXIES reverse proxies, the address the outermost trusted proxy saw
    (each proxy appends to X-Forwarded-For, so entries before it are the visitor's to
    forge); with none, the connection's own address. django-axes locks on this too.
    """
    if request is None:
        return None
    candidates = []
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            candidates.append(forwarded[-proxies])
    candidates.append(request.META.get("REMOTE_ADDR", ""))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def _ip(request) -> str:
    return client_ip(request) or "-"


def _who(request) -> str:
    user = getattr(request, "user", None)
    return clean(user.get_username()) if user and user.is_authenticated else "anonymous"


# Signal receivers (connected in CspConfig.ready) ------------------------------------------


def signed_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        # The start of the absolute session lifetime (csp.middleware).
        request.session[SIGNED_IN_AT] = int(time.time())
    log.info("sign-in: user=%s ip=%s", clean(user.get_username()), _ip(request))


def sign_in_failed(sender, credentials, request=None, **kwargs):
    # Only the username: Django masks the password in `credentials`, and it is never
    # logged even so.
    log.warning(
        "sign-in failed: username=%s ip=%s", clean(credentials.get("username")), _ip(request)
    )


def signed_out(sender, request, user, **kwargs):
    if user is not None:
        log.info("sign-out: user=%s ip=%s", clean(user.get_username()), _ip(request))


def locked_out(sender, request, username, ip_address, **kwargs):
    log.warning("sign-in locked: username=%s ip=%s", clean(username), clean(ip_address))


def throttled(request, limit: str, value, until) -> None:
    """A limit of accounts/throttles.py reached: further attempts refused until ``until``."""
    log.warning(
        "throttled %s: %s refused until %s ip=%s",
        limit,
        clean(value),
        until.isoformat(timespec="seconds") if until else "-",
        _ip(request),
    )


# Called from middleware -----------------------------------------------------------------


def session_expired(request) -> None:
    log.info("session ended after %s hours: user=%s", _hours(), _who(request))


def input_kept(request, username: str, path: str) -> None:
    log.info(
        "form input kept after the session or token ended: user=%s path=%s ip=%s",
        clean(username),
        clean(path),
        _ip(request),
    )


def refused(request, status: int) -> None:
    log.warning(
        "%s: %s %s by user=%s ip=%s",
        "access refused" if status == 403 else "not found",
        request.method,
        clean(request.get_full_path()),
        _who(request),
        _ip(request),
    )


def _hours() -> str:
    return f"{settings.SESSION_ABSOLUTE_TIMEOUT / 3600:g}"


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth import signals

    signals.user_logged_in.connect(signed_in, dispatch_uid="csp.audit.signed_in")
    signals.user_login_failed.connect(sign_in_failed, dispatch_uid="csp.audit.sign_in_failed")
    signals.user_logged_out.connect(signed_out, dispatch_uid="csp.audit.signed_out")
    user_locked_out.connect(locked_out, dispatch_uid="csp.audit.locked_out")
