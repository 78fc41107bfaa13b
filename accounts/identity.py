"""Who an identifier typed at the sign-in page means: a username or an e-mail address, in
any case. One home for it, so that the password check and every sign-in limit (django-axes's
per username and address, accounts/throttles.py's per account) count "DAVSS", "davss" and
davss's e-mail address as the same account."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


def find_account(typed) -> object | None:
    """The one user the text names: its exact username, else the one username or the one
    e-mail address equal to it ignoring case. None where it names nobody, or more than
    one user (two accounts sharing an e-mail address sign in by username)."""
    text = "" if typed is None else str(typed).strip()
    if not text:
        return None
    users = get_user_model()._default_manager
    exact = users.filter(username=text).first()
    if exact is not None:
        return exact
    for lookup in ("username__iexact", "email__iexact"):
        found = list(users.filter(**{lookup: text})[:2])
        if len(found) == 1:
            return found[0]
        if found:
            return None
    return None


def lockout_name(typed) -> str:
    """The name every limit counts under: the account's username, or what was typed where
    it names no account (so unknown names are limited alike), in one case."""
    user = find_account(typed)
    text = user.get_username() if user is not None else ("" if typed is None else str(typed))
    return text.strip().casefold()


def axes_username(request, credentials=None) -> str:
    """AXES_USERNAME_CALLABLE: django-axes locks the account, however it was named."""
    typed = (credentials or {}).get("username")
    if typed is None and request is not None:
        typed = getattr(request, "POST", {}).get("username")
    return lockout_name(typed)


class EmailOrUsernameBackend(ModelBackend):
    """Django's ModelBackend, finding the user by username or e-mail address in any case."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = find_account(username)
        if user is None:
            # As ModelBackend: hash anyway, so the time taken does not say the name is unknown.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
