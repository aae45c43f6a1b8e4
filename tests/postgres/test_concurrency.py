"""Two people recording for the same patient at the same moment, with real threads and real
processes: one succeeds, the other is told of the conflict, and nothing is lost or merged."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from db.tables import EventRow
from journey.errors import ConcurrentUpdate
from tests.conftest import PERIOP_START, ev, patient

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres

REASSESSMENTS = [ev("reassessment", f"2025-03-{day:02d}", response="SD", resectable=False)
                 for day in range(2, 26)]


def run_together(*actions: Callable[[], Any]) -> list[Any]:
    """Start the actions on threads released by one barrier; each result or the exception raised."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(i: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[i] = action()
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def events_of(tracker: Any) -> list[EventRow]:
    with Session(tracker.engine) as session:
        return list(session.exec(select(EventRow).order_by(EventRow.seq)))


@pytest.fixture
def started(make_clinic: Callable[..., Any]) -> Any:
    tracker = make_clinic()
    tracker.register_patient(patient())
    for entry in PERIOP_START:
        tracker.record_event("T-0001", entry, actor="nurse:ann")
    return tracker


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_people_who_saw_the_same_version_one_succeeds_the_other_gets_a_conflict(
        started: Any, make_clinic: Callable[..., Any]) -> None:
    ann, bob = make_clinic(), make_clinic()  # two processes' worth of engines and pools
    seen = ann.patient_view("T-0001").row.version
    for first, second in zip(REASSESSMENTS[0:10:2], REASSESSMENTS[1:10:2], strict=True):
        results = run_together(
            lambda a=first, v=seen: ann.record_event("T-0001", a, "nurse:ann", v),
            lambda b=second, v=seen: bob.record_event("T-0001", b, "dr:bob", v))
        won = [r for r in results if not isinstance(r, Exception)]
        lost = [r for r in results if isinstance(r, Exception)]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], ConcurrentUpdate), lost[0]
        assert "Nothing was saved" in lost[0].message
        seen = won[0].version
    rows = events_of(started)
    assert [r.seq for r in rows] == list(range(1, 8))  # 2 + one winner per round
    assert started.patient_view("T-0001").row.version == seen
    assert list(started.verify()) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_writers_who_did_not_read_first_take_turns_and_every_entry_is_kept(
        started: Any, make_clinic: Callable[..., Any]) -> None:
    """Without a version (the CLI's default) the patient row lock makes writers queue: each one
    validates against what the previous one wrote; no entry lost, no sequence number doubled."""
    trackers = [make_clinic() for _ in range(6)]
    entries = REASSESSMENTS[:12]
    results = run_together(*[
        (lambda t=t, i=i, pair=entries[i * 2:i * 2 + 2]: [t.record_event("T-0001", e, f"user{i}")
                                                          for e in pair])
        for i, t in enumerate(trackers)])
    assert not [r for r in results if isinstance(r, Exception)], results
    rows = events_of(started)
    assert [r.seq for r in rows] == list(range(1, 15))
    assert sorted(r.date.isoformat() for r in rows[2:]) == sorted(e["date"] for e in entries)
    assert started.patient_view("T-0001").row.version == 1 + 14
    assert list(started.verify()) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_imports_registering_the_same_new_patient_at_once_give_one_patient(
        make_clinic: Callable[..., Any]) -> None:
    from journey.scenario import read_scenario
    from tests.conftest import scenario

    sc = read_scenario(scenario(*PERIOP_START))
    a, b = make_clinic(), make_clinic()
    results = run_together(lambda: a.import_scenario(sc, "import:a"),
                           lambda: b.import_scenario(sc, "import:b"))
    assert all(not isinstance(r, Exception) or isinstance(r, ConcurrentUpdate) for r in results), results
    assert len(events_of(a)) == 2
    assert list(a.verify()) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_cli_processes_with_the_same_version_one_exits_0_the_other_exits_4(
        started: Any, database_url: str) -> None:
    seen = started.patient_view("T-0001").row.version
    env = {**os.environ, "JOURNEY_DATABASE_URL": database_url, "JOURNEY_SITE_TIMEZONE": "UTC"}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "journey", "event", "add", "T-0001",
         "--type", "reassessment", "--date", entry["date"], "--response", "SD", "--resectable", "false",
         "--expect-version", str(seen)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for entry in REASSESSMENTS[:2]]
    outcomes = [(p.wait(60), p.stdout.read() if p.stdout else "", p.stderr.read() if p.stderr else "")
                for p in procs]
    codes = sorted(code for code, _, _ in outcomes)
    assert codes == [0, 4], outcomes
    loser = next(o for o in outcomes if o[0] == 4)
    assert "changed by someone else" in " ".join(loser[2].split())
    assert len(events_of(started)) == 3
    assert list(started.verify()) == []
