"""The sweep: time moves forward for the patients whose reminders change status.

The scheduler calls :func:`sweep` every few minutes with the site's today (``journey scheduler
--once --as-of`` with any day). It selects, through the partial covering index on open reminders,
only the patients with an open reminder whose stored status is behind the day (scheduled -> due
-> overdue) or not yet announced, and those in ``neoadjuvant`` whose reassessment has fallen due
(db.sweep). Each of them is brought to ``as_of`` from its stored state (only the clock moved since
it was last written, so a full re-fold would only add the clock's steps: see :func:`_sweep_patients`),
in one transaction of up to 5,000 patients: the phase where the clock moves it (through the
version guard), the reminder statuses in one statement, and one outbox row per (reminder, status,
channel) in another. Running it twice, or after ten days of downtime, announces each status once.

A reminder that jumped several statuses while nothing ran (scheduled -> overdue) is announced
with the status it has now: the message carries its due date and when it became overdue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from db.outbox import notice_rows
from db.patients import VersionBump
from db.reminders import reminder_of
from db.sweep import StatusChange, SweptReminder
from db.unit_of_work import UnitOfWork
from journey.course import clock_phase
from journey.errors import ConcurrentUpdate
from journey.pathway import Phase
from journey.reminders import ReminderKind, ReminderStatus, status_on
from tracker.application.context import Context
from tracker.application.notifications import channels_of, reminder_key, reminder_payload

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
    #: patients (ids) left for the next sweep because their rows changed under it
    busy: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        return (f"Sweep of {self.as_of}: {self.patients} patient(s) brought up to date, "
                f"{len(self.phase_changes)} phase change(s), {len(self.announced)} reminder(s) "
                f"announced, {self.notifications} notification(s) queued"
                + (f", {len(self.busy)} busy (next sweep)" if self.busy else "") + ".")

    def add(self, other: SweepReport) -> None:
        self.patients += other.patients
        self.phase_changes += other.phase_changes
        self.announced += other.announced
        self.notifications += other.notifications


def candidate_patients(ctx: Context, as_of: date) -> list[int]:
    """Patients the day changes something for (db.sweep, by indexed queries)."""
    overdue_if_due_by = as_of - timedelta(days=ctx.pathway.reminder_grace_days + 1)
    with ctx.unit_of_work() as uow:
        return uow.sweep.candidates(as_of, overdue_if_due_by)


def sweep(ctx: Context, as_of: date | None = None, batch: int = 5000) -> SweepReport:
    """Bring every patient the day changes something for up to ``as_of`` (default: today), in
    transactions of ``batch`` patients."""
    as_of = as_of or ctx.clock.today()
    report = SweepReport(as_of)
    ids = candidate_patients(ctx, as_of)
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        try:
            with ctx.unit_of_work() as uow:
                swept = _sweep_patients(ctx, uow, chunk, as_of)
                uow.commit()
        except ConcurrentUpdate:
            report.busy.extend(str(i) for i in chunk)  # nothing written: the next sweep does them
            continue
        report.add(swept)
    if report.patients:
        log.info(report.sentence())
    return report


def _sweep_patients(ctx: Context, uow: UnitOfWork, ids: list[int], as_of: date) -> SweepReport:
    """What the day changes for these patients, without re-reading their logs: nothing but the
    clock moved since each was last written (``phase_on``), so the fold at ``as_of`` is the stored
    state plus the clock: reminder statuses are :func:`status_on` of the stored reminders, and the
    phase moves only by :func:`clock_phase` (a reassessment fallen due).
    tests/integration/test_sweep_equals_fold.py holds the result to a full re-fold, day by day.

    The patient rows are locked first (db.sweep), so an entry recorded at the same moment waits
    for this transaction and then sees what it wrote."""
    now = ctx.clock.now()
    channels = channels_of(ctx.settings)
    patients, due = uow.sweep.lock_and_read(ids, as_of)
    swept = SweepReport(as_of)
    bumps: list[VersionBump] = []
    changes: list[StatusChange] = []
    notices: list[dict[str, Any]] = []
    for patient_id in ids:
        patient = patients.get(patient_id)
        if patient is None or patient.phase_on > as_of:
            continue  # what is stored was computed for a later day: leave it as it is
        reminders = due[patient_id]
        phase = Phase(patient.phase)
        if any(r.kind == ReminderKind.REASSESSMENT_DUE.value for r in reminders):
            phase = clock_phase(phase)
        statuses = {r.id: status_on(reminder_of(r), as_of, ctx.pathway).value for r in reminders}
        announce = {r.id for r in reminders if _to_announce(r, statuses[r.id])}
        changed = [r for r in reminders if statuses[r.id] != r.status or r.id in announce]
        if phase.value == patient.phase and not changed:
            continue
        swept.patients += 1
        if phase.value != patient.phase:
            # the phase moved: a new version, so a form opened before it is refused as stale; a
            # reminder moving to due or overdue changes nothing a nurse recorded or saw decided
            bumps.append(VersionBump(patient_id, patient.version, phase.value, as_of, now))
            swept.phase_changes.append((patient.ref, patient.phase, phase.value))
        for r in changed:
            status = statuses[r.id]
            if r.id in announce:
                payload = reminder_payload(ctx, patient.ref, patient.care_team, phase.value, r, status, as_of)
                notices.extend(notice_rows(kind="reminder", key=reminder_key(r.id, status), status=status,
                                           payload=payload, channels=channels, now=now,
                                           reminder_id=r.id, patient_id=patient_id))
                swept.announced.append((r.id, status))
            changes.append(StatusChange(r.id, status, status if r.id in announce else r.announced))
    if swept.patients:
        swept.notifications = uow.sweep.write(bumps, changes, notices, now)
    return swept


def _to_announce(row: SweptReminder, status: str) -> bool:
    if status not in ANNOUNCED or row.announced == status:
        return False
    if row.announced == ReminderStatus.OVERDUE.value:
        return False  # never step back (a corrected history may move a due date later)
    return row.awaited  # neither snoozed past the day nor dismissed (db.reminders.awaited_on)
