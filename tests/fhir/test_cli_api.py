"""The faces: ``journey fhir export|import`` and the two API routes, with their roles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.seed import Seeded
from tests.integration.test_cli import flat, run
from tracker.application import pseudonym
from tracker.fhir import codes as c


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder of the CLI's database file (the FHIR files are written beside it)."""
    monkeypatch.setenv("JOURNEY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite'}")
    monkeypatch.setenv("JOURNEY_SITE_TIMEZONE", "UTC")
    return tmp_path


EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def test_the_cli_exports_a_bundle_and_the_cohort_and_imports_both_into_another_database(
        database: Path, monkeypatch: pytest.MonkeyPatch):
    assert run("import", str(EXAMPLES)).exit_code == 0
    shown = run("fhir", "export", "DEMO-02", "--as-of", "2026-12-31")
    assert shown.exit_code == 0
    bundle = json.loads(shown.stdout)
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert bundle["meta"]["profile"] == [c.PROFILE["bundle"]]
    assert bundle["entry"][0]["resource"]["identifier"] == [{"system": c.REF_SYSTEM, "value": "DEMO-02"}]
    (database / "demo-02.json").write_text(shown.stdout)
    bulk = run("fhir", "export", "--all", "--out", str(database / "bulk"))
    assert bulk.exit_code == 0, bulk.stdout
    n = len(list(EXAMPLES.glob("*.yaml")))
    assert f"{n} Patient" in flat(bulk.stdout)
    assert (database / "bulk" / "Patient.ndjson").read_text().count("\n") == n

    monkeypatch.setenv("JOURNEY_DATABASE_URL", f"sqlite:///{database / 'other.sqlite'}")
    first = run("fhir", "import", str(database / "bulk"))
    assert first.exit_code == 0, first.stdout
    assert flat(first.stdout).count("registered") == n
    again = run("fhir", "import", str(database / "demo-02.json"))
    assert again.exit_code == 0
    assert "DEMO-02: already registered, 0 event(s) added" in flat(again.stdout)
    exported = json.loads(run("fhir", "export", "DEMO-02", "--as-of", "2026-12-31").stdout)
    assert exported["entry"] == bundle["entry"]


def test_the_cli_says_why_an_import_is_refused_and_exits_2_or_4(database: Path):
    assert run("import", str(EXAMPLES / "demo-01-perioperative.yaml")).exit_code == 0
    bundle = json.loads(run("fhir", "export", "DEMO-01").stdout)
    for e in bundle["entry"]:
        if e["resource"]["id"].endswith("-ecog"):
            e["resource"]["valueInteger"] = 4
    (database / "changed.json").write_text(json.dumps(bundle))
    contradicts = run("fhir", "import", str(database / "changed.json"))
    assert contradicts.exit_code == 4
    assert "nothing was changed: ecog: recorded 0, in the input 4." in flat(contradicts.stderr)
    assert contradicts.stdout == ""
    (database / "empty.ndjson").write_text('{"resourceType": "Practitioner", "id": "p1"}\n')
    refused = run("fhir", "import", str(database / "empty.ndjson"))
    assert refused.exit_code == 2
    assert "holds no Patient resource" in flat(refused.stderr)
    (database / "broken.json").write_text("{not json")
    unreadable = run("fhir", "import", str(database / "broken.json"))
    assert unreadable.exit_code == 2 and "is not JSON" in flat(unreadable.stderr)
    assert run("fhir", "export", "NOBODY").exit_code == 3


def bearer(seeded: Seeded, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded.tokens[role]}"}


def test_the_bundle_route_follows_the_patient_views_roles_and_pseudonymises_for_auditors(
        client: TestClient, seeded: Seeded):
    for role in ("navigator", "clinician"):
        answer = client.get("/api/v1/patients/P-LATE/fhir", headers=bearer(seeded, role))
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/fhir+json"
        assert '"P-LATE"' in answer.text
    assert client.get("/api/v1/patients/P-LATE/fhir", headers=bearer(seeded, "admin")).status_code == 403
    assert client.get("/api/v1/patients/P-LATE/fhir").status_code == 401
    assert client.get("/api/v1/patients/P-LATE/fhir", headers=bearer(seeded, "auditor")).status_code == 404
    alias = pseudonym("P-LATE", seeded.tracker.settings.pseudonym_key)
    audited = client.get(f"/api/v1/patients/{alias}/fhir", headers=bearer(seeded, "auditor"))
    assert audited.status_code == 200
    assert "P-LATE" not in audited.text
    identifier = audited.json()["entry"][0]["resource"]["identifier"]
    assert identifier == [{"system": c.PSEUDONYM_SYSTEM, "value": alias}]


