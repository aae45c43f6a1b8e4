"""The clinical settings the pathway rules use. Plain values: the composition root reads them
from the environment (``tracker.settings``) and passes them in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PathwaySettings:
    #: metastases found up to this many days after the primary's diagnosis count as synchronous
    #: (0 = present when the primary is diagnosed; 2023 European expert consensus)
    synchronous_window_days: int = 0
    #: a reminder stays ``due`` this many days after its due date, then it is ``overdue``
    reminder_grace_days: int = 14
    #: total perioperative chemotherapy target (6 months, seed:5 and seed:14)
    total_chemo_target_days: int = 183
    #: how far the total may be from the target before the audit counts a deviation
    total_chemo_tolerance_days: int = 30
    #: after an R1 liver resection, post-operative therapy should start within this many weeks
    r1_chemo_window_weeks: int = 12
    #: after a recurrence, an MDT review should follow within this many days
    recurrence_mdt_days: int = 30
    #: months between resectability reassessments on pre-operative therapy (seed:13)
    reassessment_interval_months: int = 2
    #: a held line of therapy is reviewed this many days after the pause (contract §7.4)
    hold_review_days: int = 42
    #: the second stage of a two-stage liver operation is due this many weeks after the first
    #: (contract §7.6; the time the remnant liver needs to grow)
    second_stage_weeks: int = 8


DEFAULT_SETTINGS = PathwaySettings()
