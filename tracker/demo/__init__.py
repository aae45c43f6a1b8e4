"""The synthetic cohort: the generator (cohort) and the two ways it is written (loading)."""

from tracker.demo.cohort import (
    BRANCH_WEIGHTS,
    BRANCHES,
    MAX_EVENTS,
    MIN_EVENTS,
    Synthetic,
    generate_cohort,
    generate_one,
)
from tracker.demo.loading import LoadReport, bulk_generate, bulk_load, import_cohort, rows_for

__all__ = ["BRANCHES", "BRANCH_WEIGHTS", "MAX_EVENTS", "MIN_EVENTS", "LoadReport", "Synthetic",
           "bulk_generate", "bulk_load", "generate_cohort", "generate_one", "import_cohort", "rows_for"]
