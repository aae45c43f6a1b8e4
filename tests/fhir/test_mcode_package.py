"""The real outside test: the mCODE STU4 implementation guide's own package (hl7.fhir.us.mcode 4.0.0
from the npm registry, fetched by scripts/fetch-mcode-package; under CI=true it must be there).

- every example parses with the model library (R4B);
- the example patient bundle (a breast cancer) is refused in words, whole, and nothing is written;
- each example of a profile we emit passes our own profile checks, and the package's snapshot
  checks (tracker.fhir.ig), as ours do;
- our exported resources pass every snapshot check those examples pass;
- the codes we take from mCODE's enumerated value sets are members of them.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.fhir.conftest import TODAY
from tracker.application import FhirRefused
from tracker.demo import generate_cohort, import_cohort
from tracker.fhir import codes as c
from tracker.fhir.conformance import profile_problems
from tracker.fhir.elements import validated
from tracker.fhir.ig import Package, check
from tracker.fhir.imports import NOT_OURS

EMITTED = [url for key, url in c.PROFILE.items() if key != "msi"]  # msi: genomics-reporting's, not mCODE's


def test_every_example_of_the_package_parses_with_the_r4b_models(mcode: Package):
    assert len(mcode.examples) == 179
    kinds = set()
    for name, example in mcode.examples:
        parsed = validated(example)
        assert parsed["resourceType"] == example["resourceType"], name
        assert parsed.get("id") == example.get("id"), name
        kinds.add(parsed["resourceType"])
    assert {"Patient", "Condition", "Observation", "MedicationRequest", "Procedure", "Bundle"} <= kinds


def test_the_example_patient_bundle_is_a_breast_cancer_and_is_refused_whole_in_words(mcode: Package, tracker):
    (bundle,) = [doc for name, doc in mcode.examples if name == "Bundle-mcode-patient-bundle-jenny-m.json"]
    report = tracker.import_fhir([copy.deepcopy(bundle)], actor="test")
    (patient,) = report.patients
    assert patient.status == "refused"
    assert patient.message == (f"Condition Condition/primary-cancer-condition-jenny-m is a breast cancer: "
                               f"{NOT_OURS}.")
    with pytest.raises(FhirRefused, match="is a breast cancer: this tracker follows colorectal liver"):
        report.raise_if_nothing_recorded()
    assert tracker.patient_count() == 0


@pytest.mark.parametrize("profile", EMITTED, ids=lambda url: url.rsplit("/", 1)[-1])
def test_each_example_of_a_profile_we_emit_passes_our_profile_checks_and_the_package_snapshot(
        mcode: Package, profile: str):
    examples = mcode.examples_of(profile)
    assert examples, f"the package has no example of {profile}"
    for name, example in examples:
        assert profile_problems(example) == [], name
        result = check(example, mcode.profiles[profile], mcode)
        assert result.failed == {}, name
        assert len(result.passed) > 10, name


@pytest.fixture(scope="module")
def our_resources(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Every resource of a demo cohort's bundles, from a real database, as the API serves them."""
    from tracker.clock import FixedClock
    from tracker.compose import build_tracker
    from tracker.settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('ours') / 'ours.sqlite'}"
    tracker = build_tracker(Settings(database_url=url), clock=FixedClock(TODAY))
    cohort = list(generate_cohort(40, 2, TODAY))
    import_cohort(tracker, cohort)
    out: list[dict[str, Any]] = []
    for synthetic in cohort:
        bundle = tracker.fhir_bundle(synthetic.ref)
        out.append(bundle)
        out += [e["resource"] for e in bundle["entry"]]
    return out


@pytest.mark.parametrize("profile", EMITTED, ids=lambda url: url.rsplit("/", 1)[-1])
def test_our_exports_pass_every_snapshot_check_the_packages_examples_pass(
        mcode: Package, our_resources: list[dict[str, Any]], profile: str):
    passed_by_examples: set[str] = set()
    for _, example in mcode.examples_of(profile):
        passed_by_examples |= check(example, mcode.profiles[profile], mcode).passed
    ours = [r for r in our_resources if profile in (r.get("meta") or {}).get("profile", [])]
    assert ours, f"the demo cohort emits no {profile}"
    for resource in ours:
        result = check(resource, mcode.profiles[profile], mcode)
        assert not set(result.failed) & passed_by_examples, (resource["id"], result.failed)
        assert result.failed == {}, (resource["id"], result.failed)
        assert profile_problems(resource) == []


