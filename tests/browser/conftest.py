"""The browser tests' fixtures: the app served by uvicorn on a free loopback port
(tests/api/live.py), and Debian's /usr/bin/chromium driven by Playwright (never ``playwright
install``) at a laptop's or a phone's width, with axe-core (fetched from the npm registry by
``./scripts/setup --system``) loaded into every page so a test can check it
(:func:`tests.browser.axe.assert_accessible`).

Without chromium or axe-core the browser tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.live import serving
from tests.api.seed import PASSWORD, Seeded, seed
from tests.browser.axe import AXE_SCRIPT

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
DOC_SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: a laptop (the issue's 1366 x 768) and a phone (390 px wide)
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def require(path: Path, what: str) -> None:
    if path.exists():
        return
    message = f"{path} is missing ({what})"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; under CI the browser tests must run.")
    pytest.skip(message)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Seeded]]:
    """The small seeded database (tests/api/seed.py) served (tests/api/live.py)."""
    from tracker.web import create_app

    seeded = seed(tmp_path)
    with serving(create_app(seeded.tracker, seeded.users)) as base:
        yield base, seeded


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(CHROMIUM, "apt-get install -y chromium")
    require(AXE_SCRIPT, "./scripts/setup --system fetches axe-core from the npm registry")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """``open_page(base, viewport)``: a new page at that size, axe-core loaded into every document
    (as an init script: the app's CSP, which forbids inline scripts, stays as it is), and a check
    at the end that nothing was requested outside the app."""
    contexts: list[tuple[Any, str, list[str]]] = []

    def open_(base: str, viewport: dict[str, int] = DESKTOP) -> Any:
        context = browser.new_context(viewport=viewport)
        context.add_init_script(path=str(AXE_SCRIPT))
        page = context.new_page()
        outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith((base, "data:")) else outside.append(r.url))
        contexts.append((context, base, outside))
        return page

    yield open_
    for context, _, outside in contexts:
        context.close()
        assert outside == [], f"requests outside the app: {outside}"


def sign_in(page: Any, base: str, name: str, then: str = "/worklist") -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/login?next={then}")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")  # keyboard only: the form submits on Enter
    expect(page).to_have_url(f"{base}{then}")


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_sideways_scroll(page: Any) -> None:
    """The page is no wider than the screen: nothing to scroll sideways to (a table, a form)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width} px wide"
