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
import json
import os
import platform
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
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
    fresh(path)  # an earlier cache's -wal/-shm must not meet the new file
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
    m_cols = columns("journey_memory")  # its key is patient_id: the fold's memory of each copy
    offset = base
    while offset < patients:
        conn.execute("BEGIN IMMEDIATE")
        p_sel = [f"id + {offset}" if c == "id" else c for c in ["id", *p_cols]]
        p_sel[p_cols.index("ref") + 1] = f"printf('SYN-%07d', id - 1 + {offset})"
        p_sel[p_cols.index("profile") + 1] = (
            f"json_set(profile, '$.ref', printf('SYN-%07d', id - 1 + {offset}))")
        conn.execute(f"INSERT INTO patient (id, {', '.join(p_cols)}) SELECT {', '.join(p_sel)} FROM patient "
                     f"WHERE id <= {base} AND id + {offset} <= {patients}")
        for table, cols in (("event", e_cols), ("reminder", r_cols), ("journey_memory", m_cols)):
            sel = [f"patient_id + {offset}" if c == "patient_id" else c for c in cols]
            conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(sel)} FROM {table} "
                         f"WHERE patient_id <= {base} AND patient_id + {offset} <= {patients} ORDER BY rowid")
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
    """The cohort cache, built anew when missing or made under other pathway rules (its phases,
    reminders and fold memories would be re-derived patient by patient, which is not what a
    sweep or an entry costs on a database kept up to date by ``rederive_stale``)."""
    from journey.course import PATHWAY_VERSION

    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("patients") == patients and meta.get("pathway_version") == PATHWAY_VERSION:
            return meta if meta.get("prepared") else prepare_cache(path, meta)
        print(f"The cached cohort was made under pathway rules {meta.get('pathway_version')}, "
              f"these are {PATHWAY_VERSION}: built anew.")
    for derived in WORK.glob("audit-*k.sqlite*"):  # the audit's databases are cut from the cohort
        derived.unlink()
    print(f"Generating the {patients:,}-patient cohort into {path} (once; reused by later runs) ...")
    meta = build_cache(path, patients, workers)
    meta["pathway_version"] = PATHWAY_VERSION
    meta_path.write_text(json.dumps(meta, indent=2))
    return meta


