"""Engines for the configured database. Nothing is created at import time: the composition root
calls :func:`make_engine` with the URL from the settings, and hands the engine to the application,
which passes it on to :class:`db.unit_of_work.UnitOfWork` (and APScheduler's job store) and never
runs a statement on it itself."""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine

import db.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

__all__ = ["READ_ONLY", "Engine", "create_schema", "is_shared", "is_sqlite", "make_engine", "writer_turn"]

#: SQLite durability: FULL syncs the WAL on every commit, so an acknowledged event survives a
#: power cut, not only a process crash. Clinical records are worth the fsync (docs/performance.md).
SQLITE_SYNCHRONOUS = "FULL"

#: the execution option of a unit of work that only reads (db.unit_of_work): on SQLite it begins
#: with a plain BEGIN, a snapshot of the WAL that takes no lock, instead of BEGIN IMMEDIATE
READ_ONLY = "journey_read_only"

#: how long a writer waits for SQLite's lock (busy_timeout) before giving up
BUSY_SECONDS = 30

class WriterQueue:
    """The writers of one SQLite file take turns here before SQLite's lock (:func:`writer_turn`):
    a lock for this process's threads, then an exclusive ``flock`` on a file beside the database
    (``<database>-writer``) for the other processes (``journey serve --workers N``, the
    scheduler, the CLI). SQLite lets one writer at a time and makes the others poll: its busy
    handler sleeps 1, 2, 5, 10, 15, 20, 25 ms and then 25-100 ms between tries, so under load a
    waiter sleeps on long after the lock is free, and one process's queue of threads can keep the
    lock from another's for a second (measured: p95 0.66 s at 32 clients with one process, 0.86 s
    with two). Here a waiting thread is woken as soon as the previous writer is done: threads by
    the lock, processes by the kernel. It only orders the writers: SQLite's lock and busy timeout
    stay what decides, for writers that do not queue here too (a backup, sqlite3 by hand)."""

    def __init__(self, database: Path) -> None:
        self.path = Path(f"{database}-writer")
        self.lock = threading.RLock()
        self.depth = 0
        self.fd: int | None = None
        self.pid = 0

    def _file(self) -> int | None:
        if self.fd is None or self.pid != os.getpid():  # a forked child opens its own
            try:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:  # a read-only directory: SQLite's lock alone, as before
                self.fd = None
            self.pid = os.getpid()
        return self.fd

    @contextmanager
    def turn(self) -> Iterator[None]:
        # bounded like the busy handler: after BUSY_SECONDS the writer goes on to SQLite's lock
        acquired = self.lock.acquire(timeout=BUSY_SECONDS)
        locked = False
        try:
            if acquired and self.depth == 0 and (fd := self._file()) is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # released with the transaction, or by the kernel
                locked = True
            if acquired:
                self.depth += 1
            yield
        finally:
            if acquired:
                self.depth -= 1
                if locked and self.fd is not None:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)
                self.lock.release()


#: the writers' queue of each SQLite file engine (see :func:`writer_turn`)
_WRITERS: weakref.WeakKeyDictionary[Engine, WriterQueue] = weakref.WeakKeyDictionary()


@contextmanager
def writer_turn(engine: Engine) -> Iterator[None]:
    """A write transaction's turn among the writers of its SQLite file (:class:`WriterQueue`);
    nothing for other databases, whose writers lock rows, not the database."""
    queue = _WRITERS.get(engine)
    if queue is None:
        yield
        return
    with queue.turn():
        yield


def is_shared(engine: Engine) -> bool:
    """Whether other processes can open the engine's database (a file or a server, not memory)."""
    url = engine.url
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            engine = create_engine(url, echo=echo, poolclass=StaticPool,
                                   connect_args={"check_same_thread": False})
        else:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False,
                                                                 "timeout": BUSY_SECONDS})
        _tune_sqlite(engine, in_memory=database in ("", ":memory:"))
        if database not in ("", ":memory:"):
            _WRITERS[engine] = WriterQueue(Path(database).expanduser())
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _tune_sqlite(engine: Engine, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, open transactions, so BEGIN IMMEDIATE takes the write
        # lock up front (no deadlock between two writers that both read first).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # A reader sees one snapshot of the WAL and never waits for the writer (nor the writer
        # for it); a writer takes the lock up front. Readers never commit (db.unit_of_work).
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_schema(engine: Engine) -> None:
    """Create the tables directly (throwaway in-memory databases). Files and servers are
    created and upgraded by the Alembic migrations (db.migrate)."""
    SQLModel.metadata.create_all(engine)
