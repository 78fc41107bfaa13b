"""bench/run's helper: benchmark databases, timing a command, and measuring pages over HTTP.

    bench.py createdb POSTGRES_URL NAME [--fresh]   create the database (drop it first)
    bench.py dropdb POSTGRES_URL NAME
    bench.py free-port                              a free port on 127.0.0.1
    bench.py time -- COMMAND…                       run it, print its wall time in seconds
    bench.py measure --base-url URL --scale N …     time the pages, write the results

To benchmark another page, add one line to PAGES.
"""

import argparse
import http.client
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
QUERY_HEADER = "X-Query-Count"


# Pages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    label: str
    user: str | None  # the demo account it is read as; None for anonymous
    url: Callable[["Objects"], str]  # raises NoReverseMatch where the page does not exist yet


def _reverse(name, *args, query=None):
    from django.urls import reverse

    url = reverse(name, args=args)
    return f"{url}?{urlencode(query)}" if query else url


TRIVIAL = Page("Health check (trivial page)", None, lambda o: _reverse("health"))
# The least a signed-in page costs: a static page with the layout, session and user.
FLOOR = "Accessibility statement (signed-in floor)"
PAGES = [
    Page(FLOOR, "board", lambda o: _reverse("accessibility")),
    Page("Home: partner (Your returns)", "davss", lambda o: _reverse("home")),
    Page("Home: manager", "manager", lambda o: _reverse("home")),
    Page("Home: board member", "board", lambda o: _reverse("home")),
    Page("Action plan", "board", lambda o: _reverse("plan")),
    Page(
        "Action plan, filtered",
        "board",
        lambda o: _reverse("plan", query={"agency": o.davss.pk, "q": "domestic"}),
    ),
    Page("Action plan CSV", "board", lambda o: _reverse("plan", query={"_export": "csv"})),
    Page("Priority 1", "board", lambda o: _reverse("priority_detail", o.priority.pk)),
    Page("Action 1.1", "manager", lambda o: _reverse("action_detail", o.action.pk)),
    Page("Agencies", "police", lambda o: _reverse("agency_list")),
    Page("Agency: DAVSS", "manager", lambda o: _reverse("agency_detail", o.davss.pk)),
    Page(
        "Return form (new, Q4)",
        "davss",
        lambda o: _reverse("return_edit", o.open_quarter.pk, o.action.pk, o.davss.pk),
    ),
    Page("Return page", "davss", lambda o: _reverse("return_detail", o.davss_return.pk)),
    Page("Review queue", "manager", lambda o: _reverse("review_queue")),
    Page("Quarters", "manager", lambda o: _reverse("quarter_list")),
    Page("Completeness grid", "manager", lambda o: _reverse("completeness")),
    Page("Dashboard", "board", lambda o: _reverse("dashboard")),
    Page("Quarterly report", "board", lambda o: _reverse("quarterly_report")),
    Page("Crime statistics", "board", lambda o: _reverse("crime_statistics")),
    Page("Crime type: All crime", "board", lambda o: _reverse("crime_type_detail", o.all_crime.pk)),
    Page("Crime league table", "board", lambda o: _reverse("crime_league")),
    Page("County positions", "board", lambda o: _reverse("crime_positions")),
    Page("Neighbourhoods", "board", lambda o: _reverse("crime_neighbourhoods")),
    Page("Admin: actions changelist", "admin", lambda o: "/admin/actions/action/"),
]
# The throughput run: the board's dashboard (or home, before there is a dashboard) and
# the trivial page, under concurrent clients.
THROUGHPUT = ["Dashboard", "Home: board member"]


class Objects:
    """The seeded objects the pages are about, looked up in the benchmark database."""

    @cached_property
    def plan(self):
        from priorities.models import Plan

        return Plan.objects.current()

    @cached_property
    def priority(self):
        return self.plan.priorities.get(number=1)

    @cached_property
    def action(self):
        from actions.models import Action

        return Action.objects.get(priority=self.priority, number=1)

    @cached_property
    def davss(self):
        from actions.models import Agency

        return Agency.objects.get(name="DAVSS")

    @cached_property
    def open_quarter(self):
        return self.plan.quarters.filter(is_open=True).order_by("number").first()

    @cached_property
    def all_crime(self):
        from crimestats.models import CrimeType

        return CrimeType.objects.get(name="All crime")

    @cached_property
    def davss_return(self):
        from actions.models import QuarterlyReturn

        return (
            QuarterlyReturn.objects.filter(agency=self.davss, quarter__plan=self.plan)
            .order_by("quarter__number", "action__priority__number", "action__number")
            .first()
        )


