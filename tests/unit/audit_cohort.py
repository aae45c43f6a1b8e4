"""A small cohort of judged journeys for the cohort, report and export tests (no database)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from journey.adherence import PatientAdherence, judge
from journey.course import JourneyOutcome, follow_journey
from journey.events import read_event
from journey.profile import read_profile

METACHRONOUS: dict[str, Any] = {
    "ecog": 1,
    "primary": {"site": "sigmoid", "diagnosed_on": "2023-01-10", "symptoms": [], "resected_on": "2023-01-30"},
    "metastases": {"detected_on": "2025-01-06", "count": 3, "max_size_mm": 30, "extrahepatic": False},
    "biomarkers": {"mmr": "pMMR", "ras": "wild_type", "braf": "wild_type"},
}
SYNCHRONOUS: dict[str, Any] = {
    **copy.deepcopy(METACHRONOUS),
    "primary": {"site": "rectum", "diagnosed_on": "2025-01-06", "symptoms": [], "resected_on": None},
}

#: journeys of different shapes; day strings are relative to 2025
ON_TIME = [
    {"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "perioperative",
     "pelvic_rt_indicated": False},
    {"date": "2025-02-03", "type": "systemic_started", "regimen": "FOLFOX"},
    {"date": "2025-03-30", "type": "reassessment", "response": "PR", "resectable": True},
    {"date": "2025-05-05", "type": "systemic_stopped", "reason": "surgery"},
    {"date": "2025-05-20", "type": "surgery", "procedure": "liver_resection", "margin": "R0"},
    {"date": "2025-06-16", "type": "systemic_started", "regimen": "FOLFOX"},
    {"date": "2025-09-16", "type": "systemic_stopped", "reason": "completed"},
]
LATE_AND_SHORT = [
    {"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "perioperative"},
    {"date": "2025-02-03", "type": "systemic_started", "regimen": "FOLFOX"},
    {"date": "2025-04-25", "type": "reassessment", "response": "PR", "resectable": True},
    {"date": "2025-05-05", "type": "systemic_stopped", "reason": "surgery"},
    {"date": "2025-05-20", "type": "surgery", "procedure": "liver_resection", "margin": "R1"},
    {"date": "2025-06-16", "type": "systemic_started", "regimen": "FOLFOX"},
    {"date": "2025-07-01", "type": "systemic_stopped", "reason": "toxicity"},
    {"date": "2025-10-01", "type": "recurrence", "site": "liver_only"},
]
OVERRIDDEN = [
    {"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "perioperative"},
    {"date": "2025-02-03", "type": "systemic_started", "regimen": "FOLFOX"},
    {"date": "2025-03-20", "type": "reassessment", "response": "PD", "resectable": False},
    {"date": "2025-04-20", "type": "surgery", "procedure": "liver_resection", "margin": "R0",
     "override": "MDT: oligoprogression, Dr Example"},
]
SHAPES = (ON_TIME, LATE_AND_SHORT, OVERRIDDEN)
AS_OF = date(2025, 12, 31)


@dataclass
class Judged:
    ref: str
    timing: str
    outcome: JourneyOutcome
    adherence: PatientAdherence


def judged_cohort(per_shape_and_timing: int = 2) -> list[Judged]:
    out: list[Judged] = []
    n = 0
    for timing, patient in (("synchronous", SYNCHRONOUS), ("metachronous", METACHRONOUS)):
        for shape in SHAPES:
            for _ in range(per_shape_and_timing):
                n += 1
                profile = read_profile({**copy.deepcopy(patient), "ref": f"PT-{n:03d}"})
                events = [read_event(e, seq=i) for i, e in enumerate(shape)]
                outcome = follow_journey(profile, events, AS_OF)
                assert not outcome.refusals, outcome.refusals
                assert outcome.profile.timing().value == timing
                out.append(Judged(profile.ref, timing, outcome, judge(outcome)))
    return out