def replicate_memories(path: Path, meta: dict[str, Any]) -> int:
    """The fold's memory of the replicas of a cache replicated before it was copied with them
    (a replica's memory is its original's: same log, same length)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        base = int(meta.get("genuine_patients") or 0)
        have = conn.execute("SELECT count(*) FROM journey_memory").fetchone()[0]
        patients = conn.execute("SELECT count(*) FROM patient").fetchone()[0]
        if not base or have >= patients or have > base:
            return 0
        cols = [r[1] for r in conn.execute("PRAGMA table_info(journey_memory)")]
        sel = ", ".join("p.id" if c == "patient_id" else f"m.{c}" for c in cols)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"INSERT INTO journey_memory ({', '.join(cols)}) SELECT {sel} FROM patient p "
                     f"JOIN journey_memory m ON m.patient_id = ((p.id - 1) % ?) + 1 WHERE p.id > ?",
                     (base, base))
        conn.execute("COMMIT")
        return int(conn.execute("SELECT count(*) FROM journey_memory").fetchone()[0]) - have
    finally:
        conn.close()


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
# interleaved rounds (issue 17): a commit's fsync on these disks swings tenfold within a minute, so
# each ratio is taken round by round, the service and its baseline alternating, and reported as
# the median of the rounds with their spread


def ratio_rounds(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    """(service rate, baseline rate) of each round -> the median ratio and its spread."""
    ratios = sorted(a / b for a, b in pairs if b > 0)
    if not ratios:
        return {"rounds": 0}
    return {"rounds": len(ratios), "median_ratio": round(statistics.median(ratios), 3),
            "min_ratio": round(ratios[0], 3), "max_ratio": round(ratios[-1], 3),
            "quartiles": [round(q, 3) for q in statistics.quantiles(ratios, n=4)] if len(ratios) > 1 else [],
            "ratios": [round(r, 3) for r in ratios]}


# ------------------------------------------------------------------------------------------------
# 1. single-event ingest


def bench_ingest(events: int, rounds: int) -> dict[str, Any]:
    """Tracker.record_event (validation, the fold's step, event row, phase, reminders, the fold's
    memory; one transaction each) against raw sqlite3 inserting the same event rows, one commit
    each, same durability; and against raw sqlite3 doing the service's statements. The entries
    are split into ``rounds``: each round the service records its share, then each baseline
    writes the rows the service just wrote."""
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

    raw_conn = copy_schema(db, WORK / "ingest-raw.sqlite", ("patient", "event"))
    same_conn = copy_schema(db, WORK / "ingest-raw-service.sqlite", ("patient", "event", "reminder"))
    p_names, p_rows = rows_of(db, "patient")
    for conn in (raw_conn, same_conn):
        conn.execute("BEGIN")
        conn.executemany(insert_sql("patient", p_names), p_rows)
        conn.execute("COMMIT")
    ref_of = {r[p_names.index("id")]: r[p_names.index("ref")] for r in p_rows}
    reader = sqlite3.connect(db)
    names = [r[1] for r in reader.execute("PRAGMA table_info(event)")]
    r_names = [r[1] for r in reader.execute("PRAGMA table_info(reminder)")]
    sql = insert_sql("event", names)

    latencies: list[float] = []
    service_s = raw_s = same_s = 0.0
    pairs, same_pairs = [], []
    last_event = last_reminder = 0
    size = -(-len(entries) // rounds)
    for k in range(0, len(entries), size):
        chunk = entries[k:k + size]
        started = time.perf_counter()
        for ref, raw in chunk:
            t0 = time.perf_counter()
            tracker.record_event(ref, raw, actor="bench")
            latencies.append(time.perf_counter() - t0)
        s_s = time.perf_counter() - started
        rows = reader.execute("SELECT * FROM event WHERE id > ? ORDER BY id", (last_event,)).fetchall()
        last_event = rows[-1][0] if rows else last_event
        # the reminders the service holds so far (untimed), for the statements that read them
        new_reminders = reader.execute("SELECT * FROM reminder WHERE id > ? ORDER BY id",
                                       (last_reminder,)).fetchall()
        if new_reminders:
            last_reminder = new_reminders[-1][0]
            same_conn.execute("BEGIN")
            same_conn.executemany(insert_sql("reminder", r_names), new_reminders)
            same_conn.execute("COMMIT")
        started = time.perf_counter()
        for row in rows:
            raw_conn.execute("BEGIN IMMEDIATE")
            raw_conn.execute(sql, row)
            raw_conn.execute("COMMIT")
        r_s = time.perf_counter() - started
        m_s = raw_same_statements(same_conn, rows, names, ref_of)
        service_s, raw_s, same_s = service_s + s_s, raw_s + r_s, same_s + m_s
        pairs.append((len(rows) / s_s, len(rows) / r_s))
        same_pairs.append((len(rows) / s_s, len(rows) / m_s))
    tracker.engine.dispose()
    reader.close()
    raw_conn.close()
    same_conn.close()
    n = len(entries)
    service_rate, raw_rate = n / service_s, n / raw_s
    return {"events": n, "service_events_per_s": round(service_rate, 1),
            "raw_sqlite3_events_per_s": round(raw_rate, 1), "ratio": round(service_rate / raw_rate, 3),
            "interleaved": ratio_rounds(pairs),
            "raw_sqlite3_service_statements_events_per_s": round(n / same_s, 1),
            "ratio_to_raw_service_statements": round(service_rate / (n / same_s), 3),
            "interleaved_service_statements": ratio_rounds(same_pairs),
            "service_latency": percentiles(latencies), "target_ratio": 0.3, "goal_ratio": 0.5}


def raw_same_statements(conn: sqlite3.Connection, rows: list[tuple[Any, ...]], names: list[str],
                        ref_of: dict[int, str]) -> float:
    """Raw sqlite3 doing what a recorded entry costs the database, without any Python logic: read
    the patient and the fold's memory, insert the event, touch its open reminders, write the
    memory back, bump the patient row, one commit; the floor under the service at this
    durability. Seconds for ``rows``."""
    owner, sql = names.index("patient_id"), insert_sql("event", names)
    conn.execute("CREATE TABLE IF NOT EXISTS memory (patient_id INTEGER PRIMARY KEY, memory TEXT)")
    memory = json.dumps({"course": {"episode": [0, "first presentation", None, []]}, "open": [],
                         "pad": "x" * 400})
    started = time.perf_counter()
    for row in rows:
        conn.execute("BEGIN IMMEDIATE")
        patient_id, version = conn.execute("SELECT id, version FROM patient WHERE ref = ?",
                                           (ref_of[row[owner]],)).fetchone()
        conn.execute("SELECT memory FROM memory WHERE patient_id = ?", (patient_id,)).fetchall()
        conn.execute(sql, row)
        conn.execute("UPDATE reminder SET updated_at = ? WHERE patient_id = ? AND closed = 0",
                     ("2026-11-27 12:00:00", patient_id))
        conn.execute("INSERT OR REPLACE INTO memory (patient_id, memory) VALUES (?, ?)", (patient_id, memory))
        conn.execute("UPDATE patient SET version = ?, phase = phase, updated_at = ? WHERE id = ? "
                     "AND version = ?", (version + 1, "2026-11-27 12:00:00", patient_id, version))
        conn.execute("COMMIT")
    return time.perf_counter() - started


# ------------------------------------------------------------------------------------------------
# 1b. growth: the cost of one entry as the journey grows


#: ten years of care, ten entries a cycle: a liver recurrence is operated on, then follow-up
#: visits in surveillance until the next recurrence (each recurrence opens a new episode)
LONG_CYCLE: list[tuple[str, dict[str, Any]]] = [
    ("mdt_review", {"resectable": True, "plan": "upfront_surgery"}),
    ("surgery", {"procedure": "liver_resection", "margin": "R0"}),
    *[("mdt_review", {"resectable": False, "plan": "surveillance"})] * 7,
    ("recurrence", {"site": "liver_only"}),
]
#: one line of salvage therapy held and resumed again and again: the current line's holds are the
#: fold's memory (the held days move its reminders), so this memory grows with the journey
HELD_LINE: list[tuple[str, dict[str, Any]]] = [
    ("reassessment", {"response": "SD", "resectable": False}),
    ("systemic_paused", {"reason": "toxicity"}),
    ("systemic_resumed", {}),
    ("reassessment", {"response": "PR", "resectable": False}),
]


def long_journey(kind: str, n: int, start: date = date(2016, 12, 5),
                 step_days: int = 3) -> list[dict[str, Any]]:
    if kind == "held_line":
        events = [{"type": "mdt_review", "date": start.isoformat(), "resectable": False, "plan": "salvage"},
                  {"type": "systemic_started", "date": (start + timedelta(days=7)).isoformat(),
                   "regimen": "FOLFIRI", "biologic": "none"}]
        day, cycle = start + timedelta(days=7), HELD_LINE
    else:
        events, day, cycle = [], start, LONG_CYCLE
    i = 0
    while len(events) < n:
        day += timedelta(days=step_days)
        kind_of, fields = cycle[i % len(cycle)]
        events.append({"type": kind_of, "date": day.isoformat(), **fields})
        i += 1
    return events


def bench_growth(lengths: tuple[int, ...], patients: int, entries: int) -> dict[str, Any]:
    """Tracker.record_event of an entry dated after the last one, for patients whose journeys
    already hold 10, 100 or 1,000 entries (imported first), in rounds that alternate the lengths:
    the cost of an in-order entry should not grow with the journey (the fold's memory, issue 17).
    Also a backdated entry (the log replayed) at each length, and the worst case of the memory:
    one line of therapy held and resumed hundreds of times."""
    from journey.scenario import read_scenario
    from tracker.demo import generate_cohort

    as_of = CACHE_AS_OF
    db = fresh(WORK / "growth.sqlite")
    tracker = tracker_on(f"sqlite:///{db}", as_of)
    base = next(iter(generate_cohort(1, seed=3, as_of=as_of))).patient
    longest = max(lengths) + entries + 2
    journeys = {kind: long_journey(kind, longest) for kind in ("cycles", "held_line")}

    def register(ref: str, kind: str, length: int) -> None:
        profile = {**base, "ref": ref,
                   "primary": {**base["primary"], "site": "sigmoid", "diagnosed_on": "2016-11-01"},
                   "metastases": {**base["metastases"], "detected_on": "2016-11-01"}}
        report = tracker.import_scenario(read_scenario({"patient": profile,
                                                        "events": journeys[kind][:length]}), "bench")
        assert report.added == length and not report.refused, report.sentence()

    for length in lengths:
        for k in range(patients):
            register(f"LEN{length}-{k}", "cycles", length)
            register(f"HELD{length}-{k}", "held_line", length)
    timed: dict[str, dict[int, list[float]]] = {kind: {n: [] for n in lengths}
                                                for kind in ("cycles", "held_line", "backdated")}
    for j in range(entries):
        for length in lengths:
            for k in range(patients):
                for kind, prefix in (("cycles", "LEN"), ("held_line", "HELD")):
                    t0 = time.perf_counter()
                    tracker.record_event(f"{prefix}{length}-{k}", journeys[kind][length + j], actor="bench")
                    timed[kind][length].append(time.perf_counter() - t0)
    # a backdated entry (a follow-up visit dated before the last entry) replays the whole log
    for length in lengths:
        for k in range(patients):
            last = date.fromisoformat(journeys["cycles"][length + entries - 1]["date"])
            raw = {"type": "mdt_review", "date": (last - timedelta(days=1)).isoformat(), "resectable": False,
                   "plan": "surveillance"}
            t0 = time.perf_counter()
            tracker.record_event(f"LEN{length}-{k}", raw, actor="bench")
            timed["backdated"][length].append(time.perf_counter() - t0)
    tracker.engine.dispose()
    out: dict[str, Any] = {"lengths": list(lengths), "patients_per_length": patients,
                           "entries_per_patient": entries}
    for kind, by_length in timed.items():
        out[kind] = {str(n): {"median_ms": round(statistics.median(xs) * 1000, 3),
                              **percentiles(xs)} for n, xs in by_length.items()}
        first, last = str(lengths[0]), str(lengths[-1])
        out[kind]["growth"] = round(out[kind][last]["median_ms"] / out[kind][first]["median_ms"], 2)
    out["target_growth"] = 1.2
    return out


# ------------------------------------------------------------------------------------------------
# 2. bulk import


def bench_bulk(patients: int, service_patients: int, rounds: int) -> dict[str, Any]:
    """The generator's bulk path and import_scenario against raw sqlite3 executemany of the
    same rows, same durability, same batch (one transaction per 2,000 patients). The one-process
    bulk path and the raw executemany alternate round by round (one batch each)."""
    from tracker.demo import bulk_generate, bulk_load, generate_cohort, import_cohort

    as_of, batch = CACHE_AS_OF, 2000
    batch = min(batch, max(1, patients // rounds))
    db = fresh(WORK / "bulk.sqlite")
    tracker = tracker_on(f"sqlite:///{db}", as_of)
    cohort = list(generate_cohort(patients, seed=11, as_of=as_of))  # generation is not timed
    tables = ("patient", "event", "reminder", "journey_memory")
    raw_conn = copy_schema(db, WORK / "bulk-raw.sqlite", tables)
    reader = sqlite3.connect(db)
    names = {t: [r[1] for r in reader.execute(f"PRAGMA table_info({t})")] for t in tables}
    key = {t: "id" if t == "patient" else "patient_id" for t in tables}
    pairs = []
    bulk_s = write_s = raw_s = 0.0
    events = reminders = refused = 0
    for start in range(0, patients, batch):
        part = cohort[start:start + batch]
        report = bulk_load(tracker.engine, part, as_of, tracker.clock.now(), batch=batch)
        lo, hi = reader.execute("SELECT min(id), max(id) FROM patient WHERE ref IN ({})".format(
            ",".join("?" * 2)), (part[0].ref, part[-1].ref)).fetchone()
        data = {t: reader.execute(f"SELECT * FROM {t} WHERE {key[t]} BETWEEN ? AND ? ORDER BY rowid",
                                  (lo, hi)).fetchall() for t in tables}
        t0 = time.perf_counter()
        raw_conn.execute("BEGIN IMMEDIATE")
        for t in tables:
            raw_conn.executemany(insert_sql(t, names[t]), data[t])
        raw_conn.execute("COMMIT")
        r_s = time.perf_counter() - t0
        assert len(data["event"]) == report.events, (len(data["event"]), report.events)
        bulk_s, write_s, raw_s = bulk_s + report.seconds, write_s + report.write_seconds, raw_s + r_s
        events, reminders = events + report.events, reminders + report.reminders
        refused += report.refused
        pairs.append((report.events / report.seconds, report.events / r_s))
    tracker.engine.dispose()
    reader.close()
    raw_conn.close()

    # the same cohort as `journey demo generate --bulk --workers 2`: generated and folded in two
    # worker processes while this one writes (generation timed too, process start-up included)
    wdb = fresh(WORK / "bulk-workers.sqlite")
    parallel = tracker_on(f"sqlite:///{wdb}", as_of)
    t0 = time.perf_counter()
    workers_report = bulk_generate(parallel.engine, patients, seed=11, as_of=as_of,
                                   now=parallel.clock.now(), batch=2000, workers=2)
    workers_s = time.perf_counter() - t0
    parallel.engine.dispose()
    assert workers_report.events == events, (workers_report.events, events)

    sdb = fresh(WORK / "import.sqlite")
    service = tracker_on(f"sqlite:///{sdb}", as_of)
    imported = import_cohort(service, cohort[:service_patients])
    service.engine.dispose()

    raw_rate = events / raw_s
    bulk_rate = events / bulk_s
    import_rate = imported.events / imported.seconds
    return {"patients": patients, "events": events, "reminders": reminders, "batch": batch,
            "bulk_events_per_s": round(bulk_rate), "bulk_patients_per_s": round(patients / bulk_s),
            "import_scenario_patients": service_patients, "import_scenario_events_per_s": round(import_rate),
            "raw_sqlite3_executemany_events_per_s": round(raw_rate),
            "bulk_write_only_events_per_s": round(events / write_s),
            "ratio_bulk_write_only": round(events / write_s / raw_rate, 3),
            "ratio_bulk": round(bulk_rate / raw_rate, 3),
            "interleaved": ratio_rounds(pairs),
            "bulk_two_workers_events_per_s": round(events / workers_s),
            "ratio_bulk_two_workers": round(events / workers_s / raw_rate, 3),
            "ratio_import_scenario": round(import_rate / raw_rate, 4),
            "refused": refused + imported.refused, "target_ratio": 0.3}


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


def audit_child(db: Path, patients: int, workers: int) -> None:
    """The audit of the whole database twice: first with no verdicts kept (every journey replayed
    and judged: what the nightly job does), then as the day's audits run (verdicts read back)."""
    from sqlalchemy import text

    from journey.cohort import CohortAudit
    from tracker.application.audit import audited_journeys, refresh_verdicts

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
    # the nightly job with a process per core (setting audit_workers), then the day's audit reads
    with tracker.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entry"))
    t0 = time.perf_counter()
    judged = refresh_verdicts(tracker, CACHE_AS_OF, workers=workers)
    job_s = time.perf_counter() - t0
    audit = CohortAudit()
    for journey in audited_journeys(tracker, CACHE_AS_OF, details=False):
        journey.count_into(audit)
    parallel_summary = audit.summary()
    parallel_s = time.perf_counter() - t0
    cold, warm = runs
    print(json.dumps({"patients": warm["patients"], "seconds": warm["seconds"],
                      "patients_per_s": warm["patients_per_s"], "replayed": warm["replayed"],
                      "replayed_run": {k: v for k, v in cold.items() if k != "summary"},
                      "same_figures": cold["summary"] == warm["summary"] == parallel_summary,
                      "parallel_run": {"workers": workers, "judged": judged, "job_seconds": round(job_s, 2),
                                       "seconds": round(parallel_s, 2),
                                       "patients_per_s": round(audit.patients / parallel_s)},
                      "peak_rss_mb": round(peak_kb / 1024, 1),
                      "checks": len(warm["summary"].get("checks", []))}))


def bench_audit(cache: Path, sizes: tuple[int, ...], workers: int = 2) -> dict[str, Any]:
    """The audit of a registry of each size (the first patients of the cohort cache), in a child
    process of its own (its peak memory is its own), against pm4py's token replay of the same
    patients' log. The figures of the largest size are the headline ones."""
    result: dict[str, Any] = {}
    by_size: dict[str, Any] = {}
    for patients in sizes:
        db = audit_database(cache, patients)
        proc = subprocess.run([sys.executable, __file__, "--audit-child", str(db), str(patients),
                               str(workers)], capture_output=True, text=True, cwd=ROOT, timeout=3600)
        if proc.returncode != 0:
            by_size[str(patients)] = {"error": proc.stderr.strip().splitlines()[-1:]}
            continue
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        pm = bench_pm4py(db, patients, run["patients_per_s"], xes=patients == sizes[0])
        if "token_replay_patients_per_s" in pm:
            pm["replayed_run_vs_pm4py"] = round(run["replayed_run"]["patients_per_s"]
                                                / pm["token_replay_patients_per_s"], 2)
            pm["parallel_run_vs_pm4py"] = round(run["parallel_run"]["patients_per_s"]
                                                / pm["token_replay_patients_per_s"], 2)
        run["pm4py"] = pm
        by_size[str(patients)] = run
    largest = by_size.get(str(sizes[-1]), {})
    result.update(largest)
    result["by_size"] = {n: {"replayed_patients_per_s": r.get("replayed_run", {}).get("patients_per_s"),
                             "replayed_seconds": r.get("replayed_run", {}).get("seconds"),
                             "replayed_ms_per_patient": round(1000 / r["replayed_run"]["patients_per_s"], 3)
                             if r.get("replayed_run") else None,
                             "read_patients_per_s": r.get("patients_per_s"),
                             "pm4py_patients_per_s": r.get("pm4py", {}).get("token_replay_patients_per_s"),
                             "replayed_vs_pm4py": r.get("pm4py", {}).get("replayed_run_vs_pm4py"),
                             "parallel_patients_per_s": r.get("parallel_run", {}).get("patients_per_s"),
                             "parallel_vs_pm4py": r.get("pm4py", {}).get("parallel_run_vs_pm4py"),
                             "read_vs_pm4py": r.get("pm4py", {}).get("audit_vs_pm4py"),
                             "peak_rss_mb": r.get("peak_rss_mb")}
                         for n, r in by_size.items()}
    result.update({"target_s": 10, "target_peak_mb": 1024, "target_replayed_vs_pm4py": 1.0,
                   "goal_replayed_vs_pm4py": 10.0})
    return result


def bench_pm4py(db: Path, patients: int, audit_rate: float, xes: bool = True) -> dict[str, Any]:
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
    export_s = None
    if xes:
        t0 = time.perf_counter()
        pm4py.write_xes(frame, str(WORK / "cohort.xes"))
        export_s = round(time.perf_counter() - t0, 2)
    net, im, fm = pm4py.discover_petri_net_inductive(frame)
    t0 = time.perf_counter()
    replay = pm4py.conformance_diagnostics_token_based_replay(frame, net, im, fm)
    replay_s = time.perf_counter() - t0
    fit = sum(1 for r in replay if r.get("trace_is_fit")) / max(len(replay), 1)
    rate = patients / replay_s
    return {"patients": patients, "xes_export_s": export_s, "token_replay_s": round(replay_s, 2),
            "token_replay_patients_per_s": round(rate), "fit_share": round(fit, 3),
            "audit_vs_pm4py": round(audit_rate / rate, 1), "version": pm4py.__version__}


# ------------------------------------------------------------------------------------------------
# 7. the API: latency at scale and 32 clients under load


SERVER = """
import os, sys, uvicorn
sys.path.insert(0, {root!r})
sys.path.insert(0, {scripts!r})
os.environ.update({env!r})
from tracker.compose import run_workers
options = dict(host="127.0.0.1", port={port}, log_level="warning", access_log=False)
if {workers} > 1:
    run_workers("bench:bench_app", {workers}, **options)
else:
    uvicorn.run("bench:bench_app", factory=True, **options)
"""


def bench_app() -> Any:
    """The app factory the benchmark's server runs in each worker process: what ``journey serve
    --workers N`` runs (tracker.compose.web_app: the settings from the environment, a Tracker of
    the worker's own, no migration), except that the clock stands on the cohort's day."""
    from tracker.clock import FixedClock
    from tracker.compose import build_tracker
    from tracker.settings import Settings
    from tracker.web.app import create_app

    day = date.fromisoformat(os.environ["JOURNEY_BENCH_DAY"])
    return create_app(build_tracker(Settings(), clock=FixedClock(day), migrate=False))


@contextmanager
def api_server(url: str, day: date, migrate: bool, workers: int = 1) -> Iterator[tuple[str, str, int]]:
    """uvicorn on loopback in a child process (``workers`` worker processes below it, as
    ``journey serve --workers N``); yields (base url, clinician token, pid of the process whose
    memory is reported: the server, or the first worker)."""
    import socket

    import httpx

    tracker = tracker_on(url, day, migrate=migrate)
    token = tracker.users.add(f"bench{int(time.time() * 1000) % 10**9}", "clinician").token
    tracker.engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"JOURNEY_DATABASE_URL": url, "JOURNEY_BENCH_DAY": day.isoformat()}
    code = SERVER.format(root=str(ROOT), scripts=str(ROOT / "scripts"), env=env, workers=workers, port=port)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(f"{base}/api/v1/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise RuntimeError("the API server did not start")
        if workers > 1:  # every worker up (each answers its first request only when ready)
            time.sleep(3)
        children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()] \
            if workers > 1 and Path(f"/proc/{proc.pid}/task/{proc.pid}/children").exists() else []
        workers_pids = [c for c in children if "spawn_main" in Path(f"/proc/{c}/cmdline").read_text()]
        yield base, token, (workers_pids[0] if workers_pids else proc.pid)
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
                clients: int = 32, stagger: float = 0.0) -> dict[str, Any]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    statuses: dict[int | str, int] = {}
    counter = iter(range(requests))
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as client:

        async def worker(k: int) -> None:
            if stagger:  # clients that arrive one after another, as people do, not all at once
                await asyncio.sleep(k * stagger)
            for i in counter:
                if time.perf_counter() > deadline:
                    return
                method, path, body = make(i)
                t0 = time.perf_counter()
                try:
                    response = await client.request(method, path, json=body)
                    status: int | str = response.status_code
                except httpx.TransportError as e:  # counted, not fatal: the figure says how many
                    status = type(e).__name__
                latencies.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(clients)))
        elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "clients": clients, "seconds": round(elapsed, 2),
            "requests_per_s": round(len(latencies) / elapsed, 1), **percentiles(latencies),
            "statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)}}


