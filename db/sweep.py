"""The sweep's statements: which patients the day changes something for, their rows read under
lock, and the batch's writes (phases through the version guard, reminder statuses, notices).

Everything the sweep reads of a reminder is in the partial covering index on open reminders
(``ix_reminder_open_due_covering``), so it never reads the reminder table itself; thousands of
patient ids are written into ``IN (...)`` as integers (their bound parameters cost more than the
query). The rules (which status a reminder has, what to announce) are the application's
(tracker.application.sweep); this module only reads and writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Column, Connection, TextClause, and_, bindparam, false, or_, select, text, update

from db.conflicts import changed_meanwhile
from db.outbox import queue_notices
from db.patients import VersionBump, bump_versions
from db.reminders import awaited_on
from db.tables import PATIENT, REMINDER
from journey.pathway import Phase
from journey.reminders import ReminderKind, ReminderStatus


class SweptPatient(NamedTuple):
    id: int
    ref: str
    care_team: str
    phase: str
    phase_on: date
    version: int


class SweptReminder(NamedTuple):
    """An open reminder due by the day, as the covering index holds it."""

    id: int
    patient_id: int
    kind: str
    anchor_on: date
    due_on: date
    status: str
    announced: str | None
    #: the due date moves later from this day while the line it counts is held
    held_since: date | None
    #: :func:`db.reminders.awaited_on` the day: neither snoozed past it nor dismissed
    awaited: bool
    #: the entry that opened it (with the kind, the reminder's identity: it names the notice)
    opened_by: int
    # an open reminder is neither resolved nor cancelled (db.reminders.reminder_of reads these)
    resolved_on: None = None
    cancelled_on: None = None
    closed_by: None = None


@dataclass(frozen=True)
class StatusChange:
    reminder_id: int
    status: str
    #: the last status announced through the outbox after this write
    announced: str | None


def _among(column: Column[Any], ids: Sequence[int]) -> TextClause:
    """``column IN (ids)`` written out: thousands of integer ids from the database itself."""
    return text(f"{column.table.name}.{column.name} IN ({','.join(str(int(i)) for i in ids)})")


_STATUS_UPDATE = (update(REMINDER).where(REMINDER.c.id == bindparam("rid"))
                  .values(status=bindparam("s_status"), announced=bindparam("s_announced"),
                          updated_at=bindparam("s_now")))


class SweepStatements:
    """The sweep's reads and writes, inside one unit of work."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def candidates(self, as_of: date, overdue_if_due_by: date) -> list[int]:
        """Patients the day changes something for, by indexed queries (never a scan of everyone):
        an open reminder whose stored status is behind the day (scheduled, or due that is overdue
        when due by ``overdue_if_due_by``) or that is awaited and not yet announced so, or a
        reassessment fallen due during pre-operative therapy (journey.course.clock_phase)."""
        r = REMINDER.c
        status_behind = or_(r.status == ReminderStatus.SCHEDULED.value,
                            and_(r.status == ReminderStatus.DUE.value, r.due_on <= overdue_if_due_by))
        not_announced = and_(awaited_on(as_of), or_(
            r.announced.is_(None),
            and_(r.announced == ReminderStatus.DUE.value, r.due_on <= overdue_if_due_by)))
        behind = (select(r.patient_id).where(r.closed == false(), r.due_on <= as_of)
                  .where(or_(status_behind, not_announced)))
        reassessment = (select(PATIENT.c.id).join(REMINDER, r.patient_id == PATIENT.c.id)
                        .where(PATIENT.c.phase == Phase.NEOADJUVANT.value, r.closed == false(),
                               r.kind == ReminderKind.REASSESSMENT_DUE.value, r.due_on <= as_of))
        ids = set(self.connection.execute(behind).scalars())
        ids |= set(self.connection.execute(reassessment).scalars())
        return sorted(i for i in ids if i is not None)

    def lock_and_read(self, ids: Sequence[int], as_of: date,
                      ) -> tuple[dict[int, SweptPatient], dict[int, list[SweptReminder]]]:
        """The patients' rows, locked in id order (a server database; SQLite's writer lock already
        serialises), and their open reminders due by the day, read under the lock (an entry
        recorded since the selection may have resolved one)."""
        p, r = PATIENT.c, REMINDER.c
        patients = {row.id: SweptPatient(*row) for row in self.connection.execute(
            select(p.id, p.ref, p.care_team, p.phase, p.phase_on, p.version)
            .where(_among(p.id, ids)).order_by(p.id).with_for_update())}
        due: dict[int, list[SweptReminder]] = defaultdict(list)
        for row in self.connection.execute(
                select(r.id, r.patient_id, r.kind, r.anchor_on, r.due_on, r.status, r.announced,
                       r.held_since, awaited_on(as_of).label("awaited"), r.opened_by)
                .with_hint(REMINDER, "INDEXED BY ix_reminder_open_due_covering", "sqlite")
                .where(r.closed == false(), r.due_on <= as_of, _among(r.patient_id, ids))):
            due[row.patient_id].append(SweptReminder(row.id, row.patient_id, row.kind, row.anchor_on,
                                                     row.due_on, row.status, row.announced,
                                                     row.held_since, bool(row.awaited), row.opened_by))
        return patients, due

    def write(self, bumps: Sequence[VersionBump], changes: Sequence[StatusChange],
              notices: Sequence[dict[str, Any]], now: datetime) -> int:
        """The batch's writes: phases (version guard), reminder statuses, notices; how many
        notices were new."""
        if bumps and bump_versions(self.connection, bumps) != len(bumps):
            # the rows are locked: only a database without row locks could get here
            raise changed_meanwhile("A patient of the sweep's batch", "while the sweep was writing")
        if changes:
            self.connection.execute(_STATUS_UPDATE, [
                {"rid": c.reminder_id, "s_status": c.status, "s_announced": c.announced, "s_now": now}
                for c in changes])
        return queue_notices(self.connection, notices)