def data_sizes() -> dict[str, int]:
    from accounts.models import User
    from actions.models import Action, QuarterlyReturn
    from crimestats.models import CrimeFigure
    from priorities.models import Plan

    return {
        "plans": Plan.objects.count(),
        "actions": Action.objects.count(),
        "returns": QuarterlyReturn.objects.count(),
        "users": User.objects.count(),
        "crime figures": CrimeFigure.objects.count(),
    }


# HTTP --------------------------------------------------------------------------------------


class Client:
    """A browser's worth of HTTP for one person: cookies kept by hand (the session cookie
    is Secure with DEBUG off, and this is plain HTTP on loopback)."""

    def __init__(self, base_url: str, cookies: dict | None = None):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)
        self.cookies = dict(cookies or {})

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, ConnectionError):
            # gunicorn's sync workers close the connection after each response.
            self.connection.close()
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        content = response.read()
        for cookie in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response, content

    def get(self, path: str):
        return self.request("GET", path)

    def sign_in(self, username: str, password: str) -> None:
        """Post the real login form, with its CSRF token, as a browser would."""
        response, content = self.get("/accounts/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        if response.status != 200 or not match:
            raise SystemExit(f"The login page did not answer as expected ({response.status}).")
        body = urlencode(
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": match.group(1).decode(),
            }
        ).encode()
        response, _ = self.request(
            "POST",
            "/accounts/login/",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        signed_in = response.status == 302 and self.get("/")[0].status == 200
        if not signed_in:
            raise SystemExit(f"Signing in as {username} failed ({response.status}).")


@dataclass
class Timing:
    label: str
    user: str | None
    url: str
    samples: list[float] = field(default_factory=list)
    queries: set[int] = field(default_factory=set)
    size: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.samples, n=20, method="inclusive")[18]

    @property
    def query_text(self) -> str:
        return "–" if not self.queries else "/".join(str(q) for q in sorted(self.queries))


def time_pages(targets: list[tuple[Client, Page, str]], warmup: int, count: int) -> list[Timing]:
    """Warm each page up, then time ``count`` rounds in which every page is requested once,
    so a burst of load on the machine falls on every page alike, not on one page's turn."""
    timings = [Timing(page.label, page.user, url) for _, page, url in targets]
    for _ in range(warmup):
        for client, page, url in targets:
            fetch(client, page, url)
    for _ in range(count):
        for (client, page, url), timing in zip(targets, timings, strict=True):
            started = time.perf_counter()
            response, content = fetch(client, page, url)
            timing.samples.append((time.perf_counter() - started) * 1000)
            header = response.getheader(QUERY_HEADER)
            if header is not None:
                timing.queries.add(int(header))
            timing.size = len(content)
    return timings


def fetch(client: Client, page: Page, url: str):
    response, content = client.get(url)
    if response.status != 200:
        raise SystemExit(f"{page.label}: {url} answered {response.status}.")
    return response, content


def throughput(base_url: str, cookies: dict, url: str, concurrency: int, total: int) -> dict:
    """Requests per second with ``concurrency`` clients each sending total/concurrency
    requests back to back."""
    each = max(1, total // concurrency)
    failures = []

    def client_run(_):
        client = Client(base_url, cookies)
        for _ in range(each):
            response, _ = client.get(url)
            if response.status != 200:
                failures.append(response.status)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client_run, range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "url": url,
        "requests": each * concurrency,
        "seconds": elapsed,
        "per_second": each * concurrency / elapsed,
        "failures": len(failures),
    }


# Report ------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0].split()[0]


