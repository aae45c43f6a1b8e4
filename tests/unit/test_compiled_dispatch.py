"""The compiled dispatch (``journey.pathway.take_step``) and the ``transitions`` machine built from
the same table (``machine_step``) agree: on every row, from every phase, on the ordinary path and
the override path, and over whole generated journeys (issue 17). The machine stays the truth the
pathway is drawn and documented from; the fold uses the compiled reading because it is faster."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import journey.course
from journey.pathway import PATHWAY, Journey, Phase, machine_step, take_step
from tests.conftest import as_seen
from tests.strategies import journeys
from tests.unit.test_invariants import replay
from tests.unit.test_pathway import CASES, COURSES, Case, journey_in


@pytest.mark.parametrize("override", [False, True])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_compiled_table_and_the_machine_take_the_same_step(case: Case, override: bool) -> None:
    by_machine, compiled = journey_in(case), journey_in(case)
    moved = machine_step(by_machine, case.trigger, case.event, override=override)
    assert take_step(compiled, case.trigger, case.event, override=override) is moved
    assert compiled.phase is by_machine.phase
    assert compiled.course == by_machine.course  # guards change nothing


@pytest.mark.parametrize("course", sorted(COURSES))
@pytest.mark.parametrize("phase", list(Phase))
def test_every_trigger_of_the_table_from_every_phase_and_course_agrees(phase: Phase, course: str) -> None:
    """Beyond the hand-written cases: each row's trigger with each row's kind of event."""
    events = {row.trigger: [] for row in PATHWAY}
    for case in CASES:
        if case.event is not None:
            events[case.trigger].append(case.event)
    for trigger, candidates in events.items():
        for event in candidates or [None]:
            for override in (False, True):
                by_machine = Journey(phase, COURSES[course]())
                compiled = Journey(phase, COURSES[course]())
                assert take_step(compiled, trigger, event, override) is \
                    machine_step(by_machine, trigger, event, override)
                assert compiled.phase is by_machine.phase


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys())
def test_a_whole_journey_folds_the_same_through_the_machine(raw: dict[str, Any]) -> None:
    compiled = replay(raw)
    original = journey.course.take_step
    journey.course.take_step = machine_step  # the fold's dispatch, through transitions
    try:
        by_machine = replay(raw)
    finally:
        journey.course.take_step = original
    assert as_seen(by_machine) == as_seen(compiled)
    assert by_machine.course == compiled.course
    assert by_machine.as_of == compiled.as_of == date.fromisoformat(raw["as_of"])
