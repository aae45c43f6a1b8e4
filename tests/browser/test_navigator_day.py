"""The navigator's day on a 1,000-patient demo cohort (issue 15, "done when"): from the worklist
alone a navigator sees overdue and due-today apart, records the reassessment that clears a
reminder in two clicks plus the form, and sees who is on each reminder; on a phone the worklist
folds into cards and every action still happens in place; the patient page explains a stuck
journey in words. Every page met passes axe-core. The worklist screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from tests.api.live import serving
from tests.api.seed import PASSWORD, Seeded
from tests.browser.axe import assert_accessible
from tests.browser.conftest import ARTIFACTS, DESKTOP, DOC_SHOTS, PHONE, no_sideways_scroll, sign_in
from tracker.application import Users
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.settings import Settings
from tracker.web import create_app

pytestmark = pytest.mark.browser

GENERATED_ON = date(2026, 9, 15)
PATIENTS = 1000


def _busy_day(tracker: Any) -> date:
    """The first day from the cohort's own on which a reassessment is due that very day, beside
    the overdue ones: the morning the issue describes."""
    for offset in range(60):
        day = GENERATED_ON + timedelta(days=offset)
        worklist = tracker.worklist_sections(as_of=day, kind="reassessment_due", limit=1)
        if worklist.section("today").count and worklist.section("overdue").count:
            return day
    raise AssertionError("the demo cohort has no day with a reassessment due and others overdue")


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    """A 1,000-patient demo cohort (tracker.demo, bulk), on the busy morning after it was made,
    swept to that day, with a navigator and a clinician; served."""
    url = f"sqlite:///{tmp_path_factory.mktemp('cohort') / 'cohort.sqlite'}"
    maker = build_tracker(Settings(database_url=url), clock=FixedClock(GENERATED_ON))
    maker.generate_demo_cohort(PATIENTS, seed=7, bulk=True)
    day = _busy_day(maker)
    maker.engine.dispose()
    tracker = build_tracker(Settings(database_url=url, session_secret="cohort"), clock=FixedClock(day),
                            migrate=False)
    tracker.sweep(day)
    users = Users(tracker)
    tokens = {name: users.add(name, role, PASSWORD).token
              for name, role in (("navigator1", "navigator"), ("clinician1", "clinician"))}
    seeded = Seeded(tracker, users, tokens, url)
    try:
        with serving(create_app(tracker, users)) as base:
            yield base, seeded
    finally:
        tracker.engine.dispose()


def counts(page: Any) -> dict[str, int]:
    return {name: int(page.locator(f"#count-{name}").inner_text())
            for name in ("overdue", "today", "grace", "week")}


def test_from_the_worklist_alone_overdue_and_due_today_apart_cleared_in_two_clicks(
        cohort: tuple[str, Seeded], open_page: Any) -> None:
    from playwright.sync_api import expect

    base, seeded = cohort
    expected = seeded.tracker.worklist_sections()
    page = open_page(base, DESKTOP)
    sign_in(page, base, "navigator1")
    before = counts(page)
    assert before == {s.name: s.count for s in expected.sections}
    assert before["overdue"] > 50 and before["today"] >= 1
    # overdue and due today apart, each under its own heading with its count
    headings = page.locator("section.worklist-section h2").all_inner_texts()
    assert headings[:2] == [f"Overdue {before['overdue']}", f"Due today {before['today']}"]
    documented(page, "worklist-1366")
    # one line per reminder at 1366 px: every row as tall as a single line of buttons
    rows = page.locator("table.worklist tbody tr")
    heights = rows.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().height)")
    assert max(heights) < 56, f"a reminder takes more than one line: {max(heights)} px"
    no_sideways_scroll(page)
    assert_accessible(page, "the 1,000-patient worklist")

    # click 1: the action on the row that clears the reminder due today
    row = page.locator("#today tbody tr").filter(has_text="resectability reassessment").first
    ref = row.locator("td").first.inner_text()
    row.get_by_role("link", name=f"Record reassessment for {ref}").click()
    expect(page.locator("h1")).to_contain_text(f"Record resectability reassessment for {ref}")
    expect(page.locator("#clears")).to_contain_text("resectability reassessment reminder due")
    expect(page.get_by_label("date")).to_have_value(seeded.tracker.clock.today().isoformat())
    assert_accessible(page, "the reassessment form")
    # the form
    page.get_by_label("response (RECIST)").select_option("SD")
    page.get_by_label("resectable (needed)").select_option("no")
    # click 2
    page.get_by_role("button", name="Record resectability reassessment").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(base)}/worklist(#.*)?$"))
    flash = page.locator(".flash")
    expect(flash).to_contain_text(f"The resectability reassessment reminder of {ref} is done.")
    after = counts(page)
    assert after["today"] == before["today"] - 1 and after["overdue"] == before["overdue"]
    expect(page.locator("#today tbody tr").filter(has_text=ref)).to_have_count(0)


def test_who_is_on_each_reminder_is_on_its_row(cohort: tuple[str, Seeded], open_page: Any) -> None:
    from playwright.sync_api import expect

    base, _ = cohort
    page = open_page(base, DESKTOP)
    sign_in(page, base, "navigator1", then="/worklist?who=untaken")
    untaken_before = int(page.locator("#count-overdue").inner_text())
    page.goto(f"{base}/worklist")
    overdue = page.locator("#overdue tbody tr")
    first, second = overdue.nth(0), overdue.nth(1)
    first_id, second_id = first.get_attribute("id"), second.get_attribute("id")
    expect(first.locator("td.who")).to_have_text("not yet taken")

    first.get_by_role("button", name=re.compile("^Acknowledge")).click()
    mine = page.locator(f"#{first_id}")
    day_and_month = date_in_words(page).rsplit(" ", 1)[0]  # "15 Sep": this year's
    expect(mine.locator("td.who")).to_have_text(f"navigator1, acknowledged {day_and_month}, 13:00")

    given = page.locator(f"#{second_id}")
    given.locator("summary").click()
    given.get_by_label("Give to", exact=True).select_option("clinician1")
    given.get_by_role("button", name="Give").click()
    expect(page.locator(f"#{second_id} td.who")).to_have_text("clinician1 (assigned, not yet acknowledged)")
    assert_accessible(page, "the worklist with reminders taken")

    page.get_by_label("Who").select_option("mine")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(f"#{first_id}")).to_be_visible()
    expect(page.locator(f"#{second_id}")).to_have_count(0)
    page.get_by_label("Who").select_option("person:clinician1")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.worklist tbody tr")).to_have_count(1)
    page.get_by_label("Who").select_option("untaken")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#count-overdue")).to_have_text(str(untaken_before - 2))


def test_on_a_phone_the_worklist_is_cards_and_acts_in_place(cohort: tuple[str, Seeded],
                                                            open_page: Any) -> None:
    from playwright.sync_api import expect

    base, _ = cohort
    page = open_page(base, PHONE)
    sign_in(page, base, "navigator1")
    no_sideways_scroll(page)
    card = page.locator("#grace tbody tr").first
    assert card.evaluate("tr => getComputedStyle(tr).display") == "block"
    due = card.locator("td[data-label=Due]")
    assert due.evaluate("td => getComputedStyle(td, '::before').content") == '"Due"'
    expect(card.get_by_role("link", name=re.compile("^Record"))).to_be_visible()
    assert_accessible(page, "the worklist at 390 px")
    documented(page, "worklist-390")

    # a dismissal for "other" without words is refused in place, in words, keeping the choice
    card_id = card.get_attribute("id")
    card.locator("summary").click()
    card.get_by_label("Dismiss: it will not happen, because").select_option("other")
    card.get_by_role("button", name="Dismiss").click()
    kept = page.locator(f"#{card_id}")
    expect(kept.locator("[role=alert]")).to_have_text(
        "Not done. A dismissal for an 'other' reason needs the justification in words.")
    expect(kept.get_by_label("Dismiss: it will not happen, because")).to_have_value("other")
    no_sideways_scroll(page)
    assert_accessible(page, "a refused dismissal on a phone")

    # a snooze for "other" takes its words from the page
    kept.get_by_label("because", exact=True).select_option("other")
    kept.get_by_label('in words (needed for "other")').first.fill("scan booked at the district hospital")
    kept.get_by_role("button", name="Snooze").click()
    expect(page.locator(".flash")).to_contain_text("Snoozed the")
    expect(page.locator(f"#{card_id}")).to_have_count(0)


def test_the_patient_page_explains_a_stuck_journey_in_words(cohort: tuple[str, Seeded],
                                                             open_page: Any) -> None:
    from playwright.sync_api import expect

    base, _ = cohort
    for viewport in (DESKTOP, PHONE):
        page = open_page(base, viewport)
        sign_in(page, base, "navigator1")
        row = page.locator("#overdue tbody tr").filter(has_text="resectability reassessment").first
        ref = row.locator("td").first.inner_text()
        row.get_by_role("link", name=ref, exact=True).click()
        panel = page.locator("#why")
        # the panel comes first, and says in words what is awaited, since when, and what clears it
        assert panel.bounding_box()["y"] < page.locator("#h-timeline").bounding_box()["y"]
        expect(page.locator("#headline")).to_contain_text("Waiting for a resectability reassessment since")
        expect(page.locator("#headline")).to_contain_text("overdue")
        expect(panel.locator(".awaited")).to_contain_text("the 2-monthly reassessment on pre-operative")
        expect(panel.locator("#open-reminders")).to_contain_text("Cleared by recording: resectability")
        expect(panel.locator("#statement-G-REASSESS-2M .citation")).to_contain_text(
            "Treatment Approach for Synchronous vs Metachronous Liver Metastases, section “Unresectable "
            "Disease (Conversion Strategy)”")
        no_sideways_scroll(page)
        assert_accessible(page, f"{ref} at {viewport['width']} px")
        documented(page, f"patient-{viewport['width']}")
        if viewport is PHONE:
            region = page.locator("figure.timeline .scroll")
            assert region.evaluate("d => d.scrollWidth > d.clientWidth"), "the timeline shrank"


def documented(page: Any, name: str) -> None:
    """A screenshot of what the screen shows (not the whole page), kept in test-artifacts/ and
    copied to docs/screenshots/."""
    ARTIFACTS.mkdir(exist_ok=True)
    DOC_SHOTS.mkdir(parents=True, exist_ok=True)
    made = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(made))
    shutil.copyfile(made, DOC_SHOTS / f"{name}.png")


def date_in_words(page: Any) -> str:
    return page.locator("h1 small").inner_text().removeprefix("for ")
