"""The cohort audit over the configured database: every patient streamed once, judged by the same
checks as the patient view (journey.adherence), counted by journey.cohort. Memory stays bounded
at any cohort size: only counters and the current batch are held."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from db.repository import UnitOfWork
from journey.adherence import PatientAdherence, judge
from journey.course import JourneyOutcome, follow_journey
from tracker.reminder_actions import dismissals_for
from tracker.services import Tracker


@dataclass(frozen=True)
class AuditedJourney:
    ref: str
    timing: str
    outcome: JourneyOutcome
    adherence: PatientAdherence


def audited_journeys(tracker: Tracker, as_of: date, detected_from: date | None = None,
                     detected_to: date | None = None,
                     progress: Callable[[int], None] | None = None) -> Iterator[AuditedJourney]:
    """Each patient whose liver metastases were found in the period (all when no period), judged
    on ``as_of``. ``progress`` is told how many patients were read so far."""
    window = tracker.pathway.synchronous_window_days
    with UnitOfWork(tracker.engine) as repo:
        for read, stored in enumerate(repo.stream_patients(), start=1):
            if progress is not None:
                progress(read)
            detected = stored.profile.metastases.detected_on
            if (detected_from and detected < detected_from) or (detected_to and detected > detected_to):
                continue
            outcome = follow_journey(stored.profile, stored.events, as_of, tracker.pathway)
            dismissals = dismissals_for(repo.session, stored.row.id or 0, as_of)
            yield AuditedJourney(stored.row.ref, stored.profile.timing(window).value, outcome,
                                 judge(outcome, dismissals))


def patient_count(tracker: Tracker) -> int:
    with UnitOfWork(tracker.engine) as repo:
        return repo.patient_count()
