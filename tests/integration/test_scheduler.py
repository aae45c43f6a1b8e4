"""The sweep, the digest and the reminder actions on a SQLite file, with an injected clock: every
day of a story is one call of the job the scheduler would run that day."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from db.reminders import reminder_of
from db.tables import NotificationRow, ReminderRow
from db.unit_of_work import UnitOfWork
from journey.adherence import DISMISSAL_REASONS
from journey.errors import ConcurrentUpdate, Conflict, ImpossibleEntry
from journey.reminders import status_on
from journey.scenario import read_scenario
from tests.conftest import PERIOP_START, ev, scenario
from tracker.application import Tracker
from tracker.application.notifications import DeliveryError, deliver, write_digests
from tracker.application.reminders import DismissReason, acknowledge, dismiss, dismissals_for, snooze
from tracker.application.sweep import sweep
from tracker.clock import FixedClock, SystemClock
from tracker.compose import build_tracker
from tracker.scheduler.pacemaker import digest_trigger
from tracker.settings import Settings

D = date.fromisoformat
#: PERIOP_START: pre-operative FOLFOX from 2025-01-10, so the reassessment is due 2025-03-10 and
#: overdue from 2025-03-25 (14 days' grace)
DUE, OVERDUE_FROM = D("2025-03-10"), D("2025-03-25")

Clinic = Callable[[date], Tracker]


@pytest.fixture
def clinic(tmp_path: Path) -> Clinic:
    """``clinic(day)``: the tracker on one SQLite file, its clock standing on ``day``."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'journey.sqlite'}",
                        webhook_url="http://127.0.0.1:9/not-called", site_timezone="Europe/London")
    first = build_tracker(settings, clock=FixedClock(D("2025-01-01")))

    def at(day: date) -> Tracker:
        return Tracker(first.engine, FixedClock(day), settings)

    return at


def days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def register(clinic: Clinic, raw: dict[str, Any], on: date) -> None:
    clinic(on).import_scenario(read_scenario(raw), actor="test")


def notifications(tracker: Tracker) -> list[NotificationRow]:
    with Session(tracker.engine) as session:
        return list(session.exec(select(NotificationRow).order_by(col(NotificationRow.id))))


def announced(tracker: Tracker) -> list[tuple[str, str, str, str]]:
    """(patient, due_on, status, the day it was announced) of every reminder notification."""
    return [(n.payload["patient"], n.payload["due_on"], n.status, n.payload["as_of"])
            for n in notifications(tracker) if n.kind == "reminder"]


def test_a_reminder_is_raised_on_its_due_day_and_overdue_after_the_grace_period(clinic: Clinic) -> None:
    register(clinic, scenario(*PERIOP_START), D("2025-01-10"))
    for day in days(D("2025-03-01"), D("2025-04-10")):
        sweep(clinic(day), day)
    assert announced(clinic(DUE)) == [("T-0001", "2025-03-10", "due", "2025-03-10"),
                                      ("T-0001", "2025-03-10", "overdue", "2025-03-25")]
    view = clinic(D("2025-04-10")).patient_view("T-0001")
    assert view.row.phase == "reassessment"
    clock_steps = [s for s in view.outcome.steps if s.by_clock]
    assert [(s.date, s.to_phase.value) for s in clock_steps] == [(DUE, "reassessment")]
    assert list(clinic(D("2025-04-10")).verify()) == []


def test_a_form_opened_before_the_clock_moved_the_phase_is_refused_not_one_before_a_reminder_fell_overdue(
        clinic: Clinic) -> None:
    register(clinic, scenario(*PERIOP_START), D("2025-01-10"))
    opened_before_due = clinic(DUE).patient_view("T-0001", DUE - timedelta(days=1)).row.version
    assert sweep(clinic(DUE), DUE).phase_changes == [("T-0001", "neoadjuvant", "reassessment")]
    reassessment = ev("reassessment", "2025-03-26", response="SD", resectable=False)
    with pytest.raises(ConcurrentUpdate, match="changed by someone else"):
        clinic(OVERDUE_FROM).record_event("T-0001", reassessment, actor="nurse:ann",
                                          expected_version=opened_before_due)
    opened_after_due = clinic(DUE).patient_view("T-0001").row.version
    report = sweep(clinic(OVERDUE_FROM), OVERDUE_FROM)  # only the reminder moves: due -> overdue
    assert report.announced and report.phase_changes == []
    day = D("2025-03-26")
    result = clinic(day).record_event("T-0001", reassessment, actor="nurse:ann",
                                      expected_version=opened_after_due)
    assert result.phase_now == "neoadjuvant"


