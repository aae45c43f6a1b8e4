"""Invariants over generated journeys (issue 12): property-based tests that would have caught the
real-course failures the textbook examples missed. Journeys are drawn with same-day entries,
holds, two-stage operations, R2 margins, overrides, closures and returns, and entries recorded in
any order; at every as-of date:

* a reminder shown ``resolved`` names the entry that resolved it, of a kind that resolves it;
* a ``reassessment_due`` that passed due + grace without a reassessment is still shown
  ``overdue`` or counted by ``A-REASSESS-INTERVAL`` (no reminder is ever silently lost);
* reminder identities are unique, and closed reminders are closed by an accepted entry;
* the same entries recorded in another order (same clinical dates) give the same journey;
* a post-operative line stopped on the day its ``total_chemo_check`` said the target was reached
  totals the target in the audit (the reminder and the audit count the same therapy days).

The stored state after ``journey import`` equals the replay: tests/integration/test_import_equals_replay.py.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.adherence import judge
from journey.course import JourneyOutcome, follow_journey
from journey.reminders import RESOLVED_BY, ReminderKind, ReminderStatus, overdue_from
from journey.scenario import read_scenario
from journey.settings import DEFAULT_SETTINGS
from tests.conftest import as_seen, ev, patient
from tests.strategies import START, journeys

K, S = ReminderKind, ReminderStatus


def replay(raw: dict[str, Any], as_of: date | None = None) -> JourneyOutcome:
    sc = read_scenario(raw)
    assert not sc.unreadable, sc.unreadable
    return follow_journey(sc.profile, sc.events, as_of or sc.as_of or START, DEFAULT_SETTINGS)


def as_of_days(raw: dict[str, Any]) -> list[date]:
    """Every entry's day, the day after, the end of a grace period later, and the scenario's."""
    days = {date.fromisoformat(e["date"]) for e in raw["events"]}
    grace = timedelta(days=DEFAULT_SETTINGS.reminder_grace_days + 1)
    more = {d + delta for d in days for delta in (timedelta(days=1), grace, timedelta(days=75))}
    return sorted(days | more | {date.fromisoformat(raw["as_of"])})


#: JOURNEY_PROPERTY_EXAMPLES=5000 for a deeper hunt than the suite's
EXAMPLES = int(os.environ.get("JOURNEY_PROPERTY_EXAMPLES", "150"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(journeys())
def test_a_resolved_reminder_names_the_entry_that_resolved_it(raw: dict[str, Any]) -> None:
    for day in as_of_days(raw):
        outcome = replay(raw, day)
        accepted = {e.seq: e for e in outcome.events}
        keys = [r.key for r in outcome.reminders]
        assert len(keys) == len(set(keys))
        for reminder, status in outcome.reminders_with_status():
            assert reminder.opened_by in accepted, reminder
            if reminder.closed_on is not None:
                assert reminder.closed_by in accepted, reminder
                assert accepted[reminder.closed_by].date == reminder.closed_on
            if status is S.RESOLVED:
                resolver = accepted[reminder.closed_by]
                assert resolver.type.value in RESOLVED_BY[reminder.kind], (reminder, resolver)


@PROPERTY
@given(journeys())
def test_a_reassessment_missed_is_shown_overdue_or_counted_by_the_audit(raw: dict[str, Any]) -> None:
    for day in as_of_days(raw):
        outcome = replay(raw, day)
        audited = [d for d in judge(outcome).deviations if d.check == "A-REASSESS-INTERVAL"]
        for reminder, status in outcome.reminders_with_status():
            if reminder.kind is not K.REASSESSMENT_DUE:
                continue
            late_from = overdue_from(reminder.due_on, DEFAULT_SETTINGS)
            open_then = reminder.closed_on is None or reminder.closed_on >= late_from
            if late_from > day or not open_then:
                continue
            counted = any(f"due {reminder.due_on.isoformat()}" in d.detail for d in audited)
            assert status is S.OVERDUE or counted, (reminder, status, audited)


def _same_day_blocks(events: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    blocks: dict[str, list[dict[str, Any]]] = {}
    for entry in events:
        blocks.setdefault(entry["date"], []).append(entry)
    return list(blocks.values())


@PROPERTY
@given(journeys(), st.randoms(use_true_random=False))
def test_entries_recorded_in_any_order_give_the_same_journey(raw: dict[str, Any], rnd: Any) -> None:
    """Same clinical dates, another order of entry (entries of one day keep their order)."""
    blocks = _same_day_blocks(raw["events"])
    rnd.shuffle(blocks)
    shuffled = {**raw, "events": [entry for block in blocks for entry in block]}
    assert as_seen(replay(shuffled)) == as_seen(replay(raw))


@st.composite
def adjuvant_with_holds(draw: st.DrawFn) -> tuple[dict[str, Any], int]:
    """Pre-operative FOLFOX (with or without a hold), surgery, post-operative FOLFOX with 0-3
    holds, stopped on the day its total_chemo_check falls due."""
    pre_days = draw(st.integers(20, 120))
    start = START + timedelta(days=4)
    events = [ev("mdt_review", START, resectable=True, plan="perioperative"),
              ev("systemic_started", start, regimen="FOLFOX")]
    if draw(st.booleans()):
        paused = start + timedelta(days=draw(st.integers(1, pre_days - 1)))
        events += [ev("systemic_paused", paused, reason="toxicity"),
                   ev("systemic_resumed", paused + timedelta(days=draw(st.integers(0, 40))))]
    stop = date.fromisoformat(events[-1]["date"]) + timedelta(days=pre_days)
    surgery = stop + timedelta(days=draw(st.integers(7, 40)))
    post = surgery + timedelta(days=draw(st.integers(14, 60)))
    events += [ev("systemic_stopped", stop, reason="surgery"),
               ev("surgery", surgery, procedure="liver_resection", margin="R0"),
               ev("systemic_started", post, regimen="FOLFOX")]
    day = post
    for _ in range(draw(st.integers(0, 3))):
        day += timedelta(days=draw(st.integers(1, 40)))
        resumed = day + timedelta(days=draw(st.integers(0, 30)))
        events += [ev("systemic_paused", day, reason="intercurrent_illness"),
                   ev("systemic_resumed", resumed)]
        day = resumed
    return {"patient": patient(), "events": events}, len(events)


@PROPERTY
@given(adjuvant_with_holds())
def test_therapy_stopped_when_the_check_falls_due_totals_the_target_in_the_audit(
        drawn: tuple[dict[str, Any], int]) -> None:
    raw, _ = drawn
    far = date(2027, 1, 1)
    running = replay(raw, far)
    [check] = [r for r in running.reminders if r.kind is K.TOTAL_CHEMO_CHECK]
    due = check.due_on_at(far)
    last_resumed = max(date.fromisoformat(e["date"]) for e in raw["events"])
    if due <= last_resumed:
        return  # the target came before the last hold ended: stopping then is another journey
    stopped = {**raw, "events": [*raw["events"], ev("systemic_stopped", due, reason="completed")]}
    outcome = replay(stopped, due + timedelta(days=1))
    assert outcome.refusals == []
    episode = outcome.course.episode
    assert episode.perioperative_chemotherapy_days(due) == DEFAULT_SETTINGS.total_chemo_target_days
    assert [d for d in judge(outcome).deviations if d.check == "A-TOTAL-6M"] == []
    [(reminder, status)] = [(r, s) for r, s in outcome.reminders_with_status()
                            if r.kind is K.TOTAL_CHEMO_CHECK]
    assert status is S.RESOLVED and reminder.due_on_at(due) == due
