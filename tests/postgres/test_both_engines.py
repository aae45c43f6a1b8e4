"""The persistence and the services behave the same on SQLite and on PostgreSQL: recording,
idempotent imports, the version guard, verify, and the migrations both ways."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from db.engine import make_engine
from db.migrate import downgrade, upgrade
from db.tables import EventRow, PatientRow
from journey.errors import ConcurrentUpdate, Conflict, ImpossibleEntry, NotFound, OffPathway
from journey.scenario import read_scenario
from tests.conftest import PERIOP_START, ev, patient, scenario

JOURNEY = (*PERIOP_START,
           ev("reassessment", "2025-03-05", response="SD", resectable=False),
           ev("reassessment", "2025-05-06", response="PR", resectable=True),
           ev("systemic_stopped", "2025-05-20", reason="surgery"),
           ev("surgery", "2025-06-10", procedure="liver_resection", margin="R0"))


def event_rows(tracker: Any, ref: str = "T-0001") -> list[EventRow]:
    with Session(tracker.engine) as session:
        return list(session.exec(select(EventRow).join(PatientRow).where(PatientRow.ref == ref)
                                 .order_by(EventRow.seq)))


def test_recorded_events_come_back_in_order_with_their_phases_after_a_restart(make_clinic: Any) -> None:
    first = make_clinic()
    first.register_patient(patient())
    for entry in JOURNEY:
        first.record_event("T-0001", entry, actor="nurse:ann")
    first.engine.dispose()

    again = make_clinic()
    view = again.patient_view("T-0001")
    assert [r.seq for r in view.event_rows] == [1, 2, 3, 4, 5, 6]
    assert [r.type for r in view.event_rows] == [e["type"] for e in JOURNEY]
    assert view.row.phase == view.outcome.phase.value == "resection"
    assert view.row.version == 1 + len(JOURNEY)
    assert view.event_rows[0].recorded_at.tzinfo is not None
    assert list(again.verify()) == []


def test_a_refused_entry_writes_nothing(clinic: Any) -> None:
    clinic.register_patient(patient())
    clinic.record_event("T-0001", JOURNEY[0], actor="nurse:ann")
    with pytest.raises(ImpossibleEntry):
        clinic.record_event("T-0001", ev("reassessment", "2030-01-01", response="PR", resectable=True),
                            actor="nurse:ann")
    with pytest.raises(OffPathway):
        clinic.record_event("T-0001", ev("recurrence", "2025-01-07", site="liver_only"),
                            actor="nurse:ann")
    assert len(event_rows(clinic)) == 1
    assert clinic.patient_view("T-0001").row.version == 2


def test_importing_the_same_scenario_twice_changes_nothing(clinic: Any) -> None:
    sc = read_scenario(scenario(*JOURNEY))
    first = clinic.import_scenario(sc, actor="import")
    second = clinic.import_scenario(sc, actor="import")
    assert (first.created, first.added) == (True, len(JOURNEY))
    assert (second.created, second.added, second.already_recorded) == (False, 0, len(JOURNEY))
    assert len(event_rows(clinic)) == len(JOURNEY)
    assert list(clinic.verify()) == []


def test_a_stale_version_is_refused_and_nothing_is_written(clinic: Any) -> None:
    clinic.register_patient(patient())
    seen = clinic.patient_view("T-0001").row.version
    clinic.record_event("T-0001", JOURNEY[0], actor="nurse:ann", expected_version=seen)
    with pytest.raises(ConcurrentUpdate, match="changed by someone else"):
        clinic.record_event("T-0001", JOURNEY[1], actor="dr:bob", expected_version=seen)
    assert [r.actor for r in event_rows(clinic)] == ["nurse:ann"]


def test_registering_twice_is_a_conflict_and_an_unknown_patient_is_not_found(clinic: Any) -> None:
    clinic.register_patient(patient())
    with pytest.raises(Conflict):
        clinic.register_patient(patient())
    with pytest.raises(NotFound):
        clinic.record_event("NOBODY", JOURNEY[0], actor="nurse:ann")


def test_verify_names_a_stored_phase_that_disagrees_with_the_log(clinic: Any) -> None:
    clinic.register_patient(patient())
    clinic.record_event("T-0001", JOURNEY[0], actor="nurse:ann")
    with clinic.engine.begin() as connection:
        connection.execute(text("UPDATE patient SET phase = 'surgery' WHERE ref = 'T-0001'"))
    assert any("T-0001: stored phase 'surgery'" in p for p in clinic.verify())


def test_unicode_and_quotes_survive_the_round_trip(clinic: Any) -> None:
    clinic.register_patient(patient(ref="Ünïcødé-名前"))
    note = "Patient prefers Zoë's clinic; said \"ça va\" — O'Brien; DROP TABLE event; --"
    clinic.record_event("Ünïcødé-名前", {**JOURNEY[0], "note": note}, actor="nurse:åsa")
    [row] = event_rows(clinic, "Ünïcødé-名前")
    assert row.payload["note"] == note and row.actor == "nurse:åsa"
    assert list(clinic.verify()) == []


def test_migrations_upgrade_to_head_and_downgrade_to_base(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        assert {"patient", "event", "reminder", "alembic_version"} <= tables
        downgrade(engine, "base")
        engine.dispose()
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        engine.dispose()
        assert {"patient", "event", "reminder"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_version_returned_by_a_recording_is_the_one_to_send_next(clinic: Any) -> None:
    clinic.register_patient(patient())
    seen = clinic.patient_view("T-0001").row.version
    for entry in JOURNEY[:3]:
        result = clinic.record_event("T-0001", entry, actor="nurse:ann", expected_version=seen)
        assert result.version == seen + 1 == clinic.patient_view("T-0001").row.version
        seen = result.version
