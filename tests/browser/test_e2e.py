"""End to end in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright; no
browser download): a navigator signs in, sees the overdue reassessment on the worklist, records
the reassessment, and sees the reminder resolved and the phase change. Screenshots are kept in
test-artifacts/ and the worklist and patient pages are copied to docs/screenshots/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.live import serving
from tests.api.seed import PASSWORD, Seeded, seed

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
DOC_SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; under CI the browser test must run.")
    pytest.skip(message)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Seeded]]:
    """The app served by uvicorn on a free loopback port, in a thread."""
    from tracker.web import create_app

    seeded = seed(tmp_path)
    with serving(create_app(seeded.tracker, seeded.users)) as base:
        yield base, seeded


@pytest.fixture
def page(server: tuple[str, Seeded]) -> Iterator[object]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        # the app must make no request outside itself
        base = server[0]
        outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith((base, "data:")) else outside.append(r.url))
        try:
            yield page
        finally:
            context.close()
            browser.close()
        assert outside == [], f"requests outside the app: {outside}"


def _shot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]  # a playwright Page
    return path


def test_a_navigator_works_an_overdue_reassessment_from_the_worklist(server: tuple[str, Seeded],
                                                                     page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    base, _ = server
    page.goto(f"{base}/worklist")
    expect(page).to_have_url(f"{base}/login?next=/worklist")
    _shot(page, "01-login")
    page.get_by_label("User name").fill("navigator1")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")  # keyboard only: the form submits on Enter

    expect(page).to_have_url(f"{base}/worklist")
    expect(page.locator(".flash")).to_contain_text("Signed in as navigator1")
    row = page.locator("table.worklist tbody tr").first
    expect(row).to_contain_text("P-LATE")
    expect(row).to_contain_text("reassessment due")
    expect(row.locator(".badge")).to_have_text("overdue")
    worklist_shot = _shot(page, "02-worklist")

    row.get_by_role("link", name="P-LATE").click()
    expect(page).to_have_url(f"{base}/patients/P-LATE")
    expect(page.locator("#phase")).to_have_text("reassessment")
    expect(page.locator("#reminders")).to_contain_text("overdue")
    expect(page.locator("svg.timeline")).to_be_visible()
    _shot(page, "03-patient-before")

    # a refusal is shown inline, in the nurse's words, and nothing is recorded
    form = page.locator("#form-reassessment")
    form.locator("summary").click()
    form.get_by_label("date").fill("2024-10-01")
    form.get_by_label("response (RECIST)").select_option("PR")
    form.get_by_label("resectable").select_option("no")
    form.get_by_role("button", name="Record resectability reassessment").click()
    expect(page.locator("#refusal")).to_contain_text("before the primary tumour was diagnosed")
    expect(page.locator("#phase")).to_have_text("reassessment")
    _shot(page, "04-patient-refusal")

    form = page.locator("#form-reassessment")
    form.get_by_label("date").fill("2025-05-30")
    form.get_by_role("button", name="Record resectability reassessment").click()

    expect(page).to_have_url(f"{base}/patients/P-LATE")
    expect(page.locator(".flash")).to_contain_text("reassessment → neoadjuvant")
    expect(page.locator("#phase")).to_have_text("neoadjuvant")
    reminders = page.locator("#reminders tbody tr")
    expect(reminders.nth(0)).to_contain_text("resolved")
    expect(reminders.nth(1)).to_contain_text("scheduled")
    expect(page.locator("#history tbody tr").first).to_contain_text("reassessment → neoadjuvant")
    patient_shot = _shot(page, "05-patient-after")

    page.get_by_role("link", name="Worklist").click()
    expect(page.locator("table.worklist")).to_have_count(0)
    expect(page.locator(".empty")).to_contain_text("Nothing due or overdue")
    _shot(page, "06-worklist-after")

    page.goto(f"{base}/pathway")
    expect(page.locator("svg.pathway")).to_be_visible()
    _shot(page, "07-pathway")

    DOC_SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(worklist_shot, DOC_SHOTS / "worklist.png")
    shutil.copyfile(patient_shot, DOC_SHOTS / "patient.png")
