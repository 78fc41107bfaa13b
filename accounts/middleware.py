"""Half signed in: a password given, a second factor not yet. Such a session reaches only
the page that asks for the code (or, where a second factor is required and not set up,
the set-up page) and signing out; every other URL, known or not, sends it back there.
Deny by default: a new page needs nothing to be covered."""

from urllib.parse import quote

from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

from .second_factor import Stage, stage

ALLOWED = {
    Stage.CODE: {"two_factor_verify", "logout"},
    Stage.ENROL: {"two_factor_enrol", "logout"},
}
PAGE = {Stage.CODE: "two_factor_verify", Stage.ENROL: "two_factor_enrol"}


class SecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = stage(request)
            if now is not Stage.DONE:
                if _url_name(request) not in ALLOWED[now]:
                    page = reverse(PAGE[now])
                    return redirect(f"{page}?next={quote(request.get_full_path())}")
                # The header offers only signing out (templates/base.html).
                request.signing_in = True
        return self.get_response(request)


def _url_name(request) -> str | None:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return None
