"""Response hardening: Content-Security-Policy, no caching of signed-in pages, and an
absolute session lifetime.

django-csp cannot be installed beside this package (its module is also named ``csp``),
and a few lines here do the job.
"""

import secrets
import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect


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
            started = request.session.setdefault("signed_in_at", int(time.time()))
            if time.time() - started > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)
                return redirect(settings.LOGIN_URL)
        response = self.get_response(request)
        if signed_in:
            response["Cache-Control"] = "no-store"
        return response
