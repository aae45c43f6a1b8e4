"""A site database written by the tracker before contract 1.1 (commit a7ee2dd: reminders keyed by
kind and anchor date) upgrades: migration 0004 gives reminders their opening entry, and the first
start re-derives every patient from the unchanged log under the new rules. Afterwards ``journey
verify`` passes, the log is untouched, the same-day duplicate that used to swallow a reminder
has its own, and what nurses did with reminders (acknowledged, snoozed, dismissed) is kept.

tests/fixtures/before-contract-1.1.sqlite was written by that commit's own code: a 25-patient
demo cohort, two imported scenarios (a reassessment recorded twice on one day; adjuvant therapy
restarted with an override, which the old rules moved to neoadjuvant with a reassessment
reminder that a nurse then acknowledged and dismissed), a snoozed reminder, a sweep and an
audit (docs/decisions.md, Real courses)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from db.migrate import MIGRATIONS
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.settings import Settings

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "before-contract-1.1.sqlite"
TODAY = date(2026, 11, 30)  # the day the fixture was written


def _head() -> str:
    """The latest revision of the migrations (what an upgrade reaches)."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def _rows(path: Path, query: str) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        return connection.execute(query).fetchall()


def test_an_old_database_upgrades_and_verifies_with_its_log_and_actions_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "journey.sqlite"
    shutil.copy(FIXTURE, path)
    log_before = _rows(path, "SELECT id, patient_id, seq, payload, chain_hash FROM event ORDER BY id")
    actions_before = _rows(path, "SELECT id, reminder_id, action, reason FROM reminder_action ORDER BY id")
    assert _rows(path, "SELECT version_num FROM alembic_version") == [("0003",)]

    tracker = build_tracker(Settings(database_url=f"sqlite:///{path}"), clock=FixedClock(TODAY))
    said = capsys.readouterr().err  # the upgrade's long step says how far it has come
    assert "Re-deriving the stored journeys under the current pathway rules" in said

    assert list(tracker.verify()) == []
    assert _rows(path, "SELECT version_num FROM alembic_version") == [(_head(),)]
    assert _rows(path, "SELECT id, patient_id, seq, payload, chain_hash FROM event ORDER BY id") == log_before
    assert _rows(path, "SELECT id, reminder_id, action, reason FROM reminder_action ORDER BY id") \
        == actions_before
    # every action still points at a reminder of the same patient
    assert _rows(path, "SELECT count(*) FROM reminder_action a JOIN reminder r ON r.id = a.reminder_id "
                       "WHERE r.patient_id = a.patient_id") == [(len(actions_before),)]
    # who acknowledged a reminder shows on it (migration 0008, from the action log); nobody is
    # assigned, since the old actions named no person
    acknowledged = _rows(path, "SELECT reminder_id, actor FROM reminder_action WHERE action = "
                               "'acknowledge' ORDER BY id")
    assert acknowledged
    assert _rows(path, "SELECT id, acknowledged_by FROM reminder WHERE acknowledged_by IS NOT NULL "
                       "ORDER BY id") == sorted(dict(acknowledged).items())
    assert _rows(path, "SELECT count(*) FROM reminder WHERE assignee IS NOT NULL") == [(0,)]


def test_the_same_day_duplicate_gets_back_the_reminder_the_old_rules_swallowed(tmp_path: Path) -> None:
    path = tmp_path / "journey.sqlite"
    shutil.copy(FIXTURE, path)
    tracker = build_tracker(Settings(database_url=f"sqlite:///{path}"), clock=FixedClock(TODAY))
    view = tracker.patient_view("OLD-DUP", TODAY)
    due = [(r.anchor_on, r.due_on, r.status) for r in view.reminder_rows if r.kind == "reassessment_due"]
    assert due == [(date(2025, 1, 10), date(2025, 3, 10), "resolved"),
                   (date(2025, 3, 5), date(2025, 5, 5), "resolved"),
                   (date(2025, 3, 5), date(2025, 5, 5), "overdue")]
    assert view.row.phase == "reassessment"


def test_an_override_the_old_rules_misrouted_is_rederived_as_postoperative(tmp_path: Path) -> None:
    path = tmp_path / "journey.sqlite"
    shutil.copy(FIXTURE, path)
    tracker = build_tracker(Settings(database_url=f"sqlite:///{path}"), clock=FixedClock(TODAY))
    view = tracker.patient_view("OLD-ADJ", TODAY)
    assert view.row.phase == "adjuvant"
    # the old reassessment reminder is no longer implied: closed, never deleted (a nurse acted on it)
    [old] = [r for r in view.reminder_rows
             if r.kind == "reassessment_due" and r.anchor_on == date(2025, 7, 29)]
    assert old.closed and old.status == "cancelled" and old.dismissed_on is not None
    assert [r.anchor_on for r in view.reminder_rows if r.kind == "total_chemo_check"] == [
        date(2025, 5, 26), date(2025, 7, 29)]
