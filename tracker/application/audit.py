"""The cohort audit over the configured database: every patient judged by the same checks as the
patient view (journey.adherence), counted by journey.cohort, and its exports. Memory stays bounded
at any cohort size: only counters and the current batch are held.

**The day's verdicts.** Judging a journey means replaying its log (the fold) and running the
checks: ~0.6 ms a patient, a minute per 100,000. So each verdict is kept (``audit_entry``,
db.verdicts): the patient's eligible checks, deviations and summary numbers, with the day judged,
the basis (ruleset and pathway settings) and the patient's version. An audit of the same day reads
the verdicts that are still current and judges only the patients whose record changed since (a new
entry, a sweep, a dismissal deletes the verdict); the scheduler's nightly job judges everyone for
the new day before anyone asks. A verdict is derived data, never a record: deleting every entry
changes no audit figure, only how long the next audit takes (tests/integration/test_audit_entries.py).
"""

from __future__ import annotations

import io
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from io import TextIOBase
from pathlib import Path
from typing import TextIO

from db.engine import is_shared, make_engine
from db.patients import JourneyToJudge
from db.verdicts import VerdictLine, audit_basis, verdict_row
from journey.adherence import PatientAdherence, ReminderDismissal, judge
from journey.cohort import CohortAudit, JourneySummary, summarize
from journey.course import JourneyOutcome, follow_journey
from journey.errors import NotFound
from tracker.application.context import Context
from tracker.reports.exports import JourneyTrace, PatientDeviations, write_deviations_csv, write_xes
from tracker.settings import Settings

BATCH = 1000


@dataclass(frozen=True)
class AuditedJourney:
    ref: str
    timing: str
    #: the eligible checks and, per deviation, (check, justified): what the cohort counts
    eligible: frozenset[str]
    flags: tuple[tuple[str, bool], ...]
    summary: JourneySummary
    #: the deviations in full; None when read back without details (``details=False``)
    adherence: PatientAdherence | None
    #: the replayed journey; None when the day's stored verdict was read instead
    outcome: JourneyOutcome | None = None

    def count_into(self, cohort: CohortAudit) -> None:
        cohort.add_tally(self.timing, self.eligible, self.flags, self.summary)


def audited_journeys(ctx: Context, as_of: date, detected_from: date | None = None,
                     detected_to: date | None = None,
                     progress: Callable[[int], None] | None = None,
                     replay: bool = False, keep: bool | None = None,
                     details: bool = True, after_id: int = 0,
                     until_id: int | None = None) -> Iterator[AuditedJourney]:
    """Each patient whose liver metastases were found in the period (all when no period), judged
    on ``as_of``, in id order. The day's current verdicts are read back unless ``replay`` (which
    also yields the replayed outcome, for the XES export); new verdicts are kept when ``keep``
    (by default when ``as_of`` is today: a verdict on another day is computed and left). Without
    ``details`` a verdict read back carries what the counters need, not the deviations in full.
    ``progress`` is told how many patients were read so far."""
    keep = (as_of == ctx.clock.today()) if keep is None else keep
    basis = audit_basis(ctx.pathway)
    read, last_id = 0, after_id
    while True:
        with ctx.reading() as uow:
            batch = uow.verdicts.lines(last_id, BATCH, as_of, basis, details=details, replay=replay,
                                       until_id=until_id)
            if not batch:
                return
            stale = [line.patient_id for line in batch if line.kept is None]
            journeys = uow.patients.to_judge(stale) if stale else []
            dismissals = uow.reminder_actions.dismissals_of(stale, as_of) if stale else {}
        # judged outside the transaction: on SQLite it holds the writer lock, and replaying a
        # thousand journeys takes about a second that nobody's entry should wait for
        judged = _judge(ctx, journeys, dismissals, as_of)
        if keep and judged:
            _keep(ctx, judged, as_of, basis)
        for line in batch:
            read += 1
            if progress is not None:
                progress(read)
            journey, detected = _audited(line, judged)
            if (detected_from and detected < detected_from) or (detected_to and detected > detected_to):
                continue
            yield journey
        last_id = batch[-1].patient_id


