"""The stored state after ``journey import`` equals the replay (issue 12), for generated real
courses on a real SQLite database: the phase, every reminder (identity, dates, status, the entry
that closed it), the refusals; and ``journey verify`` finds nothing to say."""

from __future__ import annotations

import tempfile
from datetime import date
from itertools import count
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings

from journey.course import follow_journey
from journey.scenario import read_scenario
from tests.conftest import as_seen, seen_key
from tests.strategies import journeys
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.settings import Settings

FOLDER = tempfile.TemporaryDirectory(prefix="journey-import-replay-")
REFS = count(1)


def _tracker(as_of: date) -> Any:
    url = f"sqlite:///{Path(FOLDER.name) / 'journey.sqlite'}"
    return build_tracker(Settings(database_url=url), clock=FixedClock(as_of))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys())
def test_the_stored_journey_after_import_is_the_replay(raw: dict[str, Any]) -> None:
    ref = f"GEN-{next(REFS):05d}"
    raw = {**raw, "patient": {**raw["patient"], "ref": ref}}
    scenario = read_scenario(raw)
    as_of = date.fromisoformat(raw["as_of"])
    tracker = _tracker(as_of)
    report = tracker.import_scenario(scenario, actor="test", source="generated")
    replayed = follow_journey(scenario.profile, scenario.events, as_of, tracker.pathway)
    assert sorted(r.seq for r in report.refused) == sorted(r.seq for r in replayed.refusals)
    view = tracker.patient_view(ref, as_of)
    assert view.row.phase == replayed.phase.value
    assert as_seen(view.outcome)[:3] == as_seen(replayed)[:3]
    stored = sorted(((r.kind, r.due_on, r.resolved_on, r.cancelled_on, r.status)
                     for r in view.reminder_rows), key=seen_key)
    implied = sorted(((r.kind.value, r.due_on, r.resolved_on, r.cancelled_on, s.value)
                      for r, s in replayed.reminders_with_status()), key=seen_key)
    assert stored == implied
    problems = [p for p in tracker.verify() if p.startswith(f"{ref}:")]
    assert problems == []
