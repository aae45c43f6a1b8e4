"""The sweep brings patients up to date from their stored state, without re-reading their logs
(tracker.sweep). These tests hold it to the one truth, the fold: after every sweep, on every day,
every patient's stored phase and reminder statuses are what a full replay of the log gives, and
each due or overdue reminder was announced exactly once. A generated cohort (every branch of the
pathway) is swept over four months, some days skipped as if the scheduler had been down."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from db.tables import NotificationRow
from db.unit_of_work import UnitOfWork
from journey.course import clock_phase, follow_journey
from journey.pathway import Phase
from journey.reminders import ReminderKind, ReminderStatus
from journey.scenario import read_scenario
from tracker.application import Tracker
from tracker.application.sweep import sweep
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.demo import bulk_load, generate_cohort
from tracker.settings import Settings

START = date(2026, 3, 1)


def differences(tracker: Tracker, as_of: date) -> list[str]:
    """Where the stored state differs from the fold on ``as_of`` (none when the sweep is sound)."""
    found = []
    with UnitOfWork(tracker.engine) as uow:
        for stored in uow.patients.stream():
            outcome = follow_journey(stored.profile, stored.events, as_of, tracker.pathway)
            ref = stored.row.ref
            if outcome.phase.value != stored.row.phase:
                found.append(f"{ref}: stored {stored.row.phase}, fold {outcome.phase.value}")
            implied = {(r.kind.value, r.anchor_on): outcome.status(r).value for r in outcome.reminders}
            for row in uow.reminders.of_patient(stored.row.id):
                if implied.get((row.kind, row.anchor_on)) != row.status:
                    found.append(f"{ref}: {row.kind} due {row.due_on} stored {row.status}, "
                                 f"fold {implied.get((row.kind, row.anchor_on))}")
    return found


def test_after_each_sweep_every_patient_is_where_a_full_replay_puts_them(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'journey.sqlite'}",
                        webhook_url="http://127.0.0.1:9/not-called")
    first = build_tracker(settings, clock=FixedClock(START))
    loaded = bulk_load(first.engine, generate_cohort(240, seed=41, as_of=START),
                       START, datetime(2026, 3, 1, 9, tzinfo=UTC))
    assert loaded.patients == 240
    # the bulk load stores each patient as of START; the first sweep brings them all to START
    day, changes = START, Counter[str]()
    step = 0
    while day <= START + timedelta(days=120):
        tracker = Tracker(first.engine, FixedClock(day), settings)
        report = sweep(tracker, day, batch=50)  # several transactions per sweep
        changes.update(f"{before}->{after}" for _, before, after in report.phase_changes)
        assert differences(tracker, day) == [], day
        assert sweep(tracker, day).patients == 0  # a second sweep the same day finds nothing
        step += 1
        day += timedelta(days=(1, 1, 3, 7, 12)[step % 5])  # some days the scheduler was down
    assert changes["neoadjuvant->reassessment"] > 0  # the timed transition was exercised
    with Session(first.engine) as session:
        notices = list(session.exec(select(NotificationRow.reminder_id, NotificationRow.status,
                                                NotificationRow.channel)))
    assert notices and len(notices) == len(set(notices))  # each status of each reminder once


def test_an_open_reassessment_reminder_is_the_only_one_and_only_on_pre_operative_therapy() -> None:
    """The invariant :func:`clock_phase` rests on: in every generated journey, on many days, at
    most one reassessment reminder is open, and the clock moves a patient exactly when the phase
    is neoadjuvant and it has fallen due."""
    for synthetic in generate_cohort(600, seed=77, as_of=START):
        read = read_scenario(synthetic.scenario())
        for as_of in (START, START + timedelta(days=45), START + timedelta(days=200)):
            outcome = follow_journey(read.profile, read.events, as_of)
            open_reassessments = [r for r in outcome.reminders
                                  if r.kind is ReminderKind.REASSESSMENT_DUE and r.closed_on is None]
            assert len(open_reassessments) <= 1, synthetic.branch
            if open_reassessments and open_reassessments[0].due_on <= as_of:
                assert outcome.phase is not Phase.NEOADJUVANT  # the clock already moved it
            statuses = {outcome.status(r) for r in open_reassessments}
            assert statuses <= {ReminderStatus.SCHEDULED, ReminderStatus.DUE, ReminderStatus.OVERDUE}
    assert clock_phase(Phase.NEOADJUVANT) is Phase.REASSESSMENT
    assert all(clock_phase(p) is p for p in Phase if p is not Phase.NEOADJUVANT)