def test_the_day_before_it_is_due_nothing_is_raised(clinic: Clinic) -> None:
    register(clinic, scenario(*PERIOP_START), D("2025-01-10"))
    report = sweep(clinic(DUE - timedelta(days=1)), DUE - timedelta(days=1))
    assert report.announced == [] and notifications(clinic(DUE)) == []
    assert clinic(DUE).patient_view("T-0001", DUE - timedelta(days=1)).row.phase == "neoadjuvant"


def test_a_scheduler_stopped_for_ten_days_raises_every_missed_reminder_once_on_its_own_dates(
        clinic: Clinic) -> None:
    # five patients whose reassessments fall due on consecutive days inside the downtime
    starts = [D("2025-01-10") + timedelta(days=i) for i in range(5)]
    for i, start in enumerate(starts):
        register(clinic, scenario(ev("mdt_review", start - timedelta(days=2), resectable=True,
                                     plan="perioperative"),
                                  ev("systemic_started", start, regimen="FOLFOX"), ref=f"P-{i}"), start)
    for day in days(D("2025-03-01"), D("2025-03-08")):
        sweep(clinic(day), day)
    # down from 2025-03-09 to 2025-03-18; back on the 19th, then running every day
    restart = D("2025-03-19")
    first = sweep(clinic(restart), restart)
    again = sweep(clinic(restart), restart)  # a second sweep the same day changes nothing
    assert len(first.announced) == 5 and again.announced == [] and again.patients == 0
    for day in days(restart + timedelta(days=1), D("2025-04-20")):
        sweep(clinic(day), day)

    raised = announced(clinic(restart))
    counts = Counter((patient, status) for patient, _, status, _ in raised)
    assert set(counts.values()) == {1}, counts  # each reminder, each status: exactly once
    assert {(p, s) for p, s in counts} == {(f"P-{i}", s) for i in range(5) for s in ("due", "overdue")}
    for i, start in enumerate(starts):
        due = start + (DUE - D("2025-01-10"))
        view = clinic(D("2025-04-20")).patient_view(f"P-{i}")
        # the timed transition lands on the due day, not on the day the scheduler came back
        assert [s.date for s in view.outcome.steps if s.by_clock] == [due]
        # raised late as due (on restart), overdue on its own day
        assert (f"P-{i}", due.isoformat(), "due", restart.isoformat()) in raised
        overdue_day = due + timedelta(days=15)
        assert (f"P-{i}", due.isoformat(), "overdue", overdue_day.isoformat()) in raised
    assert list(clinic(D("2025-04-20")).verify()) == []


def test_a_backdated_reassessment_resolves_the_reminder_with_its_dates_and_no_false_overdue(
        clinic: Clinic) -> None:
    register(clinic, scenario(*PERIOP_START), D("2025-01-10"))
    happened, entered = D("2025-03-03"), D("2025-03-24")  # entered three weeks late
    for day in days(D("2025-03-01"), D("2025-05-20")):
        if day == entered:
            clinic(day).record_event("T-0001", ev("reassessment", happened, response="SD",
                                                  resectable=False), actor="nurse")
        sweep(clinic(day), day)
    tracker = clinic(D("2025-05-20"))
    with UnitOfWork(tracker.engine) as uow:
        rows = {r.anchor_on: r for r in uow.reminders.of_patient(1)}
    assert rows[D("2025-01-10")].resolved_on == happened and rows[D("2025-01-10")].status == "resolved"
    assert rows[happened].due_on == D("2025-05-03")  # two months after the day it happened
    # the due notice went out on the 10th (nobody knew yet); never an overdue one for it
    assert announced(tracker) == [("T-0001", "2025-03-10", "due", "2025-03-10"),
                                  ("T-0001", "2025-05-03", "due", "2025-05-03"),
                                  ("T-0001", "2025-05-03", "overdue", "2025-05-18")]
    view = tracker.patient_view("T-0001")
    assert [s for s in view.outcome.steps if s.by_clock and s.date < D("2025-05-01")] == []
    assert list(tracker.verify()) == []