def markdown(run: dict, baseline: dict | None) -> str:
    trivial = run["trivial"]["median"]
    floor = next((row for row in run["pages"] if row["label"] == FLOOR), None)
    lines = [
        f"### Scale {run['scale']}",
        "",
        f"{run['when']} · {run['machine']} · PostgreSQL {run['postgres']} · gunicorn, "
        f"{run['workers']} sync workers · DEBUG off",
        "",
        "Data: " + ", ".join(f"{count:,} {kind}" for kind, count in run["sizes"].items()) + ".",
        f"Each page: {run['warmup']} warm-up requests, then {run['requests']} timed, in rounds "
        "of one request to every page in turn, over loopback, by a client signed in through "
        "the login form. Queries: the server's count per request (X-Query-Count).",
        "",
        "| page | as | median ms | p95 ms | queries | × trivial"
        + (" | × floor" if floor else "")
        + (f" | × scale {baseline['scale']}" if baseline else "")
        + " |",
        "|---|---|--:|--:|--:|--:" + ("|--:" if floor else "") + ("|--:" if baseline else "") + "|",
    ]
    before = {row["label"]: row for row in baseline["pages"]} if baseline else {}
    for row in [run["trivial"], *run["pages"]]:
        cells = [
            row["label"],
            row["user"] or "anonymous",
            f"{row['median']:.1f}",
            f"{row['p95']:.1f}",
            row["queries"],
            f"{row['median'] / trivial:.1f}",
        ]
        if floor:
            cells.append(f"{row['median'] / floor['median']:.1f}")
        if baseline:
            old = before.get(row["label"]) or (
                baseline["trivial"] if row is run["trivial"] else None
            )
            cells.append(f"{row['median'] / old['median']:.2f}" if old else "–")
        lines.append("| " + " | ".join(cells) + " |")
    if floor:
        lines += [
            "",
            f"× floor: against the {FLOOR.lower()}, the least any signed-in page costs here "
            "(read the session and the user, render the layout, save the session).",
        ]
    if run["skipped"]:
        lines += ["", "Not measured (no such page yet): " + ", ".join(run["skipped"]) + "."]
    lines += ["", "**Throughput**", ""]
    for name, result in run["throughput"].items():
        lines.append(
            f"- {name}: {result['per_second']:.0f} requests/s "
            f"({result['requests']} requests from {run['concurrency']} concurrent clients "
            f"in {result['seconds']:.2f} s, {result['failures']} failed)"
        )
    lines += [
        "",
        f"**seed** on an empty, migrated database: {run['seed_seconds']:.1f} s. "
        f"**generate_history --scale {run['scale']}** this run: {run['history_seconds']:.1f} s"
        " (nothing to add when the database was already at this scale; `--fresh` rebuilds it).",
    ]
    plan = next((row for row in run["pages"] if row["label"] == "Action plan"), None)
    admin = next((row for row in run["pages"] if row["label"].startswith("Admin")), None)
    if plan and admin:
        lines.append(
            f"**Action plan vs the admin's changelist of actions**: {plan['median']:.1f} ms "
            f"against {admin['median']:.1f} ms ({plan['median'] / admin['median']:.2f}×)."
        )
    return "\n".join(lines) + "\n"


# Commands ----------------------------------------------------------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csp.settings")
    import django

    django.setup()


