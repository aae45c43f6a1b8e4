"""Crash safety: a process recording thousands of events is killed with SIGKILL in the middle.
Afterwards every write it acknowledged is there, nothing is half-written (each patient's log,
phase, version and reminders agree), and verify passes. On SQLite (WAL, synchronous=FULL) and
on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from db.tables import EventRow, PatientRow
from tests.production.recorder import JOURNEY

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
PATIENTS = 290  # 290 x (1 registration + 7 events): about 2,300 transactions if never killed
KILL_AFTER_ACKS = 600


def record_until_killed(url: str) -> list[str]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.production.recorder", url, str(PATIENTS)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    acknowledged: list[str] = []
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        acknowledged.append(line.strip())
        if len(acknowledged) >= KILL_AFTER_ACKS or time.monotonic() > deadline:
            break
    os.kill(proc.pid, signal.SIGKILL)  # in the middle of its next transaction, most likely
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    # lines already written to the pipe before the kill were acknowledged too
    acknowledged.extend(line.strip() for line in proc.stdout if line.strip())
    return acknowledged


def test_every_acknowledged_event_survives_a_sigkill_and_nothing_is_half_written(
        database_url: str, make_clinic: Any) -> None:
    make_clinic().engine.dispose()  # create the schema before the recorder starts
    acknowledged = record_until_killed(database_url)
    assert len(acknowledged) >= KILL_AFTER_ACKS

    tracker = make_clinic()  # a restart: SQLite rolls back an unfinished WAL transaction here
    with Session(tracker.engine) as session:
        patients = {p.ref: p for p in session.exec(select(PatientRow))}
        log: dict[str, list[EventRow]] = defaultdict(list)
        for row in session.exec(select(EventRow).order_by(EventRow.patient_id, EventRow.seq)):
            log[next(ref for ref, p in patients.items() if p.id == row.patient_id)].append(row)

    for line in acknowledged:
        kind, ref, *rest = line.split()
        assert ref in patients, line
        if kind == "event":
            seq, type_ = int(rest[0]), rest[1]
            assert [r.type for r in log[ref] if r.seq == seq] == [type_], line
    acked_events = sum(1 for line in acknowledged if line.startswith("event"))
    stored_events = sum(len(rows) for rows in log.values())
    assert acked_events <= stored_events <= acked_events + 1  # at most the one in flight
    assert len(patients) - sum(1 for line in acknowledged if line.startswith("patient")) in (0, 1)
    for ref, row in patients.items():
        rows = log[ref]
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1)), ref
        assert [r.type for r in rows] == [e["type"] for e in JOURNEY[:len(rows)]], ref
        assert row.version == 1 + len(rows), ref  # the event and its patient row went together
    assert list(tracker.verify()) == []
