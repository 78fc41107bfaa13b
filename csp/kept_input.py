"""Nothing typed is lost when a session ends or a form's CSRF token expires.

A form view marked ``@keeps_typed_input`` that is posted by someone signed out (their
session ended), or with a token that no longer matches (they signed in again in another
tab), keeps the posted fields in the session under a random id. The user signs in (if
they need to) and lands back on the form, which fills itself from what was kept, once, with
a banner asking them to check it and save. Nothing is ever saved on their behalf.

What was kept is given back only to the same user: the username is taken from the
signed-in user or, when the session has already ended, from a signed cookie set while they
were signed in (SameSite=Lax, so a cross-site POST does not carry it and keeps nothing).
Kept input lasts as long as an idle session would (SESSION_COOKIE_AGE).
"""

import secrets
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import QueryDict, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve, reverse

from csp import audit

SESSION_KEY = "kept_input"
QUERY_PARAMETER = "kept"
COOKIE_SALT = "csp.kept_input.owner"
MAX_KEPT = 5  # forms kept at once in one browser; the oldest goes first
MAX_CHARACTERS = 100_000  # every field together; far above a return's narrative
NOT_KEPT = {"csrfmiddlewaretoken"}
RESTORED = "We kept what you typed; check it and save."
SIGN_IN_AGAIN = (
    "Your session ended, so nothing was saved. Sign in again to go back to the form with "
    "what you typed."
)


def keeps_typed_input(back_to: str | None = None):
    """Mark a form view whose posts are kept across signing in again.

    ``back_to`` names the URL (taking the view's own URL arguments) of the page holding the
    form, for views that only take the POST (send back, reopen); by default the view's own
    URL. The mark survives other decorators that use functools.wraps.
    """

    def decorator(view):
        view.keeps_typed_input = back_to or ""
        return view

    return decorator


def cookie_name() -> str:
    # "__Host-" wherever the session cookie is secure, as for the session and CSRF cookies.
    return ("__Host-" if settings.SESSION_COOKIE_SECURE else "") + "csp_typed_by"


def remember_owner(request, response) -> None:
    """While signed in, the browser holds who is signed in, signed, to outlive the session."""
    username = request.user.get_username()
    if owner(request) != username:
        response.set_signed_cookie(
            cookie_name(),
            username,
            salt=COOKIE_SALT,
            max_age=settings.SESSION_ABSOLUTE_TIMEOUT,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


def forget_owner(response) -> None:
    response.delete_cookie(cookie_name(), samesite="Lax")


def owner(request) -> str | None:
    return request.get_signed_cookie(
        cookie_name(), default=None, salt=COOKIE_SALT, max_age=settings.SESSION_ABSOLUTE_TIMEOUT
    )


def same_origin(request) -> bool:
    """A browser's own form post: the Origin (or, without one, the Referer) is this site.

    After a CSRF failure only this stands between a keeper and another site's post, whose
    fields would otherwise fill in the user's form."""
    own = f"{request.scheme}://{request.get_host()}"
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        referer = urlsplit(request.META.get("HTTP_REFERER", ""))
        origin = f"{referer.scheme}://{referer.netloc}" if referer.netloc else None
    return origin == own


def keep(request, username: str | None) -> str | None:
    """Keep a refused post to a marked form for ``username``; the URL to come back to (with
    the id of what was kept), or None when there is nothing to keep."""
    if request.method != "POST" or not username:
        return None
    match = request.resolver_match
    if match is None:  # refused before the URL was resolved (csp.middleware)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
    back_to = getattr(match.func, "keeps_typed_input", None)
    if back_to is None:
        return None
    try:
        data = {name: request.POST.getlist(name) for name in request.POST if name not in NOT_KEPT}
    except (RequestDataTooBig, TooManyFieldsSent, MultiPartParserError, UnreadablePostError):
        return None  # a body that will not parse has nothing to keep
    typed = sum(len(value) for values in data.values() for value in values)
    if not typed or typed > MAX_CHARACTERS:
        return None
    path = reverse(back_to, kwargs=match.kwargs) if back_to else request.path
    kept_id = secrets.token_urlsafe(16)
    kept = _unexpired(request.session.get(SESSION_KEY, {}))
    kept[kept_id] = {"path": path, "user": username, "at": int(time.time()), "data": data}
    request.session[SESSION_KEY] = dict(
        sorted(kept.items(), key=lambda item: item[1]["at"])[-MAX_KEPT:]
    )
    audit.input_kept(request, username, path)
    return f"{path}?{QUERY_PARAMETER}={kept_id}"


def restore(request) -> QueryDict | None:
    """What was kept for this form and this user, once, with a banner saying so; None when
    nothing was (or it has expired, or another user kept it)."""
    kept_id = request.GET.get(QUERY_PARAMETER)
    if not kept_id or SESSION_KEY not in request.session:
        return None
    kept = _unexpired(request.session[SESSION_KEY])
    entry = kept.pop(kept_id, None)
    request.session[SESSION_KEY] = kept
    if (
        entry is None
        or entry["path"] != request.path
        or entry["user"] != request.user.get_username()
    ):
        return None
    data = QueryDict(mutable=True)
    for name, values in entry["data"].items():
        data.setlist(name, values)
    messages.info(request, RESTORED)
    return data


def _unexpired(kept: dict) -> dict:
    oldest = time.time() - settings.SESSION_COOKIE_AGE
    return {kept_id: entry for kept_id, entry in kept.items() if entry["at"] >= oldest}
