#!/usr/bin/env python
"""Benchmarks at cohort scale (issue 8): ingest, bulk import, sweep, worklist, patient view, audit
and the API under load, each against a baseline measured in the same run.

    .venv/bin/python scripts/bench.py --quick          # about a minute, small cohorts
    .venv/bin/python scripts/bench.py                  # the full run (1,000,000 patients)
    .venv/bin/python scripts/bench.py --postgres-url postgresql://user:pw@127.0.0.1/db

The 1,000,000-patient database is generated once (tracker.demo bulk path) into
``var/bench/cohort-1m.sqlite`` and reused; each full run moves its clock one day on, so every run
sweeps a day on which about 1% of the open reminders change status. Prints a table and writes
``bench-results.json`` (``--json PATH``). Performance is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import platform
import random
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CACHE_SEED = 20261127
CACHE_AS_OF = date(2026, 11, 27)
WORK = ROOT / "var" / "bench"


# ------------------------------------------------------------------------------------------------
# helpers


def noon(day: date) -> datetime:
    return datetime.combine(day, dtime(12, 0), tzinfo=UTC)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    return {"n": len(ordered), "p50_ms": round(at(0.50) * 1000, 2), "p95_ms": round(at(0.95) * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2)}


def fresh(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        p.unlink(missing_ok=True)
    return path


def tracker_on(url: str, day: date, migrate: bool = True, notify: bool = False) -> Any:
    """The tracker on ``url`` with its clock on ``day``; with ``notify`` a webhook channel is
    configured (never called here), so the sweep queues its notifications as in production."""
    from tracker.clock import FixedClock
    from tracker.compose import build_tracker
    from tracker.settings import Settings

    settings = Settings(database_url=url, webhook_url="http://127.0.0.1:9/bench" if notify else None)
    return build_tracker(settings, clock=FixedClock(day), migrate=migrate)


def raw_connection(path: Path) -> sqlite3.Connection:
    """Raw sqlite3 at the project's durability: WAL, synchronous=FULL, explicit transactions."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def copy_schema(source: Path, target: Path, tables: tuple[str, ...]) -> sqlite3.Connection:
    """The same tables and indexes as the project's database, in a fresh file."""
    src = sqlite3.connect(source)
    ddl = [sql for (sql,) in src.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name IN ({}) AND sql IS NOT NULL "
        "ORDER BY type DESC".format(",".join("?" * len(tables))), tables)]
    src.close()
    conn = raw_connection(fresh(target))
    for sql in ddl:
        conn.execute(sql)
    return conn


def rows_of(path: Path, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    conn = sqlite3.connect(path)
    cursor = conn.execute(f"SELECT * FROM {table} ORDER BY id")
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    conn.close()
    return names, rows


def insert_sql(table: str, names: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"


@contextmanager
def captured_sql(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    """The statements an engine runs inside the block (for EXPLAIN QUERY PLAN)."""
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def query_plan(path: Path, statement: str, parameters: Any) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement, parameters)]
    finally:
        conn.close()


def machine() -> dict[str, Any]:
    import sqlalchemy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "sqlalchemy": sqlalchemy.__version__,
            "platform": platform.platform(), "load_average_at_start": os.getloadavg()}


# ------------------------------------------------------------------------------------------------
# the cached cohort


#: journeys generated one by one for the cached cohort; the rest of it are replicas (see below)
GENUINE_PATIENTS = 150_000


def build_cache(path: Path, patients: int, workers: int, genuine: int = GENUINE_PATIENTS) -> dict[str, Any]:
    """Generate the cohort once (bulk path) and keep it. Above ``genuine`` patients the cohort is
    completed with replicas made in SQL (patient k + n*genuine is a copy of patient k under its
    own id and reference), which keeps a 1,000,000-patient build to minutes on two cores."""
    from sqlalchemy import event

    from db.engine import make_engine
    from db.migrate import upgrade
    from tracker.demo import bulk_generate

    tmp = fresh(path.with_suffix(".building"))
    engine = make_engine(f"sqlite:///{tmp}")

    @event.listens_for(engine, "connect")
    def big_cache(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA cache_size=-400000")

    upgrade(engine)
    report = bulk_generate(engine, min(patients, genuine), CACHE_SEED, CACHE_AS_OF, noon(CACHE_AS_OF),
                           batch=2000, workers=workers, progress=True)
    engine.dispose()
    meta = {"genuine_patients": report.patients, "generated_events": report.events,
            "refused": report.refused, "generation_seconds": round(report.seconds, 1), "seed": CACHE_SEED,
            "as_of": CACHE_AS_OF.isoformat(), "runs": 0}
    meta.update(replicate(tmp, patients))
    tmp.rename(path)
    return prepare_cache(path, meta)


def replicate(path: Path, patients: int) -> dict[str, Any]:
    """Fill the cohort up to ``patients`` with copies of the generated patients (SQL only):
    same journeys, own ids and references. Their hash chains are those of the originals, so
    ``journey verify`` reports the copies; the benchmarks do not read the chains."""
    t0 = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA cache_size=-400000")
    base = conn.execute("SELECT count(*) FROM patient").fetchone()[0]
    assert conn.execute("SELECT max(id) FROM patient").fetchone()[0] == base

    def columns(table: str) -> list[str]:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != "id"]

    p_cols, e_cols, r_cols = columns("patient"), columns("event"), columns("reminder")
    offset = base
    while offset < patients:
        conn.execute("BEGIN IMMEDIATE")
        p_sel = [f"id + {offset}" if c == "id" else c for c in ["id", *p_cols]]
        p_sel[p_cols.index("ref") + 1] = f"printf('SYN-%07d', id - 1 + {offset})"
        p_sel[p_cols.index("profile") + 1] = (
            f"json_set(profile, '$.ref', printf('SYN-%07d', id - 1 + {offset}))")
        conn.execute(f"INSERT INTO patient (id, {', '.join(p_cols)}) SELECT {', '.join(p_sel)} FROM patient "
                     f"WHERE id <= {base} AND id + {offset} <= {patients}")
        for table, cols in (("event", e_cols), ("reminder", r_cols)):
            sel = [f"patient_id + {offset}" if c == "patient_id" else c for c in cols]
            conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(sel)} FROM {table} "
                         f"WHERE patient_id <= {base} AND patient_id + {offset} <= {patients} ORDER BY id")
        conn.execute("COMMIT")
        offset += base
        print(f"   replicated up to {min(offset, patients):,} patients", flush=True)
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("patient", "event", "reminder")}
    conn.close()
    return {"patients": counts["patient"], "events": counts["event"], "reminders": counts["reminder"],
            "replication_seconds": round(time.perf_counter() - t0, 1)}


