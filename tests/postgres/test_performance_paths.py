"""The paths made fast for cohort scale behave the same on SQLite and on PostgreSQL: the day's
audit verdicts are kept and read back with the same figures, and the sweep (row locks, one
statement per table) brings a generated cohort to what a full replay gives."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from journey.cohort import CohortAudit
from tests.postgres.conftest import TODAY
from tracker.application.audit import audited_journeys
from tracker.application.sweep import sweep
from tracker.demo import bulk_generate


def cohort_figures(tracker: Any, replay: bool = False) -> tuple[dict[str, Any], int]:
    cohort, replayed = CohortAudit(), 0
    for journey in audited_journeys(tracker, tracker.clock.today(), replay=replay):
        cohort.add_tally(journey.timing, journey.eligible, journey.flags, journey.summary)
        replayed += journey.outcome is not None
    return cohort.summary(suppress_below=1), replayed


def test_verdicts_kept_and_read_back_and_a_sweep_that_equals_the_fold(make_clinic: Any) -> None:
    clinic = make_clinic()
    bulk_generate(clinic.engine, 60, seed=8, as_of=TODAY, now=clinic.clock.now(), batch=25)
    first, replayed_first = cohort_figures(clinic)
    second, replayed_second = cohort_figures(clinic)
    assert (replayed_first, replayed_second) == (60, 0)
    assert first == second == cohort_figures(clinic, replay=True)[0]

    later = make_clinic(TODAY + timedelta(days=30))
    report = sweep(later)
    assert report.patients > 0 and report.busy == []
    for index in range(60):
        view = later.patient_view(f"SYN-{index:07d}")  # the fold on the day, beside the stored row
        assert view.row.phase == view.outcome.phase.value, view.row.ref
