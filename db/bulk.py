"""The bulk path: whole journeys written as rows with Core ``executemany``, a batch of patients per
transaction (cohorts of 100,000 to 1,000,000 patients for the demo and the benchmarks).

The rows are built by the same functions the services use (db.patients.patient_values and
entry_values, db.reminders.reminder_row), from the same fold, so a bulk-loaded database is the
one the services would have written (``journey verify`` passes on it, tests/unit/test_demo.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, bindparam, func, insert, select
from sqlalchemy.dialects.sqlite import pysqlite
from sqlalchemy.engine import Dialect

from db.patients import entry_values, memory_values, patient_values
from db.reminders import reminder_row
from db.tables import EVENT, JOURNEY_MEMORY, PATIENT, REMINDER
from journey.course import JourneyOutcome
from journey.events import ClinicalEvent
from journey.profile import PatientProfile

_TABLES = (PATIENT, EVENT, REMINDER, JOURNEY_MEMORY)


@dataclass
class BulkRows:
    """The rows one batch of patients becomes."""

    patients: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    reminders: list[dict[str, Any]] = field(default_factory=list)
    #: the fold's memory of each patient (db.patients.memory_values)
    memories: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    branches: Counter[str] = field(default_factory=Counter)
    #: the same rows made ready for the driver (SQLite) in a worker: table -> (SQL, value tuples)
    bound: dict[str, tuple[str, list[tuple[Any, ...]]]] = field(default_factory=dict)

    def add_journey(self, patient_id: int, profile: PatientProfile, events: Sequence[ClinicalEvent],
                    outcome: JourneyOutcome, *, now: datetime, actor: str, source: str,
                    synchronous_window_days: int) -> None:
        """The rows the services would write for this patient's journey folded on
        ``outcome.as_of``: entries the fold refused are left out, as an import leaves them out."""
        refused = {r.seq for r in outcome.refusals}
        self.refused += len(refused)
        accepted = [e for e in events if e.seq not in refused]
        entries, head = entry_values(patient_id, outcome.steps, accepted, recorded_at=now, actor=actor,
                                     source=source, previous_chain=None)
        self.patients.append({
            "id": patient_id,
            **patient_values(profile, care_team="liver", synchronous_window_days=synchronous_window_days,
                             phase=outcome.phase.value, phase_on=outcome.as_of, now=now, version=2),
            **({"log_head": head, "log_length": len(entries)} if head is not None else {})})
        self.events.extend(entries)
        self.reminders.extend(reminder_row(patient_id, reminder, status, now)
                              for reminder, status in outcome.reminders_with_status())
        if outcome.memory is not None:
            self.memories.append(memory_values(patient_id, len(entries), outcome.memory))

    def bind_for_sqlite(self) -> BulkRows:
        """Turn the rows into what the SQLite driver receives, with the column types' own bind
        processors (SQLAlchemy's: JSON, dates, UTC datetimes), so the writing process only hands
        them over. Done in the worker processes, which have the spare CPU."""
        dialect = pysqlite.SQLiteDialect_pysqlite()
        for table, rows in zip(_TABLES, (self.patients, self.events, self.reminders, self.memories),
                               strict=True):
            if rows:
                self.bound[table.name] = _bound(dialect, table, rows)
        # sent to the writer once, bound
        self.patients, self.events, self.reminders, self.memories = [], [], [], []
        return self

    def sizes(self) -> tuple[int, int, int]:
        """(patients, events, reminders) in this batch, as rows or as bound values."""
        if self.bound:
            patients, events, reminders = (len(self.bound[t.name][1]) if t.name in self.bound else 0
                                           for t in _TABLES[:3])
            return patients, events, reminders
        return len(self.patients), len(self.events), len(self.reminders)


def _bound(dialect: Dialect, table: Table, rows: list[dict[str, Any]]) -> tuple[str, list[tuple[Any, ...]]]:
    names = list(rows[0])
    compiled = insert(table).values({n: bindparam(n) for n in names}).compile(dialect=dialect)
    order = compiled.positiontup or names
    processors = [table.c[n].type._cached_bind_processor(dialect) for n in order]
    values = [tuple(p(row[n]) if p else row[n] for n, p in zip(order, processors, strict=True))
              for row in rows]
    return str(compiled), values


class BulkWriter:
    """Writes batches of :class:`BulkRows`, one transaction each; patient ids continue after the
    highest stored one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with engine.connect() as connection:
            self.next_id = int(connection.execute(
                select(func.coalesce(func.max(PATIENT.c.id), 0))).scalar_one()) + 1

    @property
    def binds_in_workers(self) -> bool:
        """Whether workers can hand over driver-ready rows (:meth:`BulkRows.bind_for_sqlite`)."""
        return self.engine.dialect.name == "sqlite"

    def write(self, rows: BulkRows) -> tuple[int, int, int]:
        """Write a batch; (patients, events, reminders) written."""
        sizes = rows.sizes()
        if not sizes[0]:
            return sizes
        with self.engine.begin() as connection:
            if rows.bound:  # made ready for the driver by a worker
                for table in _TABLES:
                    if table.name in rows.bound:
                        sql, values = rows.bound[table.name]
                        connection.exec_driver_sql(sql, values)
            else:
                connection.execute(insert(PATIENT), rows.patients)
                if rows.events:
                    connection.execute(insert(EVENT), rows.events)
                if rows.reminders:
                    connection.execute(insert(REMINDER), rows.reminders)
                if rows.memories:
                    connection.execute(insert(JOURNEY_MEMORY), rows.memories)
        return sizes
