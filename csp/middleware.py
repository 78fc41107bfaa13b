"""Response hardening: Content-Security-Policy, no caching of signed-in pages, an
absolute session lifetime, and a record of refused requests.

django-csp cannot be installed beside this package (its module is also named ``csp``),
and a few lines here do the job.
"""

import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login

from csp import audit, kept_input

SIGNED_IN_AT = audit.SIGNED_IN_AT


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ]
    )


class ContentSecurityPolicyMiddleware:
    """Give each request a nonce for govuk-frontend's one inline script, and send the policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy(request.csp_nonce))
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class NoStoreForSignedInMiddleware:
    """Signed-in pages carry partner data: never let a shared browser or proxy cache them.

    Also ends a session that has lived longer than SESSION_ABSOLUTE_TIMEOUT, however
    active it has been (the idle limit is SESSION_COOKIE_AGE, refreshed on each request).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        signed_in = bool(user and user.is_authenticated)
        if signed_in:
            # Stamped at sign-in (csp.audit); a session from before that stamp existed
            # starts its clock now.
            started = request.session.setdefault(SIGNED_IN_AT, int(time.time()))
            if time.time() - started > settings.SESSION_ABSOLUTE_TIMEOUT:
                audit.session_expired(request)
                username = user.get_username()
                logout(request)
                # Kept after logout, which empties the session.
                back = kept_input.keep(request, username)
                if back:
                    messages.info(request, kept_input.SIGN_IN_AGAIN)
                return signed_out(redirect_to_login(back or request.get_full_path()))
        response = self.get_response(request)
        if signed_in:
            response["Cache-Control"] = "no-store"
            if request.user.is_authenticated:
                kept_input.remember_owner(request, response)
            else:  # signed out by this request
                kept_input.forget_owner(response)
                signed_out(response)
        return response


class KeepTypedInputLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, except that a form posted after the session ended
    is kept (csp.kept_input) and the user, once signed in, lands back on it."""

    def handle_no_permission(self, request, view_func):
        back = kept_input.keep(request, kept_input.owner(request))
        if back is None:
            return super().handle_no_permission(request, view_func)
        messages.info(request, kept_input.SIGN_IN_AGAIN)
        return redirect_to_login(
            back, self.get_login_url(view_func), self.get_redirect_field_name(view_func)
        )


def signed_out(response):
    """Ask the browser to forget anything it kept from the session (ASVS 14.3.1)."""
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


class AuditRefusalMiddleware:
    """Log every request refused (403) or pointed at something out of reach (404), with
    who asked: repeated refusals are how someone probing other agencies' data shows up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in (403, 404):
            audit.refused(request, response.status_code)
        return response