def test_a_reassessment_a_navigator_records_appears_in_the_bundle_as_a_cancer_disease_status(
        client: TestClient, seeded: Seeded):
    recorded = client.post("/api/v1/patients/P-LATE/events", headers=bearer(seeded, "navigator"),
                           json={"type": "reassessment", "date": "2025-04-05", "response": "PR",
                                 "resectable": True})
    assert recorded.status_code == 201, recorded.text
    bundle = client.get("/api/v1/patients/P-LATE/fhir", headers=bearer(seeded, "navigator")).json()
    (status,) = [e["resource"] for e in bundle["entry"]
                 if c.PROFILE["disease_status"] in e["resource"].get("meta", {}).get("profile", [])]
    assert status["code"]["coding"][0]["system"] == "http://loinc.org"
    assert status["code"]["coding"][0]["code"] == "97509-4"
    assert status["effectiveDateTime"] == "2025-04-05"
    assert status["valueCodeableConcept"]["coding"][0] == c.IMPROVED.coding()


def test_importing_needs_a_clinician_and_answers_what_became_of_each_resource(
        client: TestClient, seeded: Seeded):
    bundle = client.get("/api/v1/patients/P-SURV/fhir", headers=bearer(seeded, "clinician")).json()
    for role in ("navigator", "auditor", "admin"):  # admins see no patient record (issue 16)
        assert client.post("/api/v1/fhir", json=bundle, headers=bearer(seeded, role)).status_code == 403
    bundle["entry"].append({"resource": {"resourceType": "Observation", "id": "smoking", "status": "final",
                                         "code": {"text": "Smoking status"},
                                         "subject": {"reference": bundle["entry"][0]["fullUrl"]}}})
    for role in ("clinician",):
        answer = client.post("/api/v1/fhir", json=bundle, headers=bearer(seeded, role))
        assert answer.status_code == 200, answer.text
        (patient,) = answer.json()["patients"]
        assert patient["status"] == "imported" and patient["ref"] == "P-SURV"
        assert (patient["added"], patient["already_recorded"]) == (0, 3)
        assert patient["not_imported"] == ["Observation/smoking: Smoking status is not something the tracker "
                                           "records"]
        assert patient["derived"] == 1


def test_an_import_that_records_nothing_answers_422_in_words_and_a_contradiction_409(
        client: TestClient, seeded: Seeded):
    bundle = client.get("/api/v1/patients/P-NEW/fhir", headers=bearer(seeded, "clinician")).json()
    primary = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"].endswith("-primary"))
    primary["code"] = {"coding": [{"system": c.ICD10CM, "code": "C34.90",
                                   "display": "Malignant neoplasm of unspecified part of bronchus or lung"}]}
    primary.pop("bodySite")
    refused = client.post("/api/v1/fhir", json=bundle, headers=bearer(seeded, "clinician"))
    assert refused.status_code == 422
    assert "is a lung cancer: this tracker follows colorectal liver metastases" in refused.json()["message"]
    bundle = client.get("/api/v1/patients/P-NEW/fhir", headers=bearer(seeded, "clinician")).json()
    mets = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"].endswith("-liver-metastases"))
    mets["onsetDateTime"] = "2025-01-04"
    answer = client.post("/api/v1/fhir", json=bundle, headers=bearer(seeded, "clinician"))
    assert answer.status_code == 409
    assert ("metastases.detected_on: recorded 2025-01-05, in the input 2025-01-04"
            in answer.json()["message"])
    assert client.post("/api/v1/fhir", json={"resourceType": "Nonsense"},
                       headers=bearer(seeded, "clinician")).status_code == 422
