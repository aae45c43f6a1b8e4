"""FHIR export and import through the services, on real SQLite databases: the round trip over
the demo cohort, idempotence, contradictions, whole refusals, reminders as Tasks."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from journey.errors import NotFound
from tests.conftest import PERIOP_START, ev, scenario
from tests.fhir.conftest import TODAY, load, replay_of, without_volatile
from tracker.application import FhirContradicts, FhirRefused, load_fhir_documents, pseudonym
from tracker.application.reminders import dismiss, snooze
from tracker.demo import generate_cohort, import_cohort
from tracker.fhir import codes as c
from tracker.fhir.conformance import profile_problems
from tracker.fhir.imports import NOT_OURS


def resources_of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def state_of(tracker: Any, ref: str) -> tuple[Any, ...]:
    view = tracker.patient_view(ref, TODAY)
    return (view.row.version, view.row.phase, len(view.event_rows),
            [(r.kind, r.anchor_on, r.due_on, r.resolved_on, r.cancelled_on) for r in view.reminder_rows])


@pytest.mark.parametrize("seed", [1, 5])
def test_a_cohort_exported_then_imported_into_an_empty_database_exports_the_same_and_replays_the_same(
        two_trackers, seed):
    source, target = two_trackers
    cohort = list(generate_cohort(30, seed, TODAY))
    import_cohort(source, cohort)
    for synthetic in cohort:
        first = source.fhir_bundle(synthetic.ref)
        report = target.import_fhir([first], actor="test")
        (imported,) = report.patients
        assert imported.status == "imported", imported.message
        assert imported.refused_entries == [] and imported.read.unmapped == [] and report.unmapped == []
        second = target.fhir_bundle(synthetic.ref)
        assert without_volatile(second) == without_volatile(first), synthetic.branch
        assert second == first  # ids are the keyed pseudonym's: the same site key gives the same ids
        assert replay_of(target, synthetic.ref) == replay_of(source, synthetic.ref)


def test_the_cohort_as_bulk_ndjson_round_trips_file_for_file(two_trackers, tmp_path: Path):
    source, target = two_trackers
    cohort = list(generate_cohort(25, 3, TODAY))
    import_cohort(source, cohort)
    seen: list[int] = []
    counts = source.export_fhir_ndjson(tmp_path / "out", progress=seen.append)
    assert seen == list(range(1, 26)) and counts["Patient"] == 25
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == [f"{kind}.ndjson" for kind in counts]
    for name in files:
        for line in (tmp_path / "out" / name).read_text().splitlines():
            assert json.loads(line)["resourceType"] == name.removesuffix(".ndjson")
    report = target.import_fhir(load_fhir_documents(tmp_path / "out"), actor="test")
    assert [p.status for p in report.patients] == ["imported"] * 25
    target.export_fhir_ndjson(tmp_path / "again")
    for name in files:
        assert (tmp_path / "again" / name).read_text() == (tmp_path / "out" / name).read_text(), name
    for synthetic in cohort:
        assert replay_of(target, synthetic.ref) == replay_of(source, synthetic.ref)


def test_importing_the_same_bundle_twice_changes_nothing(two_trackers):
    source, target = two_trackers
    (ref,) = load(source, [scenario(*PERIOP_START, ev("reassessment", "2025-03-05", response="PR",
                                                       resectable=True, note="liver MRI"))])
    bundle = source.fhir_bundle(ref)
    target.import_fhir([bundle], actor="test")
    before = state_of(target, ref)
    again = target.import_fhir([copy.deepcopy(bundle)], actor="test")
    assert again.patients[0].message == (f"{ref}: already registered, 0 event(s) added, 3 already recorded "
                                         f"(left as they were).")
    assert state_of(target, ref) == before


def test_data_contradicting_the_record_is_refused_with_both_values_and_nothing_changes(two_trackers):
    source, target = two_trackers
    (ref,) = load(source, [scenario(*PERIOP_START, ev("reassessment", "2025-03-05", response="PR",
                                                       resectable=True))])
    bundle = source.fhir_bundle(ref)
    target.import_fhir([bundle], actor="test")
    before = state_of(target, ref)
    changed = copy.deepcopy(bundle)
    for r in (e["resource"] for e in changed["entry"]):
        if r["id"].endswith("-ecog"):
            r["valueInteger"] = 3
        if r["id"].endswith("-entry-3"):
            r["component"][0]["valueCodeableConcept"] = {"coding": [c.RECIST["SD"].coding()]}
    report = target.import_fhir([changed], actor="test")
    (outcome,) = report.patients
    assert outcome.status == "contradicts"
    assert "ecog: recorded 1, in the input 3" in outcome.message
    assert ("entry 3 of the log: recorded reassessment of 2025-03-05 (response PR, resectable True), in the "
            "input reassessment of 2025-03-05 (response SD, resectable True)") in outcome.message
    with pytest.raises(FhirContradicts):
        report.raise_if_nothing_recorded()
    assert state_of(target, ref) == before


def breast_cancer(bundle: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    for r in resources_of(out, "Condition"):
        if r["id"].endswith("-primary"):
            r["code"] = {"coding": [{"system": c.ICD10CM, "code": "C50.912", "display":
                                     "Malignant neoplasm of unspecified site of left female breast"}]}
            r.pop("bodySite")
    return out


def test_a_patient_who_is_not_a_colorectal_cancer_is_refused_whole_and_a_second_in_the_same_file_is_recorded(
        two_trackers, tmp_path: Path):
    source, target = two_trackers
    refs = load(source, [scenario(*PERIOP_START, ref="P-BREAST"), scenario(*PERIOP_START, ref="P-COLON")])
    breast = breast_cancer(source.fhir_bundle(refs[0]))
    colon = source.fhir_bundle(refs[1])
    lines = [json.dumps(e["resource"]) for b in (breast, colon) for e in b["entry"]]
    (tmp_path / "both.ndjson").write_text("\n".join(lines) + "\n")
    report = target.import_fhir(load_fhir_documents(tmp_path / "both.ndjson"), actor="test")
    assert [p.status for p in report.patients] == ["refused", "imported"]
    assert report.patients[0].message.endswith(f"is a breast cancer: {NOT_OURS}.")
    with pytest.raises(NotFound):
        target.patient_view("P-BREAST")
    assert state_of(target, "P-COLON")[2] == 2
    only_breast = target.import_fhir([breast], actor="test")
    with pytest.raises(FhirRefused, match=f"is a breast cancer: {NOT_OURS}"):
        only_breast.raise_if_nothing_recorded()


def test_an_entry_the_pathway_refuses_is_listed_with_the_resource_it_came_from(two_trackers):
    source, target = two_trackers
    (ref,) = load(source, [scenario(*PERIOP_START)])
    bundle = source.fhir_bundle(ref)
    for r in resources_of(bundle, "MedicationRequest"):
        r["authoredOn"] = "2023-05-01"  # before the primary was diagnosed (2024-01-10)
    report = target.import_fhir([bundle], actor="test")
    (outcome,) = report.patients
    assert outcome.status == "imported" and outcome.report.added == 1
    (line,) = outcome.refused_entries
    key = pseudonym(ref, source.settings.pseudonym_key)
    assert line.startswith(f"MedicationRequest/{key}-entry-2 (systemic_started): ")
    assert "before the primary tumour was diagnosed" in line


def test_a_navigators_reassessment_appears_as_a_cancer_disease_status_in_the_bundle(tracker):
    load(tracker, [scenario(*PERIOP_START)])
    tracker.record_event("T-0001", {"date": "2025-03-05", "type": "reassessment", "response": "SD",
                                    "resectable": False}, actor="web:navigator1")
    statuses = [r for r in resources_of(tracker.fhir_bundle("T-0001"), "Observation")
                if c.PROFILE["disease_status"] in r["meta"]["profile"]]
    (status,) = statuses
    assert status["code"]["coding"][0]["code"] == "97509-4"
    assert status["code"]["coding"][0]["system"] == "http://loinc.org"
    assert status["effectiveDateTime"] == "2025-03-05"
    assert status["valueCodeableConcept"]["coding"][0] == c.STABLE.coding()


def test_open_reminders_are_tasks_and_a_snooze_or_dismissal_gives_their_status_and_reason(make_tracker):
    tracker = make_tracker(date(2025, 4, 20))
    load(tracker, [scenario(*PERIOP_START, ref="P-SNOOZE"), scenario(*PERIOP_START, ref="P-DISMISS")])
    due = {item.ref: item for item in tracker.worklist()}
    snooze(tracker, due["P-SNOOZE"].reminder_id, date(2025, 5, 2), "awaiting_scan", "test", text="MRI 1 May")
    dismiss(tracker, due["P-DISMISS"].reminder_id, "mdt_decision", "test", text="discussed")
    (snoozed,) = resources_of(tracker.fhir_bundle("P-SNOOZE"), "Task")
    assert snoozed["status"] == "on-hold"
    assert snoozed["businessStatus"]["coding"][0]["code"] == "overdue"
    assert snoozed["restriction"]["period"]["end"] == "2025-03-10"
    assert snoozed["statusReason"] == {"coding": [c.SNOOZE_REASONS["awaiting_scan"].coding()],
                                       "text": "MRI 1 May"}
    assert snoozed["extension"][0]["valueDate"] == "2025-05-02"
    (dismissed,) = resources_of(tracker.fhir_bundle("P-DISMISS"), "Task")
    assert dismissed["status"] == "cancelled"
    assert dismissed["statusReason"]["coding"][0]["code"] == "mdt_decision"
    (hidden,) = resources_of(tracker.fhir_bundle("P-SNOOZE", pseudonymous=True), "Task")
    assert hidden["statusReason"]["text"] == "Awaiting a scan"  # the code's words, not the nurse's


LINE_ENDS = {
    # what ended the line (no stop recorded): (the status reason's words, its SNOMED code or None)
    "the liver operation": ([ev("surgery", "2025-04-01", procedure="liver_resection", margin="R0")],
                            "Ended by the liver operation", None),
    "an MDT decision": ([ev("mdt_review", "2025-03-01", resectable=False, plan="surveillance")],
                        "Ended when the plan turned to surveillance or salvage", None),
    "death": ([ev("death", "2025-03-01")], "Ended by the patient's death", "419620001"),
    "progression, then death": ([ev("progression", "2025-02-20"), ev("death", "2025-05-01")],
                                "Ended by the patient's death", "419620001"),
    "loss to follow-up": ([ev("lost_to_follow_up", "2025-03-01")],
                          "Ended when the patient was lost to follow-up", "399307001"),
    "a transfer": ([ev("transfer", "2025-03-01")], "Ended by the transfer to another centre", None),
}


@pytest.mark.parametrize("ending", list(LINE_ENDS))
def test_a_line_ended_without_a_recorded_stop_says_what_ended_it_coded_where_mcode_has_a_code(
        two_trackers, ending):
    """The record of the treatment (journey.treatment.LineEnd) says what ended the line; mCODE's
    termination reason codes it where its value set has the meaning (progression, death, lost to
    follow-up); the line whose drug went on as salvage after progression ended when that did."""
    source, target = two_trackers
    after, words, snomed = LINE_ENDS[ending]
    (ref,) = load(source, [scenario(*PERIOP_START, *after)])
    bundle = source.fhir_bundle(ref)
    (line,) = resources_of(bundle, "MedicationRequest")
    assert line["status"] == "stopped"
    assert line["statusReason"]["text"] == words
    coded = [coding["code"] for coding in line["statusReason"].get("coding", [])]
    assert coded == ([snomed] if snomed else [])
    assert profile_problems(line) == []  # mCODE's termination-reason invariants
    (outcome,) = target.import_fhir([bundle], actor="test").patients
    assert outcome.status == "imported" and outcome.refused_entries == []
    assert target.fhir_bundle(ref) == bundle


def test_a_regimen_changed_within_a_line_ends_the_first_request_and_the_second_runs(tracker):
    load(tracker, [scenario(*PERIOP_START, ev("systemic_started", "2025-02-01", regimen="FOLFIRI"))])
    first, second = resources_of(tracker.fhir_bundle("T-0001"), "MedicationRequest")
    assert (first["status"], first["statusReason"]) == ("stopped", {"text": "Ended by a change of regimen "
                                                                              "within the line"})
    assert second["status"] == "active" and "statusReason" not in second
