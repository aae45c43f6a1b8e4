"""The scheduler's checkpoint job: scheduled only when a checkpoint directory and a key are set,
it witnesses every log (nothing when nothing moved), and its signed statement goes to the webhook,
a witness off the machine, through the outbox; the receiver checks it with the public key."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore

from journey.scenario import read_scenario
from tests.conftest import PERIOP_START, scenario
from tracker.application import NoticeRecord, Sender, generate_keys
from tracker.application.notifications import deliver
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.evidence.checkpoints import Statement
from tracker.evidence.signing import load_keyring
from tracker.scheduler import pacemaker
from tracker.settings import Settings

TODAY = date(2026, 1, 15)


class Receiver(Sender):
    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.payloads: list[dict[str, Any]] = []

    def send(self, notice: NoticeRecord, now: datetime) -> None:
        self.payloads.append(notice.payload)


def settings_for(tmp_path: Path, **more: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'journey.sqlite'}", **more)


def test_the_checkpoint_job_is_scheduled_only_when_checkpoints_are_configured(tmp_path: Path) -> None:
    generate_keys(tmp_path / "k.key", tmp_path / "k.pub")
    configured = settings_for(tmp_path, checkpoint_path=tmp_path / "cp", checkpoint_key=tmp_path / "k.key")
    scheduler = pacemaker.build_scheduler(MemoryJobStore(), configured)
    scheduler.start(paused=True)
    try:
        pacemaker.schedule_jobs(scheduler, configured, datetime.now(UTC))
        assert scheduler.get_job(pacemaker.JOB_CHECKPOINT) is not None
        pacemaker.schedule_jobs(scheduler, settings_for(tmp_path), datetime.now(UTC))
        assert scheduler.get_job(pacemaker.JOB_CHECKPOINT) is None  # configured once, no longer
    finally:
        pacemaker.stop_jobs(scheduler, wait=False)


def test_the_job_witnesses_the_logs_and_sends_the_signed_statement_to_the_webhook(tmp_path: Path) -> None:
    generate_keys(tmp_path / "k.key", tmp_path / "k.pub")
    settings = settings_for(tmp_path, checkpoint_path=tmp_path / "cp", checkpoint_key=tmp_path / "k.key",
                            webhook_url="http://127.0.0.1:9/journey", checkpoint_witness=True)
    tracker = build_tracker(settings, clock=FixedClock(TODAY))
    tracker.import_scenario(read_scenario(scenario(*PERIOP_START, ref="P-A")), actor="import")
    pacemaker.install(tracker)
    pacemaker.checkpoint_job()
    pacemaker.checkpoint_job()  # nothing moved: nothing more written, nothing more sent
    assert [f.name for f in (tmp_path / "cp").iterdir()] == ["checkpoint-00000001.jsonl"]

    receiver = Receiver(settings)
    deliver(tracker, sender=receiver)
    (payload,) = receiver.payloads
    assert payload["type"] == "checkpoint" and "leaves" not in payload  # no patient is named
    statement = Statement(**payload["statement"])
    assert (statement.sequence, statement.patients, statement.entries) == (1, 1, 2)
    trusted = load_keyring(tmp_path / "k.pub")
    assert trusted.verify(statement.key, statement.message(), payload["signature"]) is None
    tracker.engine.dispose()


def test_entries_recorded_while_the_checkpoint_reads_wait_for_the_next_one(tmp_path: Path) -> None:
    """On PostgreSQL each statement reads its own moment: an entry committed between reading the
    heads and reading the logs is not a broken log, only one the next checkpoint witnesses."""
    from db.patients import LogHead, chain_of
    from tracker.application.evidence import _witness_one

    tracker = build_tracker(settings_for(tmp_path), clock=FixedClock(TODAY))
    tracker.import_scenario(read_scenario(scenario(*PERIOP_START, ref="P-A")), actor="import")
    with tracker.unit_of_work() as uow:
        (head,) = uow.patients.heads()
        entries = uow.patients.logs_of([head.patient_id])[head.patient_id]
    links = chain_of(entries)
    for seen in (1, 0):  # the heads were read when the log had 1 entry, or none
        stale = LogHead(head.patient_id, "P-A", seen, links[seen - 1] if seen else "0" * 64)
        leaf, problem = _witness_one(stale, entries, None, None)
        assert problem is None and leaf is not None
        assert (leaf.length, leaf.head, leaf.links) == (seen, stale.head, tuple(links[:seen]))
    tracker.engine.dispose()