def test_the_snapshot_checker_catches_what_breaks_a_profile(mcode: Package, our_resources):
    """A negative control: the checks above are not vacuous."""
    line = next(r for r in our_resources if r["resourceType"] == "MedicationRequest")
    broken = copy.deepcopy(line)
    del broken["reasonReference"]
    broken["intent"] = "order"
    broken["status"] = "paused"
    result = check(broken, mcode.profiles[c.PROFILE["medication"]], mcode)
    assert {"invariant mcode-reason-required", "invariant us-core-21",
            "MedicationRequest.status binding"} <= set(result.failed)
    status = next(r for r in our_resources
                  if c.PROFILE["disease_status"] in r.get("meta", {}).get("profile", []))
    wrong = copy.deepcopy(status) | {"code": {"coding": [{"system": c.LOINC, "code": "21889-1"}]}}
    del wrong["subject"]
    failed = set(check(wrong, mcode.profiles[c.PROFILE["disease_status"]], mcode).failed)
    assert {"Observation.code patte", "Observation.subject 1..1"} <= failed
    assert profile_problems(wrong) == ["mcode-cancer-disease-status: subject is required",
                                       "mcode-cancer-disease-status: code must be http://loinc.org#97509-4"]


def test_the_codes_we_take_from_mcodes_enumerated_value_sets_are_members(mcode: Package):
    members = {key: mcode.codes(f"http://hl7.org/fhir/us/mcode/ValueSet/{key}") for key in (
        "mcode-primary-malignant-neoplasm-disorder-vs", "mcode-secondary-cancer-disorder-vs",
        "mcode-condition-status-trend-vs", "mcode-procedure-intent-vs",
        "mcode-treatment-termination-reason-vs")}
    assert members["mcode-secondary-cancer-disorder-vs"] is None  # SNOMED filter + ICD-10-CM list
    icd_secondary = {code for include in mcode.value_sets[
        "http://hl7.org/fhir/us/mcode/ValueSet/mcode-secondary-cancer-disorder-vs"]["compose"]["include"]
        for code in (concept["code"] for concept in include.get("concept", []))}
    icd_primary = {code for include in mcode.value_sets[
        "http://hl7.org/fhir/us/mcode/ValueSet/mcode-primary-malignant-neoplasm-disorder-vs"]["compose"]["include"]
        for code in (concept["code"] for concept in include.get("concept", []))}
    assert {site.disorder.code for site in c.SITES.values()} <= icd_primary
    assert {c.LIVER_METASTASES.code, c.OTHER_METASTASES.code} <= icd_secondary
    trend = members["mcode-condition-status-trend-vs"]
    assert {(code.system, code.code) for code in c.TREND_OF_RESPONSE.values()} <= trend
    assert {(c.CURATIVE.system, c.CURATIVE.code), (c.PALLIATIVE.system, c.PALLIATIVE.code)} <= \
        members["mcode-procedure-intent-vs"]
    termination = [*c.TERMINATION.values(), *c.LINE_END_TERMINATION.values()]
    assert {(code.system, code.code) for code in termination} <= \
        members["mcode-treatment-termination-reason-vs"]


def test_the_snomed_and_hgnc_codes_we_emit_appear_in_the_package_with_the_same_meaning(mcode: Package):
    """Codes we could not check against an enumerated value set are ones the package itself uses
    (body structures, the evidence type), with the same display; the HGNC identifiers are checked
    against the gene symbols (the package's pertinent-negative example swaps NRAS and KIT)."""
    used: dict[tuple[str, str], set[str]] = {}

    def walk(value: Any, system: str | None = None) -> None:
        """Every code of the package with the system it is under (a coding's own, a value set
        include's, a concept map group's target)."""
        if isinstance(value, dict):
            here = value.get("system") or value.get("target")
            system = here if isinstance(here, str) else system
            if isinstance(value.get("code"), str) and system:
                used.setdefault((system, value["code"]), set()).add(str(value.get("display", "")))
            for item in value.values():
                walk(item, system)
        elif isinstance(value, list):
            for item in value:
                walk(item, system)

    for path in sorted(mcode.folder.glob("*.json")) + sorted((mcode.folder / "example").glob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    ours = [site.structure for site in c.SITES.values() if site.structure] + [c.LIVER_STRUCTURE, c.IMAGING]
    for code in ours:
        assert code.display in used[(code.system, code.code)], code
    assert used[(c.HGNC, "HGNC:1097")] == {"BRAF"}
    # the HGNC registry says HGNC:7989 is NRAS and HGNC:6342 is KIT; the example has them swapped,
    # which is why the import reads HGNC identifiers, never displays
    assert used[(c.HGNC, "HGNC:7989")] == {"KIT"} and used[(c.HGNC, "HGNC:6342")] == {"NRAS"}
    assert c.GENES["NRAS"].code == "HGNC:7989"
