"""The event log on a real SQLite file: round trip, idempotent reminders and imports, backdated
entries, the version guard, and verify."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, select

from db.tables import EventRow, PatientRow, ReminderRow
from journey.errors import ConcurrentUpdate, ImpossibleEntry, OffPathway
from journey.scenario import read_scenario
from tests.conftest import DOCS_EXAMPLES, PERIOP_START, SHARED_EXAMPLES, ev, patient, scenario
from tracker.application.files import load_scenario, scenario_files

TODAY = date(2026, 1, 15)
PERIOP_JOURNEY = (*PERIOP_START,
                  ev("reassessment", "2025-03-05", response="SD", resectable=False),
                  ev("reassessment", "2025-05-06", response="PR", resectable=True),
                  ev("systemic_stopped", "2025-05-20", reason="surgery"),
                  ev("surgery", "2025-06-10", procedure="liver_resection", margin="R0"),
                  ev("systemic_started", "2025-07-14", regimen="FOLFOX"))


def count(tracker: Any, table: type, **where: Any) -> int:
    with Session(tracker.engine) as session:
        query = select(func.count()).select_from(table)
        for key, value in where.items():
            query = query.where(getattr(table, key) == value)
        return int(session.exec(query).one())


def reminder_rows(tracker: Any) -> list[tuple]:
    with Session(tracker.engine) as session:
        rows = session.exec(select(ReminderRow).order_by(ReminderRow.kind, ReminderRow.anchor_on))
        return [(r.kind, r.anchor_on, r.due_on, r.resolved_on, r.cancelled_on, r.status, r.closed)
                for r in rows]


def register(tracker: Any, **overrides: Any) -> None:
    tracker.register_patient(patient(**overrides))


def record_all(tracker: Any, events: tuple[dict, ...] | list[dict], ref: str = "T-0001") -> None:
    for entry in events:
        tracker.record_event(ref, entry, actor="nurse:ann")


def outline(view: Any) -> dict[str, Any]:
    """What a user sees of a patient, free of row ids and recording instants."""
    return {
        "phase": view.outcome.phase.value,
        "history": [s.to_dict() for s in view.outcome.steps],
        "reminders": [(r.kind.value, r.anchor_on, r.due_on, r.resolved_on, r.cancelled_on, s.value)
                      for r, s in view.outcome.reminders_with_status()],
        "stored_phase": view.row.phase,
        "stored_reminders": sorted((r.kind, r.anchor_on, r.due_on, r.resolved_on, r.cancelled_on,
                                    r.status) for r in view.reminder_rows),
    }


# ---------------------------------------------------------------------------------------------
# Round trip

def test_a_new_tracker_on_the_same_file_sees_the_same_patient(make_tracker: Any) -> None:
    first = make_tracker(TODAY)
    register(first)
    record_all(first, PERIOP_JOURNEY)
    before = outline(first.patient_view("T-0001"))
    first.engine.dispose()

    again = make_tracker(TODAY)
    view = again.patient_view("T-0001")
    assert outline(view) == before
    assert view.row.phase == "adjuvant" and view.row.version == 1 + len(PERIOP_JOURNEY)
    assert view.profile.ref == "T-0001"
    assert [e.type.value for e in view.outcome.events] == [e["type"] for e in PERIOP_JOURNEY]


def test_the_database_is_a_file_migrated_by_alembic(make_tracker: Any, tmp_path: Path) -> None:
    make_tracker(TODAY)
    assert (tmp_path / "journey.sqlite").is_file()
    with make_tracker(TODAY).engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def test_each_event_row_carries_clinical_date_recording_instant_actor_payload_and_phases(
        make_tracker: Any) -> None:
    tracker = make_tracker(TODAY)
    register(tracker)
    record_all(tracker, PERIOP_START)
    tracker.record_event("T-0001", ev("surgery", "2025-02-01", procedure="liver_resection",
                                      override="surgeon available, MDT agreed"), actor="dr:bo")
    tracker.engine.dispose()
    with Session(make_tracker(TODAY).engine) as session:
        rows = list(session.exec(select(EventRow).order_by(EventRow.seq)))
    assert [r.seq for r in rows] == [1, 2, 3]
    mdt, started, surgery = rows
    assert started.date == date(2025, 1, 10)
    assert started.payload == {"date": "2025-01-10", "type": "systemic_started", "regimen": "FOLFOX"}
    assert (started.phase_before, started.phase_after) == ("assessment", "neoadjuvant")
    assert (mdt.actor, surgery.actor) == ("nurse:ann", "dr:bo")
    assert surgery.override_reason == "surgeon available, MDT agreed"
    for row in rows:
        recorded = row.recorded_at if row.recorded_at.tzinfo else row.recorded_at.replace(tzinfo=UTC)
        assert recorded.utcoffset() == timedelta(0)
        assert recorded == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
        assert recorded.date() != row.date


def test_recorded_at_read_back_is_timezone_aware_utc(make_tracker: Any) -> None:
    tracker = make_tracker(TODAY)
    register(tracker)
    record_all(tracker, PERIOP_START[:1])
    tracker.engine.dispose()
    [row] = make_tracker(TODAY).patient_view("T-0001").event_rows
    assert row.recorded_at.tzinfo is not None
    assert row.recorded_at.utcoffset() == timedelta(0)


# ---------------------------------------------------------------------------------------------
# Each reminder exists once

def test_importing_the_same_scenario_twice_changes_nothing(make_tracker: Any) -> None:
    tracker = make_tracker(TODAY)
    sc = read_scenario(scenario(*PERIOP_JOURNEY))
    first = tracker.import_scenario(sc, actor="import")
    assert (first.created, first.added, first.already_recorded) == (True, len(PERIOP_JOURNEY), 0)
    events, reminders = count(tracker, EventRow), reminder_rows(tracker)
    version = tracker.patient_view("T-0001").row.version

    second = tracker.import_scenario(sc, actor="import")
    assert (second.created, second.added, second.already_recorded) == (False, 0, len(PERIOP_JOURNEY))
    assert "already registered" in second.sentence() and "0 event(s) added" in second.sentence()
    assert count(tracker, EventRow) == events
    assert reminder_rows(tracker) == reminders
    assert len(reminders) == len({(k, a) for k, a, *_ in reminders}) == 4
    assert tracker.patient_view("T-0001").row.version in (version, version + 1)


def test_a_second_identical_import_leaves_the_patient_version_alone(make_tracker: Any) -> None:
    tracker = make_tracker(TODAY)
    sc = read_scenario(scenario(*PERIOP_JOURNEY))
    tracker.import_scenario(sc, actor="import")
    seen = tracker.patient_view("T-0001").row.version
    tracker.import_scenario(sc, actor="import")
    assert tracker.patient_view("T-0001").row.version == seen
    tracker.record_event("T-0001", ev("systemic_stopped", "2025-10-01", reason="completed"),
                         actor="nurse:ann", expected_version=seen)


def test_a_longer_file_for_a_known_patient_adds_only_the_new_entries(make_tracker: Any) -> None:
    tracker = make_tracker(TODAY)
    tracker.import_scenario(read_scenario(scenario(*PERIOP_JOURNEY[:3])), actor="import")
    report = tracker.import_scenario(read_scenario(scenario(*PERIOP_JOURNEY)), actor="import")
    assert (report.added, report.already_recorded) == (len(PERIOP_JOURNEY) - 3, 3)
    assert count(tracker, EventRow) == len(PERIOP_JOURNEY)


def test_recomputing_reminders_on_every_recorded_event_keeps_each_once(make_tracker: Any) -> None:
    """Each record_event recomputes every reminder from the whole log, like a sweep does."""
    tracker = make_tracker(TODAY)
    register(tracker)
    record_all(tracker, PERIOP_START)
    for day in range(1, 13):  # pelvic radiotherapy entries: each one recomputes every reminder
        tracker.record_event("T-0001", ev("radiotherapy", f"2025-02-{day:02d}", target="pelvis",
                                          status="started"), actor="nurse:ann")
    later = make_tracker(date(2026, 6, 1))  # the same file, months later
    later.record_event("T-0001", ev("radiotherapy", "2025-02-20", target="pelvis", status="completed"),
                       actor="nurse:ann")
    rows = reminder_rows(later)
    assert len(rows) == 1
    assert count(later, ReminderRow, kind="reassessment_due", anchor_on=date(2025, 1, 10)) == 1


def test_the_database_refuses_a_second_reminder_with_the_same_key(make_tracker: Any) -> None:
    from sqlalchemy.exc import IntegrityError

    tracker = make_tracker(TODAY)
    register(tracker)
    record_all(tracker, PERIOP_START)
    with Session(tracker.engine) as session:
        [row] = session.exec(select(ReminderRow)).all()
        copy = ReminderRow(patient_id=row.patient_id, kind=row.kind, anchor_on=row.anchor_on,
                           due_on=row.due_on, status="scheduled", updated_at=row.updated_at)
        session.add(copy)
        with pytest.raises(IntegrityError):
            session.commit()


# ---------------------------------------------------------------------------------------------
# A backdated entry entered late

LATE_CASES = {
    # a reassessment entered after the surgery it preceded
    "reassessment": (PERIOP_JOURNEY, 2),
    # the mdt review entered last
    "first MDT review": (PERIOP_JOURNEY, 0),
    # the stop of pre-operative therapy entered after the post-operative start
    "systemic stop": (PERIOP_JOURNEY, 4),
}


@pytest.mark.parametrize("name", LATE_CASES)
def test_a_backdated_entry_entered_late_gives_the_same_result_as_on_time(make_tracker: Any,
                                                                         name: str) -> None:
    events, late_index = LATE_CASES[name]
    on_time = make_tracker(TODAY, name="on_time.sqlite")
    register(on_time)
    record_all(on_time, events)

    late = make_tracker(TODAY, name="late.sqlite")
    register(late)
    record_all(late, [e for i, e in enumerate(events) if i != late_index])
    late.record_event("T-0001", events[late_index], actor="nurse:ann")

    assert outline(late.patient_view("T-0001")) == outline(on_time.patient_view("T-0001"))
    assert list(late.verify()) == [] and list(on_time.verify()) == []


def test_a_backdated_reassessment_entered_after_the_clock_fired_resolves_the_reminder(
        make_tracker: Any) -> None:
    on_time = make_tracker(date(2025, 3, 8), name="on_time.sqlite")
    register(on_time)
    record_all(on_time, PERIOP_START)
    on_time.record_event("T-0001", ev("reassessment", "2025-03-08", response="SD", resectable=False),
                         actor="nurse:ann")

    late = make_tracker(date(2025, 3, 20), name="late.sqlite")
    register(late)
    record_all(late, PERIOP_START)
    assert late.patient_view("T-0001").outcome.phase.value == "reassessment"
    late.record_event("T-0001", ev("reassessment", "2025-03-08", response="SD", resectable=False),
                      actor="nurse:ann")

    day = date(2025, 3, 20)
    a, b = outline(on_time.patient_view("T-0001", day)), outline(late.patient_view("T-0001", day))
    for key in ("phase", "history", "reminders"):
        assert a[key] == b[key]
    assert b["phase"] == "neoadjuvant"


def test_a_backdated_entry_that_would_make_a_later_one_impossible_is_refused(make_tracker: Any) -> None:
    tracker = make_tracker(TODAY)
    register(tracker)
    record_all(tracker, [*PERIOP_START, ev("systemic_stopped", "2025-03-01", reason="toxicity")])
    with pytest.raises(ImpossibleEntry) as refused:
        tracker.record_event("T-0001", ev("death", "2025-02-01"), actor="nurse:ann")
    assert "2025-03-01" in refused.value.message
    assert count(tracker, EventRow) == 3


# ---------------------------------------------------------------------------------------------
# One transaction per event, guarded by the version

def test_a_stale_version_raises_concurrent_update_and_writes_nothing(make_tracker: Any) -> None:
    tracker = make_tracker(TODAY)
    register(tracker)
    record_all(tracker, PERIOP_START[:1])
    seen = tracker.patient_view("T-0001").row.version
    tracker.record_event("T-0001", PERIOP_START[1], actor="nurse:ann", expected_version=seen)
    before = (count(tracker, EventRow), reminder_rows(tracker), tracker.patient_view("T-0001").row.phase)

    with pytest.raises(ConcurrentUpdate) as refused:
        tracker.record_event("T-0001", ev("progression", "2025-02-01"), actor="nurse:bob",
                             expected_version=seen)
    assert "T-0001" in refused.value.message
    view = tracker.patient_view("T-0001")
    assert (count(tracker, EventRow), reminder_rows(tracker), view.row.phase) == before
    assert view.row.version == seen + 1


def test_a_refused_entry_writes_nothing(make_tracker: Any) -> None:
    tracker = make_tracker(TODAY)
    register(tracker)
    record_all(tracker, PERIOP_START)
    version = tracker.patient_view("T-0001").row.version
    with pytest.raises(OffPathway):
        tracker.record_event("T-0001", ev("recurrence", "2025-02-01", site="liver_only"), actor="x")
    with pytest.raises(ImpossibleEntry):
        tracker.record_event("T-0001", ev("progression", "2026-01-16"), actor="x")  # tomorrow
    assert count(tracker, EventRow) == 2
    assert tracker.patient_view("T-0001").row.version == version


def test_an_override_is_recorded_with_its_reason(make_tracker: Any) -> None:
    tracker = make_tracker(TODAY)
    register(tracker)
    record_all(tracker, PERIOP_START)
    result = tracker.record_event("T-0001", ev("recurrence", "2025-02-01", site="liver_only",
                                               override="new lesion outside the treated field"),
                                  actor="dr:bo")
    assert (result.phase_before, result.phase_after) == ("neoadjuvant", "recurrence")
    assert result.row.override_reason == "new lesion outside the treated field"
    assert tracker.patient_view("T-0001").outcome.steps[-1].overridden


# ---------------------------------------------------------------------------------------------
# verify

def _import_all(tracker: Any, folder: Path) -> int:
    files = scenario_files(folder)
    for file in files:
        tracker.import_scenario(load_scenario(file), actor="import", source=file.name)
    return len(files)


def test_verify_passes_after_importing_the_contract_and_demo_examples(make_tracker: Any) -> None:
    tracker = make_tracker(date(2027, 1, 1))
    imported = _import_all(tracker, SHARED_EXAMPLES) + _import_all(tracker, DOCS_EXAMPLES)
    assert imported >= 3 + 6
    assert count(tracker, PatientRow) == imported
    assert list(tracker.verify()) == []
    # importing again changes nothing and still verifies
    events = count(tracker, EventRow)
    _import_all(tracker, SHARED_EXAMPLES)
    _import_all(tracker, DOCS_EXAMPLES)
    assert count(tracker, EventRow) == events
    assert list(tracker.verify()) == []


def test_verify_names_the_patient_and_position_of_a_tampered_event(make_tracker: Any) -> None:
    tracker = make_tracker(TODAY)
    tracker.import_scenario(read_scenario(scenario(*PERIOP_JOURNEY, ref="T-0002")), actor="import")
    register(tracker)
    record_all(tracker, PERIOP_START)
    assert list(tracker.verify()) == []
    with tracker.engine.begin() as connection:
        patient_id = connection.execute(text("SELECT id FROM patient WHERE ref = 'T-0002'")).scalar()
        connection.execute(
            text("UPDATE event SET payload = :payload WHERE patient_id = :pid AND seq = 3"),
            {"payload": '{"date": "2025-03-05", "type": "reassessment", "response": "PR", '
                        '"resectable": true}', "pid": patient_id})
    problems = list(tracker.verify())
    assert problems, "a tampered payload must be reported"
    assert all(p.startswith("T-0002") for p in problems)
    assert any("event 3" in p and "reassessment" in p for p in problems)


def test_an_entry_altered_into_something_unreadable_is_reported_not_a_crash(make_tracker: Any) -> None:
    """Stored entries are read back without re-checking their fields; one edited outside the
    tracker so that it is not even an entry any more is named by verify, and the patient view
    refuses it in words instead of failing."""
    tracker = make_tracker(TODAY)
    register(tracker)
    record_all(tracker, PERIOP_START)
    with tracker.engine.begin() as connection:
        connection.execute(text("UPDATE event SET payload = :payload WHERE seq = 2"),
                           {"payload": '{"date": "2025-01-10", "regimen": "FOLFOX"}'})
    problems = list(tracker.verify())
    assert any(p.startswith("T-0001: event 2 (systemic_started) can no longer be read") for p in problems)
    with pytest.raises(ImpossibleEntry, match="is not something the tracker can record"):
        tracker.patient_view("T-0001")


def test_verify_reports_a_stored_phase_the_log_does_not_imply(make_tracker: Any) -> None:
    tracker = make_tracker(TODAY)
    register(tracker)
    record_all(tracker, PERIOP_START)
    with tracker.engine.begin() as connection:
        connection.execute(text("UPDATE patient SET phase = 'surveillance'"))
    [problem] = list(tracker.verify())
    assert problem.startswith("T-0001") and "surveillance" in problem
