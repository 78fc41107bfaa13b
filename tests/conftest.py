"""Shared fixtures: the seeded plan once per test session, and the partnership's personas."""

import pytest

from accounts.models import Role
from actions.models import Agency
from csp import seed

from .factories import UserFactory


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the published plan and crime table once; each test runs in a rolled-back
    transaction on top of it."""
    with django_db_blocker.unblock():
        seed.load_plan()
        seed.load_crime_statistics()


@pytest.fixture(autouse=True)
def no_cache(settings):
    """Nothing is cached (csp/cache.py) unless a test asks for ``cached_pages``: each
    request then does all its work, as the query budgets count it, and no test's
    rolled-back data is served to the next."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.fixture
def cached_pages(settings):
    """The cache as in development (each process's memory), empty."""
    from django.core.cache import cache

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    cache.clear()
    return cache


@pytest.fixture(autouse=True)
def mail_goes_through_the_queue(settings):
    """As in production, every e-mail is queued and the worker delivers it.

    Django's test runner swaps EMAIL_BACKEND for its in-memory outbox, which would skip the
    queue; put the queue back and have the worker deliver to that outbox instead. A test
    sees mail in ``mailoutbox`` only after ``tests.mail_servers.deliver_queued_mail()``.
    """
    settings.EMAIL_BACKEND = "post_office.EmailBackend"
    settings.POST_OFFICE = settings.POST_OFFICE | {
        "BACKENDS": {"default": "django.core.mail.backends.locmem.EmailBackend"}
    }


@pytest.fixture(autouse=True)
def evidence_in_a_temporary_folder(settings, tmp_path):
    """Evidence files (review/evidence.py) go to a folder of the test's own, never the
    installation's evidence store."""
    settings.STORAGES = settings.STORAGES | {
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "evidence")},
        }
    }


@pytest.fixture
def plan(db):
    from priorities.models import Plan

    return Plan.objects.get(financial_year=2022)


def partner(username: str, agency_name: str):
    user = UserFactory(username=username, role=Role.PARTNER)
    user.agencies.add(Agency.objects.get(name=agency_name))
    return user


@pytest.fixture
def davss_user(db):
    return partner("davss", "DAVSS")


@pytest.fixture
def police_user(db):
    return partner("police", "Kent Police")


@pytest.fixture
def lookahead_user(db):
    return partner("lookahead", "Look Ahead")


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=Role.MANAGER)


@pytest.fixture
def board_member(db):
    return UserFactory(username="board", role=Role.BOARD)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.MANAGER, is_superuser=True, is_staff=True)
