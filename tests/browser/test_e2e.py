"""End to end in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright; no
browser download), on the small seeded database: a navigator signs in, sees the overdue
reassessment on the worklist, reads on the patient page why the journey is not moving, is refused
an entry that cannot be true (in words, where she looks, with what she typed), and records the
reassessment that clears the reminder. Screenshots are kept in test-artifacts/; the patient page
is copied to docs/screenshots/.
"""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest

from tests.api.seed import Seeded
from tests.browser.axe import assert_accessible
from tests.browser.conftest import DESKTOP, DOC_SHOTS, PHONE, no_sideways_scroll, shot, sign_in

pytestmark = pytest.mark.browser


def in_view(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= -1 and box["y"] + box["height"] <= page.viewport_size["height"]


def test_a_navigator_works_an_overdue_reassessment_from_the_worklist(server: tuple[str, Seeded],
                                                                     open_page: Any) -> None:
    from playwright.sync_api import expect

    base, _ = server
    page = open_page(base, DESKTOP)
    page.goto(f"{base}/worklist")
    expect(page).to_have_url(f"{base}/login?next=/worklist")
    shot(page, "01-login")
    sign_in(page, base, "navigator1")
    expect(page.locator(".flash")).to_contain_text("Signed in as navigator1")
    overdue = page.locator("#overdue")
    expect(overdue.locator("h2")).to_have_text("Overdue 1")
    row = overdue.locator("tbody tr").first
    expect(row).to_contain_text("P-LATE")
    expect(row).to_contain_text("resectability reassessment")
    expect(row).to_contain_text("1 Apr 2025 · 47 days overdue")
    expect(row).to_contain_text("not yet taken")
    shot(page, "02-worklist")

    row.get_by_role("link", name="P-LATE", exact=True).click()
    expect(page).to_have_url(f"{base}/patients/P-LATE")
    # the first thing the page says is why the journey is not moving
    expect(page.locator("main h2").first).to_have_text("Why is this patient not moving?")
    expect(page.locator("#headline")).to_have_text(
        "Waiting for a resectability reassessment since 1 Apr 2025 (61 days). 1 reminder is overdue.")
    expect(page.locator("#phase")).to_have_text("reassessment")
    expect(page.locator("#care-team")).to_have_text("liver")
    expect(page.locator("#statement-G-REASSESS-2M blockquote")).to_have_text(
        "“Reassess resectability every 2 months during chemotherapy.”")
    expect(page.locator("svg.timeline")).to_be_visible()
    ticks = page.locator("svg.timeline text.tick").all_text_contents()
    assert ticks and all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", t) for t in ticks), ticks
    assert_accessible(page)
    shot(page, "03-patient-before")

    # a refusal is shown where the nurse looks, in her words, with what she typed; a reload does
    # not send the form again
    form = page.locator("#form-reassessment")
    form.locator("summary").click()
    form.get_by_label("date").fill("2024-10-01")
    form.get_by_label("response (RECIST)").select_option("PR")
    form.get_by_label("resectable (needed)").select_option("no")
    form.get_by_role("button", name="Record resectability reassessment").click()
    expect(page).to_have_url(f"{base}/patients/P-LATE#refusal")
    refusal = page.locator("#refusal")
    expect(refusal).to_contain_text("before the primary tumour was diagnosed")
    assert in_view(page, refusal), "the refusal is not where the nurse is looking"
    expect(form.get_by_label("response (RECIST)")).to_have_value("PR")
    expect(form.get_by_label("date")).to_have_value("2024-10-01")
    no_sideways_scroll(page)
    shot(page, "04-patient-refusal")
    page.reload()
    expect(page.locator("#refusal")).to_have_count(0)
    expect(page.locator("#history tbody tr")).to_have_count(3)

    # the reminder's own action: the reassessment form, on its own, cleared when recorded
    page.locator("#open-reminders").get_by_role("link", name="Record reassessment for P-LATE").click()
    expect(page.locator("#clears")).to_contain_text("the resectability reassessment reminder due 1 Apr 2025")
    page.get_by_label("date").fill("2025-05-30")
    page.get_by_label("response (RECIST)").select_option("PR")
    page.get_by_label("resectable (needed)").select_option("no")
    page.get_by_role("button", name="Record resectability reassessment").click()

    expect(page).to_have_url(f"{base}/patients/P-LATE")
    flash = page.locator(".flash")
    expect(flash).to_contain_text("reassessment → neoadjuvant")
    expect(flash).to_contain_text("The resectability reassessment reminder of P-LATE is done.")
    expect(page.locator("#phase")).to_have_text("neoadjuvant")
    reminders = page.locator("#reminders tbody tr")
    expect(reminders.nth(0)).to_contain_text("resolved")
    expect(reminders.nth(1)).to_contain_text("scheduled")
    latest = page.locator("#history tbody tr").first
    expect(latest).to_contain_text("response (RECIST): PR (partial response)")
    expect(latest).to_contain_text("reassessment → neoadjuvant")
    patient_shot = shot(page, "05-patient-after")

    page.get_by_role("link", name="Worklist").click()
    expect(page.locator("#count-overdue")).to_have_text("0")
    expect(page.locator(".empty")).to_contain_text("Nothing due, overdue or falling due this week")
    shot(page, "06-worklist-after")

    page.goto(f"{base}/pathway")
    expect(page.locator("svg.pathway")).to_be_visible()
    shot(page, "07-pathway")
    DOC_SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(patient_shot, DOC_SHOTS / "patient.png")


def test_a_navigator_is_told_who_records_an_override_and_a_clinician_records_one_coded(
        server: tuple[str, Seeded], open_page: Any) -> None:
    from playwright.sync_api import expect

    base, _ = server
    page = open_page(base, DESKTOP)
    sign_in(page, base, "navigator1", then="/patients/P-NEW/record/recurrence")
    expect(page.get_by_label("reason")).to_have_count(0)  # no override for a navigator
    page.get_by_label("site").select_option("liver_only")
    page.get_by_role("button", name="Record recurrence").click()
    refusal = page.locator("#refusal")
    expect(refusal).to_contain_text("record it with an override reason")
    expect(refusal).to_contain_text("Only a clinician may record an override: ask clinician1.")

    page = open_page(base, DESKTOP)
    sign_in(page, base, "clinician1", then="/patients/P-NEW/record/recurrence")
    reasons = page.get_by_label("reason", exact=True).locator("option").all_text_contents()
    assert reasons == ["not an override", "toxicity or comorbidity", "prior treatment", "new indication",
                       "treatment continued from elsewhere", "MDT rationale", "patient preference",
                       "another reason (say it below)"]
    page.get_by_label("site").select_option("liver_only")
    page.get_by_label("reason", exact=True).select_option("mdt_rationale")
    page.get_by_label("in words").fill("re-resection offered after the MDT of 28 April")
    page.get_by_role("button", name="Record recurrence").click()
    expect(page.locator(".flash")).to_contain_text("Recorded the recurrence of")
    expect(page.locator("#history tbody tr").first).to_contain_text(
        "override: MDT rationale: re-resection offered after the MDT of 28 April")
    page.goto(f"{base}/audit/report")
    expect(page.locator("#overrides-by-reason")).to_contain_text("MDT rationale")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366px", "390px"])
def test_the_audit_report_is_styled_by_the_app_and_leads_back(server: tuple[str, Seeded], open_page: Any,
                                                             viewport: dict[str, int]) -> None:
    from playwright.sync_api import expect

    base, _ = server
    page = open_page(base, viewport)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(page, base, "navigator1", then="/audit")
    page.get_by_role("link", name="Open the full audit report (charts and tables)").click()
    expect(page.locator("h1")).to_have_text("Colorectal liver metastases: pathway adherence audit")
    patients = page.locator(".kpi li").first
    expect(patients).to_have_text("3 patients")
    # the app's stylesheet reached the report: the number stands on its own line, large
    number = patients.locator("b")
    assert number.evaluate("b => getComputedStyle(b).display") == "block"
    assert float(number.evaluate("b => parseFloat(getComputedStyle(b).fontSize)")) > 20
    expect(page.locator("img#chart-adherence")).to_be_visible()
    no_sideways_scroll(page)
    shot(page, f"08-audit-report-{viewport['width']}")
    page.get_by_role("link", name="Back to the audit").first.click()
    expect(page).to_have_url(f"{base}/audit")
    assert refused == []
