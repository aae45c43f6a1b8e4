"""The repository and unit of work over the SQLModel tables: rows in, domain values out.

One unit of work is one transaction. Every write to a patient bumps its version with
``UPDATE ... WHERE version = :seen``; if someone else wrote first, nothing is written and
:class:`journey.errors.ConcurrentUpdate` is raised.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, and_, bindparam, delete, func, or_, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from db.tables import AuditEntryRow, EventRow, PatientRow, ReminderRow
from journey.errors import ConcurrentUpdate, ImpossibleEntry, NotFound
from journey.events import ClinicalEvent, stored_event
from journey.profile import PatientProfile, read_profile
from journey.reminders import Reminder, ReminderKind, ReminderStatus

GENESIS = "0" * 64


def content_hash(payload: dict[str, Any]) -> str:
    """Identity of an entry's content: the same entry in two imports hashes the same."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def chain_hash(previous: str, row: EventRow) -> str:
    """The tamper-evidence link: this event's content bound to the previous event's link."""
    material = json.dumps({
        "previous": previous, "patient": row.patient_id, "seq": row.seq, "type": row.type,
        "date": row.date.isoformat(), "recorded_at": row.recorded_at.isoformat(),
        "actor": row.actor, "payload": row.payload, "phase_before": row.phase_before,
        "phase_after": row.phase_after, "override": row.override_reason,
    }, sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass(frozen=True)
class StoredJourney:
    """A patient as stored: the row, the profile and the event log as domain values."""

    row: PatientRow
    profile: PatientProfile
    events: list[ClinicalEvent]
    event_rows: list[EventRow]
    #: stored entries that cannot be read back (altered outside the tracker), with why: only
    #: ``journey verify`` asks for them (``keep_unreadable``); everyone else gets the refusal
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True)
class WritableJourney:
    """What recording needs of a patient, read without loading full event rows: the row (locked
    on a server database), the profile, the log as domain values, and its end."""

    row: PatientRow
    profile: PatientProfile
    events: list[ClinicalEvent]
    #: the content hash of each stored entry, in log order (an import skips what is recorded)
    content_hashes: list[str]
    last_seq: int
    last_chain: str | None

    @property
    def length(self) -> int:
        return len(self.events)


def profile_of(row: PatientRow) -> PatientProfile:
    return read_profile(row.profile)


def event_of(row: EventRow) -> ClinicalEvent:
    """A stored entry: validated when it was recorded and guarded by its content hash since
    (``journey verify``), so it is read back without checking it again."""
    return stored_event(row.payload, seq=row.seq)


def reminder_of(row: Any) -> Reminder:
    """A stored reminder (an ORM row or a Core row with the same columns) as a domain value."""
    return Reminder(ReminderKind(row.kind), row.opened_by, row.anchor_on, row.due_on,
                    row.resolved_on, row.cancelled_on, row.closed_by, row.held_since)


#: the reminder columns the fold derives (besides its identity, kind and opening entry)
_DERIVED = ("anchor_on", "due_on", "resolved_on", "cancelled_on", "closed_by", "held_since", "status",
            "closed")


