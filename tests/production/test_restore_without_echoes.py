"""A restore sends nothing twice, and gives up witnessed entries only when told to (issue 18), on
both engines: backup -> sweep and deliver -> restore -> sweep and deliver sends each notification
once, whether it was queued before or after the backup; what falls due later is still sent; a
backup lacking witnessed entries is restored only with --accept-rollback, which a signed
checkpoint records; a backup that differs from what was witnessed is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from journey.scenario import read_scenario
from tests.conftest import PERIOP_START, ev, scenario
from tests.production.test_checkpoints import JOURNEY, cli, evidence_env, keys, rewrite_by_hand, said  # noqa: F401
from tracker.application import NoticeRecord, Sender
from tracker.application.notifications import deliver
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.settings import Settings

BEFORE_DUE, DUE, OVERDUE = date(2025, 2, 1), date(2025, 3, 12), date(2025, 4, 1)


class Receiver(Sender):
    """The webhook's far end: every notification that reached it, by idempotency key."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.received: list[str] = []

    def send(self, notice: NoticeRecord, now: datetime) -> None:
        self.received.append(notice.idempotency_key)


@pytest.fixture
def make(database_url: str, keys: dict[str, Path]) -> Callable[[date], Any]:  # noqa: F811
    made: list[Any] = []

    def tracker_on(day: date) -> Any:
        settings = Settings(database_url=database_url, webhook_url="http://127.0.0.1:9/journey",
                            checkpoint_path=keys["store"], checkpoint_key=keys["private"],
                            checkpoint_public_keys=keys["public"])
        made.append(build_tracker(settings, clock=FixedClock(day)))
        return made[-1]

    yield tracker_on
    for tracker in made:
        tracker.engine.dispose()


def sweep_and_deliver(tracker: Any, receiver: Receiver, day: date) -> None:
    tracker.sweep(day)
    deliver(tracker, sender=receiver)


@pytest.mark.parametrize("queued", ["before the backup", "after the backup"])
def test_backup_deliver_restore_sweep_sends_nothing_twice(make: Any, tmp_path: Path, queued: str) -> None:
    first = make(BEFORE_DUE)
    for i in range(6):
        first.import_scenario(read_scenario(scenario(*PERIOP_START, ref=f"P-{i}")), actor="import")
    receiver = Receiver(first.settings)
    file = tmp_path / "journey.backup"
    if queued == "before the backup":
        make(DUE).sweep(DUE)  # the notices wait in the outbox when the backup is taken
    first.backup(file)
    sweep_and_deliver(make(DUE), receiver, DUE)
    assert len(receiver.received) == 6  # each patient's reassessment fell due

    report = make(DUE).restore(file, replace=True)
    assert report.problems == [] and report.deliveries == 6
    sweep_and_deliver(make(DUE), receiver, DUE)
    assert len(receiver.received) == 6, "a restore sent again what was already delivered"
    after = make(DUE).notifications(everything=True)
    assert {n.state for n in after} <= {"sent", "superseded"}
    assert all("before the database was restored" in (n.last_error or "")
               for n in after if n.state == "superseded")

    sweep_and_deliver(make(OVERDUE), receiver, OVERDUE)  # what falls due later is still announced
    assert len(receiver.received) == 12 and len(set(receiver.received)) == 12
    assert all(key.endswith("-overdue-webhook") for key in receiver.received[6:])


def test_a_restore_that_gives_up_witnessed_entries_asks_first(
        make: Any, cli: Any, tmp_path: Path) -> None:  # noqa: F811
    tracker = make(date(2026, 1, 15))
    for ref in ("P-A", "P-B"):
        tracker.import_scenario(read_scenario(scenario(*JOURNEY, ref=ref)), actor="import")
    file = tmp_path / "journey.backup"
    tracker.backup(file)
    tracker.record_event("P-A", ev("surgery", "2025-08-01", procedure="liver_resection", margin="R0"),
                         actor="dr:bob")
    tracker.import_scenario(read_scenario(scenario(*PERIOP_START, ref="P-new")), actor="import")
    assert cli("checkpoint").exit_code == 0
    tracker.engine.dispose()

    refused = cli("restore", str(file), "--replace")
    assert refused.exit_code == 4, refused.output
    text = said(refused)
    assert "lacks entries that the checkpoints witnessed" in text and "--accept-rollback" in text
    assert "P-A: entries 6 to 6, witnessed by checkpoint 1" in text and "P-new: entries 1 to 2" in text
    assert make(date(2026, 1, 15)).patient_count() == 3  # nothing was replaced

    done = cli("restore", str(file), "--replace", "--accept-rollback")
    assert done.exit_code == 0, done.output
    assert "Checkpoint 2 records the rollback" in said(done) and "Verified" in said(done)
    done = cli("verify", "--checkpoints", str(tmp_path / "checkpoints"))
    assert done.exit_code == 0, done.output
    assert "checkpoint 2" in said(done) and "accepted a rollback (restore of journey.backup)" in said(done)

    # life goes on: another entry takes the place the given-up one had, and is witnessed
    make(date(2026, 1, 15)).record_event(
        "P-A", ev("surgery", "2025-08-02", procedure="liver_resection", margin="R1"), actor="dr:bob")
    assert "Checkpoint 3 written" in said(cli("checkpoint"))
    assert cli("verify", "--checkpoints", str(tmp_path / "checkpoints")).exit_code == 0


def test_a_backup_that_differs_from_what_was_witnessed_is_not_restored(
        make: Any, cli: Any, tmp_path: Path) -> None:  # noqa: F811
    tracker = make(date(2026, 1, 15))
    tracker.import_scenario(read_scenario(scenario(*JOURNEY, ref="P-B")), actor="import")
    assert cli("checkpoint").exit_code == 0

    def pr_becomes_cr(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        entries[4]["payload"] = {**entries[4]["payload"], "response": "CR"}
        return entries

    rewrite_by_hand(tracker, "P-B", pr_becomes_cr)
    file = tmp_path / "tampered.backup"
    tracker.backup(file)
    tracker.engine.dispose()
    done = cli("restore", str(file), "--replace", "--accept-rollback")
    assert done.exit_code == 2, done.output
    assert "differ from what the checkpoints witnessed (P-B at entry 5" in said(done)
