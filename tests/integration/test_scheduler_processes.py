"""Two ``journey scheduler`` processes on one SQLite file: only the lease holder runs jobs; when
it is SIGKILLed the standby takes over, and every notification arrives exactly once.

Timing is never asserted: the test polls the lease row, the logs and a local webhook in bounded
loops (short lease and heartbeat settings keep them fast)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from db.tables import NotificationRow, SchedulerLease
from journey.scenario import read_scenario
from tests.conftest import ev, scenario
from tracker.application import Tracker
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.settings import Settings

JOURNEY = Path(sys.executable).with_name("journey")


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.keys: list[str] = []
        self.lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.keys.append(self.headers["Idempotency-Key"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def wait_for(what: str, condition: Callable[[], Any], limit: float = 45.0) -> Any:
    """Poll ``condition`` until it is truthy; fail (saying what) after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"gave up waiting: {what}")


def register_due_patients(tracker: Tracker, refs: list[str], today: date) -> None:
    """Patients on pre-operative therapy whose reassessment fell due a few days ago."""
    for i, ref in enumerate(refs):
        start = today - timedelta(days=64 + i)
        raw = scenario(ev("mdt_review", start - timedelta(days=3), resectable=True, plan="perioperative"),
                       ev("systemic_started", start, regimen="FOLFOX"), ref=ref)
        tracker.import_scenario(read_scenario(raw), actor="test")


def lease_holder(tracker: Tracker) -> str | None:
    with Session(tracker.engine) as session:
        lease = session.exec(select(SchedulerLease)).first()
        if lease is None or lease.expires_at < datetime.now(UTC):
            return None
        return lease.holder


def outbox_states(tracker: Tracker) -> Counter[str]:
    with Session(tracker.engine) as session:
        return Counter(n.state for n in session.exec(select(NotificationRow)))


@pytest.mark.slow
def test_two_schedulers_one_runs_the_standby_takes_over_after_sigkill_and_nothing_is_doubled_or_lost(
        tmp_path: Path, receiver: Receiver) -> None:
    url = f"sqlite:///{tmp_path / 'journey.sqlite'}"
    env = {**os.environ, "JOURNEY_DATABASE_URL": url, "JOURNEY_SITE_TIMEZONE": "UTC",
           "JOURNEY_WEBHOOK_URL": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
           "JOURNEY_WEBHOOK_SECRET": "tests-only-webhook-secret-0123456789",  # a webhook needs one
           "JOURNEY_SCHEDULER_LEASE_SECONDS": "3", "JOURNEY_SCHEDULER_HEARTBEAT_SECONDS": "1",
           "JOURNEY_DELIVERY_INTERVAL_SECONDS": "1"}
    today = datetime.now(UTC).date()
    settings = Settings(database_url=url, site_timezone="UTC")
    tracker = build_tracker(settings, clock=FixedClock(today))
    register_due_patients(tracker, ["A-1", "A-2", "A-3"], today)

    processes: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"{name}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen([str(JOURNEY), "scheduler"], env=env, stdout=sink,
                                       stderr=subprocess.STDOUT)
        processes.append(process)
        return process, log

    try:
        first, first_log = start("first")
        wait_for("the first scheduler to take the lease",
                 lambda: (lease_holder(tracker) or "").endswith(f":{first.pid}"))
        second, second_log = start("second")
        wait_for("the second scheduler to stand by", lambda: "standing by" in second_log.read_text())
        wait_for("the first three notices to be delivered",
                 lambda: outbox_states(tracker) == Counter(sent=3) and len(receiver.keys) == 3)
        assert "job journey-sweep" in first_log.read_text()
        assert "job journey-" not in second_log.read_text()  # the standby ran nothing
        assert (lease_holder(tracker) or "").endswith(f":{first.pid}")

        # more work arrives, then the active scheduler dies without a chance to clean up
        register_due_patients(tracker, ["B-1", "B-2"], today)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        wait_for("the standby to take the lease",
                 lambda: (lease_holder(tracker) or "").endswith(f":{second.pid}"))
        wait_for("the two new notices to be delivered",
                 lambda: outbox_states(tracker) == Counter(sent=5) and len(receiver.keys) == 5)
        assert "job journey-sweep" in second_log.read_text()

        # exactly once: five distinct keys, each received once, and nothing more arrives
        assert len(set(receiver.keys)) == 5
        with Session(tracker.engine) as session:
            stored = {n.idempotency_key for n in session.exec(select(NotificationRow))}
        assert stored == set(receiver.keys)

        second.send_signal(signal.SIGTERM)  # a clean stop releases the lease at once
        assert second.wait(timeout=30) == 0
        assert lease_holder(tracker) is None
        assert "released the lease" in second_log.read_text()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
