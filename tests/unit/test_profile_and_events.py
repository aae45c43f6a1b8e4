"""The patient profile (contract §1) with derived timing and sidedness, and the event vocabulary."""

from __future__ import annotations

from datetime import date

import pytest

from journey.errors import ImpossibleEntry, InvalidScenario
from journey.events import EVENT_SPECS, ClinicalEvent, EventType, read_event
from journey.profile import (
    LEFT_SIDED_SITES,
    RIGHT_SIDED_SITES,
    Sidedness,
    Timing,
    profile_to_dict,
    read_profile,
)
from journey.scenario import read_scenario
from tests.conftest import ev, patient, scenario


@pytest.mark.parametrize("site", RIGHT_SIDED_SITES)
def test_right_sided_sites(site: str) -> None:
    assert read_profile(patient(primary={"site": site})).sidedness is Sidedness.RIGHT


@pytest.mark.parametrize("site", LEFT_SIDED_SITES)
def test_left_sided_sites(site: str) -> None:
    assert read_profile(patient(primary={"site": site})).sidedness is Sidedness.LEFT


def test_the_sites_are_exactly_those_of_the_contract() -> None:
    assert set(RIGHT_SIDED_SITES) == {"cecum", "ascending", "hepatic_flexure", "transverse"}
    assert set(LEFT_SIDED_SITES) == {"splenic_flexure", "descending", "sigmoid", "rectosigmoid", "rectum"}


@pytest.mark.parametrize("detected,window,timing", [
    ("2024-01-10", 0, Timing.SYNCHRONOUS),  # found with the primary
    ("2023-12-20", 0, Timing.SYNCHRONOUS),  # found before it
    ("2024-01-11", 0, Timing.METACHRONOUS),  # a day later, with no window
    ("2024-04-09", 90, Timing.SYNCHRONOUS),  # inside a 90-day window
    ("2024-04-10", 90, Timing.METACHRONOUS),
])
def test_timing_compares_detection_with_diagnosis_and_the_window(detected: str, window: int,
                                                                 timing: Timing) -> None:
    profile = read_profile(patient(metastases={"detected_on": detected}))
    assert profile.timing(window) is timing


@pytest.mark.parametrize("given,read", [("MSS", "pMMR"), ("pMMR", "pMMR"), ("MSI-H", "dMMR"),
                                        ("dmmr", "dMMR"), ("unknown", "unknown")])
def test_mmr_synonyms_are_accepted(given: str, read: str) -> None:
    assert read_profile(patient(biomarkers={"mmr": given})).biomarkers.mmr == read


@pytest.mark.parametrize("last,relapse,failure", [
    ("2024-03-01", "2025-03-01", True),  # exactly 12 calendar months
    ("2024-03-01", "2025-03-02", False),
    ("2024-02-29", "2025-02-28", True),  # leap-day dose: 12 months later clamps to Feb 28
    (None, "2025-03-02", None),
])
def test_oxaliplatin_failure_within_twelve_calendar_months(last: str | None, relapse: str,
                                                           failure: bool | None) -> None:
    profile = read_profile(patient(prior_oxaliplatin={"last_dose_on": last, "relapsed_on": relapse}))
    assert profile.oxaliplatin_failure_within_12_months is failure


def test_no_prior_oxaliplatin_means_no_failure() -> None:
    assert read_profile(patient()).oxaliplatin_failure_within_12_months is False


def test_the_profile_round_trips_through_the_scenario_format() -> None:
    profile = read_profile(patient(prior_oxaliplatin={"last_dose_on": "2023-01-01",
                                                      "relapsed_on": "2023-06-01"}))
    assert read_profile(profile_to_dict(profile)) == profile


@pytest.mark.parametrize("change,words", [
    ({"primary": {"site": "liver"}}, "primary tumour site"),
    ({"primary": {"diagnosed_on": None}}, "diagnosed is missing"),
    ({"primary": {"resected_on": "2023-01-01"}}, "removed before it was diagnosed"),
    ({"metastases": {"count": 0}}, "between 1 and"),
    ({"metastases": {"max_size_mm": "big"}}, "must be a number"),
    ({"metastases": {"detected_on": "2021-01-01"}}, "more than a year before"),
    ({"ecog": 7}, "between 0 and 4"),
    ({"biomarkers": {"mmr": "weird"}}, "MMR status"),
    ({"ref": ""}, "reference"),
])
def test_an_invalid_profile_is_refused_with_every_problem_named(change: dict, words: str) -> None:
    with pytest.raises(InvalidScenario) as refused:
        read_profile(patient(**change))
    assert words in refused.value.message