class Repository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- patients ---------------------------------------------------------------------------
    def find_patient(self, ref: str) -> PatientRow | None:
        return self.session.exec(select(PatientRow).where(PatientRow.ref == ref)).first()

    def get_patient(self, ref: str) -> PatientRow:
        row = self.find_patient(ref)
        if row is None:
            raise NotFound(f"No patient with reference {ref!r} is registered.")
        return row

    def add_patient(self, row: PatientRow) -> PatientRow:
        self.session.add(row)
        self.session.flush()
        return row

    def load_journey(self, ref: str) -> StoredJourney:
        row = self.get_patient(ref)
        return self.journey_of(row)

    def journey_of(self, row: PatientRow) -> StoredJourney:
        self.lock_patient(row)
        event_rows = list(self.session.exec(
            select(EventRow).where(EventRow.patient_id == row.id).order_by(col(EventRow.seq))))
        return StoredJourney(row, profile_of(row), [event_of(e) for e in event_rows], event_rows)

    def writable_journey(self, row: PatientRow) -> WritableJourney:
        """The patient's log for a write, as Core rows (no ORM objects for the entries)."""
        self.lock_patient(row)
        table = EventRow.__table__  # type: ignore[attr-defined]
        rows = self.session.connection().execute(
            select(table.c.seq, table.c.payload, table.c.content_hash, table.c.chain_hash)
            .where(table.c.patient_id == row.id).order_by(table.c.seq)).all()
        return WritableJourney(row, profile_of(row), [stored_event(r.payload, r.seq) for r in rows],
                               [r.content_hash for r in rows], rows[-1].seq if rows else 0,
                               rows[-1].chain_hash if rows else None)

    def lock_patient(self, row: PatientRow) -> None:
        """On a server database, lock the patient row until the transaction ends and re-read it, so
        two writers for one patient take turns and the second sees what the first wrote (SQLite
        already serialises writers with BEGIN IMMEDIATE). Every write path reads the log through
        :meth:`journey_of` first, so the patient row is always the first lock taken: no deadlock."""
        if self.session.get_bind().dialect.name == "sqlite" or row.id is None:
            return
        self.session.exec(select(PatientRow).where(PatientRow.id == row.id).with_for_update()
                          .execution_options(populate_existing=True)).one()

    def bump_version(self, row: PatientRow, seen_version: int, phase: str, phase_on: date,
                     now: datetime, log_head: tuple[str, int] | None = None,
                     derived_with: str | None = None) -> None:
        """Write the derived phase (and, after new events, the log's head link and length; the
        version of the rules that derived it)."""
        values: dict[str, object] = {"version": seen_version + 1, "phase": phase, "phase_on": phase_on,
                                     "updated_at": now}
        if derived_with is not None:
            values["derived_with"] = derived_with
        if log_head is not None:
            values["log_head"], values["log_length"] = log_head
        table = PatientRow.__table__  # type: ignore[attr-defined]
        result = self.session.connection().execute(
            update(table).where(and_(table.c.id == row.id, table.c.version == seen_version)).values(**values))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise ConcurrentUpdate(
                f"Someone else recorded something for patient {row.ref} at the same time. Nothing "
                f"of yours was saved; open the patient again to see their entry, then record yours.")
        self.session.expire(row)

    def patients_derived_otherwise(self, version: str, limit: int) -> list[PatientRow]:
        """Patients whose derived state came from another version of the pathway's rules."""
        return list(self.session.exec(select(PatientRow).where(PatientRow.derived_with != version)
                                      .order_by(col(PatientRow.id)).limit(limit)))

    def count_derived_otherwise(self, version: str) -> int:
        return int(self.session.exec(select(func.count()).select_from(PatientRow)
                                     .where(PatientRow.derived_with != version)).one())

    def patient_count(self) -> int:
        return int(self.session.exec(select(func.count()).select_from(PatientRow)).one())

    def stream_patients(self, batch: int = 500, keep_unreadable: bool = False) -> Iterator[StoredJourney]:
        """Every patient with its log, a batch at a time: memory stays bounded at any cohort size.
        With ``keep_unreadable`` an entry that cannot be read back is listed, not raised."""
        last_id = 0
        while True:
            rows = list(self.session.exec(select(PatientRow).where(col(PatientRow.id) > last_id)
                                          .order_by(col(PatientRow.id)).limit(batch)))
            if not rows:
                return
            yield from self._with_logs(rows, keep_unreadable)
            last_id = rows[-1].id or last_id
            self.session.expunge_all()

    def journeys_of(self, ids: Sequence[int]) -> list[StoredJourney]:
        """These patients with their logs, in id order, in two queries."""
        if not ids:
            return []
        rows = list(self.session.exec(select(PatientRow).where(col(PatientRow.id).in_(ids))
                                      .order_by(col(PatientRow.id))))
        return self._with_logs(rows)

    def _with_logs(self, rows: list[PatientRow], keep_unreadable: bool = False) -> list[StoredJourney]:
        ids = [r.id for r in rows]
        events: dict[int, list[EventRow]] = {i: [] for i in ids if i is not None}
        for e in self.session.exec(select(EventRow).where(col(EventRow.patient_id).in_(ids))
                                   .order_by(col(EventRow.patient_id), col(EventRow.seq))):
            events[e.patient_id].append(e)
        out = []
        for r in rows:
            assert r.id is not None
            log = events[r.id]
            read, unreadable = [], []
            for e in log:
                try:
                    read.append(event_of(e))
                except ImpossibleEntry as refusal:
                    if not keep_unreadable:
                        raise
                    unreadable.append(f"event {e.seq} ({e.type}) can no longer be read: {refusal.message}")
            out.append(StoredJourney(r, profile_of(r), read, log, tuple(unreadable)))
        return out

    def forget_audit_verdict(self, patient_id: int) -> None:
        """A change the patient's version does not show (a dismissal) makes the stored audit
        verdict stale: it is deleted, and the next audit judges the patient again."""
        self.session.execute(delete(AuditEntryRow).where(col(AuditEntryRow.patient_id) == patient_id))

    # -- events -----------------------------------------------------------------------------
    def append_events(self, rows: Sequence[EventRow], previous_chain: str | None) -> str | None:
        """Chain and insert new entries (one statement); the new end of the chain."""
        for row in rows:
            row.chain_hash = chain_hash(previous_chain or GENESIS, row)
            previous_chain = row.chain_hash
        if rows:
            table = EventRow.__table__  # type: ignore[attr-defined]
            names = [c.name for c in table.columns if c.name != "id"]
            self.session.connection().execute(table.insert(), [{n: getattr(r, n) for n in names}
                                                               for r in rows])
        return previous_chain

    # -- reminders --------------------------------------------------------------------------
    def reminder_rows(self, patient_id: int) -> list[ReminderRow]:
        return list(self.session.exec(select(ReminderRow).where(ReminderRow.patient_id == patient_id)
                                      .order_by(col(ReminderRow.anchor_on), col(ReminderRow.opened_by),
                                                col(ReminderRow.kind))))

    def save_reminders(self, patient_id: int, reminders: Sequence[tuple[Reminder, str]],
                       today: date, now: datetime) -> None:
        """Write the reminders the log implies: insert new ones, update changed ones, and cancel
        stored ones the log no longer implies (a corrected history). Keyed by (kind, opening
        entry), never by date (contract §7.1). Core statements: a write touches a handful of
        rows, often none."""
        table = ReminderRow.__table__  # type: ignore[attr-defined]
        connection = self.session.connection()
        stored = {(r.kind, r.opened_by): r for r in connection.execute(
            select(table.c.id, table.c.kind, table.c.opened_by, *(table.c[k] for k in _DERIVED))
            .where(table.c.patient_id == patient_id))}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        seen: set[tuple[str, int]] = set()
        for reminder, status in reminders:
            key = reminder.key
            seen.add(key)
            values = {"anchor_on": reminder.anchor_on, "due_on": reminder.due_on,
                      "resolved_on": reminder.resolved_on, "cancelled_on": reminder.cancelled_on,
                      "closed_by": reminder.closed_by, "held_since": reminder.held_since,
                      "status": status, "closed": reminder.closed_on is not None}
            row = stored.get(key)
            if row is None:
                inserts.append({"patient_id": patient_id, "kind": key[0], "opened_by": key[1],
                                "updated_at": now, **values})
            elif any(getattr(row, k) != v for k, v in values.items()):
                updates.append({"rid": row.id, "updated_at": now, **values})
        for key, row in stored.items():
            if key not in seen and not row.closed:  # the corrected history no longer implies it
                updates.append({"rid": row.id, **{k: getattr(row, k) for k in _DERIVED},
                                "cancelled_on": today, "status": ReminderStatus.CANCELLED.value,
                                "closed": True, "held_since": None, "updated_at": now})
        if inserts:
            connection.execute(table.insert(), inserts)
        if updates:
            connection.execute(
                update(table).where(table.c.id == bindparam("rid"))
                .values({k: bindparam(k) for k in (*_DERIVED, "updated_at")}), updates)

    def open_reminders_due(self, as_of: date, limit: int | None = None, kind: str | None = None,
                           team: str | None = None) -> list[tuple[ReminderRow, PatientRow]]:
        """Open reminders due on or before ``as_of``, earliest due first (most urgent)."""
        query = (select(ReminderRow, PatientRow).join(PatientRow,
                                                      col(PatientRow.id) == ReminderRow.patient_id)
                 .where(ReminderRow.closed == False, col(ReminderRow.due_on) <= as_of)  # noqa: E712
                 .where(or_(col(ReminderRow.dismissed_on).is_(None),  # dismissed, with a reason
                            col(ReminderRow.dismissed_on) > as_of))
                 .where(or_(col(ReminderRow.snoozed_until).is_(None),
                            col(ReminderRow.snoozed_until) <= as_of))
                 # a due date moving while the line is held is always ahead (journey.reminders)
                 .where(col(ReminderRow.held_since).is_(None))
                 .order_by(col(ReminderRow.due_on), col(ReminderRow.id)))
        if kind:
            query = query.where(ReminderRow.kind == kind)
        if team:
            query = query.where(PatientRow.care_team == team)
        if limit:
            query = query.limit(limit)
        return [(r, p) for r, p in self.session.exec(query)]


class UnitOfWork:
    """``with UnitOfWork(engine) as uow:`` one transaction; commit on success, roll back on error."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Repository:
        self.session = Session(self.engine, expire_on_commit=False)
        self.repo = Repository(self.session)
        return self.repo

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self.session.commit()
            else:
                self.session.rollback()
        except DBAPIError as e:
            self.session.rollback()
            if is_write_conflict(e):
                raise ConcurrentUpdate(CONFLICT_MESSAGE) from e
            raise
        finally:
            self.session.close()
        if isinstance(exc, DBAPIError) and is_write_conflict(exc):
            raise ConcurrentUpdate(CONFLICT_MESSAGE) from exc


CONFLICT_MESSAGE = ("Someone else changed the same record at the same time. Nothing of yours was saved; "
                    "open it again and repeat what you did.")

#: PostgreSQL SQLSTATEs of a lost race: unique violation, serialization failure, deadlock
_CONFLICT_STATES = ("23505", "40001", "40P01")


def is_write_conflict(error: DBAPIError) -> bool:
    """A database error that means another transaction got there first (retrying is right)."""
    original = error.orig
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if state is not None:
        return state in _CONFLICT_STATES
    text = str(original)
    return "UNIQUE constraint failed" in text or "database is locked" in text