def prepare_cache(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Steady state: the sweep of the cohort's own day is taken as done (its due and overdue
    reminders announced, as the first sweep after an import announces them), and statistics
    gathered for the query planner."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE reminder SET announced = status WHERE closed = 0 "
                 "AND status IN ('due', 'overdue') AND announced IS NULL")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    meta.update({"prepared": True, "bytes": path.stat().st_size})
    meta.setdefault("patients", meta.get("genuine_patients"))
    meta.setdefault("runs", 0)
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2))
    return meta


def ensure_cache(path: Path, patients: int, workers: int) -> dict[str, Any]:
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("patients") == patients:
            return meta if meta.get("prepared") else prepare_cache(path, meta)
    print(f"Generating the {patients:,}-patient cohort into {path} (once; reused by later runs) ...")
    return build_cache(path, patients, workers)


def upgrade_cache_schema(path: Path) -> list[str]:
    """Bring an older cache to the tables of db.tables: missing columns added (with their
    defaults), missing or changed indexes (re)created. Cheaper than generating it again."""
    from sqlalchemy.schema import CreateIndex

    from db.engine import make_engine
    from db.tables import SQLModel

    engine = make_engine(f"sqlite:///{path}")
    changed = []
    with engine.begin() as conn:
        dialect = conn.dialect
        indexes = dict(conn.exec_driver_sql(  # type: ignore[arg-type]  # rows of (name, sql)
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL").all())
        for table in SQLModel.metadata.sorted_tables:
            present = {r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info({table.name})")}
            if not present:
                table.create(conn)
                changed.append(table.name)
                continue
            for column in table.columns:
                if column.name in present:
                    continue
                scalar = column.default is not None and column.default.is_scalar
                default = column.default.arg if scalar else None  # type: ignore[union-attr]  # set when scalar
                ddl = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type.compile(dialect)}"
                if default is not None:
                    ddl += f" NOT NULL DEFAULT {default!r}" if isinstance(default, str) \
                        else f" NOT NULL DEFAULT {int(default)}"
                conn.exec_driver_sql(ddl)
                changed.append(f"{table.name}.{column.name}")
            for index in table.indexes:
                have = indexes.get(index.name)
                columns = [r[2] for r in conn.exec_driver_sql(f"PRAGMA index_info({index.name})")]
                if have is not None and columns == [c.name for c in index.columns]:
                    continue
                if have is not None:
                    conn.exec_driver_sql(f"DROP INDEX {index.name}")
                conn.execute(CreateIndex(index))
                changed.append(index.name)
        if changed:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return changed


# ------------------------------------------------------------------------------------------------
# 1. single-event ingest


def bench_ingest(events: int) -> dict[str, Any]:
    """Tracker.record_event (validation, machine, event row, phase, reminders; one transaction
    each) against raw sqlite3 inserting the same event rows, one commit each, same durability."""
    from journey.scenario import read_scenario
    from tracker.demo import generate_cohort

    as_of = CACHE_AS_OF
    db = fresh(WORK / "ingest.sqlite")
    tracker = tracker_on(f"sqlite:///{db}", as_of)
    entries: list[tuple[str, dict[str, Any]]] = []
    for synthetic in generate_cohort(events // 10 + 1, seed=7, as_of=as_of):
        tracker.import_scenario(read_scenario({"patient": synthetic.patient, "events": []}), "bench")
        entries.extend((synthetic.ref, raw) for raw in synthetic.events)
    entries = sorted(entries[:events], key=lambda e: (e[1]["date"], e[0]))  # as entered over time
    latencies = []
    started = time.perf_counter()
    for ref, raw in entries:
        t0 = time.perf_counter()
        tracker.record_event(ref, raw, actor="bench")
        latencies.append(time.perf_counter() - t0)
    service_s = time.perf_counter() - started
    tracker.engine.dispose()

    names, rows = rows_of(db, "event")
    raw_conn = copy_schema(db, WORK / "ingest-raw.sqlite", ("patient", "event"))
    p_names, p_rows = rows_of(db, "patient")
    raw_conn.execute("BEGIN")
    raw_conn.executemany(insert_sql("patient", p_names), p_rows)
    raw_conn.execute("COMMIT")
    sql = insert_sql("event", names)
    started = time.perf_counter()
    for row in rows:
        raw_conn.execute("BEGIN IMMEDIATE")
        raw_conn.execute(sql, row)
        raw_conn.execute("COMMIT")
    raw_s = time.perf_counter() - started
    raw_conn.close()
    same_work_s = raw_same_statements(db, rows, names)
    service_rate, raw_rate = len(rows) / service_s, len(rows) / raw_s
    return {"events": len(rows), "service_events_per_s": round(service_rate, 1),
            "raw_sqlite3_events_per_s": round(raw_rate, 1), "ratio": round(service_rate / raw_rate, 3),
            "raw_sqlite3_service_statements_events_per_s": round(len(rows) / same_work_s, 1),
            "ratio_to_raw_service_statements": round(service_rate / (len(rows) / same_work_s), 3),
            "service_latency": percentiles(latencies), "target_ratio": 0.5}


def raw_same_statements(db: Path, rows: list[tuple[Any, ...]], names: list[str]) -> float:
    """Raw sqlite3 doing what a recorded entry costs the database, without any Python logic: read
    the patient and its log, insert the event, read and touch its open reminders, bump the
    patient row, one commit; the floor under the service at this durability."""
    conn = copy_schema(db, WORK / "ingest-raw-service.sqlite", ("patient", "event", "reminder"))
    p_names, p_rows = rows_of(db, "patient")
    r_names, r_rows = rows_of(db, "reminder")
    conn.execute("BEGIN")
    conn.executemany(insert_sql("patient", p_names), p_rows)
    conn.executemany(insert_sql("reminder", r_names), r_rows)
    conn.execute("COMMIT")
    ref_of = {r[p_names.index("id")]: r[p_names.index("ref")] for r in p_rows}
    owner, sql = names.index("patient_id"), insert_sql("event", names)
    started = time.perf_counter()
    for row in rows:
        conn.execute("BEGIN IMMEDIATE")
        patient_id, version = conn.execute("SELECT id, version FROM patient WHERE ref = ?",
                                           (ref_of[row[owner]],)).fetchone()
        conn.execute("SELECT seq, payload, content_hash, chain_hash FROM event WHERE patient_id = ? "
                     "ORDER BY seq", (patient_id,)).fetchall()
        conn.execute(sql, row)
        conn.execute("SELECT id, kind, anchor_on, due_on, resolved_on, cancelled_on, status, closed "
                     "FROM reminder WHERE patient_id = ?", (patient_id,)).fetchall()
        conn.execute("UPDATE reminder SET updated_at = ? WHERE patient_id = ? AND closed = 0",
                     ("2026-11-27 12:00:00", patient_id))
        conn.execute("UPDATE patient SET version = ?, phase = phase, updated_at = ? WHERE id = ? "
                     "AND version = ?", (version + 1, "2026-11-27 12:00:00", patient_id, version))
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


# ------------------------------------------------------------------------------------------------
# 2. bulk import


def bench_bulk(patients: int, service_patients: int) -> dict[str, Any]:
    """The generator's bulk path and import_scenario against raw sqlite3 executemany of the
    same rows, same durability, same batch (one transaction per 2,000 patients)."""
    from tracker.demo import bulk_generate, bulk_load, generate_cohort, import_cohort

    as_of, batch = CACHE_AS_OF, 2000
    db = fresh(WORK / "bulk.sqlite")
    tracker = tracker_on(f"sqlite:///{db}", as_of)
    cohort = list(generate_cohort(patients, seed=11, as_of=as_of))  # generation is not timed
    report = bulk_load(tracker.engine, cohort, as_of, tracker.clock.now(), batch=batch)
    tracker.engine.dispose()

    # the same cohort as `journey demo generate --bulk --workers 2`: generated and folded in two
    # worker processes while this one writes (generation timed too, process start-up included)
    wdb = fresh(WORK / "bulk-workers.sqlite")
    parallel = tracker_on(f"sqlite:///{wdb}", as_of)
    t0 = time.perf_counter()
    workers_report = bulk_generate(parallel.engine, patients, seed=11, as_of=as_of,
                                   now=parallel.clock.now(), batch=batch, workers=2)
    workers_s = time.perf_counter() - t0
    parallel.engine.dispose()
    assert workers_report.events == report.events, (workers_report.events, report.events)

    sdb = fresh(WORK / "import.sqlite")
    service = tracker_on(f"sqlite:///{sdb}", as_of)
    imported = import_cohort(service, cohort[:service_patients])
    service.engine.dispose()

    tables = ("patient", "event", "reminder")
    data = {t: rows_of(db, t) for t in tables}
    raw_conn = copy_schema(db, WORK / "bulk-raw.sqlite", tables)
    # the same batches: patients first..first+batch-1 with their events and reminders
    owner = {t: data[t][0].index("id" if t == "patient" else "patient_id") for t in tables}
    keys = {t: [row[owner[t]] for row in data[t][1]] for t in tables}
    first_id = keys["patient"][0] if keys["patient"] else 1
    started = time.perf_counter()
    for start in range(first_id, first_id + patients, batch):
        raw_conn.execute("BEGIN IMMEDIATE")
        for t in tables:
            names, rows = data[t]
            lo, hi = bisect.bisect_left(keys[t], start), bisect.bisect_left(keys[t], start + batch)
            raw_conn.executemany(insert_sql(t, names), rows[lo:hi])
        raw_conn.execute("COMMIT")
    raw_s = time.perf_counter() - started
    count = raw_conn.execute("SELECT count(*) FROM event").fetchone()[0]
    raw_conn.close()
    assert count == report.events, (count, report.events)
    raw_rate = report.events / raw_s
    bulk_rate = report.events / report.seconds
    import_rate = imported.events / imported.seconds
    return {"patients": patients, "events": report.events, "reminders": report.reminders,
            "bulk_events_per_s": round(bulk_rate), "bulk_patients_per_s": round(patients / report.seconds),
            "import_scenario_patients": service_patients, "import_scenario_events_per_s": round(import_rate),
            "raw_sqlite3_executemany_events_per_s": round(raw_rate),
            "bulk_write_only_events_per_s": round(report.events / report.write_seconds),
            "ratio_bulk_write_only": round(report.events / report.write_seconds / raw_rate, 3),
            "ratio_bulk": round(bulk_rate / raw_rate, 3),
            "bulk_two_workers_events_per_s": round(report.events / workers_s),
            "ratio_bulk_two_workers": round(report.events / workers_s / raw_rate, 3),
            "ratio_import_scenario": round(import_rate / raw_rate, 4),
            "refused": report.refused + imported.refused, "target_ratio": 0.3}


# ------------------------------------------------------------------------------------------------
# 3-5. sweep, worklist, patient view at cohort scale


def sweep_day(sweep_module: Any, tracker: Any, day: date, open_reminders: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    report = sweep_module.sweep(tracker, day)
    sweep_s = time.perf_counter() - t0
    return {"day": day.isoformat(), "seconds": round(sweep_s, 2), "patients_swept": report.patients,
            "reminders_announced": len(report.announced), "phase_changes": len(report.phase_changes),
            "notifications_queued": report.notifications,
            "share_of_open_reminders": round(len(report.announced) / max(open_reminders, 1), 4),
            "per_patient_ms": round(sweep_s / max(report.patients, 1) * 1000, 2), "target_s": 1.0}


def drop_from_page_cache(path: Path) -> bool:
    """Ask the kernel to drop the database file's cached pages (posix_fadvise DONTNEED), so the
    next reads come from disk; False where that is not available."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for name in (path, Path(f"{path}-wal")):
        if name.exists():
            fd = os.open(name, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
    return True


def warm_tables(cache: Path) -> None:
    """Read the patient and reminder tables once, as a running server's page cache holds them."""
    conn = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    conn.execute("SELECT sum(length(profile)) + sum(version) FROM patient").fetchone()
    conn.execute("SELECT sum(length(status)) + sum(julianday(anchor_on)) FROM reminder").fetchone()
    conn.close()


def bench_cohort(cache: Path, meta: dict[str, Any], samples: int, advance_day: bool) -> dict[str, Any]:
    runs = int(meta.get("runs", 0)) + (1 if advance_day else 0)
    day = CACHE_AS_OF + timedelta(days=max(runs, 1))
    tracker = tracker_on(f"sqlite:///{cache}", day, migrate=False, notify=True)
    out: dict[str, Any] = {"patients": meta["patients"], "events": meta["events"], "day": day.isoformat(),
                           "database_bytes": cache.stat().st_size}
    with tracker.engine.connect() as conn:
        open_reminders = conn.exec_driver_sql("SELECT count(*) FROM reminder WHERE closed = 0").scalar_one()
        out["reminders"] = conn.exec_driver_sql("SELECT count(*) FROM reminder").scalar_one()
    out["open_reminders"] = open_reminders
    plans: dict[str, Any] = {}

    # the sweep
    from tracker.application import sweep as sweep_module

    with captured_sql(tracker.engine) as seen:
        candidates = sweep_module.candidate_patients(tracker, day)
    plans["sweep candidates"] = [(s, query_plan(cache, s, p)) for s, p in seen]
    # the day's sweep from a cold page cache (the file's pages dropped first: every page is
    # read from disk on first touch), then, after reading the patient and reminder tables once
    # (a server that has been running holds them in the page cache), the next day's
    tracker.engine.dispose()
    evicted = drop_from_page_cache(cache)
    out["sweep"] = sweep_day(sweep_module, tracker, day, open_reminders)
    out["sweep"]["page_cache_dropped"] = evicted
    out["sweep"]["candidates"] = len(candidates)
    t0 = time.perf_counter()
    warm_tables(cache)
    warm_s = time.perf_counter() - t0
    next_day = tracker_on(f"sqlite:///{cache}", day + timedelta(days=1), migrate=False, notify=True)
    out["sweep_warm"] = {**sweep_day(sweep_module, next_day, day + timedelta(days=1), open_reminders),
                         "warm_up_seconds": round(warm_s, 1)}
    next_day.engine.dispose()
    if advance_day:
        meta["runs"] = runs + 1
        cache.with_suffix(".json").write_text(json.dumps(meta, indent=2))

    # the worklist: first page of 50
    with captured_sql(tracker.engine) as seen:
        tracker.worklist(limit=50)
    plans["worklist"] = [(s, query_plan(cache, s, p)) for s, p in seen]
    latencies = []
    for _ in range(samples):
        t0 = time.perf_counter()
        page = tracker.worklist(limit=50)
        latencies.append(time.perf_counter() - t0)
    out["worklist_service"] = {**percentiles(latencies), "rows": len(page), "target_p95_ms": 20}

    # the patient view: phase, timeline, reminders, recommendations, deviations
    rng = random.Random(5)
    refs = [f"SYN-{rng.randrange(meta['patients']):07d}" for _ in range(samples)]
    with captured_sql(tracker.engine) as seen:
        tracker.patient_view(refs[0])
    plans["patient view"] = [(s, query_plan(cache, s, p)) for s, p in seen]
    latencies = []
    for ref in refs:
        t0 = time.perf_counter()
        tracker.patient_view(ref)
        latencies.append(time.perf_counter() - t0)
    out["patient_view_service"] = {**percentiles(latencies), "target_p95_ms": 20}
    out["query_plans"] = {name: [{"sql": " ".join(s.split()), "plan": p} for s, p in items]
                          for name, items in plans.items()}
    tracker.engine.dispose()
    return out


# ------------------------------------------------------------------------------------------------
# 6. the audit (in a child process: its peak memory is its own)


def audit_database(cache: Path, patients: int) -> Path:
    """The first ``patients`` of the cohort cache as a database of their own (built once): the
    audit's figure is the audit of a whole registry of that size."""
    path = WORK / f"audit-{patients // 1000}k.sqlite"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    tracker_on(f"sqlite:///{partial}", CACHE_AS_OF).engine.dispose()  # the schema, migrated
    conn = sqlite3.connect(partial, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("ATTACH DATABASE ? AS src", (f"file:{cache}?mode=ro",))
    conn.execute("BEGIN")
    for table, key in (("patient", "id"), ("event", "patient_id"), ("reminder", "patient_id"),
                       ("reminder_action", "patient_id")):
        columns = ", ".join(r[1] for r in conn.execute(f"PRAGMA main.table_info({table})"))
        conn.execute(f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM src.{table} "
                     f"WHERE {key} <= ?", (patients,))
    conn.execute("COMMIT")
    conn.execute("DETACH DATABASE src")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    partial.rename(path)
    return path


def audit_child(db: Path, patients: int) -> None:
    """The audit of the whole database twice: first with no verdicts kept (every journey replayed
    and judged: what the nightly job does), then as the day's audits run (verdicts read back)."""
    from sqlalchemy import text

    from journey.cohort import CohortAudit
    from tracker.application.audit import audited_journeys

    tracker = tracker_on(f"sqlite:///{db}", CACHE_AS_OF, migrate=False)
    with tracker.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry"))
    runs = []
    for _ in ("replayed", "read"):
        t0 = time.perf_counter()
        audit = CohortAudit()
        replayed = 0
        for journey in audited_journeys(tracker, CACHE_AS_OF, details=False):
            journey.count_into(audit)
            replayed += journey.outcome is not None
        summary = audit.summary()
        seconds = time.perf_counter() - t0
        runs.append({"patients": audit.patients, "replayed": replayed, "seconds": round(seconds, 2),
                     "patients_per_s": round(audit.patients / seconds), "summary": summary})
    # VmHWM, not ru_maxrss: after fork and exec ru_maxrss still counts the parent's pages (the
    # parent holds the bulk step's rows), VmHWM is this process's own peak
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        status = Path("/proc/self/status").read_text().splitlines()
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    except (OSError, StopIteration):
        pass
    cold, warm = runs
    print(json.dumps({"patients": warm["patients"], "seconds": warm["seconds"],
                      "patients_per_s": warm["patients_per_s"], "replayed": warm["replayed"],
                      "replayed_run": {k: v for k, v in cold.items() if k != "summary"},
                      "same_figures": cold["summary"] == warm["summary"],
                      "peak_rss_mb": round(peak_kb / 1024, 1),
                      "checks": len(warm["summary"].get("checks", []))}))


def bench_audit(cache: Path, patients: int) -> dict[str, Any]:
    db = audit_database(cache, patients)
    proc = subprocess.run([sys.executable, __file__, "--audit-child", str(db), str(patients)],
                          capture_output=True, text=True, cwd=ROOT, timeout=1800)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update({"target_s": 10, "target_peak_mb": 1024})
    pm = bench_pm4py(db, min(patients, 20000), result["patients_per_s"])
    if "token_replay_patients_per_s" in pm:
        pm["replayed_run_vs_pm4py"] = round(result["replayed_run"]["patients_per_s"]
                                            / pm["token_replay_patients_per_s"], 2)
    result["pm4py"] = pm
    return result


def bench_pm4py(db: Path, patients: int, audit_rate: float) -> dict[str, Any]:
    try:
        import pandas as pd
        import pm4py
    except ImportError:
        return {"missing": "pm4py is not installed (pip install -e '.[bench]')"}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = conn.execute("SELECT p.ref, e.type, e.date, e.seq FROM event e "
                        "JOIN patient p ON p.id = e.patient_id "
                        "WHERE e.patient_id <= ? ORDER BY e.patient_id, e.seq", (patients,)).fetchall()
    conn.close()
    frame = pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "date", "seq"])
    frame["time:timestamp"] = pd.to_datetime(frame["date"]) + pd.to_timedelta(frame["seq"], unit="s")
    frame = pm4py.format_dataframe(frame[["case:concept:name", "concept:name", "time:timestamp"]],
                                   case_id="case:concept:name", activity_key="concept:name",
                                   timestamp_key="time:timestamp")
    xes = WORK / "cohort.xes"
    t0 = time.perf_counter()
    pm4py.write_xes(frame, str(xes))
    export_s = time.perf_counter() - t0
    net, im, fm = pm4py.discover_petri_net_inductive(frame)
    t0 = time.perf_counter()
    replay = pm4py.conformance_diagnostics_token_based_replay(frame, net, im, fm)
    replay_s = time.perf_counter() - t0
    fit = sum(1 for r in replay if r.get("trace_is_fit")) / max(len(replay), 1)
    rate = patients / replay_s
    return {"patients": patients, "xes_export_s": round(export_s, 2), "token_replay_s": round(replay_s, 2),
            "token_replay_patients_per_s": round(rate), "fit_share": round(fit, 3),
            "audit_vs_pm4py": round(audit_rate / rate, 1), "version": pm4py.__version__}


# ------------------------------------------------------------------------------------------------
# 7. the API: latency at scale and 32 clients under load


SERVER = """
import sys, uvicorn
from datetime import date
sys.path.insert(0, {root!r})
from tracker.compose import build_tracker
from tracker.clock import FixedClock
from tracker.settings import Settings
from tracker.web.app import create_app
tracker = build_tracker(Settings(database_url={url!r}), clock=FixedClock(date.fromisoformat({day!r})),
                        migrate={migrate!r})
uvicorn.run(create_app(tracker), host="127.0.0.1", port={port}, log_level="warning", access_log=False)
"""


@contextmanager
def api_server(url: str, day: date, migrate: bool) -> Iterator[tuple[str, str, int]]:
    """uvicorn on loopback in a child process; yields (base url, clinician token, pid)."""
    import socket

    import httpx

    tracker = tracker_on(url, day, migrate=migrate)
    token = tracker.users.add(f"bench{int(time.time() * 1000) % 10**9}", "clinician").token
    tracker.engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = SERVER.format(root=str(ROOT), url=url, day=day.isoformat(), migrate=False, port=port)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"{base}/api/v1/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError("the API server did not start")
        yield base, token, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def rss_mb(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            out[line.split(":")[0]] = round(int(line.split()[1]) / 1024, 1)
    return out


def api_latency(base: str, token: str, samples: int, refs: list[str]) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        client.get("/api/v1/worklist", params={"limit": 50}).raise_for_status()
        worklist = []
        for _ in range(samples):
            t0 = time.perf_counter()
            client.get("/api/v1/worklist", params={"limit": 50}).raise_for_status()
            worklist.append(time.perf_counter() - t0)
        view = []
        for ref in refs[:samples]:
            t0 = time.perf_counter()
            client.get(f"/api/v1/patients/{ref}").raise_for_status()
            view.append(time.perf_counter() - t0)
    return {"worklist_api": {**percentiles(worklist), "target_p95_ms": 50},
            "patient_view_api": percentiles(view)}


async def _load(base: str, token: str, requests: int, seconds: float, make: Callable[[int], Any],
                clients: int = 32) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(requests))
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as client:

        async def worker() -> None:
            for i in counter:
                if time.perf_counter() > deadline:
                    return
                method, path, body = make(i)
                t0 = time.perf_counter()
                response = await client.request(method, path, json=body)
                latencies.append(time.perf_counter() - t0)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "clients": clients, "seconds": round(elapsed, 2),
            "requests_per_s": round(len(latencies) / elapsed, 1), **percentiles(latencies),
            "statuses": {str(k): v for k, v in sorted(statuses.items())}}


def open_refs(url: str, limit: int) -> list[str]:
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        refs = [r for (r,) in conn.execute(text(
            "SELECT ref FROM patient WHERE phase NOT IN ('closed') ORDER BY id LIMIT :n"), {"n": limit})]
    engine.dispose()
    return refs


def bench_api_memory(url: str, day: date, samples: int, label: str) -> dict[str, Any]:
    """The server's memory after the same reads on a small database, to set beside the big one."""
    refs = open_refs(url, samples)
    with api_server(url, day, False) as (base, token, pid):
        latency = api_latency(base, token, samples, refs)
        return {"database": label, **latency, "server_memory_mb": rss_mb(pid)}


def bench_api(url: str, day: date, requests: int, seconds: float, samples: int, migrate: bool,
              label: str) -> dict[str, Any]:
    try:
        import tracker.web.app  # noqa: F401
    except ImportError as e:
        return {"missing": f"tracker/web is not there yet ({e})"}
    refs = open_refs(url, 20000)
    rng = random.Random(3)
    rng.shuffle(refs)
    result: dict[str, Any] = {"database": label}
    with api_server(url, day, migrate) as (base, token, pid):
        result.update(api_latency(base, token, samples, refs))

        def record(i: int) -> tuple[str, str, Any]:
            return ("POST", f"/api/v1/patients/{refs[i % len(refs)]}/events",
                    {"type": "mdt_review", "date": day.isoformat(), "resectable": False})

        def worklist(i: int) -> tuple[str, str, Any]:
            return ("GET", "/api/v1/worklist?limit=50", None)

        result["load_record_event"] = asyncio.run(_load(base, token, requests, seconds, record))
        result["load_worklist"] = asyncio.run(_load(base, token, requests, seconds, worklist))
        result["server_memory_mb"] = rss_mb(pid)
    return result


# ------------------------------------------------------------------------------------------------
# the report


def table(results: dict[str, Any]) -> str:
    lines = [f"{'figure':58} {'measured':>22} {'target':>14}", "-" * 96]

    def row(name: str, value: Any, target: str = "") -> None:
        lines.append(f"{name:58} {value!s:>22} {target:>14}")

    ing = results.get("ingest", {})
    if ing:
        row("ingest: record_event events/s", ing["service_events_per_s"])
        row("ingest: raw sqlite3, one commit each, events/s", ing["raw_sqlite3_events_per_s"])
        if "raw_sqlite3_service_statements_events_per_s" in ing:
            row("ingest: raw sqlite3, the service's statements, events/s",
                ing["raw_sqlite3_service_statements_events_per_s"])
        row("ingest: ratio", ing["ratio"], ">= 0.5")
    bulk = results.get("bulk", {})
    if bulk:
        row("bulk: generator bulk path events/s", bulk["bulk_events_per_s"])
        row("bulk: import_scenario events/s", bulk["import_scenario_events_per_s"])
        row("bulk: raw sqlite3 executemany events/s", bulk["raw_sqlite3_executemany_events_per_s"])
        row("bulk: ratio (bulk path, one process)", bulk["ratio_bulk"], ">= 0.3")
        if "ratio_bulk_two_workers" in bulk:
            row("bulk: ratio (bulk path, two worker processes + writer)", bulk["ratio_bulk_two_workers"],
                ">= 0.3")
        row("bulk: ratio (bulk path, writing only: Core executemany)", bulk["ratio_bulk_write_only"])
        row("bulk: ratio (import_scenario)", bulk["ratio_import_scenario"])
    co = results.get("cohort", {})
    if co:
        n = f"{co['patients']:,} patients"
        sw = co.get("sweep", {})
        if "seconds" in sw:
            row(f"sweep, {n} ({sw['reminders_announced']} reminders changed), cold page cache",
                f"{sw['seconds']} s", "< 1 s")
            warm = co.get("sweep_warm", {})
            if "seconds" in warm:
                row(f"sweep, next day, tables in the page cache ({warm['reminders_announced']} changed)",
                    f"{warm['seconds']} s", "< 1 s")
        else:
            row("sweep", sw.get("missing", "-"))
        wl = co["worklist_service"]
        row(f"worklist first page p50/p95, service, {n}", f"{wl['p50_ms']}/{wl['p95_ms']} ms", "p95 < 20 ms")
        pv = co["patient_view_service"]
        row(f"patient view p50/p95, service, {n}", f"{pv['p50_ms']}/{pv['p95_ms']} ms", "p95 < 20 ms")
    api = results.get("api_sqlite", {})
    if "worklist_api" in api:
        wl = api["worklist_api"]
        row("worklist first page p50/p95, API", f"{wl['p50_ms']}/{wl['p95_ms']} ms", "p95 < 50 ms")
        pv = api["patient_view_api"]
        row("patient view p50/p95, API", f"{pv['p50_ms']}/{pv['p95_ms']} ms")
    for key, label in (("api_sqlite", "SQLite"), ("api_postgres", "PostgreSQL")):
        api = results.get(key, {})
        for kind in ("record_event", "worklist"):
            load = api.get(f"load_{kind}")
            if load:
                row(f"API 32 clients, {kind}, {label}: req/s, p95",
                    f"{load['requests_per_s']}/s, {load.get('p95_ms')} ms")
        if "server_memory_mb" in api:
            peak = api["server_memory_mb"].get("VmHWM")
            row(f"API server memory after the load ({label})", f"{peak} MB peak")
    small = results.get("api_small", {})
    if "server_memory_mb" in small:
        peak = small["server_memory_mb"].get("VmHWM")
        row("API server memory, same reads, small cohort", f"{peak} MB peak")
    au = results.get("audit", {})
    if "patients_per_s" in au:
        cold = au["replayed_run"]
        row(f"audit, {au['patients']:,} patients, the day's verdicts kept", f"{au['seconds']} s", "< 10 s")
        row("audit: patients/s, peak RSS", f"{au['patients_per_s']}/s, {au['peak_rss_mb']} MB", "< 1024 MB")
        row("audit with every journey replayed (nightly job)",
            f"{cold['seconds']} s, {cold['patients_per_s']}/s")
        pm = au.get("pm4py", {})
        if "missing" in pm:
            row("pm4py token replay", "not installed", ">= 10x")
        else:
            row("pm4py token replay patients/s", pm.get("token_replay_patients_per_s", "-"))
            row("audit vs pm4py (verdicts kept / all replayed)",
                f"{pm.get('audit_vs_pm4py')}x / {pm.get('replayed_run_vs_pm4py')}x", ">= 10x")
    elif au:
        row("audit", str(au)[:40])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small cohorts, about a minute")
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results.json",
                        help="where to write the figures")
    parser.add_argument("--patients", type=int,
                        help="cohort size for sweep/worklist/view (default 1,000,000)")
    parser.add_argument("--cache", type=Path, help="the cached cohort database")
    parser.add_argument("--workers", type=int, default=2, help="processes generating the cached cohort")
    parser.add_argument("--postgres-url", help="also load-test the API against this PostgreSQL database")
    parser.add_argument("--only", help="comma-separated: ingest,bulk,cohort,audit,api")
    parser.add_argument("--audit-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.audit_child:
        audit_child(Path(args.audit_child[0]), int(args.audit_child[1]))
        return
    quick = args.quick
    patients = args.patients or (10_000 if quick else 1_000_000)
    cache = args.cache or WORK / (f"cohort-{patients // 1000}k.sqlite" if patients < 1_000_000
                                  else f"cohort-{patients // 1_000_000}m.sqlite")
    only = set(args.only.split(",")) if args.only else {"ingest", "bulk", "cohort", "audit", "api"}
    WORK.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"mode": "quick" if quick else "full", "started": datetime.now(UTC).isoformat(),
                               "machine": machine()}
    timings: dict[str, float] = {}

    def step(name: str, func: Callable[[], Any]) -> None:
        print(f"== {name} ...", flush=True)
        t0 = time.perf_counter()
        try:
            results[name] = func()
        except Exception as e:  # a figure that cannot be measured is reported, not hidden
            results[name] = {"error": f"{type(e).__name__}: {e}"}
        timings[name] = round(time.perf_counter() - t0, 1)
        print(json.dumps(results[name], default=str)[:600], flush=True)

    if "ingest" in only:
        step("ingest", lambda: bench_ingest(300 if quick else 3000))
    if "bulk" in only:
        step("bulk", lambda: bench_bulk(2000 if quick else 20000, 100 if quick else 1000))
    meta = ensure_cache(cache, patients, args.workers) if only & {"cohort", "audit", "api"} else {}
    if meta:
        shown = str(cache.relative_to(ROOT)) if cache.is_relative_to(ROOT) else str(cache)
        results["cache"] = {"path": shown,
                            **meta, "schema_changes": upgrade_cache_schema(cache)}
    if "cohort" in only:
        # every run that sweeps the cache moves its day on (a sweep changes what it sweeps)
        step("cohort", lambda: bench_cohort(cache, meta, 100 if quick else 500, advance_day=True))
    if "audit" in only:
        step("audit", lambda: bench_audit(cache, min(patients, 2000 if quick else 100_000)))
    day = CACHE_AS_OF + timedelta(days=max(int(meta.get("runs", 0)), 1)) if meta else CACHE_AS_OF
    if "api" in only:
        step("api_sqlite", lambda: bench_api(f"sqlite:///{cache}", day, 300 if quick else 3000,
                                             20 if quick else 60, 50 if quick else 300, False,
                                             f"SQLite {patients:,} patients"))
        small = WORK / "bulk.sqlite"
        if small.exists():
            step("api_small", lambda: bench_api_memory(f"sqlite:///{small}", CACHE_AS_OF, 100,
                                                       "SQLite, the bulk-import cohort"))
        if args.postgres_url:
            step("api_postgres", lambda: bench_postgres(args.postgres_url, quick))
    results["step_seconds"] = timings
    results["finished"] = datetime.now(UTC).isoformat()
    args.json.write_text(json.dumps(results, indent=2, default=str))
    print()
    print(table(results))
    print(f"\nFigures written to {args.json}")


def bench_postgres(url: str, quick: bool) -> dict[str, Any]:
    """Load a cohort into PostgreSQL (bulk path) and put the API under the same load."""
    from db.engine import make_engine
    from db.migrate import upgrade
    from tracker.demo import bulk_generate

    patients = 2000 if quick else 20_000
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM patient").scalar_one()
    if stored < patients:
        bulk_generate(engine, patients - stored, CACHE_SEED, CACHE_AS_OF, noon(CACHE_AS_OF), start=stored)
    engine.dispose()
    return bench_api(url, CACHE_AS_OF + timedelta(days=1), 300 if quick else 3000, 20 if quick else 60,
                     50 if quick else 300, False, f"PostgreSQL {max(stored, patients):,} patients")


if __name__ == "__main__":
    main()