class ConnectionSplit:
    """How the load's connections are spread over the server's worker processes, seen by ``ss``
    two seconds into the load: sorted counts of established connections per process."""

    def __init__(self, base: str, after: float = 2.0) -> None:
        import threading

        self.port = base.rsplit(":", 1)[1]
        self.split: list[int] = []
        self.thread = threading.Thread(target=self._look, args=(after,), daemon=True)
        self.thread.start()

    def _look(self, after: float) -> None:
        import re

        time.sleep(after)
        try:
            out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{self.port} )"],
                                 capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return
        counts: dict[str, int] = {}
        for pid in re.findall(r"pid=(\d+)", out):
            counts[pid] = counts.get(pid, 0) + 1
        self.split = sorted(counts.values(), reverse=True)

    def result(self) -> list[int]:
        self.thread.join(15)
        return self.split


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
    with api_server(url, day, True) as (base, token, pid):  # kept from an earlier run: brought up to date
        latency = api_latency(base, token, samples, refs)
        return {"database": label, **latency, "server_memory_mb": rss_mb(pid)}


def bench_api(url: str, day: date, requests: int, seconds: float, samples: int, migrate: bool,
              label: str, workers: tuple[int, ...] = (1,),
              clients: tuple[int, ...] = (32,)) -> dict[str, Any]:
    """Latency (one client) and throughput under load at each number of ``clients``, for
    record-event and the worklist, with the server run with each number of ``workers``; the
    server configurations alternate level by level, so that both see the same machine."""
    try:
        import tracker.web.app  # noqa: F401
    except ImportError as e:
        return {"missing": f"tracker/web is not there yet ({e})"}
    refs = open_refs(url, 20000)
    rng = random.Random(3)
    rng.shuffle(refs)
    result: dict[str, Any] = {"database": label, "workers": list(workers), "clients": list(clients)}
    offset = 0

    def record(i: int) -> tuple[str, str, Any]:
        return ("POST", f"/api/v1/patients/{refs[(offset + i) % len(refs)]}/events",
                {"type": "mdt_review", "date": day.isoformat(), "resectable": False})

    def worklist(i: int) -> tuple[str, str, Any]:
        return ("GET", "/api/v1/worklist?limit=50", None)

    with ExitStack() as stack:
        servers = {n: stack.enter_context(api_server(url, day, migrate, workers=n)) for n in workers}
        base, token, _ = servers[workers[0]]
        result.update(api_latency(base, token, samples, refs))
        runs: dict[int, dict[str, Any]] = {n: {} for n in workers}
        # each level: all clients connecting at once (as before), and at the most clients also
        # arriving 20 ms apart, as people do: a worker process accepts every connection waiting
        # when it wakes, so 32 simultaneous connections all go to one worker and stay there
        levels = [(c, 0.0) for c in clients] + ([(max(clients), 0.02)] if len(workers) > 1 else [])
        for c, stagger in levels:
            # fewer requests for fewer clients: each level runs for about the same time
            count = max(100, requests * c // max(clients))
            label = f"{c}_arriving" if stagger else f"{c}"
            for kind, make in (("record_event", record), ("worklist", worklist)):
                for n in workers:  # the configurations alternate, level by level
                    base, token, _ = servers[n]
                    probe = ConnectionSplit(base) if n > 1 and c == max(clients) else None
                    runs[n][f"{kind}_{label}"] = asyncio.run(
                        _load(base, token, count, seconds, make, clients=c, stagger=stagger))
                    if probe is not None:
                        runs[n][f"{kind}_{label}"]["connections_per_worker"] = probe.result()
                    if kind == "record_event":
                        offset += count
        for n in workers:
            runs[n]["server_memory_mb"] = rss_mb(servers[n][2])
            result[f"workers_{n}"] = runs[n]
    first = result[f"workers_{workers[0]}"]
    # the figures of the previous runs' rows: one worker process, 32 clients
    if f"record_event_{max(clients)}" in first:
        result["load_record_event"] = first[f"record_event_{max(clients)}"]
        result["load_worklist"] = first[f"worklist_{max(clients)}"]
        result["server_memory_mb"] = first["server_memory_mb"]
    return result


# ------------------------------------------------------------------------------------------------
# the report


def spread(rounds: dict[str, Any]) -> str:
    """The median ratio of interleaved rounds with its spread: 0.31 (0.27-0.35, 9 rounds)."""
    if not rounds.get("rounds"):
        return "-"
    return f"{rounds['median_ratio']} ({rounds['min_ratio']}-{rounds['max_ratio']}, {rounds['rounds']} r)"


def table(results: dict[str, Any]) -> str:
    lines = [f"{'figure':62} {'measured':>28} {'target':>14}", "-" * 106]

    def row(name: str, value: Any, target: str = "") -> None:
        lines.append(f"{name:62} {value!s:>28} {target:>14}")

    ing = results.get("ingest", {})
    if "service_events_per_s" in ing:
        row("ingest: record_event events/s", ing["service_events_per_s"])
        row("ingest: raw sqlite3, one commit each, events/s", ing["raw_sqlite3_events_per_s"])
        row("ingest: raw sqlite3, the service's statements, events/s",
            ing["raw_sqlite3_service_statements_events_per_s"])
        row("ingest: ratio, median of interleaved rounds (spread)", spread(ing["interleaved"]), ">= 0.3")
        row("ingest: ratio to the service's statements, median",
            spread(ing["interleaved_service_statements"]))
        lat = ing["service_latency"]
        row("ingest: record_event p50/p95", f"{lat['p50_ms']}/{lat['p95_ms']} ms")
    elif ing:
        row("ingest", str(ing)[:28])
    gr = results.get("growth", {})
    if "cycles" in gr:
        for kind, label in (("cycles", "in order"), ("held_line", "in order, one line held 250x"),
                            ("backdated", "backdated (log replayed)")):
            per = "/".join(str(gr[kind][str(n)]["median_ms"]) for n in gr["lengths"])
            row(f"growth: entry at 10/100/1000 entries, {label}, ms", per)
            row(f"growth: 1000 vs 10, {label}", f"{gr[kind]['growth']}x",
                "<= 1.2x" if kind == "cycles" else "")
    bulk = results.get("bulk", {})
    if "bulk_events_per_s" in bulk:
        row("bulk: generator bulk path events/s", bulk["bulk_events_per_s"])
        row("bulk: import_scenario events/s", bulk["import_scenario_events_per_s"])
        row("bulk: raw sqlite3 executemany events/s", bulk["raw_sqlite3_executemany_events_per_s"])
        row("bulk: ratio, one process, median of rounds (spread)", spread(bulk["interleaved"]), ">= 0.3")
        row("bulk: ratio (bulk path, two worker processes + writer)", bulk["ratio_bulk_two_workers"])
        row("bulk: ratio (bulk path, writing only: Core executemany)", bulk["ratio_bulk_write_only"])
        row("bulk: ratio (import_scenario)", bulk["ratio_import_scenario"])
    elif bulk:
        row("bulk", str(bulk)[:28])
    co = results.get("cohort", {})
    if "worklist_service" in co:
        n = f"{co['patients']:,} patients"
        sw = co.get("sweep", {})
        if "seconds" in sw:
            row(f"sweep, {n} ({sw['reminders_announced']} changed), cold", f"{sw['seconds']} s", "< 1 s")
            warm = co.get("sweep_warm", {})
            if "seconds" in warm:
                row(f"sweep, next day, tables cached ({warm['reminders_announced']} changed)",
                    f"{warm['seconds']} s", "< 1 s")
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
        for n in api.get("workers", []):
            runs = api.get(f"workers_{n}", {})
            for c in [*api.get("clients", []), f"{max(api.get('clients') or [0])}_arriving"]:
                for kind in ("record_event", "worklist"):
                    load = runs.get(f"{kind}_{c}")
                    if load:
                        split = load.get("connections_per_worker")
                        clients_said = str(c).replace("_arriving", " arriving 20 ms apart")
                        row(f"API {label}, {n} worker(s), {clients_said} clients, {kind}: req/s, p95",
                            f"{load['requests_per_s']}/s, {load.get('p95_ms')} ms"
                            + (f" {split}" if split else ""),
                            "p95 < 250 ms" if str(c).startswith("32") else "")
            if "server_memory_mb" in runs:
                peak = runs["server_memory_mb"].get("VmHWM")
                row(f"API {label}, {n} worker(s): memory of a worker", f"{peak} MB peak")
        if not api.get("workers"):
            for kind in ("record_event", "worklist"):
                load = api.get(f"load_{kind}")
                if load:
                    row(f"API 32 clients, {kind}, {label}: req/s, p95",
                        f"{load['requests_per_s']}/s, {load.get('p95_ms')} ms")
    small = results.get("api_small", {})
    if "server_memory_mb" in small:
        peak = small["server_memory_mb"].get("VmHWM")
        row("API server memory, same reads, small cohort", f"{peak} MB peak")
    au = results.get("audit", {})
    if "patients_per_s" in au:
        row(f"audit, {au['patients']:,} patients, the day's verdicts kept", f"{au['seconds']} s", "< 10 s")
        row("audit: patients/s, peak RSS", f"{au['patients_per_s']}/s, {au['peak_rss_mb']} MB", "< 1024 MB")
        for n, figures in au.get("by_size", {}).items():
            row(f"audit, {int(n):,} patients, every journey replayed: /s, ms each",
                f"{figures['replayed_patients_per_s']}/s, {figures['replayed_ms_per_patient']} ms")
            row(f"  pm4py token replay, same {int(n):,} patients: /s", figures["pm4py_patients_per_s"] or "-")
            row("  replayed audit vs pm4py (verdicts read vs pm4py)",
                f"{figures['replayed_vs_pm4py']}x ({figures['read_vs_pm4py']}x)", ">= 1x (10x)")
            workers = au.get("parallel_run", {}).get("workers")
            row(f"  nightly job in {workers} processes + read: /s, vs pm4py",
                f"{figures['parallel_patients_per_s']}/s, {figures['parallel_vs_pm4py']}x")
    elif au:
        row("audit", str(au)[:28])
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
    parser.add_argument("--only", help="comma-separated: ingest,growth,bulk,cohort,audit,api")
    parser.add_argument("--api-workers", type=int, default=2,
                        help="worker processes of the API server set beside one (default 2, one per core)")
    parser.add_argument("--audit-workers", type=int, default=2,
                        help="processes of the nightly audit job measured beside one (default 2)")
    parser.add_argument("--audit-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.audit_child:
        audit_child(Path(args.audit_child[0]), int(args.audit_child[1]), int(args.audit_child[2]))
        return
    quick = args.quick
    patients = args.patients or (10_000 if quick else 1_000_000)
    cache = args.cache or WORK / (f"cohort-{patients // 1000}k.sqlite" if patients < 1_000_000
                                  else f"cohort-{patients // 1_000_000}m.sqlite")
    only = set(args.only.split(",")) if args.only else {"ingest", "growth", "bulk", "cohort", "audit", "api"}
    WORK.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"mode": "quick" if quick else "full", "started": datetime.now(UTC).isoformat(),
                               "machine": machine()}
    timings: dict[str, float] = {}

    load: dict[str, list[float]] = {}

    def step(name: str, func: Callable[[], Any]) -> None:
        print(f"== {name} ...", flush=True)
        load[name] = [round(x, 2) for x in os.getloadavg()]  # others share these cores
        t0 = time.perf_counter()
        try:
            results[name] = func()
        except Exception as e:  # a figure that cannot be measured is reported, not hidden
            results[name] = {"error": f"{type(e).__name__}: {e}"}
        timings[name] = round(time.perf_counter() - t0, 1)
        print(json.dumps(results[name], default=str)[:600], flush=True)

    if "ingest" in only:
        step("ingest", lambda: bench_ingest(300 if quick else 3000, 10 if quick else 30))
    if "growth" in only:
        step("growth", lambda: bench_growth((10, 100, 1000), 3 if quick else 5, 10 if quick else 30))
    if "bulk" in only:
        step("bulk", lambda: bench_bulk(2000 if quick else 20000, 100 if quick else 1000, 5 if quick else 10))
    meta = ensure_cache(cache, patients, args.workers) if only & {"cohort", "audit", "api"} else {}
    if meta:
        shown = str(cache.relative_to(ROOT)) if cache.is_relative_to(ROOT) else str(cache)
        results["cache"] = {"path": shown, **meta, "schema_changes": upgrade_cache_schema(cache),
                            "memories_replicated": replicate_memories(cache, meta)}
    if "cohort" in only:
        # every run that sweeps the cache moves its day on (a sweep changes what it sweeps)
        step("cohort", lambda: bench_cohort(cache, meta, 100 if quick else 500, advance_day=True))
    if "audit" in only:
        sizes = (2000,) if quick else (10_000, 100_000)
        step("audit", lambda: bench_audit(cache, tuple(min(patients, n) for n in sizes), args.audit_workers))
    day = CACHE_AS_OF + timedelta(days=max(int(meta.get("runs", 0)), 1)) if meta else CACHE_AS_OF
    if "api" in only:
        step("api_sqlite", lambda: bench_api(f"sqlite:///{cache}", day, 300 if quick else 3000,
                                             20 if quick else 40, 50 if quick else 300, False,
                                             f"SQLite {patients:,} patients",
                                             workers=(1, args.api_workers), clients=(1, 8, 32)))
        small = WORK / "bulk.sqlite"
        if small.exists():
            step("api_small", lambda: bench_api_memory(f"sqlite:///{small}", CACHE_AS_OF, 100,
                                                       "SQLite, the bulk-import cohort"))
        if args.postgres_url:
            step("api_postgres", lambda: bench_postgres(args.postgres_url, quick))
    results["step_seconds"] = timings
    results["load_average_at_each_step"] = load  # 1, 5 and 15 minutes, when the step began
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