def _audited(line: VerdictLine, judged: dict[int, tuple[JourneyToJudge, AuditedJourney]],
             ) -> tuple[AuditedJourney, date]:
    """The patient's journey as judged now, or as its kept verdict says; and the day its liver
    metastases were found."""
    if line.kept is None:
        stored, journey = judged[line.patient_id]
        return journey, stored.profile.metastases.detected_on
    kept = line.kept
    adherence = PatientAdherence(kept.eligible, kept.deviations) if kept.deviations is not None else None
    return (AuditedJourney(line.ref, line.timing, kept.eligible, kept.flags, kept.summary, adherence),
            kept.detected_on)


def _judge(ctx: Context, journeys: Sequence[JourneyToJudge],
           dismissals: dict[int, list[ReminderDismissal]],
           as_of: date) -> dict[int, tuple[JourneyToJudge, AuditedJourney]]:
    judged = {}
    for stored in journeys:
        outcome = follow_journey(stored.profile, stored.events, as_of, ctx.pathway)
        adherence = judge(outcome, dismissals[stored.row.id])
        judged[stored.row.id] = (stored, AuditedJourney(
            stored.row.ref, stored.row.timing, adherence.eligible, adherence.flags, summarize(outcome),
            adherence, outcome))
    return judged


def _keep(ctx: Context, judged: dict[int, tuple[JourneyToJudge, AuditedJourney]], as_of: date,
          basis: str) -> None:
    """Store the new verdicts (replacing older ones) in one short write transaction."""
    now = ctx.clock.now()
    rows = []
    for patient_id, (stored, journey) in judged.items():
        assert journey.adherence is not None  # judged just now: the deviations are all there
        rows.append(verdict_row(patient_id=patient_id, as_of=as_of, basis=basis,
                                patient_version=stored.row.version, timing=journey.timing,
                                detected_on=stored.profile.metastases.detected_on, computed_at=now,
                                adherence=journey.adherence, summary=journey.summary))
    with ctx.unit_of_work() as uow:
        uow.verdicts.keep(rows)
        uow.commit()


