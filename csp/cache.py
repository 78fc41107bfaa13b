"""The heaviest pages' figures and tables, in Django's cache until a change makes them stale.

The quarterly report, the completeness grid, the board home and the review queue read every
obligation and return of the current plan: the same answer until a return, an action, a quarter, an agency
or a user's agencies change. Each answer is cached under a key naming the data version, so
any such change, saved through the ORM anywhere, makes every cached answer unreachable at
once (``bump``, on the post_save/post_delete/m2m_changed signals of the models below), and
old entries simply expire.

Keys also name what the answer depends on besides the data: the plan, the quarter, the day
(timeliness and "past due" move with the date) and whose view it is (``viewer``: a partner
sees their own agencies' returns; the manager and the board see every approved return, and
known_state words a return by role).

With several workers, the cache must be shared (REDIS_URL, csp/settings.py): a change
handled by one worker then reaches the others. Writes that bypass the ORM's signals
(``QuerySet.update``, ``bulk_create``) call ``bump`` themselves.
"""

import datetime

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

VERSION_KEY = "summaries:version"
TIMEOUT = 60 * 60  # an hour: an entry unread for that long is rebuilt on demand
# Apps whose models the figures read: a save or delete in any of them makes them stale.
WATCHED_APPS = {"actions", "priorities", "accounts", "crimestats", "deathreviews"}
# Models in those apps that no figure reads, written on every sign-in or request.
IGNORED_MODELS = {"accounts.throttle"}


def version() -> int:
    current = cache.get(VERSION_KEY)
    if current is None:
        # add(): two workers starting at once agree on the first version.
        cache.add(VERSION_KEY, 1, timeout=None)
        current = cache.get(VERSION_KEY, 1)
    return current


def bump() -> None:
    """Every cached answer is stale from now on."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not there yet (or evicted): any new value will do
        cache.set(VERSION_KEY, version() + 1, timeout=None)


def viewer(user) -> str:
    """Whose view: the role, and a partner's own id (their agencies' returns only)."""
    return f"partner-{user.pk}" if user.is_partner else str(user.role)


def cached(name: str, parts: tuple, build):
    """``build()``'s answer, from the cache when the data has not changed since."""
    key = ":".join(["summaries", str(version()), name, *(str(part) for part in parts)])
    found = cache.get(key)
    if found is None:
        found = build()
        cache.set(key, found, timeout=TIMEOUT)
    return found


def today_part(today: datetime.date) -> str:
    return today.isoformat()


def _stale(sender, **kwargs) -> None:
    meta = sender._meta
    if meta.app_label in WATCHED_APPS and meta.label_lower not in IGNORED_MODELS:
        bump()


def connect() -> None:
    post_save.connect(_stale, dispatch_uid="summaries-cache-save")
    post_delete.connect(_stale, dispatch_uid="summaries-cache-delete")
    m2m_changed.connect(_stale, dispatch_uid="summaries-cache-m2m")
