"""Backups and restores of the configured database (``journey backup FILE``, ``journey restore FILE``).

SQLite is copied with its online backup API: a consistent snapshot taken while the tracker keeps
running, written to a temporary file, checked, flushed to disk and only then renamed to FILE, so a
crash never leaves a half-written backup under the final name. PostgreSQL is dumped with
``pg_dump --format=custom`` and restored with ``pg_restore --clean --single-transaction``: a
restore either completes or changes nothing. Either way the application then migrates the restored
database to the current schema and verifies it (hash chains, phases, reminders) before it reports
it as restored (tracker.application.operations).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from db.engine import make_engine
from journey.errors import Conflict, InvalidScenario, JourneyError, NotFound

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


class BackupFailed(JourneyError):
    """The backup or restore tool failed; the message says what it reported."""

    code = "backup-failed"


def backup(database_url: str, destination: Path, overwrite: bool = False) -> int:
    """Write a backup of the database to ``destination``; returns its size in bytes."""
    if destination.exists() and not overwrite:
        raise Conflict(f"{destination} already exists. Choose a new file name (backups are never "
                       f"overwritten unless you add --overwrite).")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        elif url.get_backend_name() == "postgresql":
            _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={partial}"], url)
        else:
            raise BackupFailed(f"Backups of {url.get_backend_name()} databases are not supported.")
        _fsync(partial)
        os.replace(partial, destination)
        _fsync(destination.parent)
    finally:
        partial.unlink(missing_ok=True)
    return destination.stat().st_size


def restore(database_url: str, source: Path, replace: bool = False) -> None:
    """Replace the database's content by the backup in ``source`` (the caller migrates and
    verifies it). Refuses a database that holds patients unless ``replace``."""
    if not source.is_file():
        raise NotFound(f"There is no backup file {source}.")
    url = make_url(database_url)
    kind = _backup_kind(source)
    engine_name = url.get_backend_name()
    if (kind, engine_name) not in (("sqlite", "sqlite"), ("postgresql", "postgresql")):
        raise InvalidScenario(
            f"{source.name} is a {kind} backup but the configured database is {engine_name}; restore "
            f"it into a database of the same kind (JOURNEY_DATABASE_URL).")
    held = _patients_in(database_url)
    if held and not replace:
        raise Conflict(f"The database already holds {held} patient(s); restoring replaces all of them "
                       f"with the backup. Run again with --replace if that is what you want.")
    if kind == "sqlite":
        _sqlite_restore(source, _sqlite_path(url))
    else:
        _run([_pg_tool("pg_restore"), "--list", str(source)], url, database=False)
        _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", "--exit-on-error", str(source)], url, flag="--dbname")


def logs_in_backup(database_url: str, source: Path) -> dict[str, tuple[int, str]]:
    """Each patient's log in a backup, without restoring it: (how many entries, the stored link
    of the last), by reference. A restore compares them with what the checkpoints witnessed
    before it replaces anything (tracker.application.operations)."""
    if not source.is_file():
        raise NotFound(f"There is no backup file {source}.")
    if _backup_kind(source) == "sqlite":
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            _check_sqlite(backup_db, source.name)
            rows = backup_db.execute(
                "SELECT p.ref, count(e.id), (SELECT l.chain_hash FROM event l WHERE l.patient_id = p.id "
                "ORDER BY l.seq DESC LIMIT 1) FROM patient p LEFT JOIN event e ON e.patient_id = p.id "
                "GROUP BY p.id, p.ref").fetchall()
        finally:
            backup_db.close()
        return {ref: (count, head or _GENESIS) for ref, count, head in rows}
    # pg_dump's custom format: pg_restore writes the two tables' rows as COPY text, read here
    script = _run([_pg_tool("pg_restore"), "--data-only", "--table=patient", "--table=event", "--file=-",
                   str(source)], make_url(database_url), database=False)
    refs: dict[str, str] = {}
    logs: dict[str, list[tuple[int, str]]] = {}
    for table, row in _copy_rows(script):
        if table == "patient":
            refs[row["id"]] = row["ref"]
        elif table == "event":
            logs.setdefault(row["patient_id"], []).append((int(row["seq"]), row["chain_hash"]))
    return {ref: (len(logs.get(pid, [])), max(logs[pid])[1] if logs.get(pid) else _GENESIS)
            for pid, ref in refs.items()}


#: the link before a first entry (db.patients.GENESIS; not imported: backups stand alone)
_GENESIS = "0" * 64


def _copy_rows(script: str) -> Iterator[tuple[str, dict[str, str]]]:
    """(table, row by column) of the ``COPY ... FROM stdin`` blocks of a pg_restore script. Only
    plain columns are read (ids, references, numbers, hex): no COPY escapes to undo."""
    table, columns = "", []
    for line in script.splitlines():
        if not table:
            if line.startswith("COPY "):
                name, _, rest = line[5:].partition(" (")
                table = name.rpartition(".")[2].strip('"')
                columns = [c.strip().strip('"') for c in rest.partition(")")[0].split(",")]
            continue
        if line == "\\.":
            table = ""
            continue
        yield table, dict(zip(columns, line.split("\t"), strict=True))


# -- SQLite ------------------------------------------------------------------------------------

def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupFailed("An in-memory database cannot be backed up or restored; configure a file.")
    return Path(url.database).expanduser()


def _sqlite_backup(path: Path, partial: Path) -> None:
    if not path.is_file():
        raise NotFound(f"There is no database file {path} to back up.")
    source = sqlite3.connect(path, timeout=30)
    target = sqlite3.connect(partial)
    try:
        source.backup(target)  # a consistent snapshot, even while others write (WAL)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        _check_sqlite(target, partial.name)
    finally:
        target.close()
        source.close()


def _sqlite_restore(source: Path, path: Path) -> None:
    backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        _check_sqlite(backup_db, source.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(path, timeout=30)
        try:
            backup_db.backup(target)  # page by page, under the target's write lock: all or nothing
        finally:
            target.close()
    finally:
        backup_db.close()


def _check_sqlite(connection: sqlite3.Connection, name: str) -> None:
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as e:
        raise InvalidScenario(f"{name} is not a readable SQLite database ({e}).") from None
    if result is None or result[0] != "ok":
        raise InvalidScenario(f"{name} is damaged: SQLite's integrity check says {result}.")
    if not {"patient", "event", "alembic_version"} <= tables:
        raise InvalidScenario(f"{name} is a SQLite database but not a journey tracker database.")


# -- PostgreSQL --------------------------------------------------------------------------------

def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    if candidates:
        return str(candidates[0])
    raise BackupFailed(f"{name} is not installed; install the PostgreSQL client tools "
                       f"(apt-get install postgresql-client) in the same major version as the server.")


def _run(command: list[str], url: URL, database: bool = True, flag: str = "") -> str:
    """Run a PostgreSQL tool with the connection in PG* variables (no password on the command
    line, where other users could read it)."""
    env = dict(os.environ)
    for key, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[key] = str(value)
    for option, given in url.query.items():  # sslmode=require and the like
        if option in ("sslmode", "sslrootcert", "sslcert", "sslkey", "options", "target_session_attrs"):
            env["PG" + option.upper().replace("TARGET_SESSION_ATTRS", "TARGETSESSIONATTRS")] = str(given)
    if database and url.database:
        command = [*command, f"{flag}={url.database}"] if flag else [*command, url.database]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        tool = Path(command[0]).name
        raise BackupFailed(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")
    return done.stdout


# -- both ----------------------------------------------------------------------------------------

def _backup_kind(source: Path) -> str:
    with source.open("rb") as f:
        head = f.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    raise InvalidScenario(f"{source.name} is not a backup made by `journey backup` (neither a SQLite "
                          f"database nor a pg_dump custom-format archive).")


def holds_database(database_url: str) -> bool:
    """Whether there is a database to read at the URL (a SQLite file that does not exist is
    none, and is not to be created by looking)."""
    url = make_url(database_url)
    return url.get_backend_name() != "sqlite" or _sqlite_path(url).exists()


def _patients_in(database_url: str) -> int:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not _sqlite_path(url).exists():
        return 0
    engine = make_engine(database_url)
    try:
        if "patient" not in inspect(engine).get_table_names():
            return 0
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM patient")).scalar_one())
    finally:
        engine.dispose()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
