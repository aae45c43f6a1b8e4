"""The sweep: time moves forward for the patients whose reminders change status.

The scheduler calls :func:`sweep` every few minutes with the site's today (``journey scheduler
--once --as-of`` with any day). It selects, by the indexed ``(closed, due_on)`` columns, only the
patients with an open reminder whose stored status is behind the day (scheduled -> due -> overdue)
or not yet announced, and those in ``neoadjuvant`` whose reassessment has fallen due. Each of them
is re-folded with :func:`journey.course.follow_journey` at ``as_of`` (so timed transitions land on
their own dates, however late the sweep runs) and written in one transaction per patient: the
phase (through the version guard), the reminder statuses, and one outbox row per (reminder,
status, channel). Running it twice, or after ten days of downtime, announces each status once.

A reminder that jumped several statuses while nothing ran (scheduled -> overdue) is announced
with the status it has now: the message carries its due date and when it became overdue.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_
from sqlmodel import col, select

from db.repository import UnitOfWork
from db.tables import PatientRow, ReminderRow
from journey.course import follow_journey
from journey.errors import ConcurrentUpdate
from journey.pathway import Phase
from journey.reminders import REMINDER_MEANING, ReminderKind, ReminderStatus, overdue_from
from tracker.notify import channels_of, digest_key, reminder_key, write_outbox

if TYPE_CHECKING:
    from tracker.services import Tracker

log = logging.getLogger("journey.sweep")

ANNOUNCED = (ReminderStatus.DUE.value, ReminderStatus.OVERDUE.value)


@dataclass
class SweepReport:
    as_of: date
    patients: int = 0
    #: (patient ref, phase before, phase after)
    phase_changes: list[tuple[str, str, str]] = field(default_factory=list)
    #: (reminder id, status announced)
    announced: list[tuple[int, str]] = field(default_factory=list)
    notifications: int = 0
    #: patients left for the next sweep because someone recorded something at the same moment
    busy: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        return (f"Sweep of {self.as_of}: {self.patients} patient(s) brought up to date, "
                f"{len(self.phase_changes)} phase change(s), {len(self.announced)} reminder(s) "
                f"announced, {self.notifications} notification(s) queued"
                + (f", {len(self.busy)} busy (next sweep)" if self.busy else "") + ".")


def candidate_patients(tracker: Tracker, as_of: date) -> list[int]:
    """Patients the day changes something for, by indexed queries (never a scan of everyone)."""
    overdue_if_due_by = as_of - timedelta(days=tracker.pathway.reminder_grace_days + 1)
    status_behind = or_(ReminderRow.status == ReminderStatus.SCHEDULED.value,
                        and_(ReminderRow.status == ReminderStatus.DUE.value,
                             col(ReminderRow.due_on) <= overdue_if_due_by))
    not_announced = and_(
        or_(col(ReminderRow.snoozed_until).is_(None), col(ReminderRow.snoozed_until) <= as_of),
        col(ReminderRow.dismissed_on).is_(None),
        or_(col(ReminderRow.announced).is_(None),
            and_(ReminderRow.announced == ReminderStatus.DUE.value,
                 col(ReminderRow.due_on) <= overdue_if_due_by)))
    behind = (select(ReminderRow.patient_id)
              .where(ReminderRow.closed == False, col(ReminderRow.due_on) <= as_of)  # noqa: E712
              .where(or_(status_behind, not_announced)))
    reassessment = (select(PatientRow.id).join(ReminderRow, col(ReminderRow.patient_id) == PatientRow.id)
                    .where(PatientRow.phase == Phase.NEOADJUVANT.value,
                           ReminderRow.closed == False,  # noqa: E712
                           ReminderRow.kind == ReminderKind.REASSESSMENT_DUE.value,
                           col(ReminderRow.due_on) <= as_of))
    with UnitOfWork(tracker.engine) as repo:
        ids = set(repo.session.exec(behind)) | set(repo.session.exec(reassessment))
    return sorted(i for i in ids if i is not None)


def sweep(tracker: Tracker, as_of: date | None = None) -> SweepReport:
    """Bring every patient the day changes something for up to ``as_of`` (default: today)."""
    as_of = as_of or tracker.clock.today()
    report = SweepReport(as_of)
    channels = channels_of(tracker.settings)
    for patient_id in candidate_patients(tracker, as_of):
        try:
            _sweep_patient(tracker, patient_id, as_of, channels, report)
        except ConcurrentUpdate:
            # someone recorded an event for this patient at this very moment: their transaction
            # wrote the reminders; whatever is still behind is picked up by the next sweep
            report.busy.append(str(patient_id))
    if report.patients:
        log.info(report.sentence())
    return report


def _sweep_patient(tracker: Tracker, patient_id: int, as_of: date, channels: list[str],
                   report: SweepReport) -> None:
    now = tracker.clock.now()
    with UnitOfWork(tracker.engine) as repo:
        row = repo.session.get(PatientRow, patient_id)
        if row is None or row.phase_on > as_of:
            return  # what is stored was computed for a later day: leave it as it is
        stored = repo.journey_of(row)
        outcome = follow_journey(stored.profile, stored.events, as_of, tracker.pathway)
        before, seen = row.phase, row.version
        rows = repo.save_reminders(patient_id, outcome.reminders_with_status(), now)
        tracker._cancel_orphans(repo, patient_id, rows, as_of, now)
        repo.bump_version(row, seen, outcome.phase.value, as_of, now)
        for reminder_row in rows:
            if not _to_announce(reminder_row, as_of):
                continue
            payload = reminder_payload(stored.row.ref, stored.row.care_team, outcome.phase.value,
                                       reminder_row, as_of, tracker)
            report.notifications += write_outbox(
                repo.session, kind="reminder", key=reminder_key(reminder_row.id or 0, reminder_row.status),
                status=reminder_row.status, payload=payload, channels=channels, now=now,
                reminder_id=reminder_row.id, patient_id=patient_id)
            reminder_row.announced = reminder_row.status
            report.announced.append((reminder_row.id or 0, reminder_row.status))
        report.patients += 1
        if before != outcome.phase.value:
            report.phase_changes.append((stored.row.ref, before, outcome.phase.value))


def _to_announce(row: ReminderRow, as_of: date) -> bool:
    if row.closed or row.status not in ANNOUNCED or row.announced == row.status:
        return False
    if row.announced == ReminderStatus.OVERDUE.value:
        return False  # never step back (a corrected history may move a due date later)
    if row.dismissed_on is not None:
        return False
    return row.snoozed_until is None or row.snoozed_until <= as_of


def reminder_payload(ref: str, team: str, phase: str, row: ReminderRow, as_of: date,
                     tracker: Tracker) -> dict[str, Any]:
    kind = ReminderKind(row.kind)
    return {"type": "reminder", "reminder_id": row.id, "patient": ref, "care_team": team,
            "phase": phase, "kind": row.kind, "meaning": REMINDER_MEANING[kind],
            "status": row.status, "due_on": row.due_on.isoformat(), "anchor_on": row.anchor_on.isoformat(),
            "overdue_from": overdue_from(row.due_on, tracker.pathway).isoformat(),
            "as_of": as_of.isoformat()}


def write_digests(tracker: Tracker, day: date, now: datetime | None = None) -> int:
    """One digest per care team with something due or overdue on ``day``, per channel. Keyed by
    (team, day): a second run for the same day (a doubled fire time at a DST change, a restart)
    writes nothing more."""
    now = now or tracker.clock.now()
    channels = channels_of(tracker.settings)
    by_team: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in tracker.worklist(day, limit=None):
        by_team[item.care_team].append({"reminder_id": item.reminder_id, "patient": item.ref,
                                        "phase": item.phase, "kind": item.kind,
                                        "due_on": item.due_on.isoformat(), "status": item.status.value,
                                        "days_late": item.days_late})
    written = 0
    with UnitOfWork(tracker.engine) as repo:
        for team, items in sorted(by_team.items()):
            payload = {"type": "digest", "care_team": team, "date": day.isoformat(), "items": items}
            written += write_outbox(repo.session, kind="digest", key=digest_key(team, day.isoformat()),
                                    status="digest", payload=payload, channels=channels, now=now)
    if written:
        log.info("Digest of %s: %d notification(s) queued for %d care team(s).", day, written, len(by_team))
    return written
