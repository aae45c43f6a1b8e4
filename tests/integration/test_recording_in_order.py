"""Recording entries one by one, in date order, steps the fold's kept memory instead of replaying
the log (issue 17), on a real SQLite file. What is stored is what a replay of the whole log gives
(the phase, every reminder, the memory itself: ``journey verify`` checks them), the log is never
read for such an entry, and a backdated entry still replays the log."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import text

from db.patients import Patients
from journey.errors import EntryRefused
from journey.scenario import read_scenario
from tests.conftest import PERIOP_START, ev, patient, scenario, seen_key
from tests.strategies import journeys
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.settings import Settings

FOLDER = tempfile.TemporaryDirectory(prefix="journey-in-order-")
REFS = count(1)


def _tracker(today: date, folder: Path | None = None) -> Any:
    url = f"sqlite:///{(folder or Path(FOLDER.name)) / 'journey.sqlite'}"
    return build_tracker(Settings(database_url=url), clock=FixedClock(today))


def _stored(tracker: Any, ref: str) -> tuple[Any, ...]:
    view = tracker.patient_view(ref)
    return (view.row.phase, sorted(((r.kind, r.anchor_on, r.due_on, r.resolved_on, r.cancelled_on,
                                     r.held_since, r.status) for r in view.reminder_rows), key=seen_key))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys())
def test_entries_recorded_in_order_store_what_an_import_of_the_log_stores(raw: dict[str, Any]) -> None:
    as_of = date.fromisoformat(raw["as_of"])
    tracker = _tracker(as_of)
    one_by_one, imported = f"ONE-{next(REFS):05d}", f"ALL-{next(REFS):05d}"
    tracker.register_patient({**raw["patient"], "ref": one_by_one})
    for entry in sorted(raw["events"], key=lambda e: e["date"]):  # file order within a date
        # refused in words, nothing written: the import leaves it out the same way
        with contextlib.suppress(EntryRefused):
            tracker.record_event(one_by_one, entry, actor="test")
    tracker.import_scenario(read_scenario({**raw, "patient": {**raw["patient"], "ref": imported},
                                           "events": sorted(raw["events"], key=lambda e: e["date"])}),
                            actor="test")
    assert _stored(tracker, one_by_one) == _stored(tracker, imported)
    assert [p for p in tracker.verify() if p.startswith((one_by_one, imported))] == []


@pytest.fixture
def recording(tmp_path: Path) -> Any:
    tracker = _tracker(date(2025, 6, 1), tmp_path)
    tracker.import_scenario(read_scenario(scenario(*PERIOP_START)), actor="test")
    return tracker


def test_an_entry_in_order_does_not_read_the_log(recording: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_log(*_: Any) -> Any:
        raise AssertionError("the log was read for an entry in order")

    monkeypatch.setattr(Patients, "writable_journey", no_log)
    recorded = recording.record_event("T-0001", ev("reassessment", "2025-03-05", response="SD",
                                                   resectable=False), actor="test")
    assert (recorded.phase_before, recorded.phase_after) == ("neoadjuvant", "neoadjuvant")
    monkeypatch.undo()
    assert list(recording.verify()) == []


def test_a_backdated_entry_replays_the_log_and_keeps_a_new_memory(recording: Any) -> None:
    recording.record_event("T-0001", ev("reassessment", "2025-03-05", response="SD", resectable=False),
                           actor="test")
    recording.record_event("T-0001", ev("mdt_review", "2025-01-08", resectable=True), actor="test")
    assert list(recording.verify()) == []
    recording.record_event("T-0001", ev("reassessment", "2025-05-01", response="PR", resectable=True),
                           actor="test")
    assert list(recording.verify()) == []
    assert recording.patient_view("T-0001").row.phase == "resection"


def test_verify_names_a_memory_that_differs_from_the_log(recording: Any) -> None:
    with recording.engine.begin() as connection:
        connection.execute(text("UPDATE journey_memory SET memory = json_set(memory, '$.phase', 'salvage')"))
    [problem] = list(recording.verify())
    assert problem.startswith("T-0001:") and "remembers of the journey" in problem


def test_a_memory_of_other_rules_is_not_used(recording: Any) -> None:
    with recording.engine.begin() as connection:
        connection.execute(text("UPDATE journey_memory SET version = 'older rules', "
                                "memory = json_set(memory, '$.phase', 'salvage')"))
    recorded = recording.record_event("T-0001", ev("reassessment", "2025-03-05", response="SD",
                                                   resectable=False), actor="test")
    assert recorded.phase_before == "neoadjuvant"  # from the log, not the stale memory
    assert list(recording.verify()) == []


def test_registering_and_recording_a_first_entry_keeps_a_memory(tmp_path: Path) -> None:
    tracker = _tracker(date(2025, 6, 1), tmp_path)
    tracker.register_patient(patient(ref="NEW-1"))
    tracker.record_event("NEW-1", PERIOP_START[0], actor="test")
    tracker.record_event("NEW-1", PERIOP_START[1], actor="test")
    with tracker.engine.connect() as connection:
        [(length,)] = connection.execute(text("SELECT log_length FROM journey_memory")).all()
    assert length == 2 and list(tracker.verify()) == []
