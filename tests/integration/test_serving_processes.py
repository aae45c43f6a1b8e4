"""Serving on every core (issue 17): readers that take no lock, writers that queue for SQLite's one
write lock instead of polling for it, and ``journey serve --workers N`` (each worker builds its
own Tracker from the settings; the listening socket is handed over as TCP, so answers are not
held back by Nagle's algorithm). No timings are asserted here: these hold what the benchmark's
figures rest on (scripts/bench.py)."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from db.engine import make_engine, writer_turn
from db.migrate import upgrade
from db.unit_of_work import UnitOfWork
from journey.scenario import read_scenario
from tests.conftest import PERIOP_START, ev, scenario
from tracker.compose import build_tracker
from tracker.settings import Settings

TODAY = date(2026, 1, 15)


def tracker_on(path: Path) -> Any:
    settings = Settings(database_url=f"sqlite:///{path}")
    return build_tracker(settings, as_of=TODAY)


def test_a_reader_neither_waits_for_the_writer_nor_makes_it_wait(tmp_path: Path) -> None:
    tracker = tracker_on(tmp_path / "j.sqlite")
    tracker.import_scenario(read_scenario(scenario(*PERIOP_START, ref="P-1")), "test")
    writing, done = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with tracker.unit_of_work() as uow:
            uow.access_log.append(at=tracker.clock.now(), user="w", action="read", patient_ref=None,
                                  detail="")
            writing.set()
            done.wait(10)
            uow.commit()

    writer = threading.Thread(target=hold_the_write_lock)
    writer.start()
    assert writing.wait(10)
    try:
        # the writer holds SQLite's write lock; a reader gets its snapshot at once (a BEGIN
        # IMMEDIATE would wait for it up to the busy timeout)
        view = tracker.patient_view("P-1")
        assert view.row.ref == "P-1" and tracker.worklist(limit=5) is not None
        assert not done.is_set()
    finally:
        done.set()
        writer.join(10)


def test_a_read_only_unit_of_work_keeps_nothing(tmp_path: Path) -> None:
    tracker = tracker_on(tmp_path / "j.sqlite")
    with tracker.reading() as uow, pytest.raises(TypeError, match="read-only"):
        uow.commit()
    with tracker.reading() as uow:  # reads as any unit of work does
        assert uow.patients.count() == 0


def test_writers_of_one_file_take_turns_in_the_queue(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    inside, overlaps = [0], []
    lock = threading.Lock()

    def write(i: int) -> None:
        with UnitOfWork(engine) as uow:
            with lock:
                inside[0] += 1
                overlaps.append(inside[0])
            uow.access_log.append(at=datetime.now(UTC), user=f"t{i}", action="read", patient_ref=None,
                                  detail="")
            time.sleep(0.002)
            with lock:
                inside[0] -= 1
            uow.commit()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert max(overlaps) == 1  # one writer at a time, none failed on SQLite's lock
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM access_log")).scalar_one() == 12
    assert Path(f"{path}-writer").exists()  # the other processes' writers queue on this file
    # reentrant: a unit of work inside a turn of the same thread does not wait for itself
    with writer_turn(engine), writer_turn(engine):
        pass
    engine.dispose()


def test_the_writer_queue_is_only_for_sqlite_files() -> None:
    memory = make_engine("sqlite://")
    with writer_turn(memory):  # nothing to queue for: one connection
        pass


def test_several_workers_build_their_own_tracker_and_get_a_tcp_listener(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn.supervisors

    from tracker import compose

    path = tmp_path / "j.sqlite"
    tracker_on(path).engine.dispose()
    handed: dict[str, Any] = {}

    class Supervisor:
        def __init__(self, config: Any, sockets: list[socket.socket]) -> None:
            handed.update(config=config, sockets=sockets)

        def run(self) -> None:
            handed["ran"] = True

    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", Supervisor)
    settings = Settings(database_url=f"sqlite:///{path}", pseudonym_key=SecretStr("k" * 32),
                        session_secret=SecretStr("s" * 32))
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    compose.serve(compose.build_tracker(settings, as_of=TODAY), port=port, workers=3)
    listener = handed["sockets"][0]
    try:
        assert handed["ran"] and handed["config"].workers == 3
        assert handed["config"].app == "tracker.compose:web_app" and handed["config"].factory
        # accepted connections inherit the protocol; asyncio sets TCP_NODELAY only for IPPROTO_TCP
        assert listener.proto == socket.IPPROTO_TCP
    finally:
        listener.close()

    # each worker reads the settings from the environment and refuses to start without secrets
    monkeypatch.setenv("JOURNEY_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("JOURNEY_PSEUDONYM_KEY", "k" * 32)
    monkeypatch.setenv("JOURNEY_SESSION_SECRET", "")
    with pytest.raises(Exception, match="JOURNEY_SESSION_SECRET"):
        compose.web_app()
    monkeypatch.setenv("JOURNEY_SESSION_SECRET", "s" * 32)
    app = compose.web_app()
    assert app.state.tracker.settings.database_url == f"sqlite:///{path}"
    app.state.tracker.engine.dispose()


def test_one_patients_entries_from_two_threads_are_both_kept(tmp_path: Path) -> None:
    tracker = tracker_on(tmp_path / "j.sqlite")
    tracker.import_scenario(read_scenario(scenario(*PERIOP_START, ref="P-1")), "test")
    errors: list[BaseException] = []

    def record(day: str) -> None:
        try:
            tracker.record_event("P-1", ev("mdt_review", day, resectable=False), actor="t")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=record, args=(f"2025-02-0{d}",)) for d in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert list(tracker.verify()) == []  # the log, the phase, the reminders and the memory agree
