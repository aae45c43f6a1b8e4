"""Patients and their event logs: registering a patient, reading a journey (the profile and the log
as domain values), the version guard, and appending entries to the hash-chained log.

Every write to a patient bumps its version with ``UPDATE ... WHERE version = :seen``
(:func:`bump_versions`, the one statement that does it, for recording and for the sweep); if
someone else wrote first nothing is written and :class:`journey.errors.ConcurrentUpdate` says so.
The event log is append-only: nothing here updates or deletes an event row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update

from db.conflicts import changed_meanwhile
from db.records import MAX_ID, EntryRecord, PatientRecord, record_of
from db.tables import EVENT, JOURNEY_MEMORY, PATIENT, inserted_id
from journey.course import PATHWAY_VERSION, PathwayStep
from journey.errors import ImpossibleEntry, NotFound
from journey.events import ClinicalEvent, stored_event
from journey.profile import PatientProfile, profile_to_dict, read_profile

#: the link before a patient's first event
GENESIS = "0" * 64


# -- the rows, built in one place ---------------------------------------------------------------------

def content_hash(payload: Mapping[str, Any]) -> str:
    """Identity of an entry's content: the same entry in two imports hashes the same."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def chain_hash(previous: str, entry: Mapping[str, Any]) -> str:
    """The tamper-evidence link: an event's content (its row's values) bound to the previous link."""
    material = json.dumps({
        "previous": previous, "patient": entry["patient_id"], "seq": entry["seq"], "type": entry["type"],
        "date": entry["date"].isoformat(), "recorded_at": entry["recorded_at"].isoformat(),
        "actor": entry["actor"], "payload": entry["payload"], "phase_before": entry["phase_before"],
        "phase_after": entry["phase_after"], "override": entry["override_reason"],
    }, sort_keys=True, default=str)
    return hashlib.sha256(material.encode()).hexdigest()


def link_of(previous: str, entry: EntryRecord) -> str:
    """:func:`chain_hash` of a stored entry (``journey verify`` recomputes the chain with it)."""
    return chain_hash(previous, vars(entry))


def patient_values(profile: PatientProfile, *, care_team: str, synchronous_window_days: int,
                   phase: str, phase_on: date, now: datetime, version: int = 1) -> dict[str, Any]:
    """The patient row of a profile (registering, and the bulk load)."""
    return {"ref": profile.ref, "care_team": care_team, "profile": profile_to_dict(profile),
            "timing": profile.timing(synchronous_window_days).value,
            "sidedness": profile.sidedness.value, "phase": phase, "phase_on": phase_on,
            "version": version, "derived_with": PATHWAY_VERSION, "log_head": GENESIS, "log_length": 0,
            "created_at": now, "updated_at": now}


