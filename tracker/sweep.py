"""The sweep: time moves forward for the patients whose reminders change status.

The scheduler calls :func:`sweep` every few minutes with the site's today (``journey scheduler
--once --as-of`` with any day). It selects, through the partial covering index on open reminders,
only the patients with an open reminder whose stored status is behind the day (scheduled -> due
-> overdue) or not yet announced, and those in ``neoadjuvant`` whose reassessment has fallen due.
Each of them is brought to ``as_of`` from its stored state (only the clock moved since it was last
written, so a full re-fold would only add the clock's steps: see :func:`_sweep_patients`), in one
transaction of up to 5,000 patients: the phase where the clock moves it (through the version
guard), the reminder statuses in one statement, and one outbox row per (reminder, status,
channel) in another. Running it twice, or after ten days of downtime, announces each status once.

A reminder that jumped several statuses while nothing ran (scheduled -> overdue) is announced
with the status it has now: the message carries its due date and when it became overdue.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, or_, text, update
from sqlmodel import Session, col, select

from db.repository import UnitOfWork
from db.tables import PatientRow, ReminderRow
from journey.course import clock_phase
from journey.errors import ConcurrentUpdate
from journey.pathway import Phase
from journey.reminders import (
    REMINDER_MEANING,
    Reminder,
    ReminderKind,
    ReminderStatus,
    overdue_from,
    status_on,
)
from tracker.notify import (
    channels_of,
    digest_key,
    insert_outbox_rows,
    outbox_rows,
    reminder_key,
    write_outbox,
)

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
    #: patients (ids) left for the next sweep because their rows changed under it
    busy: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        return (f"Sweep of {self.as_of}: {self.patients} patient(s) brought up to date, "
                f"{len(self.phase_changes)} phase change(s), {len(self.announced)} reminder(s) "
                f"announced, {self.notifications} notification(s) queued"
                + (f", {len(self.busy)} busy (next sweep)" if self.busy else "") + ".")


#: the reminder columns the sweep reads, all in the partial covering index (never the table)
_SWEPT = (ReminderRow.id, ReminderRow.patient_id, ReminderRow.kind, ReminderRow.anchor_on,
          ReminderRow.due_on, ReminderRow.status, ReminderRow.announced, ReminderRow.snoozed_until,
          ReminderRow.dismissed_on, ReminderRow.held_since)


def candidate_patients(tracker: Tracker, as_of: date) -> list[int]:
    """Patients the day changes something for, by indexed queries (never a scan of everyone): an
    open reminder whose stored status is behind the day or not yet announced, or a reassessment
    fallen due during pre-operative therapy."""
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


def sweep(tracker: Tracker, as_of: date | None = None, batch: int = 5000) -> SweepReport:
    """Bring every patient the day changes something for up to ``as_of`` (default: today), in
    transactions of ``batch`` patients."""
    as_of = as_of or tracker.clock.today()
    report = SweepReport(as_of)
    channels = channels_of(tracker.settings)
    ids = candidate_patients(tracker, as_of)
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        try:
            with UnitOfWork(tracker.engine) as repo:
                _sweep_patients(tracker, repo.session, chunk, as_of, channels, report)
        except ConcurrentUpdate:
            report.busy.extend(str(i) for i in chunk)  # nothing written: the next sweep does them
    if report.patients:
        log.info(report.sentence())
    return report


def _sweep_patients(tracker: Tracker, session: Session, ids: list[int], as_of: date,
                    channels: list[str], report: SweepReport) -> None:
    """What the day changes for these patients, without re-reading their logs: nothing but the
    clock moved since each was last written (``phase_on``), so the fold at ``as_of`` is the stored
    state plus the clock: reminder statuses are :func:`status_on` of the stored reminders, and the
    phase moves only by :func:`clock_phase` (a reassessment fallen due).
    tests/integration/test_sweep_equals_fold.py holds the result to a full re-fold, day by day.

    The patient rows are locked first, in id order (a server database; SQLite's writer lock already
    serialises), so an entry recorded at the same moment waits for this transaction and then
    sees what it wrote; a patient whose row changed since the selection is left for the next sweep."""
    now = tracker.clock.now()
    patients = {row.id: row for row in session.execute(
        select(PatientRow.id, PatientRow.ref, PatientRow.care_team, PatientRow.phase,  # type: ignore[call-overload]
               PatientRow.phase_on, PatientRow.version)
        .where(_among(PatientRow.id, ids)).order_by(col(PatientRow.id)).with_for_update())}
    # their open reminders due by the day, read again under the lock (an entry recorded since the
    # selection may have resolved one), from the covering index
    due: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(
            select(*_SWEPT).with_hint(ReminderRow, "INDEXED BY ix_reminder_open_due_covering", "sqlite")
            .where(ReminderRow.closed == False, col(ReminderRow.due_on) <= as_of,  # noqa: E712
                   _among(ReminderRow.patient_id, ids))):
        due[row.patient_id].append(row)
    swept = SweepReport(as_of)  # added to ``report`` once written
    bumps: list[dict[str, Any]] = []
    status_updates: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    for patient_id in ids:
        patient = patients.get(patient_id)
        if patient is None or patient.phase_on > as_of:
            continue  # what is stored was computed for a later day: leave it as it is
        reminders = due[patient_id]
        phase = Phase(patient.phase)
        if any(r.kind == ReminderKind.REASSESSMENT_DUE.value for r in reminders):
            phase = clock_phase(phase)
        statuses = {r.id: status_on(Reminder(ReminderKind(r.kind), 0, r.anchor_on, r.due_on,
                                             held_since=r.held_since), as_of,
                                    tracker.pathway).value for r in reminders}
        announce = {r.id for r in reminders if _to_announce(r, statuses[r.id], as_of)}
        changed = [r for r in reminders if statuses[r.id] != r.status or r.id in announce]
        if phase.value == patient.phase and not changed:
            continue
        swept.patients += 1
        if phase.value != patient.phase:
            # the phase moved: a new version, so a form opened before it is refused as stale; a
            # reminder moving to due or overdue changes nothing a nurse recorded or saw decided
            bumps.append({"pid": patient_id, "seen": patient.version, "version": patient.version + 1,
                          "phase": phase.value, "phase_on": as_of, "now": now})
            swept.phase_changes.append((patient.ref, patient.phase, phase.value))
        for r in changed:
            status = statuses[r.id]
            if r.id in announce:
                payload = reminder_payload(patient.ref, patient.care_team, phase.value, r, status,
                                           as_of, tracker)
                outbox.extend(outbox_rows(kind="reminder", key=reminder_key(r.id, status),
                                          status=status, payload=payload, channels=channels, now=now,
                                          reminder_id=r.id, patient_id=patient_id))
                swept.announced.append((r.id, status))
            status_updates.append({"rid": r.id, "status": status, "now": now,
                                   "announced": status if r.id in announce else r.announced})
    if not swept.patients:
        return
    patient_table, reminder_table = PatientRow.__table__, ReminderRow.__table__  # type: ignore[attr-defined]
    if bumps:
        bumped = session.execute(
            update(patient_table)
            .where(and_(patient_table.c.id == bindparam("pid"), patient_table.c.version == bindparam("seen")))
            .values(version=bindparam("version"), phase=bindparam("phase"), phase_on=bindparam("phase_on"),
                    updated_at=bindparam("now")), bumps)
        if bumped.rowcount != len(bumps):  # type: ignore[attr-defined]
            # the rows are locked: only a database without row locks could get here
            raise ConcurrentUpdate("A patient changed while the sweep was writing; nothing of this "
                                   "batch was saved, the next sweep picks it up.")
    if status_updates:
        session.execute(update(reminder_table).where(reminder_table.c.id == bindparam("rid"))
                        .values(status=bindparam("status"), announced=bindparam("announced"),
                                updated_at=bindparam("now")), status_updates)
    swept.notifications = insert_outbox_rows(session, outbox)
    report.patients += swept.patients
    report.phase_changes += swept.phase_changes
    report.announced += swept.announced
    report.notifications += swept.notifications


def _among(column: Any, ids: list[int]) -> Any:
    """``column IN (ids)`` written out: thousands of integer ids from the database itself, without
    a bound parameter each (their rendering cost more than the query)."""
    return text(f"{column.table.name}.{column.name} IN ({','.join(str(int(i)) for i in ids)})")


def _to_announce(row: Any, status: str, as_of: date) -> bool:
    if status not in ANNOUNCED or row.announced == status:
        return False
    if row.announced == ReminderStatus.OVERDUE.value:
        return False  # never step back (a corrected history may move a due date later)
    if row.dismissed_on is not None:
        return False
    return row.snoozed_until is None or row.snoozed_until <= as_of


def reminder_payload(ref: str, team: str, phase: str, row: Any, status: str, as_of: date,
                     tracker: Tracker) -> dict[str, Any]:
    kind = ReminderKind(row.kind)
    return {"type": "reminder", "reminder_id": row.id, "patient": ref, "care_team": team,
            "phase": phase, "kind": row.kind, "meaning": REMINDER_MEANING[kind],
            "status": status, "due_on": row.due_on.isoformat(), "anchor_on": row.anchor_on.isoformat(),
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
