"""The pure mapping: a journey's profile and entries to mCODE resources and back, on plain values."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.profile import PRIMARY_SITES, profile_to_dict, read_profile
from journey.scenario import read_scenario
from tests.conftest import patient
from tracker.demo import generate_one
from tracker.fhir import codes as c
from tracker.fhir.conformance import extension_problems, profile_problems, terminology_problems
from tracker.fhir.export import Entry, JourneyRecord, OpenReminder, journey_resources, patient_bundle
from tracker.fhir.imports import read_resources

KEY = "PX-0123456789abcdef"
AS_OF = date(2026, 1, 15)


def record(profile: dict[str, Any], entries: list[dict[str, Any]], **extra: Any) -> JourneyRecord:
    return JourneyRecord(KEY, profile_to_dict(read_profile(profile)),
                         [Entry(n, e) for n, e in enumerate(entries, start=1)], AS_OF, **extra)


def bundle_of(rec: JourneyRecord, pseudonymous: bool = False) -> dict[str, Any]:
    return patient_bundle(journey_resources(rec, pseudonymous), "2026-01-15T12:00:00+00:00")


def read_back(bundle: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    result = read_resources([bundle])
    assert not result.unmapped
    (one,) = result.patients
    assert one.refused is None, one.refused
    return one.scenario, one


def of_type(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["resourceType"] == kind]


def entry(day: str, type_: str, **fields: Any) -> dict[str, Any]:
    return {"date": day, "type": type_, **fields}


# -- what a reassessment becomes ---------------------------------------------------------------

def test_a_reassessment_is_a_cancer_disease_status_loinc_97509_4_with_a_trend_from_the_mcode_value_set():
    rec = record(patient(), [entry("2025-01-06", "mdt_review", resectable=True, plan="perioperative"),
                             entry("2025-01-10", "systemic_started", regimen="FOLFOX"),
                             entry("2025-03-10", "reassessment", response="PR", resectable=True)])
    (status,) = [r for r in journey_resources(rec)
                 if c.PROFILE["disease_status"] in r.get("meta", {}).get("profile", [])]
    assert status["code"]["coding"][0] == {"system": "http://loinc.org", "code": "97509-4",
                                           "display": "Cancer disease status"}
    assert status["effectiveDateTime"] == "2025-03-10"
    assert status["valueCodeableConcept"]["coding"][0]["code"] == "268910001"  # improved
    assert status["focus"] == [{"reference": f"Condition/{KEY}-liver-metastases"}]
    components = {comp["code"]["coding"][0]["code"]: comp for comp in status["component"]}
    assert components["recist-response"]["valueCodeableConcept"]["coding"][0]["code"] == "PR"
    assert components["liver-resectable"]["valueBoolean"] is True
    evidence = status["extension"][0]
    assert evidence["url"].endswith("mcode-cancer-disease-status-evidence-type")
    assert evidence["valueCodeableConcept"]["coding"][0]["code"] == "363679005"  # imaging


@pytest.mark.parametrize(("response", "trend"), [("CR", "268910001"), ("PR", "268910001"),
                                                 ("SD", "359746009"), ("PD", "271299001")])
def test_each_recist_response_says_the_mcode_condition_trend_and_keeps_its_own_category(response, trend):
    rec = record(patient(), [entry("2025-03-10", "reassessment", response=response, resectable=False)])
    (status,) = [r for r in journey_resources(rec) if r["resourceType"] == "Observation"
                 and r["code"]["coding"][0]["code"] == "97509-4"]
    assert status["valueCodeableConcept"]["coding"][0]["code"] == trend
    scenario, _ = read_back(bundle_of(rec))
    assert scenario["events"] == [entry("2025-03-10", "reassessment", response=response, resectable=False)]


# -- the demo cohort and generated journeys -------------------------------------------------------

def demo_record(seed: int, index: int) -> tuple[JourneyRecord, Any]:
    sc = read_scenario(generate_one(seed, index, AS_OF).scenario())
    entries = [Entry(n, e.to_dict()) for n, e in enumerate(sc.events, start=1)]
    return JourneyRecord(KEY, profile_to_dict(sc.profile), entries, AS_OF), sc


@pytest.mark.parametrize("seed", [1, 7])
def test_the_demo_cohort_exports_valid_r4_that_passes_its_profile_checks_with_codes_from_the_tables(seed):
    kinds: set[str] = set()
    for index in range(25):
        rec, _ = demo_record(seed, index)
        bundle = bundle_of(rec)
        assert profile_problems(bundle) == []
        assert terminology_problems(bundle) == []
        kinds |= {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Condition", "Observation", "MedicationRequest", "Procedure", "CarePlan",
            "EpisodeOfCare"} <= kinds


@pytest.mark.parametrize("seed", [3, 11])
def test_generated_journeys_read_back_as_the_same_profile_and_entries_in_the_same_order(seed):
    for index in range(40):
        rec, sc = demo_record(seed, index)
        scenario, one = read_back(bundle_of(rec))
        again = read_scenario(scenario)
        assert profile_to_dict(again.profile) == profile_to_dict(sc.profile)
        assert [e.to_dict() for e in again.events] == [e.to_dict() for e in sc.events]
        assert one.orders == list(range(1, len(sc.events) + 1))


DAY0 = date(2024, 1, 10)
days = st.integers(min_value=0, max_value=700).map(lambda n: (DAY0 + timedelta(days=n)).isoformat())


@st.composite
def profiles(draw: Any) -> dict[str, Any]:
    diagnosed = draw(days)
    later = st.integers(0, 300).map(lambda n: (date.fromisoformat(diagnosed) + timedelta(days=n)).isoformat())
    prior = draw(st.none() | st.fixed_dictionaries({"last_dose_on": st.none() | later,
                                                    "relapsed_on": st.none() | later}))
    if prior and None not in prior.values() and prior["relapsed_on"] < prior["last_dose_on"]:
        prior["relapsed_on"], prior["last_dose_on"] = prior["last_dose_on"], prior["relapsed_on"]
    out = {
        "ref": draw(st.from_regex(r"[A-Z][A-Za-z0-9\-_./:#]{0,20}", fullmatch=True)),
        "ecog": draw(st.none() | st.integers(0, 4)),
        "primary": {"site": draw(st.sampled_from(PRIMARY_SITES)), "diagnosed_on": diagnosed,
                    "symptoms": draw(st.lists(st.sampled_from(("bleeding", "obstruction", "perforation")),
                                              unique=True)),
                    "t_stage": draw(st.none() | st.sampled_from(("T1", "T2", "T3", "T4a", "T4b", "Tx"))),
                    "n_stage": draw(st.none() | st.sampled_from(("N0", "N1", "N1c", "N2b"))),
                    "resected_on": draw(st.none() | later)},
        "metastases": {"detected_on": draw(later), "count": draw(st.integers(1, 200)),
                       "max_size_mm": draw(st.integers(1, 3000).map(lambda n: n / 10)),
                       "extrahepatic": draw(st.booleans())},
        "biomarkers": {"mmr": draw(st.sampled_from(("pMMR", "dMMR", "unknown"))),
                       "ras": draw(st.sampled_from(("wild_type", "mutant", "unknown"))),
                       "braf": draw(st.sampled_from(("wild_type", "mutant", "unknown")))},
    }
    if prior is not None:
        out["prior_oxaliplatin"] = prior
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profile=profiles())
def test_any_valid_profile_passes_the_profile_checks_and_reads_back_exactly(profile):
    rec = JourneyRecord(KEY, profile_to_dict(read_profile(profile)), [], AS_OF)
    bundle = bundle_of(rec)
    assert profile_problems(bundle) == [] and terminology_problems(bundle) == []
    scenario, _ = read_back(bundle)
    assert profile_to_dict(read_profile(scenario["patient"])) == rec.profile


# -- contract 1.1 vocabulary, on plain values (the domain learns it in issue 12) -------------------

HELD_LINE = [
    entry("2025-01-06", "mdt_review", resectable=True, plan="perioperative", note="MDT 6 Jan"),
    entry("2025-01-10", "systemic_started", regimen="FOLFOX", biologic="none"),
    entry("2025-02-24", "systemic_paused", reason="toxicity", note="grade 3 neuropathy"),
    entry("2025-03-10", "systemic_resumed", regimen="OTHER"),
    entry("2025-03-10", "reassessment", response="PR", resectable=True),
    entry("2025-04-01", "systemic_paused", reason="intercurrent_illness", override="on purpose"),
]


def test_a_held_line_is_an_mcode_medication_request_on_hold_with_each_hold_and_resumption_kept():
    rec = record(patient(), HELD_LINE, line_running=True)
    (line,) = of_type(journey_resources(rec), "MedicationRequest")
    assert line["status"] == "on-hold"
    assert line["statusReason"]["coding"][0]["code"] == "intercurrent_illness"
    assert line["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"] == {"start": "2025-01-10"}
    scenario, one = read_back(bundle_of(rec))
    assert scenario["events"] == HELD_LINE
    assert one.orders == [1, 2, 3, 4, 5, 6]


def test_a_stopped_line_says_why_in_the_mcode_termination_reason_and_when_it_ended():
    stops = {"progression": ("stopped", "266721009"), "toxicity": ("stopped", "407563006"),
             "patient_choice": ("stopped", "105480006"), "surgery": ("stopped", None),
             "other": ("stopped", None), "completed": ("completed", None)}
    for reason, (status, snomed) in stops.items():
        entries = [entry("2025-01-10", "systemic_started", regimen="CAPOX"),
                   entry("2025-02-01", "systemic_paused", reason="patient_choice"),
                   entry("2025-03-01", "systemic_stopped", reason=reason)]
        rec = record(patient(), entries)
        (line,) = of_type(journey_resources(rec), "MedicationRequest")
        assert line["status"] == status
        coded = [c.get("code") for c in line.get("statusReason", {}).get("coding", [])]
        assert coded == ([snomed] if snomed else [])
        assert line["dosageInstruction"][0]["timing"]["repeat"]["boundsPeriod"]["end"] == "2025-03-01"
        assert profile_problems(line) == []
        assert read_back(bundle_of(rec))[0]["events"] == entries


def test_a_line_ended_without_a_recorded_stop_is_stopped_and_says_so_and_the_running_line_is_active():
    entries = [entry("2025-01-10", "systemic_started", regimen="FOLFOX"),
               entry("2025-03-10", "systemic_started", regimen="FOLFIRI", biologic="bevacizumab")]
    first, second = of_type(journey_resources(record(patient(), entries, line_running=True)),
                            "MedicationRequest")
    assert first["status"] == "stopped" and "without a recorded stop" in first["statusReason"]["text"]
    assert second["status"] == "active"
    assert second["extension"][-1]["valueCodeableConcept"]["coding"][0]["code"] == "bevacizumab"


def test_two_stage_surgery_and_portal_vein_embolisation_and_a_return_after_transfer_read_back():
    entries = [entry("2025-01-06", "mdt_review", resectable=True, plan="liver_first"),
               entry("2025-01-20", "surgery", procedure="liver_resection", margin="R1", stage=1),
               entry("2025-01-27", "surgery", procedure="portal_vein_embolisation"),
               entry("2025-03-20", "surgery", procedure="liver_resection", margin="R2", stage=2),
               entry("2025-05-01", "transfer", note="moved to Leeds"),
               entry("2025-09-01", "returned"),
               entry("2025-09-15", "mdt_review", resectable=False, plan="surveillance")]
    resources = journey_resources(record(patient(), entries))
    operations = [r for r in of_type(resources, "Procedure") if r["id"].startswith(f"{KEY}-entry")]
    assert [op["code"]["coding"][0]["code"] for op in operations] == [
        "liver_resection", "portal_vein_embolisation", "liver_resection"]
    margins = [r for r in of_type(resources, "Observation") if r["id"].endswith("-margin")]
    assert [(m["partOf"][0]["reference"], m["valueCodeableConcept"]["coding"][0]["code"])
            for m in margins] == [(f"Procedure/{KEY}-entry-2", "R1"), (f"Procedure/{KEY}-entry-4", "R2")]
    episodes = of_type(resources, "EpisodeOfCare")
    assert [(e["status"], e["period"]) for e in episodes] == [
        ("finished", {"start": "2024-12-01", "end": "2025-05-01"}), ("active", {"start": "2025-09-01"})]
    assert read_back(bundle_of(record(patient(), entries)))[0]["events"] == entries


def test_a_hold_recorded_before_any_line_is_kept_whole_rather_than_dropped():
    entries = [entry("2025-01-06", "systemic_paused", reason="other", override="held before it began")]
    resources = journey_resources(record(patient(), entries))
    assert [r["resourceType"] for r in resources if r["id"] == f"{KEY}-entry-1"] == ["Basic"]
    assert read_back(bundle_of(record(patient(), entries)))[0]["events"] == entries


def test_death_is_the_patients_deceased_date_and_closes_the_episode_of_care():
    entries = [entry("2025-01-06", "mdt_review", resectable=False, plan="salvage"),
               entry("2025-06-01", "death")]
    resources = journey_resources(record(patient(), entries, closed=True))
    (person,) = of_type(resources, "Patient")
    assert person["deceasedDateTime"] == "2025-06-01"
    (plan,) = of_type(resources, "CarePlan")
    assert plan["status"] == "completed"
    assert read_back(bundle_of(record(patient(), entries)))[0]["events"] == entries


# -- what the patient and the auditor see -------------------------------------------------------

REMINDERS = [
    OpenReminder("reassessment_due", 4, "2-monthly resectability reassessment (seed:13)", date(2025, 10, 1),
                 date(2025, 12, 1), "overdue"),
    OpenReminder("total_chemo_check", 3, "6 months", date(2025, 9, 1), date(2026, 2, 1), "scheduled",
                 snoozed_until=date(2026, 2, 10), snooze_reason="awaiting_scan",
                 snooze_text="CT booked 9 Feb"),
    OpenReminder("recurrence_mdt", 5, "MDT after recurrence", date(2025, 11, 1), date(2025, 12, 1), "overdue",
                 dismissed_on=date(2026, 1, 2), dismiss_reason="mdt_decision", dismiss_text="seen in clinic"),
]


def test_every_open_reminder_is_a_task_due_at_restriction_period_end_with_its_status_and_reason():
    tasks = of_type(journey_resources(record(patient(), [], reminders=REMINDERS)), "Task")
    seen = [(t["status"], t["businessStatus"]["coding"][0]["code"], t["restriction"]["period"]["end"])
            for t in tasks]
    assert seen == [("requested", "overdue", "2025-12-01"), ("on-hold", "scheduled", "2026-02-01"),
                    ("cancelled", "overdue", "2025-12-01")]
    assert all(t["for"] == {"reference": f"Patient/{KEY}"} and t["intent"] == "plan" for t in tasks)
    assert tasks[1]["statusReason"] == {"coding": [c.SNOOZE_REASONS["awaiting_scan"].coding()],
                                        "text": "CT booked 9 Feb"}
    assert tasks[2]["statusReason"]["coding"][0]["code"] == "mdt_decision"
    assert tasks[0]["code"]["coding"][0] == {
        "system": f"{c.LOCAL_CS}/reminder-kind", "code": "reassessment_due",
        "display": "2-monthly resectability reassessment (seed:13)"}


def test_the_pseudonymised_bundle_holds_no_reference_and_no_free_text():
    entries = [entry("2025-01-06", "mdt_review", resectable=True, plan="perioperative", note="NOTE-TEXT"),
               entry("2025-01-10", "systemic_started", regimen="FOLFOX", override="OVERRIDE-TEXT"),
               entry("2025-02-01", "systemic_stopped", reason="toxicity", note="STOP-NOTE")]
    rec = record(patient(ref="H-SECRET-42"), entries, reminders=REMINDERS)
    text = json.dumps(bundle_of(rec, pseudonymous=True))
    for secret in ("H-SECRET-42", "NOTE-TEXT", "OVERRIDE-TEXT", "STOP-NOTE", "CT booked", "seen in clinic"):
        assert secret not in text
    assert KEY in text and c.PSEUDONYM_SYSTEM in text
    full = json.dumps(bundle_of(rec))
    assert all(s in full for s in ("H-SECRET-42", "NOTE-TEXT", "OVERRIDE-TEXT", "STOP-NOTE", "CT booked"))
    refused = read_resources([json.loads(text)]).patients[0].refused
    assert refused is not None and "pseudonymised" in refused


# -- resources from elsewhere -------------------------------------------------------------------

def foreign(changes: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """Our own bundle of the base patient, then edited as another system might send it."""
    bundle = bundle_of(record(patient(), [entry("2025-01-06", "mdt_review", resectable=True)]))
    for e in bundle["entry"]:
        r = e["resource"]
        for (kind, suffix), change in changes.items():
            if r["resourceType"] == kind and r["id"].endswith(suffix):
                change(r)
    return bundle


def test_a_breast_cancer_is_refused_whole_in_words():
    def breast(r: dict[str, Any]) -> None:
        r["code"] = {"coding": [{"system": c.SNOMED, "code": "353431000119107",
                                 "display": "Primary malignant neoplasm of female left breast (disorder)"}]}
        r["bodySite"] = [{"coding": [{"system": c.SNOMED, "code": "80248007",
                                      "display": "Left breast structure"}]}]

    (one,) = read_resources([foreign({("Condition", "-primary"): breast})]).patients
    assert one.refused == (f"Condition Condition/{KEY}-primary is a breast cancer: this tracker follows "
                           f"colorectal liver metastases.")
    assert one.scenario is None


UNSITED = {"system": c.ICD10CM, "code": "C18.9"}
SUBJECT = {"reference": f"Patient/{KEY}"}


@pytest.mark.parametrize(("change", "words"), [
    (("Condition", "-primary", lambda r: (r.__setitem__("code", {"coding": [UNSITED]}), r.pop("bodySite"))),
     "gives an unspecified part of the colon; the tracker needs the primary's site"),
    (("Condition", "-liver-metastases", lambda r: r.__setitem__("extension", r["extension"][:1])),
     "does not say how many liver metastases there are"),
    (("Observation", "-largest-metastasis", lambda r: r.__setitem__("focus", [{"reference": "Condition/x"}])),
     "has no size of the largest liver metastasis"),
    (("Condition", "-liver-metastases", lambda r: r.pop("onsetDateTime")),
     "does not say the day the liver metastases were found"),
])
def test_a_patient_missing_what_the_tracker_needs_is_refused_saying_what_is_missing(change, words):
    kind, suffix, edit = change
    (one,) = read_resources([foreign({(kind, suffix): edit})]).patients
    assert one.refused is not None and words in one.refused


def test_resources_the_tracker_does_not_record_are_listed_one_by_one_with_why():
    bundle = foreign({("CarePlan", "-entry-1"): lambda r: r["extension"].pop(1)})
    bundle["entry"] += [
        {"resource": {"resourceType": "Condition", "id": "anxiety", "subject": SUBJECT,
                      "code": {"coding": [{"system": c.SNOMED, "code": "48694002",
                                           "display": "Anxiety (finding)"}]}}},
        {"resource": {"resourceType": "MedicationRequest", "id": "cisplatin", "status": "active",
                      "intent": "order", "subject": SUBJECT,
                      "medicationCodeableConcept": {"text": "cisplatin 1 MG/ML"}}},
        {"resource": {"resourceType": "Practitioner", "id": "owen"}},
        {"resource": {"resourceType": "Observation", "id": "bad", "status": "final", "code": {"text": "x"},
                      "subject": SUBJECT, "effectiveDateTime": "2025-02-30"}},
    ]
    result = read_resources([bundle])
    (one,) = result.patients
    assert one.refused is None
    reasons = {u.resource: u.reason for u in one.unmapped + result.unmapped}
    assert "not an MDT review the tracker can record" in reasons[f"CarePlan/{KEY}-entry-1"]
    assert "Anxiety (finding) is not a cancer the tracker follows" in reasons["Condition/anxiety"]
    assert "cisplatin 1 MG/ML is not a regimen the tracker records" in reasons["MedicationRequest/cisplatin"]
    assert "not about a patient" in reasons["Practitioner/owen"]
    assert "not valid FHIR R4" in reasons["Observation/bad"]
    assert one.scenario["events"] == []


def test_a_foreign_stopped_line_in_our_codes_reads_its_stop_from_the_standard_elements():
    rec = record(patient(), [entry("2025-01-10", "systemic_started", regimen="FOLFOX"),
                             entry("2025-04-01", "systemic_stopped", reason="toxicity")])
    bundle = bundle_of(rec)
    for e in bundle["entry"]:
        if e["resource"]["resourceType"] == "MedicationRequest":
            e["resource"]["extension"] = [x for x in e["resource"]["extension"]
                                          if not x["url"].endswith("journey-entry")]
    scenario, one = read_back(bundle)
    assert scenario["events"] == rec_entries(rec)
    assert one.orders == [None, None]


def rec_entries(rec: JourneyRecord) -> list[dict[str, Any]]:
    return [copy.deepcopy(dict(e.raw)) for e in rec.entries]


def test_a_reminder_named_by_the_entry_that_opened_it_is_a_task_about_that_entrys_resource():
    """Contract §7.1: a reminder is its kind and the entry that opened it, never its date alone;
    two reassessments on one day each open their own, and their Tasks must not share an id."""
    entries = [entry("2025-01-10", "systemic_started", regimen="FOLFOX"),
               entry("2025-03-10", "reassessment", response="SD", resectable=False),
               entry("2025-03-10", "reassessment", response="SD", resectable=False)]
    reminders = [OpenReminder("reassessment_due", n, "m", date(2025, 3, 10), date(2025, 5, 10), "overdue")
                 for n in (2, 3)]
    tasks = of_type(journey_resources(record(patient(), entries, reminders=reminders)), "Task")
    assert [t["id"] for t in tasks] == [f"{KEY}-task-reassessment-due-2", f"{KEY}-task-reassessment-due-3"]
    assert [t["focus"]["reference"] for t in tasks] == [f"Observation/{KEY}-entry-{n}" for n in (2, 3)]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["Patient", "Bundle", "Condition", "Observation", "2025-01-01", "Patient/x"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["resourceType", "id", "entry", "resource", "subject", "reference", "code",
                         "identifier", "value", "system", "extension", "url", "coding"]), inner, max_size=5),
    max_leaves=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=st.lists(json_values, max_size=4))
def test_reading_any_json_never_raises_and_accounts_for_every_item(documents):
    result = read_resources(documents)
    for one in result.patients:
        assert (one.refused is None) != (one.scenario is None)


@pytest.fixture(scope="module")
def rich_bundle() -> dict[str, Any]:
    entries = [*HELD_LINE, entry("2025-04-20", "systemic_stopped", reason="surgery"),
               entry("2025-05-10", "surgery", procedure="simultaneous_resection", margin="R1"),
               entry("2025-06-01", "radiotherapy", target="pelvis", status="started"),
               entry("2025-08-01", "recurrence", site="both"), entry("2025-09-01", "lost_to_follow_up")]
    profile = patient(prior_oxaliplatin={"last_dose_on": "2024-06-01", "relapsed_on": "2024-11-01"},
                      primary={"symptoms": ["bleeding"], "t_stage": "T3"})
    return bundle_of(record(profile, entries, reminders=REMINDERS))


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_a_bundle_with_any_elements_taken_away_is_read_without_an_error(rich_bundle, data):
    """Whatever another system leaves out, the reader lists or refuses; it never fails."""
    bundle = copy.deepcopy(rich_bundle)
    for _ in range(data.draw(st.integers(1, 6))):
        resource = data.draw(st.sampled_from(bundle["entry"]))["resource"]
        keys = [k for k in resource if k != "resourceType"]
        if keys:
            del resource[data.draw(st.sampled_from(keys))]
    result = read_resources([bundle])
    for one in result.patients:
        assert (one.refused is None) != (one.scenario is None)


def test_an_extension_without_a_value_is_a_profile_problem():
    empty = {"resourceType": "Patient", "extension": [{"url": "https://x.example/e"}],
             "name": [{"extension": [{"url": "u", "valueCode": "masked", "extension": [{"url": "v"}]}]}]}
    assert [p.split(" at ")[0] for p in extension_problems(empty)] == [
        "ext-1: the extension https://x.example/e", "ext-1: the extension u", "ext-1: the extension v"]
