"""The fold's memory (issue 17): an entry dated on or after the last one, applied to what the fold
remembered after the last entry, gives what a replay of the whole log gives: the phase, every
reminder, the entry's step and refusal, and the memory after it. Held over generated journeys
with the real-course vocabulary (holds, stages, returns, overrides, same-day entries)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.course import follow_entry, follow_journey, follows_in_order
from journey.scenario import read_scenario
from journey.settings import DEFAULT_SETTINGS
from tests.strategies import journeys


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys(), st.integers(0, 200))
def test_one_step_from_the_memory_equals_a_replay_of_the_log(raw: dict[str, Any], later: int) -> None:
    scenario = read_scenario(raw)
    events = sorted(scenario.events, key=lambda e: e.sort_key)
    as_of = date.fromisoformat(raw["as_of"])
    for cut in range(len(events)):
        log, entry = events[:cut], replace(events[cut], seq=len(events) + 1)
        memory = follow_journey(scenario.profile, log, as_of, DEFAULT_SETTINGS, remember=True).memory
        assert memory is not None
        memory = json.loads(json.dumps(memory))  # as stored: through JSON
        if not follows_in_order(memory, entry):
            continue  # a backdated entry: the service replays the log instead
        stepped = follow_entry(scenario.profile, memory, entry, as_of, DEFAULT_SETTINGS)
        whole = follow_journey(scenario.profile, [*log, entry], as_of, DEFAULT_SETTINGS, remember=True)
        assert stepped.phase is whole.phase
        assert stepped.memory == whole.memory
        if stepped.refusal is not None:
            assert [r.reason for r in whole.refusals if r.seq == entry.seq] == [stepped.refusal.reason]
            assert stepped.changed == []
            continue
        assert stepped.step == whole.step_for(next(e for e in whole.events if e.seq == entry.seq))
        before = {r.key: r for r in follow_journey(scenario.profile, log, as_of).reminders}
        after = {r.key: (r, s) for r, s in whole.reminders_with_status()}
        changed = {r.key: (r, s) for r, s in stepped.changed}
        assert changed == {k: v for k, v in after.items() if before.get(k) != v[0]}


def test_a_backdated_entry_or_other_rules_need_the_whole_log() -> None:
    raw = {"patient": {"ref": "M-1", "primary": {"site": "sigmoid", "diagnosed_on": "2024-01-10"},
                       "metastases": {"detected_on": "2024-12-01", "count": 2, "max_size_mm": 30}},
           "events": [{"date": "2025-01-06", "type": "mdt_review", "resectable": True},
                      {"date": "2025-01-10", "type": "systemic_started", "regimen": "FOLFOX"}]}
    scenario = read_scenario(raw)
    memory = follow_journey(scenario.profile, scenario.events, date(2025, 3, 1), remember=True).memory
    late = replace(scenario.events[0], seq=5)  # dated before the last entry
    on_time = replace(scenario.events[1], seq=5)
    assert not follows_in_order(memory, late) and follows_in_order(memory, on_time)
    assert not follows_in_order({**(memory or {}), "version": "older rules"}, on_time)
    assert not follows_in_order(memory, replace(on_time, seq=1))  # a seq already seen
    assert not follows_in_order(None, on_time)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys())
def test_the_memory_is_what_the_stored_log_alone_implies(raw: dict[str, Any]) -> None:
    """Refused entries are never stored: the memory after a file with refusals (an import) is the
    memory of the accepted entries alone (``journey verify`` replays only those), even when the
    clock moved on the way to a refused entry."""
    scenario = read_scenario(raw)
    as_of = date.fromisoformat(raw["as_of"])
    everything = follow_journey(scenario.profile, scenario.events, as_of, remember=True)
    stored = follow_journey(scenario.profile, everything.events, as_of, remember=True)
    assert everything.memory == stored.memory