def entry_values(patient_id: int, steps_taken: Iterable[PathwayStep], entries: Sequence[ClinicalEvent], *,
                 recorded_at: datetime, actor: str, source: str,
                 previous_chain: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """The event rows of ``entries`` (accepted by the fold, whose ``steps_taken`` hold theirs),
    chained after ``previous_chain``; and the new end of the chain. Recording and the bulk load
    both build their rows here, so a bulk-loaded log is the log the service would have written."""
    steps = {id(step.event): step for step in steps_taken if step.event is not None}
    rows: list[dict[str, Any]] = []
    previous = previous_chain or GENESIS
    for event in entries:
        step = steps[id(event)]
        payload = event.to_dict()
        row = {"patient_id": patient_id, "seq": event.seq, "type": event.type.value, "date": event.date,
               "recorded_at": recorded_at, "actor": actor, "source": source, "payload": payload,
               "phase_before": step.from_phase.value, "phase_after": step.to_phase.value,
               "override_reason": event.override, "content_hash": content_hash(payload)}
        row["chain_hash"] = previous = chain_hash(previous, row)
        rows.append(row)
    return rows, (previous if rows else previous_chain)


def memory_values(patient_id: int, log_length: int, memory: Mapping[str, Any]) -> dict[str, Any]:
    """The row that keeps the fold's memory of a patient whose log has ``log_length`` entries."""
    return {"patient_id": patient_id, "version": memory["version"], "log_length": log_length,
            "memory": dict(memory)}


# -- the version guard --------------------------------------------------------------------------------

@dataclass(frozen=True)
class VersionBump:
    """A write to a patient seen at version ``seen``: the derived phase on ``phase_on`` and, after
    new events, the log's head link and length; after a fold of the log, the version of the rules
    that derived it (the sweep, which only moves the clock, leaves it)."""

    patient_id: int
    seen: int
    phase: str
    phase_on: date
    now: datetime
    log_head: str | None = None
    log_length: int | None = None
    derived_with: str | None = None


_BUMP = (update(PATIENT)
         .where(and_(PATIENT.c.id == bindparam("b_id"), PATIENT.c.version == bindparam("b_seen")))
         .values(version=bindparam("b_version"), phase=bindparam("b_phase"),
                 phase_on=bindparam("b_phase_on"), updated_at=bindparam("b_now"),
                 log_head=func.coalesce(bindparam("b_log_head"), PATIENT.c.log_head),
                 log_length=func.coalesce(bindparam("b_log_length"), PATIENT.c.log_length),
                 derived_with=func.coalesce(bindparam("b_derived_with"), PATIENT.c.derived_with)))


def bump_versions(connection: Connection, bumps: Sequence[VersionBump]) -> int:
    """Write each patient's derived state and move its version on, only where the version is still
    the one seen (one statement for any number); how many rows were written."""
    if not bumps:
        return 0
    result = connection.execute(_BUMP, [
        {"b_id": b.patient_id, "b_seen": b.seen, "b_version": b.seen + 1, "b_phase": b.phase,
         "b_phase_on": b.phase_on, "b_now": b.now, "b_log_head": b.log_head,
         "b_log_length": b.log_length, "b_derived_with": b.derived_with} for b in bumps])
    return int(result.rowcount)


# -- a journey as stored ------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredJourney:
    """A patient as stored: the record, the profile and the event log as domain values."""

    row: PatientRecord
    profile: PatientProfile
    events: list[ClinicalEvent]
    event_rows: list[EntryRecord]
    #: stored entries that cannot be read back (altered outside the tracker), with why: only
    #: ``journey verify`` asks for them (``keep_unreadable``); everyone else gets the refusal
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True)
class JourneyToJudge:
    """A patient as the audit replays it: the record, the profile and the log as domain values
    (read without the entries' rows: their hashes, actors and instants are not judged)."""

    row: PatientRecord
    profile: PatientProfile
    events: list[ClinicalEvent]


@dataclass(frozen=True)
class WritableJourney:
    """What recording needs of a patient, read without loading whole event rows: the record
    (locked on a server database), the profile, the log as domain values, and its end."""

    row: PatientRecord
    profile: PatientProfile
    events: list[ClinicalEvent]
    #: the content hash of each stored entry, in log order (an import skips what is recorded)
    content_hashes: list[str]
    last_seq: int
    last_chain: str | None

    @property
    def length(self) -> int:
        return len(self.events)


@dataclass(frozen=True)
class LogHead:
    """A patient's log as its row states it: how many entries, and the link of the last."""

    patient_id: int
    ref: str
    length: int
    head: str


def chain_of(entries: Sequence[EntryRecord]) -> list[str]:
    """The links of a stored log recomputed from its entries' content (:func:`link_of`), never
    read from their ``chain_hash``: what a checkpoint witnesses, and what is compared with it."""
    links, previous = [], GENESIS
    for entry in entries:
        previous = link_of(previous, entry)
        links.append(previous)
    return links


def profile_of(row: PatientRecord) -> PatientProfile:
    return read_profile(row.profile)


def event_of(row: EntryRecord) -> ClinicalEvent:
    """A stored entry: validated when it was recorded and guarded by its content hash since
    (``journey verify``), so it is read back without checking it again."""
    return stored_event(row.payload, seq=row.seq)


_PATIENT_COLUMNS = tuple(PATIENT.c)
_ENTRY_COLUMNS = tuple(EVENT.c)

