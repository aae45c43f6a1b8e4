"""Writing a synthetic cohort (tracker.demo.cohort) to the database, two ways:

- :func:`import_cohort`: each patient through the application's ``import_scenario`` (one
  transaction each; small cohorts, and the reference the bulk path is tested against);
- :func:`bulk_load` and :func:`bulk_generate`: rows built by db.bulk from the same fold and
  written with Core ``executemany``, a batch of patients per transaction (100,000 to 1,000,000
  patients); with workers, the journeys are generated and folded in other processes.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from db.bulk import BulkRows, BulkWriter
from db.engine import Engine
from journey.course import follow_journey
from journey.events import read_event
from journey.profile import read_profile
from journey.scenario import Scenario, read_scenario
from journey.settings import DEFAULT_SETTINGS, PathwaySettings
from tracker.demo.cohort import Synthetic, generate_cohort, generate_one


@dataclass
class LoadReport:
    patients: int = 0
    events: int = 0
    reminders: int = 0
    refused: int = 0
    branches: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    #: of which writing rows (bulk path): the rest is generating and folding the journeys
    write_seconds: float = 0.0


class _Imported(Protocol):
    @property
    def added(self) -> int: ...
    @property
    def refused(self) -> Sequence[object]: ...


class ScenarioImporter(Protocol):
    """What the service path needs: the application's ``import_scenario``."""

    def import_scenario(self, scenario: Scenario, actor: str, source: str = "") -> _Imported: ...


def import_cohort(importer: ScenarioImporter, cohort: Iterable[Synthetic], actor: str = "demo-generator",
                  progress: bool = False, total: int | None = None) -> LoadReport:
    """The service path: each patient through ``import_scenario`` (one transaction each)."""
    report = LoadReport()
    started = time.perf_counter()
    with _progress(progress, total, "import (service)") as advance:
        for synthetic in cohort:
            result = importer.import_scenario(read_scenario(synthetic.scenario()), actor,
                                              source=f"demo:{synthetic.branch}")
            report.patients += 1
            report.events += result.added
            report.refused += len(result.refused)
            report.branches[synthetic.branch] += 1
            advance(1)
    report.seconds = time.perf_counter() - started
    return report


def rows_for(synthetic: Synthetic, patient_id: int, as_of: date, now: datetime, actor: str,
             settings: PathwaySettings, out: BulkRows) -> None:
    """Add the rows the service would write for this patient (db.bulk)."""
    profile = read_profile(synthetic.patient)
    events = [read_event(raw, seq=i + 1) for i, raw in enumerate(synthetic.events)]
    outcome = follow_journey(profile, events, as_of, settings, remember=True)
    out.add_journey(patient_id, profile, events, outcome, now=now, actor=actor,
                    source=f"demo:{synthetic.branch}",
                    synchronous_window_days=settings.synchronous_window_days)
    out.branches[synthetic.branch] += 1


class _Loader:
    """A bulk writer that keeps the figures of the load."""

    def __init__(self, engine: Engine) -> None:
        self.writer = BulkWriter(engine)
        self.report = LoadReport()
        self.started = time.perf_counter()

    def write(self, rows: BulkRows) -> int:
        t0 = time.perf_counter()
        if self.writer.binds_in_workers and not rows.bound:
            # in this process too: the column types' own bind processors straight onto value
            # tuples cost less than Core's executemany working out each row's parameters
            # (~20% of writing; the same rows, byte for byte: tests/unit/test_demo.py)
            rows.bind_for_sqlite()
        patients, events, reminders = self.writer.write(rows)
        if not patients:
            return 0
        report = self.report
        report.write_seconds += time.perf_counter() - t0
        report.patients += patients
        report.events += events
        report.reminders += reminders
        report.refused += rows.refused
        report.branches.update(rows.branches)
        return patients

    def finish(self) -> LoadReport:
        self.report.seconds = time.perf_counter() - self.started
        return self.report


def bulk_load(engine: Engine, cohort: Iterable[Synthetic], as_of: date, now: datetime,
              actor: str = "demo-generator", settings: PathwaySettings = DEFAULT_SETTINGS,
              batch: int = 2000, progress: bool = False, total: int | None = None) -> LoadReport:
    """The fast path: rows written with Core ``executemany``, ``batch`` patients a transaction.
    The stored state is the one ``import_cohort`` gives (``journey verify`` passes)."""
    loader = _Loader(engine)
    rows = BulkRows()
    with _progress(progress, total, "bulk load") as advance:
        for synthetic in cohort:
            rows_for(synthetic, loader.writer.next_id, as_of, now, actor, settings, rows)
            loader.writer.next_id += 1
            if len(rows.patients) >= batch:
                advance(loader.write(rows))
                rows = BulkRows()
        advance(loader.write(rows))
    return loader.finish()


#: one worker's share: (seed, first index, count, first id, as_of, now, actor, settings, bind)
_Slice = tuple[int, int, int, int, date, datetime, str, PathwaySettings, bool]


def _rows_of_slice(job: _Slice) -> BulkRows:
    seed, start, count, first_id, as_of, now, actor, settings, bind = job
    rows = BulkRows()
    for k in range(count):
        rows_for(generate_one(seed, start + k, as_of), first_id + k, as_of, now, actor, settings, rows)
    return rows.bind_for_sqlite() if bind else rows


def bulk_generate(engine: Engine, patients: int, seed: int, as_of: date, now: datetime,
                  actor: str = "demo-generator", settings: PathwaySettings = DEFAULT_SETTINGS,
                  batch: int = 2000, workers: int = 1, start: int = 0,
                  progress: bool = False) -> LoadReport:
    """Generate and bulk-load a cohort; with ``workers`` > 1 the journeys are generated and
    folded in worker processes while this one writes (the same rows as ``workers=1``)."""
    if workers <= 1:
        return bulk_load(engine, generate_cohort(patients, seed, as_of, start), as_of, now, actor,
                         settings, batch, progress, patients)
    loader = _Loader(engine)
    first_id = loader.writer.next_id
    jobs: list[_Slice] = [(seed, start + offset, min(batch, patients - offset), first_id + offset, as_of,
                           now, actor, settings, loader.writer.binds_in_workers)
                          for offset in range(0, patients, batch)]
    context = multiprocessing.get_context("spawn")
    with _progress(progress, patients, f"bulk load ({workers} workers)") as advance, \
            context.Pool(workers) as pool:
        for rows in pool.imap(_rows_of_slice, jobs):
            advance(loader.write(rows))
    loader.writer.next_id += patients
    return loader.finish()


@contextmanager
def _progress(enabled: bool, total: int | None, label: str) -> Iterator[Callable[[int], object]]:
    """A rich progress bar, or nothing; yields ``advance(n)``."""
    if not enabled:
        yield lambda n: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("patients"), TimeElapsedColumn(), TimeRemainingColumn(),
                  transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
