"""The unit of work: one transaction, and the repositories that work inside it.

    with UnitOfWork(engine) as uow:
        record = uow.patients.get(ref)
        ...
        uow.commit()        # nothing is kept without it

Leaving the block without :meth:`UnitOfWork.commit` rolls back, whether an error left it or a
read simply ended. A lost race (a unique key taken first, PostgreSQL's serialization failure or
deadlock, SQLite's lock) becomes :class:`journey.errors.ConcurrentUpdate` here, once, so every
service, the importer and the sweep report it alike (db.conflicts).
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from db.conflicts import changed_meanwhile, is_write_conflict
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

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None

    def __enter__(self) -> UnitOfWork:
        connection = self._connection = self.engine.connect()
        connection.begin()  # SQLite: BEGIN IMMEDIATE, the writer lock up front (db.engine)
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

    def commit(self) -> None:
        assert self._connection is not None, "commit() inside the with block"
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
        if isinstance(exc, DBAPIError) and is_write_conflict(exc):
            raise changed_meanwhile() from exc