def measure(args) -> None:
    setup_django()
    from django.urls import NoReverseMatch

    from demodata.demo_returns import DEMO_PASSWORD

    wait_until_up(args.base_url)
    objects = Objects()
    clients: dict[str | None, Client] = {None: Client(args.base_url)}
    for user in {page.user for page in PAGES if page.user}:
        clients[user] = Client(args.base_url)
        clients[user].sign_in(user, DEMO_PASSWORD)

    targets, skipped = [(clients[None], TRIVIAL, TRIVIAL.url(objects))], []
    for page in PAGES:
        try:
            targets.append((clients[page.user], page, page.url(objects)))
        except NoReverseMatch:
            skipped.append(page.label)
    print(f"  timing {len(targets)} pages, {args.requests} rounds", file=sys.stderr)
    trivial, *timings = time_pages(targets, args.warmup, args.requests)
    trivial_url = trivial.url

    runs = {}
    chosen = next((t for label in THROUGHPUT for t in timings if t.label == label), None)
    total = max(args.requests * 5, 100)
    if chosen:
        runs[chosen.label] = throughput(
            args.base_url, clients[chosen.user].cookies, chosen.url, args.concurrency, total
        )
    runs[TRIVIAL.label] = throughput(args.base_url, {}, trivial_url, args.concurrency, total * 2)

    def row(timing: Timing) -> dict:
        return {
            "label": timing.label,
            "user": timing.user,
            "url": timing.url,
            "median": timing.median,
            "p95": timing.p95,
            "queries": timing.query_text,
            "bytes": timing.size,
        }

    run = {
        "scale": args.scale,
        "when": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "postgres": postgres_version(),
        "workers": args.workers,
        "warmup": args.warmup,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "sizes": data_sizes(),
        "trivial": row(trivial),
        "pages": [row(timing) for timing in timings],
        "skipped": skipped,
        "throughput": runs,
        "seed_seconds": args.seed_seconds,
        "history_seconds": args.history_seconds,
    }
    out = Path(args.out)
    baseline_file = out.with_name("scale-1.json")
    baseline = None
    if args.scale != 1 and baseline_file.exists():
        baseline = json.loads(baseline_file.read_text())
    out.with_suffix(".json").write_text(json.dumps(run, indent=2))
    report = markdown(run, baseline)
    out.with_suffix(".md").write_text(report)
    print(report)


def wait_until_up(base_url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            response, _ = Client(base_url).get("/health/")
            if response.status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"The server at {base_url} did not start within {seconds:.0f} s.")
        time.sleep(0.2)


def maintenance_connection(postgres_url: str):
    import psycopg2

    connection = psycopg2.connect(f"{postgres_url.rstrip('/')}/postgres")
    connection.autocommit = True  # CREATE and DROP DATABASE refuse to run in a transaction
    return closing(connection)


def createdb(args) -> None:
    with maintenance_connection(args.postgres_url) as connection, connection.cursor() as cursor:
        if args.fresh:
            cursor.execute(f'DROP DATABASE IF EXISTS "{checked(args.name)}"')
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{checked(args.name)}"')


def dropdb(args) -> None:
    with maintenance_connection(args.postgres_url) as connection, connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{checked(args.name)}"')


def checked(name: str) -> str:
    if not re.fullmatch(r"csp_plan_bench_[a-z0-9_]+", name):
        raise SystemExit(f"Refusing to touch the database {name!r}: not a benchmark database.")
    return name


def free_port(args) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        print(probe.getsockname()[1])


def time_command(args) -> None:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    started = time.perf_counter()
    # The command's own output goes to stderr, so stdout carries only the time.
    subprocess.run(command, check=True, stdout=sys.stderr)  # noqa: S603 (bench/run's own commands)
    print(f"{time.perf_counter() - started:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True)

    create = commands.add_parser("createdb")
    create.add_argument("postgres_url")
    create.add_argument("name")
    create.add_argument("--fresh", action="store_true")
    create.set_defaults(handler=createdb)

    drop = commands.add_parser("dropdb")
    drop.add_argument("postgres_url")
    drop.add_argument("name")
    drop.set_defaults(handler=dropdb)

    commands.add_parser("free-port").set_defaults(handler=free_port)

    timer = commands.add_parser("time")
    timer.add_argument("command", nargs=argparse.REMAINDER)
    timer.set_defaults(handler=time_command)

    run = commands.add_parser("measure")
    run.add_argument("--base-url", required=True)
    run.add_argument("--scale", type=int, required=True)
    run.add_argument("--requests", type=int, default=40)
    run.add_argument("--warmup", type=int, default=5)
    run.add_argument("--concurrency", type=int, default=4)
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--seed-seconds", type=float, default=0.0)
    run.add_argument("--history-seconds", type=float, default=0.0)
    run.add_argument("--out", required=True)
    run.set_defaults(handler=measure)

    args = parser.parse_args()
    args.handler(args)


if __name__ == "__main__":
    main()
