"""A clinic recording as fast as it can, for the crash test: ``python -m tests.production.recorder
URL PATIENTS``. Registers patients and records their journeys one event at a time through
Tracker.record_event, printing a line for each acknowledged write (``patient REF`` and
``event REF SEQ TYPE``) only after the service returned, i.e. after the commit."""

from __future__ import annotations

import sys
from datetime import date

from tests.conftest import PERIOP_START, ev, patient
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.settings import Settings

JOURNEY = (*PERIOP_START,
           ev("reassessment", "2025-03-05", response="SD", resectable=False),
           ev("reassessment", "2025-05-06", response="PR", resectable=True),
           ev("systemic_stopped", "2025-05-20", reason="surgery"),
           ev("surgery", "2025-06-10", procedure="liver_resection", margin="R0"),
           ev("systemic_started", "2025-07-14", regimen="FOLFOX"))


def main(url: str, patients: int) -> None:
    tracker = build_tracker(Settings(database_url=url), clock=FixedClock(date(2026, 1, 15)))
    for i in range(patients):
        ref = f"CRASH-{i:04d}"
        tracker.register_patient(patient(ref=ref))
        print(f"patient {ref}", flush=True)
        for entry in JOURNEY:
            result = tracker.record_event(ref, entry, actor="crash-test")
            print(f"event {ref} {result.row.seq} {entry['type']}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
