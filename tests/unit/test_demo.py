"""The synthetic cohort generator (tracker.demo): reproducible, every branch, 10-25 entries per
patient, accepted by the fold, and the bulk path stores what the service path stores."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import text

from journey.course import follow_journey
from journey.events import read_event
from journey.profile import read_profile
from journey.reminders import ReminderStatus
from tracker.demo import (
    BRANCHES,
    MAX_EVENTS,
    MIN_EVENTS,
    bulk_generate,
    bulk_load,
    generate_cohort,
    import_cohort,
)

AS_OF = date(2026, 11, 27)


def outcome_of(synthetic: Any, as_of: date = AS_OF) -> Any:
    events = [read_event(raw, seq=i + 1) for i, raw in enumerate(synthetic.events)]
    return follow_journey(read_profile(synthetic.patient), events, as_of)


def test_the_same_seed_gives_the_same_cohort_and_another_seed_another():
    first = [s.scenario() for s in generate_cohort(60, seed=11, as_of=AS_OF)]
    again = [s.scenario() for s in generate_cohort(60, seed=11, as_of=AS_OF)]
    other = [s.scenario() for s in generate_cohort(60, seed=12, as_of=AS_OF)]
    assert first == again
    assert first != other


def test_a_slice_of_a_cohort_is_the_same_patients_as_in_the_whole():
    whole = [s.scenario() for s in generate_cohort(30, seed=5, as_of=AS_OF)]
    tail = [s.scenario() for s in generate_cohort(10, seed=5, as_of=AS_OF, start=20)]
    assert whole[20:] == tail


def test_every_journey_has_10_to_25_entries_and_is_accepted_by_the_pathway():
    lengths: Counter[int] = Counter()
    for synthetic in generate_cohort(1500, seed=3, as_of=AS_OF):
        lengths[len(synthetic.events)] += 1
        outcome = outcome_of(synthetic)
        assert outcome.refusals == [], (synthetic.branch, synthetic.scenario(), outcome.refusals)
        assert all(date.fromisoformat(e["date"]) <= AS_OF for e in synthetic.events)
    assert min(lengths) >= MIN_EVENTS and max(lengths) <= MAX_EVENTS


def test_the_cohort_covers_every_branch_and_the_situations_the_audit_looks_for():
    cohort = list(generate_cohort(2000, seed=9, as_of=AS_OF))
    assert {s.branch for s in cohort} == set(BRANCHES)
    tags = Counter(tag for s in cohort for tag in s.tags)
    for tag in ("r1", "closed", "recurrence_timely_mdt", "recurrence_late_mdt", "recurrence_awaiting_mdt",
                "right_regimen", "wrong_regimen", "progression", "converted", "synchronous", "open"):
        assert tags[tag] > 0, tag
    deviations = {t for t in tags if t.startswith("deviation:")}
    assert {"deviation:A-REASSESS-INTERVAL", "deviation:A-CONVERSION-REGIMEN",
            "deviation:A-FOLFOX-AFTER-OXA-FAILURE", "deviation:A-DMMR-NO-IMMUNO",
            "deviation:A-RECURRENCE-NO-MDT", "deviation:A-R1-NO-CHEMO", "deviation:A-TOTAL-6M",
            "deviation:A-RECTAL-RT-UNDECIDED", "deviation:A-PRIMARY-NOT-FIRST",
            "deviation:A-SIMULTANEOUS-UNFIT", "deviation:A-SMALL-NOT-UPFRONT"} <= deviations
    # a realistic share: most journeys follow the guideline
    deviating = sum(1 for s in cohort if any(t.startswith("deviation:") for t in s.tags))
    assert 0.05 < deviating / len(cohort) < 0.45
    events = Counter(e["type"] for s in cohort for e in s.events)
    assert set(events) >= {"mdt_review", "systemic_started", "systemic_stopped", "reassessment",
                           "radiotherapy", "surgery", "recurrence", "progression", "death",
                           "transfer", "lost_to_follow_up"}
    plans = {e.get("plan") for s in cohort for e in s.events if e["type"] == "mdt_review"}
    assert plans >= {"perioperative", "upfront_surgery", "conversion", "immunotherapy", "primary_first",
                     "liver_first", "simultaneous", "salvage", "surveillance"}


def test_the_cohort_has_real_courses_with_their_reminders():
    """Contract 1.1: holds (some still running), two-stage operations with embolisation (some
    awaiting the second stage), R2 margins, patients who left and came back."""
    cohort = list(generate_cohort(1500, seed=9, as_of=AS_OF))
    events = Counter(e["type"] for s in cohort for e in s.events)
    assert events["systemic_paused"] and events["systemic_resumed"] and events["returned"]
    assert any(e.get("procedure") == "portal_vein_embolisation" for s in cohort for e in s.events)
    assert any(e.get("margin") == "R2" for s in cohort for e in s.events)
    statuses = Counter((r.kind.value, status.value) for s in cohort
                       for r, status in outcome_of(s).reminders_with_status())
    for kind in ("hold_review", "second_stage_due", "mdt_after_r2"):
        assert statuses[(kind, "resolved")] > 0, kind
    assert statuses[("hold_review", "overdue")] + statuses[("hold_review", "due")] > 0
    assert statuses[("second_stage_due", "overdue")] + statuses[("second_stage_due", "due")] \
        + statuses[("second_stage_due", "scheduled")] > 0


def test_dates_are_relative_to_as_of_so_there_are_due_and_overdue_reminders():
    statuses: Counter[str] = Counter()
    for synthetic in generate_cohort(400, seed=4, as_of=AS_OF):
        for _, status in outcome_of(synthetic).reminders_with_status():
            statuses[status.value] += 1
    for status in (ReminderStatus.SCHEDULED, ReminderStatus.DUE, ReminderStatus.OVERDUE,
                   ReminderStatus.RESOLVED, ReminderStatus.CANCELLED):
        assert statuses[status.value] > 0, status
    later = date(2027, 6, 1)
    shifted = next(iter(generate_cohort(1, seed=4, as_of=later)))
    first = next(iter(generate_cohort(1, seed=4, as_of=AS_OF)))
    assert shifted.events[-1]["date"] > first.events[-1]["date"]


TABLES = {
    "patient": "id, ref, care_team, profile, timing, sidedness, phase, phase_on, version",
    "event": "patient_id, seq, type, date, recorded_at, actor, source, payload, phase_before, "
             "phase_after, override_reason, content_hash, chain_hash",
    "reminder": "patient_id, kind, anchor_on, due_on, resolved_on, cancelled_on, closed, status, "
                "snoozed_until",
}


def stored_state(tracker: Any) -> dict[str, list[tuple[Any, ...]]]:
    with tracker.engine.connect() as conn:
        return {table: [tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM {table} ORDER BY {cols}"))]
                for table, cols in TABLES.items()}


def test_the_bulk_path_stores_what_the_service_path_stores_and_verify_passes(
        make_tracker: Callable[..., Any]):
    service = make_tracker(today=AS_OF, name="service.sqlite")
    bulk = make_tracker(today=AS_OF, name="bulk.sqlite")
    report = import_cohort(service, generate_cohort(40, seed=21, as_of=AS_OF))
    loaded = bulk_load(bulk.engine, generate_cohort(40, seed=21, as_of=AS_OF), AS_OF, bulk.clock.now(),
                       batch=7)
    assert report.refused == loaded.refused == 0
    assert report.patients == loaded.patients == 40
    assert report.events == loaded.events
    service_state, bulk_state = stored_state(service), stored_state(bulk)
    for table in TABLES:
        assert service_state[table] == bulk_state[table], table
    assert list(service.verify()) == []
    assert list(bulk.verify()) == []
    assert bulk.worklist(limit=50), "an open cohort has due and overdue reminders"


def test_worker_processes_write_byte_for_byte_what_one_process_writes(make_tracker: Callable[..., Any]):
    """``--workers 2``: rows made ready for the driver in the workers (SQLAlchemy's own bind
    processors) are the rows one process writes (binding them itself), whole rows compared; and
    those are the rows the service writes (the test above)."""
    one = make_tracker(today=AS_OF, name="one.sqlite")
    two = make_tracker(today=AS_OF, name="two.sqlite")
    bulk_generate(one.engine, 60, seed=4, as_of=AS_OF, now=one.clock.now(), batch=25)
    report = bulk_generate(two.engine, 60, seed=4, as_of=AS_OF, now=one.clock.now(), batch=25, workers=2)
    assert report.patients == 60 and report.events > 600
    with one.engine.connect() as a, two.engine.connect() as b:
        for table in ("patient", "event", "reminder", "journey_memory"):
            query = text(f"SELECT * FROM {table} ORDER BY rowid")
            assert [tuple(r) for r in a.execute(query)] == [tuple(r) for r in b.execute(query)], table
    assert list(two.verify()) == []


def test_a_bulk_load_appends_after_the_patients_already_stored(make_tracker: Callable[..., Any]):
    tracker = make_tracker(today=AS_OF)
    bulk_load(tracker.engine, generate_cohort(300, seed=2, as_of=AS_OF), AS_OF, tracker.clock.now(),
              batch=64)
    bulk_load(tracker.engine, generate_cohort(20, seed=2, as_of=AS_OF, start=300), AS_OF,
              tracker.clock.now())
    with tracker.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM patient")).scalar_one() == 320
    assert list(tracker.verify()) == []