def test_a_notice_of_a_reminder_resolved_before_delivery_is_superseded_not_sent(clinic: Clinic) -> None:
    register(clinic, scenario(*PERIOP_START), D("2025-01-10"))
    sweep(clinic(DUE), DUE)
    clinic(DUE + timedelta(days=2)).record_event(
        "T-0001", ev("reassessment", DUE + timedelta(days=1), response="SD", resectable=False), actor="n")

    class Refuse:
        def send(self, row: Any, now: datetime) -> None:
            raise DeliveryError("must not be called")

    report = deliver(clinic(DUE + timedelta(days=2)), sender=Refuse())  # type: ignore[arg-type]  # a stand-in Sender
    assert len(report.superseded) == 1 and report.sent == report.failed == []
    (row,) = notifications(clinic(DUE))
    assert row.state == "superseded" and "resolved on 2025-03-11" in (row.last_error or "")


def test_the_worklist_and_the_scheduler_agree_on_what_is_due_for_any_date(clinic: Clinic) -> None:
    reassessed = {}
    for i in range(8):
        start = D("2025-01-03") + timedelta(days=6 * i)
        register(clinic, scenario(ev("mdt_review", start - timedelta(days=1), resectable=True,
                                     plan="perioperative"),
                                  ev("systemic_started", start, regimen="FOLFOX"), ref=f"W-{i}"), start)
        if i % 3 == 0:
            reassessed[start + timedelta(days=70)] = f"W-{i}"
    for day in days(D("2025-03-01"), D("2025-05-15")):
        tracker = clinic(day)
        if day in reassessed:
            tracker.record_event(reassessed[day], ev("reassessment", day, response="SD", resectable=False),
                                 actor="nurse")
        sweep(tracker, day)
        worklist = {(item.reminder_id, item.status.value) for item in tracker.worklist(day, limit=None)}
        with Session(tracker.engine) as session:
            stored = list(session.exec(select(ReminderRow).where(ReminderRow.closed == False)))  # noqa: E712
        swept = {(r.id, r.status) for r in stored if r.status in ("due", "overdue")}
        by_rule = {(r.id, status_on(reminder_of(r), day, tracker.pathway).value) for r in stored
                   if r.due_on <= day}
        assert worklist == swept == by_rule, day


def test_the_sweep_selects_its_candidates_through_the_open_due_index(clinic: Clinic) -> None:
    tracker = clinic(DUE)
    with tracker.engine.connect() as connection:
        plan = connection.execute(text(
            "EXPLAIN QUERY PLAN SELECT patient_id FROM reminder WHERE closed = 0 AND due_on <= '2025-03-10' "
            "AND (status = 'scheduled' OR announced IS NULL)")).all()
    # either index on open reminders by due date (the covering one is preferred at scale)
    assert any(re.search(r"\bix_reminder_open_due(_covering)?\b", str(row)) for row in plan), plan


def test_the_digest_goes_out_once_a_local_day_across_both_dst_changes() -> None:
    settings = Settings(site_timezone="Europe/London", digest_time="07:30")
    zone = ZoneInfo("Europe/London")
    for start in (datetime(2026, 3, 25, tzinfo=zone), datetime(2026, 10, 21, tzinfo=zone)):
        trigger, fires, previous, now = digest_trigger(settings), [], None, start
        for _ in range(10):
            previous = trigger.get_next_fire_time(previous, now)
            fires.append(previous)
            now = previous
        local = [f.astimezone(zone) for f in fires]
        assert [f.time().isoformat() for f in local] == ["07:30:00"] * 10  # 07:30 on the wall clock
        assert [f.date() for f in local] == [start.date() + timedelta(days=i) for i in range(10)]
        gaps = {(b - a) for a, b in pairwise(fires)}
        assert gaps <= {timedelta(hours=23), timedelta(hours=24), timedelta(hours=25)}


def test_a_digest_time_the_autumn_change_repeats_still_writes_one_digest(clinic: Clinic) -> None:
    # at 01:30 the trigger fires twice on 2026-10-25 (01:30 BST, then 01:30 GMT) ...
    settings = Settings(site_timezone="Europe/London", digest_time="01:30")
    zone = ZoneInfo("Europe/London")
    trigger = digest_trigger(settings)
    first = trigger.get_next_fire_time(None, datetime(2026, 10, 25, tzinfo=zone))
    second = trigger.get_next_fire_time(first, first)
    assert first.astimezone(zone).date() == second.astimezone(zone).date() == D("2026-10-25")
    # ... and the digest of that day is still written once
    register(clinic, scenario(*PERIOP_START), D("2025-01-10"))
    day = D("2026-10-25")
    tracker = clinic(day)
    sweep(tracker, day)
    assert write_digests(tracker, day, first.astimezone(UTC)) == 1
    assert write_digests(tracker, day, second.astimezone(UTC)) == 0
    digests = [n for n in notifications(tracker) if n.kind == "digest"]
    assert len(digests) == 1 and digests[0].payload["care_team"] == "liver"
    assert [i["patient"] for i in digests[0].payload["items"]] == ["T-0001"]