def refresh_verdicts(ctx: Context, as_of: date | None = None,
                     progress: Callable[[int], None] | None = None, workers: int = 1) -> int:
    """Judge every patient whose verdict for ``as_of`` (default today) is missing or stale and keep
    the verdicts: the nightly job, so that the day's audits read instead of replaying. With
    ``workers`` above 1 (setting ``audit_workers``) the patients are split into that many runs of
    ids, each judged in a process of its own (a journey's verdict depends on its own log only, so
    the runs add up); an in-memory database is judged here, in one process."""
    day = as_of or ctx.clock.today()
    if workers <= 1 or not is_shared(ctx.engine):
        return sum(1 for _ in audited_journeys(ctx, day, progress=progress, keep=True))
    with ctx.reading() as uow:
        slices = uow.patients.id_slices(workers)
    now = ctx.clock.now()
    with ProcessPoolExecutor(max_workers=len(slices) or 1,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        done = 0
        for judged in pool.map(_refresh_slice, [(ctx.settings, now, day, after, until)
                                                for after, until in slices]):
            done += judged
            if progress is not None:
                progress(done)
    return done


class _StandingClock:
    """The clock of a worker of the nightly job: the day judged, the instant the job started."""

    def __init__(self, day: date, now: datetime) -> None:
        self.day, self.instant = day, now

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return self.instant


def _refresh_slice(job: tuple[Settings, datetime, date, int, int]) -> int:
    """One worker process's share of the nightly job: the patients with ``after < id <= until``
    judged and their verdicts kept, on an engine of its own (the same settings)."""
    settings, now, day, after, until = job
    engine = make_engine(settings.database_url)
    try:
        ctx = Context(engine, _StandingClock(day, now), settings)
        return sum(1 for _ in audited_journeys(ctx, day, keep=True, details=False, after_id=after,
                                               until_id=until))
    finally:
        engine.dispose()


@dataclass
class AuditRun:
    """A cohort audit: the counters, and how many deviation rows went to the CSV (if one was
    asked for)."""

    cohort: CohortAudit
    as_of: date
    csv_rows: int = 0


def run_audit(ctx: Context, as_of: date | None = None, detected_from: date | None = None,
              detected_to: date | None = None, csv: TextIO | None = None, identified: bool = False,
              progress: Callable[[int], None] | None = None) -> AuditRun:
    """Pathway adherence over the cohort judged on ``as_of`` (default today), optionally only the
    patients whose metastases were found in a period; with ``csv`` one row per deviation is
    written as the journeys stream past (pseudonymous unless ``identified``)."""
    day = as_of or ctx.clock.today()
    run = AuditRun(CohortAudit(), day)

    def patients() -> Iterator[PatientDeviations]:
        details = csv is not None  # the deviations in full, only for the CSV
        for journey in audited_journeys(ctx, day, detected_from, detected_to, progress=progress,
                                        details=details):
            journey.count_into(run.cohort)
            deviations = journey.adherence.deviations if journey.adherence is not None else []
            yield PatientDeviations(journey.ref, journey.timing, deviations)

    if csv is not None:
        run.csv_rows = write_deviations_csv(csv, patients(), identified=identified,
                                            key=ctx.settings.pseudonym_key)
    else:
        for _ in patients():
            pass
    return run


def audit_report_html(ctx: Context, run: AuditRun, *, suppress_below: int = 5, period: str | None = None,
                      file: Path | None = None) -> str:
    """The self-contained HTML report of an audit (written to ``file`` when given)."""
    # imported here, not at the top: matplotlib takes half a second to load, and every other
    # command of the tracker would pay it
    from tracker.reports.audit_html import render_audit_html

    html = render_audit_html(run.cohort, suppress_below=suppress_below, generated_on=run.as_of,
                             period=period, grace_days=ctx.pathway.reminder_grace_days)
    if file is not None:
        file.write_text(html, encoding="utf-8")
    return html


def audit_report_body(ctx: Context, run: AuditRun, *, suppress_below: int = 5) -> str:
    """The report's content for a page with its own stylesheet (the web app, whose CSP forbids
    the file's inline CSS)."""
    from tracker.reports.audit_html import render_audit_body  # matplotlib: see above

    return render_audit_body(run.cohort, suppress_below=suppress_below, generated_on=run.as_of,
                             grace_days=ctx.pathway.reminder_grace_days)


def write_event_log_xes(ctx: Context, out: TextIOBase, as_of: date | None = None, identified: bool = False,
                        progress: Callable[[int], None] | None = None) -> int:
    """The event log as IEEE 1849 XES, one trace per patient (every journey replayed on ``as_of``,
    default today); how many traces were written."""
    journeys = audited_journeys(ctx, as_of or ctx.clock.today(), replay=True, progress=progress)
    traces = (JourneyTrace(j.ref, j.timing, j.outcome.steps) for j in journeys if j.outcome is not None)
    return write_xes(out, traces, key=ctx.settings.pseudonym_key,
                     identified=identified)


#: the exports the web app offers, and their media types
EXPORT_KINDS = {"csv": "text/csv", "xes": "application/xml"}


def export(ctx: Context, kind: str) -> tuple[str, str]:
    """(body, media type) of a pseudonymous export of today's cohort: ``csv`` one row per
    deviation, ``xes`` the event log for process mining."""
    if kind not in EXPORT_KINDS:
        raise NotFound(f"No export called {kind!r}; choose one of {', '.join(EXPORT_KINDS)}.")
    buffer = io.StringIO()
    if kind == "xes":
        write_event_log_xes(ctx, buffer)
    else:
        run_audit(ctx, csv=buffer)
    return buffer.getvalue(), EXPORT_KINDS[kind]
