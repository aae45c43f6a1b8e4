"""``journey backup FILE`` and ``journey restore FILE`` on both engines: the round trip gives back
exactly what was backed up, verified; a restore never silently replaces a database in use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from db.tables import EventRow, PatientRow
from journey.scenario import read_scenario
from tests.conftest import PERIOP_START, ev, scenario

MORE = (ev("reassessment", "2025-03-05", response="SD", resectable=False),
        ev("reassessment", "2025-05-06", response="PR", resectable=True))


def snapshot(tracker: Any) -> list[tuple]:
    with Session(tracker.engine) as session:
        patients = [(p.ref, p.phase, p.version)
                    for p in session.exec(select(PatientRow).order_by(PatientRow.ref))]
        events = [(e.patient_id, e.seq, e.type, e.chain_hash)
                  for e in session.exec(select(EventRow).order_by(EventRow.patient_id, EventRow.seq))]
    return patients + events


def fill(tracker: Any, n: int = 5) -> None:
    for i in range(n):
        tracker.import_scenario(read_scenario(scenario(*PERIOP_START, ref=f"P-{i}")), actor="import")


def test_a_backup_restores_to_exactly_what_was_backed_up_and_verifies(
        clinic: Any, journey: Any, tmp_path: Path, make_clinic: Any) -> None:
    fill(clinic)
    before = snapshot(clinic)
    file = tmp_path / "backups" / "journey.backup"
    done = journey("backup", str(file))
    assert done.exit_code == 0, done.output
    assert file.is_file() and not file.with_name(file.name + ".partial").exists()

    for entry in MORE:  # life goes on after the backup ...
        clinic.record_event("P-0", entry, actor="nurse:ann")
    clinic.import_scenario(read_scenario(scenario(*PERIOP_START, ref="P-new")), actor="import")
    assert snapshot(clinic) != before
    clinic.engine.dispose()

    refused = journey("restore", str(file))  # ... and a restore must be asked for knowingly
    assert refused.exit_code == 4 and "--replace" in refused.output
    done = journey("restore", str(file), "--replace")
    assert done.exit_code == 0, done.output
    assert "Restored" in done.output and "Verified" in done.output
    again = make_clinic()
    assert snapshot(again) == before
    assert list(again.verify()) == []
    # and the restored database takes new entries as before
    again.record_event("P-0", MORE[0], actor="nurse:ann")
    assert list(again.verify()) == []


def test_a_backup_never_overwrites_a_file_and_restore_refuses_what_is_not_a_backup(
        clinic: Any, journey: Any, tmp_path: Path) -> None:
    fill(clinic, 1)
    file = tmp_path / "b.backup"
    file.write_text("precious")
    done = journey("backup", str(file))
    assert done.exit_code == 4 and "already exists" in done.output
    assert file.read_text() == "precious"
    done = journey("restore", str(file), "--replace")
    assert done.exit_code == 2 and "not a backup made by `journey backup`" in done.output
    done = journey("restore", str(tmp_path / "missing.backup"))
    assert done.exit_code == 3
    assert len(snapshot(clinic)) == 3  # one patient, two events: untouched


def test_a_restored_backup_with_a_tampered_event_fails_verification(
        clinic: Any, journey: Any, tmp_path: Path) -> None:
    from sqlalchemy import text

    fill(clinic, 2)
    with clinic.engine.begin() as connection:
        connection.execute(text("UPDATE event SET actor = 'mallory' WHERE seq = 2"))
    file = tmp_path / "tampered.backup"
    assert journey("backup", str(file)).exit_code == 0
    done = journey("restore", str(file), "--replace")
    assert done.exit_code == 1
    assert "P-0: event 2" in done.output and "P-1: event 2" in done.output