def test_snooze_hides_a_reminder_from_the_worklist_and_the_announcements_until_its_day(
        clinic: Clinic) -> None:
    register(clinic, scenario(*PERIOP_START), D("2025-01-10"))
    sweep(clinic(DUE), DUE)
    until = D("2025-04-01")
    snooze(clinic(D("2025-03-12")), 1, until, "awaiting_scan", actor="nurse")
    for day in days(D("2025-03-12"), D("2025-04-05")):
        tracker = clinic(day)
        sweep(tracker, day)
        assert bool(tracker.worklist(day)) == (day >= until), day
    # the overdue notice waited for the snooze to end, then went out once
    assert announced(clinic(until)) == [("T-0001", "2025-03-10", "due", "2025-03-10"),
                                        ("T-0001", "2025-03-10", "overdue", "2025-04-01")]
    with pytest.raises(ImpossibleEntry, match="needs the reason in words"):
        snooze(clinic(until), 1, D("2025-05-01"), "other", actor="nurse")
    with pytest.raises(ImpossibleEntry, match="must end after today"):
        snooze(clinic(until), 1, until, "awaiting_scan", actor="nurse")


def test_a_dismissal_is_recorded_once_leaves_the_worklist_and_reaches_the_audit(clinic: Clinic) -> None:
    assert tuple(DismissReason) == DISMISSAL_REASONS
    register(clinic, scenario(*PERIOP_START), D("2025-01-10"))
    sweep(clinic(DUE), DUE)
    acknowledge(clinic(DUE), 1, actor="nurse")
    with pytest.raises(ImpossibleEntry, match="not a dismissal justification"):
        dismiss(clinic(DUE), 1, "bored", actor="nurse")
    result = dismiss(clinic(D("2025-03-12")), 1, "toxicity", actor="dr", text="grade 3 neuropathy")
    assert result.reminder.dismissed_on == D("2025-03-12")
    with pytest.raises(Conflict):
        dismiss(clinic(D("2025-03-13")), 1, "mdt_decision", actor="dr")
    for day in days(D("2025-03-12"), D("2025-04-10")):
        sweep(clinic(day), day)
        assert clinic(day).worklist(day) == []
    assert [s for _, _, s, _ in announced(clinic(DUE))] == ["due"]  # no overdue notice after it
    (dismissal,) = dismissals_for(clinic(DUE), 1)
    assert (dismissal.kind, dismissal.due_on, dismissal.dismissed_on, dismissal.reason, dismissal.text) == \
        ("reassessment_due", DUE, D("2025-03-12"), "toxicity", "grade 3 neuropathy")
    view = clinic(D("2025-04-10")).patient_view("T-0001")
    assert view.findings.deviations == [] or all(
        d.justified for d in view.findings.deviations if "REASSESS" in d.check)
    assert list(clinic(D("2025-04-10")).verify()) == []


def test_a_digest_missed_while_the_scheduler_was_down_runs_once_when_it_comes_back(
        clinic: Clinic, caplog: pytest.LogCaptureFixture) -> None:
    import logging
    import time

    from tracker.scheduler import pacemaker

    tracker = clinic(DUE)
    pacemaker.install(tracker)
    before = pacemaker.start_jobs(tracker, SystemClock())  # the process that ran until ten days ago
    before.pause()
    missed = datetime.now(UTC) - timedelta(days=10)
    before.modify_job(pacemaker.JOB_DIGEST, next_run_time=missed)
    pacemaker.stop_jobs(before)

    caplog.set_level(logging.INFO, logger="journey.scheduler")
    after = pacemaker.start_jobs(tracker, SystemClock())  # the same stored jobs, after the downtime
    try:
        deadline = time.monotonic() + 30
        while "job journey-daily-digest" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        job = after.get_job(pacemaker.JOB_DIGEST)
        assert job is not None and job.next_run_time > datetime.now(UTC)  # caught up, not replayed
    finally:
        pacemaker.stop_jobs(after)
    assert caplog.text.count("job journey-daily-digest") == 1
