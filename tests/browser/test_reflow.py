"""Every screen size (WCAG 2.2 1.4.10 reflow): at 320, 390 and 1280 px no page is wider than
the window, for every role, over every page in its navigation and the main pages one click
from it. Wide tables scroll inside their own box (a focusable region), never the page.
Screenshots at 390 and 1280 px go to tests/artifacts/reflow/."""

import pytest

from accounts.models import User
from demodata.demo_returns import DEMO_PASSWORD
from tests.board_helpers import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (320, 390, 1280)
# One click from the navigation: each role's main pages that the menu does not list.
MORE_PAGES = {
    "board": ["/accessibility/", "/accounts/password_change/"],
    "manager": ["/crime/figures/", "/crime/import/"],
    "davss": [],
}
WIDEST = """() => {
  const width = document.documentElement.clientWidth;
  return [document.documentElement.scrollWidth, width];
}"""
LINKS = """(selector) => [...document.querySelectorAll(selector)]
  .map((a) => a.getAttribute('href'))
  .filter((href) => href && href.startsWith('/') && !href.startsWith('/admin'))"""


@pytest.fixture
def demo(page):
    load_demo()
    return {user.username: user for user in User.objects.all()}


def pages_of(page) -> list[str]:
    """The menu's pages, and the first priority, action and agency linked from them."""
    urls = page.evaluate(LINKS, ".govuk-service-navigation__list a")
    more = []
    for url in list(urls):
        page.goto(url)
        for link in page.evaluate(LINKS, "main a"):
            path = link.split("?")[0].split("#")[0]
            kind = path.strip("/").split("/")[0]
            if path.count("/") > 2 and kind not in {k.split("/")[1] for k in more}:
                more.append(path)
    return list(dict.fromkeys([*urls, *more]))


@pytest.mark.parametrize("role", ["board", "manager", "davss"])
def test_no_page_is_wider_than_the_window(page, demo, sign_in, role, artifacts):
    sign_in(demo[role], DEMO_PASSWORD)
    urls = [*pages_of(page), *MORE_PAGES[role]]
    assert len(urls) >= 5
    folder = artifacts / "reflow"
    folder.mkdir(exist_ok=True)
    too_wide = []
    for url in urls:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(url)
            assert response.status < 400, url
            scroll_width, window = page.evaluate(WIDEST)
            if scroll_width > window:
                too_wide.append(f"{url} at {width} px: {scroll_width} px wide")
            if width != 320:
                name = url.strip("/").replace("/", "-") or "home"
                page.screenshot(path=str(folder / f"{role}-{name}-{width}.png"))
    assert not too_wide, "\n".join(too_wide)


def test_wide_tables_scroll_in_a_focusable_region(page, demo, sign_in):
    sign_in(demo["board"], DEMO_PASSWORD)
    page.set_viewport_size({"width": 320, "height": 900})
    page.goto("/plan/")
    region = page.locator(".app-table-container").first
    assert region.get_attribute("role") == "region"
    assert region.get_attribute("tabindex") == "0"
    assert region.get_attribute("aria-label") or region.get_attribute("aria-labelledby")
    assert region.evaluate("(box) => box.scrollWidth > box.clientWidth")
    region.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    region.evaluate("(box) => box.scrollLeft > 0 || new Promise((done) => setTimeout(done, 500))")
    assert region.evaluate("(box) => box.scrollLeft") > 0
