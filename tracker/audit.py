"""The cohort audit over the configured database: every patient judged by the same checks as the
patient view (journey.adherence), counted by journey.cohort. Memory stays bounded at any cohort
size: only counters and the current batch are held.

**The day's verdicts.** Judging a journey means replaying its log (the fold) and running the
checks: ~0.6 ms a patient, a minute per 100,000. So each verdict is kept (``audit_entry``): the
patient's eligible checks, deviations and summary numbers, with the day judged, the basis (ruleset
and pathway settings) and the patient's version. An audit of the same day reads the verdicts that
are still current and judges only the patients whose record changed since (a new entry, a sweep,
a dismissal deletes the verdict); the scheduler's nightly job judges everyone for the new day
before anyone asks (tracker.scheduler). A verdict is derived data, never a record: deleting every
entry changes no audit figure, only how long the next audit takes (tests/integration/test_audit_entries.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from db.repository import StoredJourney, UnitOfWork
from db.tables import AuditEntryRow, PatientRow
from journey.adherence import RULESET_VERSION, Deviation, PatientAdherence, ReminderDismissal, judge
from journey.cohort import CohortAudit, JourneySummary, summarize
from journey.course import JourneyOutcome, follow_journey
from tracker.reminder_actions import dismissals_of
from tracker.services import Tracker

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


#: the layout of a stored verdict (verdict_values); a new layout makes every verdict stale
VERDICT_FORMAT = 4


def audit_basis(tracker: Tracker) -> str:
    """What a verdict depends on besides the record and the day: the ruleset, the settings and
    the stored layout."""
    settings = repr(sorted(asdict(tracker.pathway).items()))
    return f"{RULESET_VERSION}|{hashlib.sha256(settings.encode()).hexdigest()[:16]}|{VERDICT_FORMAT}"


# -- a verdict as stored --------------------------------------------------------------------------
# The eligible checks and the deviation flags are short strings (a few dozen distinct values over
# a whole cohort, each parsed once); the summary numbers a small JSON list; the deviations in full
# JSON, read only when an export needs them.

def verdict_values(adherence: PatientAdherence, summary: JourneySummary) -> dict[str, Any]:
    return {"eligible": ",".join(sorted(adherence.eligible)),
            "tally": ",".join(f"{d.check}:{int(d.justified)}" for d in adherence.deviations),
            "summary": json.dumps(summary.as_list()),
            "deviations": [[d.check, d.date.isoformat(), d.detail, d.justified, d.justification,
                            d.ruleset_version, d.seed] for d in adherence.deviations]}


@functools.lru_cache(maxsize=4096)
def _eligible_set(joined: str) -> frozenset[str]:
    return frozenset(joined.split(",")) if joined else frozenset()


@functools.lru_cache(maxsize=4096)
def _flags(tally: str) -> tuple[tuple[str, bool], ...]:
    return tuple((check, flag == "1") for check, flag in (item.split(":") for item in tally.split(",")
                                                          if item))


def _summary(text: str) -> JourneySummary:
    return JourneySummary.from_list(json.loads(text))


def _deviations(document: list[Any]) -> list[Deviation]:
    return [Deviation(check, date.fromisoformat(day), detail, justified, justification, ruleset, seed)
            for check, day, detail, justified, justification, ruleset, seed in document]


# -- judging ----------------------------------------------------------------------------------------

def audited_journeys(tracker: Tracker, as_of: date, detected_from: date | None = None,
                     detected_to: date | None = None,
                     progress: Callable[[int], None] | None = None,
                     replay: bool = False, keep: bool | None = None,
                     details: bool = True) -> Iterator[AuditedJourney]:
    """Each patient whose liver metastases were found in the period (all when no period), judged
    on ``as_of``, in id order. The day's current verdicts are read back unless ``replay`` (which
    also yields the replayed outcome, for the XES export); new verdicts are kept when ``keep``
    (by default when ``as_of`` is today: a verdict on another day is computed and left). Without
    ``details`` a verdict read back carries what the counters need, not the deviations in full.
    ``progress`` is told how many patients were read so far."""
    keep = (as_of == tracker.clock.today()) if keep is None else keep
    basis = audit_basis(tracker)
    entry = AuditEntryRow
    columns = [PatientRow.id, PatientRow.ref, PatientRow.timing, PatientRow.version, entry.as_of,
               entry.basis, entry.patient_version, entry.detected_on, entry.eligible, entry.tally,
               entry.summary, *([entry.deviations] if details else [])]
    read, last_id = 0, 0
    while True:
        with UnitOfWork(tracker.engine) as repo:
            batch = repo.session.connection().execute(  # Core rows: no ORM loading
                select(*columns)  # type: ignore[call-overload]
                .outerjoin(entry, col(entry.patient_id) == PatientRow.id)
                .where(col(PatientRow.id) > last_id).order_by(col(PatientRow.id)).limit(BATCH)).all()
            if not batch:
                return
            stale = [p.id for p in batch if replay or (p.as_of, p.basis, p.patient_version)
                     != (as_of, basis, p.version)]
            journeys = repo.journeys_of(stale) if stale else []
            dismissals = dismissals_of(repo.session, stale, as_of) if stale else {}
        # judged outside the transaction: on SQLite it holds the writer lock, and replaying a
        # thousand journeys takes about a second that nobody's entry should wait for
        judged = _judge(tracker, journeys, dismissals, as_of)
        if keep and judged:
            _keep(tracker, judged, as_of, basis)
        for p in batch:
            read += 1
            if progress is not None:
                progress(read)
            if p.id in judged:
                stored, journey = judged[p.id]
                detected = stored.profile.metastases.detected_on
            else:
                adherence = None
                eligible = _eligible_set(p.eligible)
                if details:
                    adherence = PatientAdherence(eligible, _deviations(p.deviations))
                journey = AuditedJourney(p.ref, p.timing, eligible, _flags(p.tally), _summary(p.summary),
                                         adherence)
                detected = p.detected_on
            if (detected_from and detected < detected_from) or (detected_to and detected > detected_to):
                continue
            yield journey
        last_id = batch[-1].id


def _judge(tracker: Tracker, journeys: Sequence[StoredJourney],
           dismissals: dict[int, list[ReminderDismissal]],
           as_of: date) -> dict[int, tuple[StoredJourney, AuditedJourney]]:
    judged = {}
    for stored in journeys:
        outcome = follow_journey(stored.profile, stored.events, as_of, tracker.pathway)
        adherence = judge(outcome, dismissals[stored.row.id or 0])
        judged[stored.row.id or 0] = (stored, AuditedJourney(
            stored.row.ref, stored.row.timing, adherence.eligible, adherence.flags, summarize(outcome),
            adherence, outcome))
    return judged


def _keep(tracker: Tracker, judged: dict[int, tuple[StoredJourney, AuditedJourney]], as_of: date,
          basis: str) -> None:
    """Store the new verdicts (replacing older ones) in one short write transaction."""
    now = tracker.clock.now()
    assert all(journey.adherence is not None for _, journey in judged.values())
    rows = [{"patient_id": pid, "as_of": as_of, "basis": basis, "patient_version": stored.row.version,
             "timing": journey.timing, "detected_on": stored.profile.metastases.detected_on,
             "computed_at": now, **verdict_values(journey.adherence, journey.summary)}  # type: ignore[arg-type]
            for pid, (stored, journey) in judged.items()]
    table = AuditEntryRow.__table__  # type: ignore[attr-defined]
    with UnitOfWork(tracker.engine) as repo:
        repo.session.execute(delete(table).where(table.c.patient_id.in_(list(judged))))
        repo.session.execute(table.insert(), rows)


def refresh_verdicts(tracker: Tracker, as_of: date | None = None,
                     progress: Callable[[int], None] | None = None) -> int:
    """Judge every patient whose verdict for ``as_of`` (default today) is missing or stale and keep
    the verdicts: the nightly job, so that the day's audits read instead of replaying."""
    day = as_of or tracker.clock.today()
    return sum(1 for _ in audited_journeys(tracker, day, progress=progress, keep=True))


def patient_count(tracker: Tracker) -> int:
    with UnitOfWork(tracker.engine) as repo:
        return repo.patient_count()
