"""The worklist in sections (overdue, due today, within grace, the look-ahead), each with its
count; who is on each reminder (acknowledged, assigned, reassigned, released), recorded in the
action log like every other action; the filters (not yet taken, one person's, team, kind)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from journey.errors import ImpossibleEntry
from journey.scenario import read_scenario
from tests.conftest import ev, scenario
from tracker.application import Users
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.settings import Settings

TODAY = date(2026, 1, 15)
#: the day pre-operative therapy started, for a reassessment due on the day named (2 months on)
STARTS = {"P-OVERDUE": "2025-10-16",  # due 16 Dec: 30 days ago, past the 14 days' grace
          "P-GRACE": "2025-11-12",  # due 12 Jan: 3 days ago
          "P-TODAY": "2025-11-15",  # due today
          "P-WEEK": "2025-11-19",  # due in 4 days
          "P-LATER": "2025-12-04"}  # due in 20 days: beyond the look-ahead


def load(tracker: Any, team_of: dict[str, str] | None = None) -> None:
    for ref, start in STARTS.items():
        raw = scenario(ev("mdt_review", "2025-10-01", resectable=True, plan="perioperative"),
                       ev("systemic_started", start, regimen="FOLFOX"), ref=ref)
        if team_of and ref in team_of:
            tracker.register_patient(raw["patient"], team_of[ref])
        tracker.import_scenario(read_scenario(raw), actor="test")


@pytest.fixture
def tracker(tmp_path) -> Any:
    tracker = build_tracker(Settings(database_url=f"sqlite:///{tmp_path / 'w.sqlite'}"),
                            clock=FixedClock(TODAY))
    load(tracker)
    return tracker


@pytest.fixture
def people(tracker: Any) -> Users:
    users = Users(tracker)
    for name, role in (("nina", "navigator"), ("carl", "clinician"), ("ada", "admin")):
        users.add(name, role, "a long enough password")
    return users


def refs(section) -> list[str]:
    return [i.ref for i in section.items]


def test_the_worklist_has_its_sections_in_working_order_each_with_its_count(tracker: Any) -> None:
    worklist = tracker.worklist_sections()
    assert [(s.title, s.count, refs(s)) for s in worklist.sections] == [
        ("Overdue", 1, ["P-OVERDUE"]), ("Due today", 1, ["P-TODAY"]), ("Within grace", 1, ["P-GRACE"]),
        ("Due this week", 1, ["P-WEEK"])]
    timing = {i.ref: i.timing for s in worklist.sections for i in s.items}
    assert timing == {"P-OVERDUE": "16 days overdue", "P-TODAY": "due today",
                      "P-GRACE": "3 days past due, overdue in 12 days", "P-WEEK": "due in 4 days"}
    assert worklist.total == 4


def test_the_counts_hold_when_fewer_are_shown(tracker: Any) -> None:
    worklist = tracker.worklist_sections(limit=1, only="today")
    assert [(s.count, len(s.items)) for s in worklist.sections] == [(1, 0), (1, 1), (1, 0), (1, 0)]


def test_the_look_ahead_is_a_setting(tmp_path) -> None:
    tracker = build_tracker(Settings(database_url=f"sqlite:///{tmp_path / 'a.sqlite'}",
                                     worklist_ahead_days=30), clock=FixedClock(TODAY))
    load(tracker)
    assert refs(tracker.worklist_sections().section("week")) == ["P-WEEK", "P-LATER"]
    tracker.settings.worklist_ahead_days = 0
    assert [s.name for s in tracker.worklist_sections().sections] == ["overdue", "today", "grace"]


def test_acknowledging_takes_a_reminder_nobody_holds_and_shows_who_and_when(tracker: Any, people) -> None:
    item = tracker.worklist_sections().section("overdue").items[0]
    result = tracker.act_on_reminder("acknowledge", item.reminder_id, "web:nina", person="nina")
    assert result.sentence() == ("Acknowledged the reassessment due of P-OVERDUE (due 2025-12-16); "
                                 "it is yours now.")
    [again] = tracker.worklist_sections().section("overdue").items
    assert (again.assignee, again.acknowledged_by) == ("nina", "web:nina")
    assert again.acknowledged_at is not None
    assert tracker.worklist_sections(untaken=True).section("overdue").count == 0
    assert refs(tracker.worklist_sections(assignee="nina").section("overdue")) == ["P-OVERDUE"]
    assert tracker.worklist_sections(assignee="carl").total == 0


def test_a_reminder_is_given_to_a_person_reassigned_and_released_each_recorded(tracker: Any, people) -> None:
    rid = tracker.worklist_sections().section("today").items[0].reminder_id
    assert tracker.act_on_reminder("assign", rid, "web:nina", person="carl").sentence() == \
        "Gave the reassessment due of P-TODAY (due 2026-01-15) to carl."
    # acknowledging someone else's reminder leaves it theirs
    tracker.act_on_reminder("acknowledge", rid, "web:nina", person="nina")
    assert tracker.worklist_sections(assignee="carl").section("today").items[0].acknowledged_by == "web:nina"
    tracker.act_on_reminder("assign", rid, "web:carl", person="nina")
    released = tracker.act_on_reminder("assign", rid, "web:nina", person=None)
    assert released.sentence().startswith("Released the reassessment due of P-TODAY")
    actions = [(a.action, a.assignee, a.actor) for a in tracker.reminder_actions([rid])]
    assert actions == [("assign", "carl", "web:nina"), ("acknowledge", None, "web:nina"),
                       ("assign", "nina", "web:carl"), ("assign", None, "web:nina")]
    assert tracker.worklist_sections(untaken=True).section("today").count == 1


def test_a_reminder_is_given_only_to_someone_who_acts_on_reminders(tracker: Any, people) -> None:
    rid = tracker.worklist_sections().section("today").items[0].reminder_id
    for who in ("ada", "nobody"):
        with pytest.raises(ImpossibleEntry, match="is not someone who acts on reminders"):
            tracker.act_on_reminder("assign", rid, "web:nina", person=who)
    tracker.act_on_reminder("assign", rid, "web:nina", person="nina")
    with pytest.raises(ImpossibleEntry, match="already nina's"):
        tracker.act_on_reminder("assign", rid, "web:nina", person="nina")


def test_the_worklist_filters_by_team_and_kind(tmp_path) -> None:
    tracker = build_tracker(Settings(database_url=f"sqlite:///{tmp_path / 't.sqlite'}"),
                            clock=FixedClock(TODAY))
    load(tracker, {"P-TODAY": "colorectal"})
    assert tracker.worklist_sections(team="colorectal").total == 1
    assert tracker.worklist_sections(team="liver").total == 3
    assert tracker.worklist_sections(kind="recurrence_mdt").total == 0


def test_a_snoozed_reminder_leaves_the_sections_until_its_day(tracker: Any) -> None:
    rid = tracker.worklist_sections().section("grace").items[0].reminder_id
    tracker.act_on_reminder("snooze", rid, "web:nina", until=date(2026, 1, 20), reason="awaiting_scan")
    assert tracker.worklist_sections().section("grace").count == 0
    assert "P-GRACE" in refs(tracker.worklist_sections(as_of=date(2026, 1, 20)).section("grace"))
