"""Browser tests: Debian's Chromium, driven by Playwright, against pytest-django's live server.

- ``browser``: one headless Chromium for the session. Missing Chromium skips the browser
  tests, unless REQUIRE_BROWSER=1 (CI), where it fails them.
- ``page``: a fresh browser context on the live server for each test. Anything the browser
  reports as broken (a console error, such as a Content-Security-Policy refusal or a 404 for
  a stylesheet, or an uncaught script error) fails the test.
- ``axe``: runs axe-core (bundled with axe-playwright-python, so offline) on a page and
  fails on any serious or critical violation.
- ``sign_in``: signs a persona (tests/conftest.py) in through the real form.

live_server tests run in transactions that are flushed afterwards, wiping the plan that
tests/conftest.py seeds once per session; ``seeded`` loads it again before each browser
test (seeding is idempotent).
"""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from csp import seed
from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in the test's thread; Django refuses database
# calls from a thread with a running loop unless told it is safe, which it is here: the
# loop only waits on the browser.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # Debian's package
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(settings.BASE_DIR) / "tests" / "artifacts"
BLOCKING_IMPACTS = {"serious", "critical"}
# Files the pages cannot look right or work without; `make install` puts them in place.
VENDORED = ["vendor/govuk-frontend.min.css", "vendor/govuk-frontend.min.js"]


def browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}


def unavailable(reason: str):
    if browser_required():
        pytest.fail(
            f"{reason} (REQUIRE_BROWSER is set, so this fails rather than skips)", pytrace=False
        )
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import Error, sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except Error as error:
        playwright.stop()
        unavailable(f"Chromium at {CHROMIUM} would not start: {error}")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="session")
def vendored_static():
    missing = [name for name in VENDORED if not finders.find(name)]
    if missing:
        pytest.fail(
            f"static/{', static/'.join(missing)} missing: run `make install` (bin/vendor-static "
            "copies govuk-frontend from node_modules into static/vendor/).",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (git-ignored; CI keeps them)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def seeded(live_server, transactional_db):
    """The published plan and crime table, loaded again before anything else in each test
    (autouse fixtures come first), so the persona fixtures find their agencies."""
    seed.load_plan()
    seed.load_crime_statistics()


@pytest.fixture
def page(browser, live_server, vendored_static, request):
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    problems = []

    def console(message):
        if message.type == "error":  # CSP refusals and failed loads are reported here
            problems.append(f"console error: {message.text} {message.location.get('url', '')}")

    def response(response):
        # Pages are the tests' to check; a failed stylesheet, script or image is not.
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"HTTP {response.status}: {response.url}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("response", response)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
        page.screenshot(path=ARTIFACTS / f"failed-{name}.png", full_page=True)
    context.close()
    if problems and (report is None or report.passed):
        pytest.fail("The browser reported problems:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test, so ``page`` knows whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# Accessibility ---------------------------------------------------------------------------


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']}\n"
            f"    {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            lines.append(f"    - {' '.join(map(str, node['target']))}")
            lines.append(f"      {node['html'][:200]}")
            summary = node.get("failureSummary") or ""
            lines.extend(f"      {line}" for line in summary.splitlines())
    return "\n".join(lines)


class AxeCheck:
    """``axe(page)``: run axe-core on what the page shows now; fail on serious or critical
    violations, listing each with the elements at fault. Minor and moderate ones are
    returned for the test to look at."""

    def __init__(self):
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()

    def __call__(self, page, context: str | None = None) -> list[dict]:
        results = self.axe.run(page, context=context).response
        assert results["testEngine"]["name"] == "axe-core"
        assert results["passes"], f"axe checked nothing on {page.url}"
        violations = results["violations"]
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        if blocking:
            pytest.fail(
                f"axe-core {results['testEngine']['version']} found {len(blocking)} serious or "
                f"critical accessibility violation(s) on {page.url}:\n{describe(blocking)}",
                pytrace=False,
            )
        return [v for v in violations if v["impact"] not in BLOCKING_IMPACTS]


@pytest.fixture(scope="session")
def axe():
    return AxeCheck()


# Signing in ---------------------------------------------------------------------------------


@pytest.fixture
def sign_in(page):
    """Sign in through the real form, as a person would; returns the page, on home."""

    def sign_in(user, password: str = PASSWORD):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("/")
        return page

    return sign_in
