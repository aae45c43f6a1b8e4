"""Contract 1.1 (§7) through the FHIR round trip and the Tracker: holds and resumptions, two-stage
surgery and portal vein embolisation, R2 margins, leaving and coming back, and the reminders they
open (hold_review, second_stage_due, mdt_after_r2) as Tasks named by the entry that opened them.
The mapping of this vocabulary is also tested on plain values in test_mapping.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from journey.scenario import read_scenario
from tests.conftest import ev, scenario
from tests.fhir.conftest import replay_of

COURSES: dict[str, list[dict[str, Any]]] = {
    "held, resumed on another regimen, stopped for surgery": [
        ev("mdt_review", "2025-01-06", resectable=True, plan="perioperative"),
        ev("systemic_started", "2025-01-10", regimen="FOLFOX"),
        ev("systemic_paused", "2025-02-10", reason="toxicity", note="neuropathy grade 3"),
        ev("systemic_resumed", "2025-03-01", regimen="OTHER"),
        ev("reassessment", "2025-03-10", response="PR", resectable=True),
        ev("systemic_stopped", "2025-04-20", reason="surgery"),
        ev("surgery", "2025-05-10", procedure="liver_resection", margin="R0")],
    "two-stage hepatectomy with portal vein embolisation": [
        ev("mdt_review", "2025-01-06", resectable=True, plan="liver_first"),
        ev("surgery", "2025-01-20", procedure="liver_resection", margin="R0", stage=1),
        ev("surgery", "2025-02-01", procedure="portal_vein_embolisation"),
        ev("surgery", "2025-03-20", procedure="liver_resection", margin="R1", stage=2)],
    "an R2 resection and the MDT after it": [
        ev("mdt_review", "2025-01-06", resectable=True, plan="upfront_surgery"),
        ev("surgery", "2025-01-20", procedure="liver_resection", margin="R2"),
        ev("mdt_review", "2025-02-10", resectable=False, plan="salvage")],
    "transferred, then back": [
        ev("mdt_review", "2025-01-06", resectable=True, plan="perioperative"),
        ev("transfer", "2025-02-01"),
        ev("returned", "2025-06-01"),
        ev("mdt_review", "2025-06-10", resectable=False, plan="surveillance")],
}


def recorded(tracker: Any, events: list[dict[str, Any]], ref: str = "T-0001") -> str:
    report = tracker.import_scenario(read_scenario(scenario(*copy.deepcopy(events), ref=ref)), actor="test")
    assert report.refused == [], report.refused
    return report.ref


@pytest.mark.parametrize("course", list(COURSES))
def test_a_contract_1_1_course_round_trips_through_an_empty_database(two_trackers, course):
    source, target = two_trackers
    ref = recorded(source, COURSES[course])
    first = source.fhir_bundle(ref)
    (outcome,) = target.import_fhir([first], actor="test").patients
    assert outcome.status == "imported" and outcome.refused_entries == [], outcome.message
    assert target.fhir_bundle(ref) == first
    assert replay_of(target, ref) == replay_of(source, ref)


def tasks_of(tracker: Any, ref: str) -> dict[str, dict[str, Any]]:
    bundle = tracker.fhir_bundle(ref)
    return {e["resource"]["code"]["coding"][0]["code"]: e["resource"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == "Task"}


def test_a_held_line_is_on_hold_and_its_hold_review_is_a_task_due_42_days_after_the_pause(tracker):
    ref = recorded(tracker, [ev("mdt_review", "2025-11-01", resectable=True, plan="perioperative"),
                             ev("systemic_started", "2025-11-10", regimen="FOLFOX"),
                             ev("systemic_paused", "2025-12-20", reason="toxicity")])
    bundle = tracker.fhir_bundle(ref)
    (line,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationRequest"]
    assert line["status"] == "on-hold"
    assert tasks_of(tracker, ref)["hold_review"]["restriction"]["period"]["end"] == "2026-01-31"


def test_second_stage_due_and_mdt_after_r2_are_tasks(tracker):
    staged = recorded(tracker, [
        ev("mdt_review", "2025-10-01", resectable=True, plan="liver_first"),
        ev("surgery", "2025-11-20", procedure="liver_resection", margin="R0", stage=1)], ref="T-STAGED")
    assert tasks_of(tracker, staged)["second_stage_due"]["restriction"]["period"]["end"] == "2026-01-15"
    r2 = recorded(tracker, [
        ev("mdt_review", "2025-12-01", resectable=True, plan="upfront_surgery"),
        ev("surgery", "2025-12-20", procedure="liver_resection", margin="R2")], ref="T-R2")
    assert tasks_of(tracker, r2)["mdt_after_r2"]["restriction"]["period"]["end"] == "2026-01-19"
