"""The day's audit verdicts (tracker.audit): an audit reads the verdicts kept for the day instead
of replaying every journey, and must give exactly the figures a full replay gives, whatever
changed in between: a new entry, a sweep, a dismissal, another day, a deleted store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from db.tables import AuditEntryRow, ReminderRow
from journey.cohort import CohortAudit
from tracker.application import Tracker
from tracker.application.audit import audited_journeys, refresh_verdicts
from tracker.application.reminders import dismiss
from tracker.application.sweep import sweep
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.demo import bulk_load, generate_cohort
from tracker.settings import Settings

DAY = date(2026, 6, 1)


@pytest.fixture
def tracker(tmp_path: Path) -> Tracker:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'journey.sqlite'}")
    first = build_tracker(settings, clock=FixedClock(DAY))
    bulk_load(first.engine, generate_cohort(150, seed=23, as_of=DAY), DAY,
              datetime(2026, 6, 1, 8, tzinfo=UTC))
    return first


def audit(tracker: Tracker, as_of: date | None = None, replay: bool = False,
          **options: Any) -> tuple[dict[str, Any], int]:
    """The audit's JSON, and how many patients had to be replayed for it."""
    cohort = CohortAudit()
    replayed = 0
    for journey in audited_journeys(tracker, as_of or tracker.clock.today(), replay=replay, **options):
        if journey.adherence is not None:  # with details: the full deviations agree with the tally
            assert journey.flags == tuple((d.check, d.justified) for d in journey.adherence.deviations)
        cohort.add_tally(journey.timing, journey.eligible, journey.flags, journey.summary)
        replayed += journey.outcome is not None
    return cohort.summary(suppress_below=1), replayed


def entries(tracker: Tracker) -> list[AuditEntryRow]:
    with Session(tracker.engine) as session:
        return list(session.exec(select(AuditEntryRow)))


def test_the_second_audit_of_a_day_reads_the_verdicts_and_gives_the_same_figures(tracker: Tracker) -> None:
    first, replayed_first = audit(tracker)
    second, replayed_second = audit(tracker, details=False)
    replayed, _ = audit(tracker, replay=True)
    assert (replayed_first, replayed_second) == (150, 0)
    assert first == second == replayed
    assert first["patients"] == 150 and any(c["deviations"] for c in first["checks"])
    assert {e.as_of for e in entries(tracker)} == {DAY} and len(entries(tracker)) == 150


def test_a_new_entry_a_sweep_and_a_dismissal_each_get_the_patient_judged_again(tracker: Tracker) -> None:
    audit(tracker)
    later = Tracker(tracker.engine, FixedClock(DAY + timedelta(days=20)), tracker.settings)
    # the clock moved: every verdict is for another day, so everyone is judged again
    assert audit(later)[1] == 150
    with Session(tracker.engine) as session:
        reminder = session.exec(select(ReminderRow).where(ReminderRow.closed == False)  # noqa: E712
                                     .where(ReminderRow.due_on <= later.clock.today())).first()
        ref = session.execute(text(f"SELECT ref FROM patient WHERE id = {reminder.patient_id}")).scalar()
    assert reminder is not None
    dismiss(later, reminder.id or 0, "mdt_decision", actor="nurse:ann")
    summary, replayed = audit(later)
    assert replayed == 1  # only the patient whose reminder was dismissed
    assert summary == audit(later, replay=True)[0]
    moved = len(sweep(later).phase_changes)
    assert audit(later)[1] == moved  # the patients whose phase the sweep moved changed version
    later.record_event(ref, {"type": "death", "date": later.clock.today().isoformat()}, actor="nurse:ann")
    summary, replayed = audit(later)
    assert replayed == 1 and summary == audit(later, replay=True)[0]


def test_an_audit_of_another_day_leaves_the_days_verdicts_alone(tracker: Tracker) -> None:
    audit(tracker)
    past, replayed = audit(tracker, as_of=DAY - timedelta(days=90))
    assert replayed == 150 and {e.as_of for e in entries(tracker)} == {DAY}
    assert audit(tracker)[1] == 0
    assert past == audit(tracker, as_of=DAY - timedelta(days=90), replay=True)[0]


def test_deleting_every_verdict_changes_no_figure_and_the_nightly_refresh_restores_them(
        tracker: Tracker) -> None:
    before, _ = audit(tracker)
    with tracker.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry"))
    assert refresh_verdicts(tracker) == 150 and len(entries(tracker)) == 150
    after, replayed = audit(tracker)
    assert after == before and replayed == 0


def test_the_nightly_job_in_several_processes_keeps_the_verdicts_one_process_keeps(tracker: Tracker) -> None:
    before, _ = audit(tracker, replay=True)
    with tracker.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entry"))
    # three processes, each a run of ids (issue 17): every patient judged once, the same verdicts
    assert refresh_verdicts(tracker, workers=3) == 150
    kept = entries(tracker)
    assert len(kept) == 150 and len({e.patient_id for e in kept}) == 150
    after, replayed = audit(tracker)
    assert after == before and replayed == 0


def test_a_period_filter_uses_the_detection_date_stored_with_the_verdict(tracker: Tracker) -> None:
    audit(tracker)
    period = {"detected_from": date(2025, 1, 1), "detected_to": DAY}
    read, replayed = audit(tracker, **period)
    assert replayed == 0
    assert read == audit(tracker, replay=True, **period)[0]
    assert 0 < read["patients"] < 150


def test_the_nightly_job_judges_everyone_for_the_day_and_is_scheduled_at_its_local_time(
        tracker: Tracker) -> None:
    from tracker.scheduler import pacemaker

    pacemaker.install(tracker)
    pacemaker.audit_job()
    assert len(entries(tracker)) == 150 and audit(tracker)[1] == 0
    jobs = pacemaker.build_scheduler(tracker.job_store(), tracker.settings)
    jobs.start(paused=True)
    try:
        pacemaker.schedule_jobs(jobs, tracker.settings, datetime.now(UTC))
        job = jobs.get_job(pacemaker.JOB_AUDIT)
        assert job is not None and job.func is pacemaker.audit_job
        fire = job.trigger.get_next_fire_time(None, datetime(2026, 3, 28, 12, tzinfo=UTC))
        local = fire.astimezone(ZoneInfo(tracker.settings.site_timezone))
        assert (local.hour, local.minute) == (1, 30)
    finally:
        pacemaker.stop_jobs(jobs, wait=False)