@pytest.mark.parametrize("missing", ["count", "max_size_mm"])
def test_a_missing_metastasis_figure_is_called_missing(missing: str) -> None:
    raw = patient()
    del raw["metastases"][missing]
    with pytest.raises(InvalidScenario) as refused:
        read_profile(raw)
    assert "None" not in refused.value.message and "missing" in refused.value.message


def test_several_problems_are_reported_together() -> None:
    with pytest.raises(InvalidScenario) as refused:
        read_profile(patient(ecog=9, metastases={"count": -1}))
    assert "ECOG" in refused.value.message and "number of liver metastases" in refused.value.message


# ---------------------------------------------------------------------------------------------
# Events

def test_every_event_type_of_the_contract_is_known() -> None:
    assert {t.value for t in EventType} == {
        "mdt_review", "systemic_started", "systemic_stopped", "reassessment", "radiotherapy",
        "surgery", "recurrence", "progression", "death", "transfer", "lost_to_follow_up",
        # contract 1.1
        "systemic_paused", "systemic_resumed", "returned"}
    assert set(EVENT_SPECS) == set(EventType)


def test_an_event_is_read_with_its_fields_normalised() -> None:
    read = read_event({"date": "2025-02-01", "type": "reassessment", "response": "pr",
                       "resectable": "yes", "note": "  CT and MRI  "}, seq=3)
    assert read == ClinicalEvent(EventType.REASSESSMENT, date(2025, 2, 1),
                                 {"response": "PR", "resectable": True}, None, "CT and MRI", 3)
    assert read.to_dict() == {"date": "2025-02-01", "type": "reassessment", "response": "PR",
                              "resectable": True, "note": "CT and MRI"}


@pytest.mark.parametrize("entry,words", [
    ({"date": "2025-02-01", "type": "scan"}, "not something the tracker can record"),
    ({"type": "progression"}, "has no date"),
    ({"date": "2025-13-01", "type": "progression"}, "not a date on the calendar"),
    ({"date": "2025-02-30", "type": "progression"}, "not a date on the calendar"),
    ({"date": "1/2/2025", "type": "progression"}, "YYYY-MM-DD"),
    ({"date": "2025-02-01", "type": "mdt_review"}, "needs its resectable"),
    ({"date": "2025-02-01", "type": "mdt_review", "resectable": True, "plan": "wait"}, "plan must be one of"),
    ({"date": "2025-02-01", "type": "progression", "site": "liver_only"}, "has no field site"),
    ({"date": "2025-02-01", "type": "progression", "note": "a\x00b"}, "control characters"),
])
def test_an_entry_that_cannot_be_read_is_impossible(entry: dict, words: str) -> None:
    with pytest.raises(ImpossibleEntry) as refused:
        read_event(entry)
    assert words in refused.value.message


def test_the_scenario_keeps_unreadable_entries_as_refusals_with_their_file_index() -> None:
    sc = read_scenario(scenario(ev("mdt_review", "2025-01-06", resectable=True),
                                ev("scan_booked", "2025-01-07"),
                                ev("systemic_started", "2025-01-10", regimen="FOLFOX")))
    assert [e.seq for e in sc.events] == [0, 2]
    [refusal] = sc.unreadable
    assert (refusal.seq, refusal.type, refusal.impossible) == (1, "scan_booked", True)
    assert refusal.to_dict() == {"index": 1, "type": "scan_booked", "reason": refusal.reason}


@pytest.mark.parametrize("raw,words", [
    ([], "must have a 'patient'"),
    ({"events": []}, "no 'patient'"),
    ({"patient": {}, "extra": 1}, "sections the tracker does not know"),
    ({**scenario(), "events": {"a": 1}}, "must be a list"),
    ({**scenario(), "as_of": "soon"}, "as_of"),
])
def test_a_scenario_of_the_wrong_shape_is_invalid(raw: object, words: str) -> None:
    with pytest.raises(InvalidScenario) as refused:
        read_scenario(raw)
    assert words in refused.value.message


def test_a_contract_example_with_its_expectations_beside_it_is_read() -> None:
    sc = read_scenario({"scenario": scenario(as_of="2025-03-01"), "expect": {"state": "assessment"}})
    assert sc.as_of == date(2025, 3, 1)
