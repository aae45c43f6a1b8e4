"""Engines for the configured database. Nothing is created at import time: the composition root
calls :func:`make_engine` with the URL from the settings, and hands the engine to the application,
which passes it on to :class:`db.unit_of_work.UnitOfWork` (and APScheduler's job store) and never
runs a statement on it itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine

import db.tables  # noqa: F401  (registers the tables on SQLModel.metadata)

__all__ = ["Engine", "create_schema", "is_sqlite", "make_engine"]

#: SQLite durability: FULL syncs the WAL on every commit, so an acknowledged event survives a
#: power cut, not only a process crash. Clinical records are worth the fsync (docs/performance.md).
SQLITE_SYNCHRONOUS = "FULL"


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
                                                                 "timeout": 30})
        _tune_sqlite(engine, in_memory=database in ("", ":memory:"))
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
            cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_schema(engine: Engine) -> None:
    """Create the tables directly (throwaway in-memory databases). Files and servers are
    created and upgraded by the Alembic migrations (db.migrate)."""
    SQLModel.metadata.create_all(engine)
