"""The embedded SQLite default under a partnership's real use: a live server (gunicorn, two
workers of four threads) on a real SQLite file, eight clients signing in at once, rightly
and wrongly. Before write-ahead mode, a busy timeout and immediate transactions, some of
these answered 500 "database is locked", and a failed sign-in that did so was never
counted towards the lockout.

Needs no PostgreSQL: the server runs in its own processes on its own database file.
"""

import http.cookiejar
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
CLIENTS = 8
ROUNDS = 25
FAILURES_PER_NAME = 5  # below every lockout, so each failure must show in the count
PASSWORD = "a-long-test-passphrase-7"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, capture_output=True
    )


@pytest.fixture
def live_sqlite_server(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {
        name: value
        for name, value in os.environ.items()
        if name in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    } | {
        "DJANGO_SETTINGS_MODULE": "csp.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{database}",
        "FAST_PASSWORD_HASHER": "1",
    }
    manage(env, "migrate", "--noinput", "-v0")
    manage(
        env,
        "shell",
        "-c",
        "from accounts.models import User\n"
        f"for n in range({CLIENTS}): User.objects.create_user(f'officer{{n}}', password={PASSWORD!r})",
    )
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "csp.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "2", "--threads", "4", "--log-level", "warning"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{base}/health/", timeout=2)
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield base, database
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


class Browser:
    """One client with its own cookies, signing in through the real form."""

    def __init__(self, base: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect()
        )
        self.opener.open(f"{base}/accounts/login/", timeout=30).read()

    def sign_in(self, username: str, password: str) -> int:
        token = next(cookie.value for cookie in self.cookies if cookie.name == "csrftoken")
        data = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token}
        ).encode()
        request = urllib.request.Request(
            f"{self.base}/accounts/login/", data=data, headers={"Referer": self.base}
        )
        try:
            with self.opener.open(request, timeout=60) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            error.read()
            return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_parallel_sign_ins_on_sqlite_never_find_the_database_locked(live_sqlite_server):
    base, database = live_sqlite_server
    statuses: list[int] = []
    barrier = threading.Barrier(CLIENTS)

    def client(n: int) -> None:
        browser = Browser(base)
        barrier.wait()
        for round_ in range(ROUNDS):
            # A wrong password for a name of its own (five per name), then the right one.
            ghost = f"ghost{n}-{round_ // FAILURES_PER_NAME}"
            statuses.append(browser.sign_in(ghost, "wrong-password-123"))
            statuses.append(browser.sign_in(f"officer{n}", PASSWORD))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == CLIENTS * ROUNDS * 2
    assert statuses.count(500) == 0, f"{statuses.count(500)} sign-ins answered 500"
    assert sorted(set(statuses)) == [200, 302]  # the form again, or signed in

    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        failures = dict(
            db.execute(
                "SELECT username, SUM(failures_since_start) FROM axes_accessattempt "
                "GROUP BY username"
            ).fetchall()
        )
        # The per-account count (accounts/throttles.py) too: one row per name tried wrongly
        # (the officers' were forgiven by their right passwords), each with all five.
        per_account = db.execute(
            'SELECT attempts, COUNT(*) FROM accounts_throttle WHERE "limit" = ? GROUP BY attempts',
            ("sign-in",),
        ).fetchall()
    expected = {
        f"ghost{n}-{group}": FAILURES_PER_NAME
        for n in range(CLIENTS)
        for group in range(ROUNDS // FAILURES_PER_NAME)
    }
    assert failures == expected, "every failed sign-in is counted"
    assert per_account == [(FAILURES_PER_NAME, len(expected))]