# The statements of recording an entry, built once: building a statement (coercing its clauses,
# computing its cache key) cost about as much as running it on SQLite (issue 17).
_FIND = select(*_PATIENT_COLUMNS).where(PATIENT.c.ref == bindparam("ref"))
_MEMORY = (select(JOURNEY_MEMORY.c.version, JOURNEY_MEMORY.c.log_length, JOURNEY_MEMORY.c.memory)
           .where(JOURNEY_MEMORY.c.patient_id == bindparam("patient_id")))
_KEEP_MEMORY = (update(JOURNEY_MEMORY).where(JOURNEY_MEMORY.c.patient_id == bindparam("m_patient_id"))
                .values(version=bindparam("version"), log_length=bindparam("log_length"),
                        memory=bindparam("memory")))
_NEW_MEMORY = insert(JOURNEY_MEMORY)
_APPEND = insert(EVENT)


class Patients:
    """The patients and their logs, inside one unit of work."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- patients -----------------------------------------------------------------------------
    def find(self, ref: str) -> PatientRecord | None:
        row = self.connection.execute(_FIND, {"ref": ref}).first()
        return record_of(PatientRecord, row._mapping) if row is not None else None

    def get(self, ref: str) -> PatientRecord:
        record = self.find(ref)
        if record is None:
            raise NotFound(f"No patient with reference {ref!r} is registered.")
        return record

    def register(self, values: Mapping[str, Any]) -> PatientRecord:
        """Insert a patient row (:func:`patient_values`)."""
        result = self.connection.execute(insert(PATIENT).values(**values))
        return PatientRecord(id=inserted_id(result), **values)

    def lock(self, row: PatientRecord) -> PatientRecord:
        """On a server database, lock the patient row until the transaction ends and read it again,
        so two writers for one patient take turns and the second sees what the first wrote
        (SQLite already serialises writers with BEGIN IMMEDIATE). Every write path reads the log
        through :meth:`journey_of` or :meth:`writable_journey` first, so the patient row is always
        the first lock taken: no deadlock."""
        if self.connection.dialect.name == "sqlite":
            return row
        fresh = self.connection.execute(select(*_PATIENT_COLUMNS).where(PATIENT.c.id == row.id)
                                        .with_for_update()).one()
        return record_of(PatientRecord, fresh._mapping)

    def bump_version(self, row: PatientRecord, phase: str, phase_on: date, now: datetime,
                     log_head: tuple[str, int] | None = None) -> None:
        """Write the phase the log implies under the current rules (and, after new events, the log's
        head link and length) on the version ``row`` was read at; ConcurrentUpdate if someone else
        wrote first."""
        head, length = log_head if log_head is not None else (None, None)
        bump = VersionBump(row.id, row.version, phase, phase_on, now, head, length, PATHWAY_VERSION)
        if bump_versions(self.connection, [bump]) != 1:
            raise changed_meanwhile(f"Patient {row.ref}")

    def count(self) -> int:
        return int(self.connection.execute(select(func.count()).select_from(PATIENT)).scalar_one())

    # -- the fold's memory (issue 17) ---------------------------------------------------------------
    def memory_of(self, patient: PatientRecord) -> dict[str, Any] | None:
        """The fold's memory of the patient, when it has seen exactly the stored log under the
        current rules; None when there is none or it is out of date (then the log is replayed)."""
        row = self.connection.execute(_MEMORY, {"patient_id": patient.id}).first()
        if row is None or row.version != PATHWAY_VERSION or row.log_length != patient.log_length:
            return None
        memory: dict[str, Any] = row.memory
        return memory

    def stored_memory(self, patient_id: int) -> tuple[str, int, dict[str, Any]] | None:
        """The kept memory as it is, current or not (``journey verify``)."""
        row = self.connection.execute(
            select(JOURNEY_MEMORY.c.version, JOURNEY_MEMORY.c.log_length, JOURNEY_MEMORY.c.memory)
            .where(JOURNEY_MEMORY.c.patient_id == patient_id)).first()
        return (row.version, row.log_length, row.memory) if row is not None else None

    def keep_memory(self, patient_id: int, log_length: int, memory: Mapping[str, Any]) -> None:
        """Keep the fold's memory after the log's ``log_length`` entries (the patient row is
        locked by the write, so one writer at a time)."""
        values = memory_values(patient_id, log_length, memory)
        updated = self.connection.execute(_KEEP_MEMORY, {"m_patient_id": patient_id, **values})
        if updated.rowcount == 0:
            self.connection.execute(_NEW_MEMORY, values)

    def id_slices(self, parts: int) -> list[tuple[int, int]]:
        """The patients split into ``parts`` runs of ids of about the same size: (after, until)
        each, ``after < id <= until`` (fewer runs when there are fewer patients)."""
        count = self.count()
        if count == 0:
            return []
        parts = max(1, min(parts, count))
        ends = [int(self.connection.execute(select(PATIENT.c.id).order_by(PATIENT.c.id)
                                            .offset(count * k // parts - 1).limit(1)).scalar_one())
                for k in range(1, parts + 1)]
        return list(zip([0, *ends[:-1]], ends, strict=True))

    def derived_otherwise(self, limit: int) -> list[PatientRecord]:
        """Patients whose phase and reminders were derived under other rules than the current
        ones (journey.course.PATHWAY_VERSION), by id."""
        return [record_of(PatientRecord, r._mapping) for r in self.connection.execute(
            select(*_PATIENT_COLUMNS).where(PATIENT.c.derived_with != PATHWAY_VERSION)
            .order_by(PATIENT.c.id).limit(limit))]

    def count_derived_otherwise(self) -> int:
        return int(self.connection.execute(select(func.count()).select_from(PATIENT)
                                           .where(PATIENT.c.derived_with != PATHWAY_VERSION)).scalar_one())

    def entry_count(self) -> int:
        """How many events are recorded, over every patient."""
        return int(self.connection.execute(select(func.count()).select_from(EVENT)).scalar_one())

    def listing(self, phase: str | None = None, team: str | None = None, limit: int = 100,
                offset: int = 0) -> list[PatientRecord]:
        """Registered patients by reference, optionally of one phase or care team."""
        if offset > MAX_ID:
            return []  # no patient lies beyond the largest id (and the database takes no such number)
        query = select(*_PATIENT_COLUMNS).order_by(PATIENT.c.ref).offset(offset).limit(limit)
        if phase:
            query = query.where(PATIENT.c.phase == phase)
        if team:
            query = query.where(PATIENT.c.care_team == team)
        return [record_of(PatientRecord, r._mapping) for r in self.connection.execute(query)]

    def care_teams(self) -> list[str]:
        return sorted(set(self.connection.execute(select(PATIENT.c.care_team)).scalars()))

    def refs(self) -> Iterator[str]:
        """Every patient reference (finding the patient behind a pseudonym)."""
        yield from self.connection.execute(select(PATIENT.c.ref)).scalars()

    # -- journeys -----------------------------------------------------------------------------
    def load_journey(self, ref: str) -> StoredJourney:
        return self.journey_of(self.get(ref))

    def journey_of(self, row: PatientRecord) -> StoredJourney:
        row = self.lock(row)
        entries = [record_of(EntryRecord, e._mapping) for e in self.connection.execute(
            select(*_ENTRY_COLUMNS).where(EVENT.c.patient_id == row.id).order_by(EVENT.c.seq))]
        return StoredJourney(row, profile_of(row), [event_of(e) for e in entries], entries)

    def writable_journey(self, row: PatientRecord) -> WritableJourney:
        """The patient's log for a write: the entries and their hashes, not whole rows."""
        row = self.lock(row)
        rows = self.connection.execute(
            select(EVENT.c.seq, EVENT.c.payload, EVENT.c.content_hash, EVENT.c.chain_hash)
            .where(EVENT.c.patient_id == row.id).order_by(EVENT.c.seq)).all()
        return WritableJourney(row, profile_of(row), [stored_event(r.payload, r.seq) for r in rows],
                               [r.content_hash for r in rows], rows[-1].seq if rows else 0,
                               rows[-1].chain_hash if rows else None)

    def stream(self, batch: int = 500, keep_unreadable: bool = False) -> Iterator[StoredJourney]:
        """Every patient with its log, a batch at a time: memory stays bounded at any cohort size.
        With ``keep_unreadable`` an entry that cannot be read back is listed, not raised."""
        last_id = 0
        while True:
            rows = [record_of(PatientRecord, r._mapping) for r in self.connection.execute(
                select(*_PATIENT_COLUMNS).where(PATIENT.c.id > last_id).order_by(PATIENT.c.id)
                .limit(batch))]
            if not rows:
                return
            yield from self._with_logs(rows, keep_unreadable)
            last_id = rows[-1].id

    def journeys_of(self, ids: Sequence[int]) -> list[StoredJourney]:
        """These patients with their logs, in id order, in two queries."""
        if not ids:
            return []
        rows = [record_of(PatientRecord, r._mapping) for r in self.connection.execute(
            select(*_PATIENT_COLUMNS).where(PATIENT.c.id.in_(ids)).order_by(PATIENT.c.id))]
        return self._with_logs(rows)

    def to_judge(self, ids: Sequence[int]) -> list[JourneyToJudge]:
        """These patients with their logs as domain values, in id order, in two queries that read
        only what a replay needs of each entry (its seq and payload): the audit's batches."""
        if not ids:
            return []
        rows = [record_of(PatientRecord, r._mapping) for r in self.connection.execute(
            select(*_PATIENT_COLUMNS).where(PATIENT.c.id.in_(ids)).order_by(PATIENT.c.id))]
        logs: dict[int, list[ClinicalEvent]] = {r.id: [] for r in rows}
        for patient_id, seq, payload in self.connection.execute(
                select(EVENT.c.patient_id, EVENT.c.seq, EVENT.c.payload)
                .where(EVENT.c.patient_id.in_(list(logs))).order_by(EVENT.c.patient_id, EVENT.c.seq)):
            logs[patient_id].append(stored_event(payload, seq))
        return [JourneyToJudge(r, profile_of(r), logs[r.id]) for r in rows]

    def logs_of(self, ids: Sequence[int]) -> dict[int, list[EntryRecord]]:
        """These patients' stored entries, each log in order (one query)."""
        logs: dict[int, list[EntryRecord]] = {i: [] for i in ids}
        if not logs:
            return logs
        for e in self.connection.execute(select(*_ENTRY_COLUMNS)
                                         .where(EVENT.c.patient_id.in_(list(logs)))
                                         .order_by(EVENT.c.patient_id, EVENT.c.seq)):
            logs[e.patient_id].append(record_of(EntryRecord, e._mapping))
        return logs

    def heads(self) -> list[LogHead]:
        """Every patient's log as the patient row states it (length and head link), by id: what
        a checkpoint witnesses, read without the logs."""
        return [LogHead(*r) for r in self.connection.execute(
            select(PATIENT.c.id, PATIENT.c.ref, PATIENT.c.log_length, PATIENT.c.log_head)
            .order_by(PATIENT.c.id))]

    def _with_logs(self, rows: list[PatientRecord], keep_unreadable: bool = False) -> list[StoredJourney]:
        logs = self.logs_of([r.id for r in rows])
        out = []
        for r in rows:
            read, unreadable = [], []
            for entry in logs[r.id]:
                try:
                    read.append(event_of(entry))
                except ImpossibleEntry as refusal:
                    if not keep_unreadable:
                        raise
                    unreadable.append(f"event {entry.seq} ({entry.type}) can no longer be read: "
                                      f"{refusal.message}")
            out.append(StoredJourney(r, profile_of(r), read, logs[r.id], tuple(unreadable)))
        return out

    # -- the log ------------------------------------------------------------------------------
    def append_entries(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert new entries (:func:`entry_values`) in one statement."""
        if rows:
            self.connection.execute(_APPEND, list(rows))
