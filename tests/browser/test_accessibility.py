"""Every page passes axe-core at a laptop's and a phone's width, in the states a person meets: each
role's view, a reminder's actions open, a refusal kept on its form, the audit report."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.seed import Seeded
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, PHONE, no_sideways_scroll, sign_in

pytestmark = pytest.mark.browser

PAGES = ["/worklist", "/worklist?who=untaken", "/patients", "/patients/P-LATE", "/patients/P-NEW",
         "/patients/P-SURV", "/patients/P-LATE/record/reassessment", "/patients/P-NEW/record/mdt_review",
         "/audit", "/audit/report", "/pathway", "/patients/NOBODY"]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366px", "390px"])
@pytest.mark.parametrize("role", ["navigator1", "clinician1"])
def test_every_page_passes_axe(server: tuple[str, Seeded], open_page: Any, viewport: dict[str, int],
                               role: str) -> None:
    base, _ = server
    page = open_page(base, viewport)
    page.goto(f"{base}/login")
    assert_accessible(page, "the sign-in page")
    sign_in(page, base, role)
    for url in PAGES:
        page.goto(base + url)
        assert_accessible(page, f"{url} ({role}, {viewport['width']} px)")
        no_sideways_scroll(page)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366px", "390px"])
def test_the_auditor_pages_pass_axe(server: tuple[str, Seeded], open_page: Any,
                                    viewport: dict[str, int]) -> None:
    base, _ = server
    page = open_page(base, viewport)
    sign_in(page, base, "auditor1")
    for url in ("/worklist", "/patients", "/audit", "/audit/report"):
        page.goto(base + url)
        assert_accessible(page, f"{url} (auditor)")
    page.goto(f"{base}/patients")
    page.locator("table a").first.click()
    assert_accessible(page, "a patient page seen by an auditor")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366px", "390px"])
def test_open_actions_and_kept_refusals_pass_axe(server: tuple[str, Seeded], open_page: Any,
                                                 viewport: dict[str, int]) -> None:
    from playwright.sync_api import expect

    base, _ = server
    page = open_page(base, viewport)
    sign_in(page, base, "navigator1")
    row = page.locator("table.worklist tbody tr").first
    row.locator("summary").click()
    assert_accessible(page, "the worklist with a reminder's actions open")
    row.get_by_label("Dismiss: it will not happen, because").select_option("other")
    row.get_by_role("button", name="Dismiss").click()
    expect(page.locator("[role=alert]")).to_contain_text("needs the justification in words")
    assert_accessible(page, "the worklist with a refused dismissal kept")
    no_sideways_scroll(page)
    page.goto(f"{base}/patients/P-NEW/record/recurrence")
    page.get_by_label("site").select_option("both")
    page.get_by_role("button", name="Record recurrence").click()
    expect(page.locator("#refusal")).to_be_visible()
    assert_accessible(page, "a refused entry kept on its form")
    no_sideways_scroll(page)  # the refusal's words wrap inside the form
