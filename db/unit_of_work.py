"""The unit of work: one transaction, and the repositories that work inside it.

    with UnitOfWork(engine) as uow:
        record = uow.patients.get(ref)
        ...
        uow.commit()        # nothing is kept without it

Leaving the block without :meth:`UnitOfWork.commit` rolls back, whether an error left it or a
read simply ended. ``UnitOfWork(engine, read_only=True)`` only reads: on SQLite it is a snapshot
that takes no lock (a plain ``BEGIN`` in WAL mode), so readers never queue behind the writer, and
it refuses to commit. A lost race (a unique key taken first, PostgreSQL's serialization failure or
deadlock, SQLite's lock) becomes :class:`journey.errors.ConcurrentUpdate` here, once, so every
service, the importer and the sweep report it alike (db.conflicts).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from types import TracebackType

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from db.conflicts import changed_meanwhile, is_write_conflict
from db.engine import READ_ONLY, writer_turn
from db.outbox import Outbox
from db.patients import Patients
from db.reminders import ReminderActions, Reminders
from db.sweep import SweepStatements
from db.users import AccessLog, SignInFailures, Users, WebSessions
from db.verdicts import Verdicts


class UnitOfWork:
    """``with UnitOfWork(engine) as uow: ...; uow.commit()``: one transaction."""

    patients: Patients
    reminders: Reminders
    reminder_actions: ReminderActions
    outbox: Outbox
    sweep: SweepStatements
    verdicts: Verdicts
    users: Users
    sessions: WebSessions
    sign_in_failures: SignInFailures
    access_log: AccessLog

    def __init__(self, engine: Engine, read_only: bool = False,
                 before_commit: Callable[[UnitOfWork], None] | None = None) -> None:
        """``before_commit``: what is written last in every transaction this unit of work
        commits, kept with it or not at all (the access log's line of a write)."""
        self.engine = engine
        self.read_only = read_only
        self._before_commit = before_commit
        self._connection: Connection | None = None
        self._turn: AbstractContextManager[None] | None = None

    def __enter__(self) -> UnitOfWork:
        if not self.read_only:  # SQLite: this process's writers queue here, not in SQLite's busy handler
            self._turn = writer_turn(self.engine)
            self._turn.__enter__()
        try:
            connection = self._connection = self.engine.connect()
            if self.read_only:  # SQLite: a plain BEGIN, a snapshot that waits for no writer (db.engine)
                connection.execution_options(**{READ_ONLY: True})
            connection.begin()  # SQLite: BEGIN IMMEDIATE, the writer lock up front (db.engine)
        except BaseException:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self._end_turn()
            raise
        self.patients = Patients(connection)
        self.reminders = Reminders(connection)
        self.reminder_actions = ReminderActions(connection)
        self.outbox = Outbox(connection)
        self.sweep = SweepStatements(connection)
        self.verdicts = Verdicts(connection)
        self.users = Users(connection)
        self.sessions = WebSessions(connection)
        self.sign_in_failures = SignInFailures(connection)
        self.access_log = AccessLog(connection)
        return self

    def _end_turn(self) -> None:
        if self._turn is not None:
            turn, self._turn = self._turn, None
            turn.__exit__(None, None, None)

    def commit(self) -> None:
        assert self._connection is not None, "commit() inside the with block"
        if self.read_only:
            raise TypeError("a read-only unit of work keeps nothing: open ctx.unit_of_work() to write")
        if self._before_commit is not None:
            self._before_commit(self)
        try:
            self._connection.commit()
        except DBAPIError as e:
            if is_write_conflict(e):
                raise changed_meanwhile() from e
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._connection is not None
        try:
            self._connection.rollback()  # after commit() there is nothing left to roll back
        finally:
            self._connection.close()
            self._connection = None
            self._end_turn()
        if isinstance(exc, DBAPIError) and is_write_conflict(exc):
            raise changed_meanwhile() from exc
