"""Hostile and careless input through the REST API: each answer is a 4xx with a message a person
can read, never a 5xx, and nothing is written (issue 7; the same validators as the CLI)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from db.tables import EventRow, PatientRow
from tests.api.seed import Seeded, profile


def rows(seeded: Seeded) -> tuple[int, int]:
    with Session(seeded.tracker.engine) as session:
        return (session.exec(select(func.count()).select_from(PatientRow)).one(),
                session.exec(select(func.count()).select_from(EventRow)).one())


GOOD = {"type": "reassessment", "date": "2025-05-30", "response": "PR", "resectable": False}
BAD_EVENTS: dict[str, Any] = {
    "a date in the future": {**GOOD, "date": "2031-01-01"},
    "a date before the primary's diagnosis": {**GOOD, "date": "2024-01-01"},
    "an impossible calendar date": {**GOOD, "date": "2025-02-30"},
    "an unknown code": {**GOOD, "response": "VERY_GOOD"},
    "an unknown type": {**GOOD, "type": "scan_booked"},
    "SQL injection as the type": {**GOOD, "type": "reassessment'; DROP TABLE event; --"},
    "SQL injection as a value": {**GOOD, "response": "PR' OR '1'='1"},
    "control characters in a note": {**GOOD, "note": "fine\x00\x1b[31m"},
    "a very long note": {**GOOD, "note": "x" * 100_000},
    "a 10 MB note": {**GOOD, "note": "y" * 10_000_000},
    "a list where a value belongs": {**GOOD, "resectable": [True]},
    "a number where a date belongs": {**GOOD, "date": 20250530},
    "not an object at all": ["reassessment", "2025-05-30"],
}


@pytest.mark.parametrize("case", list(BAD_EVENTS))
def test_a_hostile_event_is_refused_with_a_4xx_and_nothing_is_written(
        client: TestClient, seeded: Seeded, case: str) -> None:
    before = rows(seeded)
    response = client.post("/api/v1/patients/P-LATE/events", json=BAD_EVENTS[case],
                           headers={"Authorization": f"Bearer {seeded.tokens['navigator']}"})
    assert 400 <= response.status_code < 500, response.text[:300]
    message = response.json().get("message") or str(response.json().get("detail"))
    assert message and len(message) < 2_000
    assert rows(seeded) == before


BAD_PATIENTS: dict[str, Any] = {
    "a negative metastasis count": profile("P-BAD1", metastases={"detected_on": "2025-01-05", "count": -3,
                                                                  "max_size_mm": 20, "extrahepatic": False}),
    "a 10^9 mm metastasis": profile("P-BAD2", metastases={"detected_on": "2025-01-05", "count": 1,
                                                            "max_size_mm": 10**9, "extrahepatic": False}),
    "ECOG 7": profile("P-BAD3", ecog=7),
    "an unknown primary site": profile("P-BAD4", primary={"site": "appendix", "diagnosed_on": "2024-11-10"}),
    "an SQL-injection reference": profile("P-5'; DROP TABLE patient; --"),
    "a spreadsheet formula as reference": profile("=HYPERLINK(\"http://x\")"),
    "a reference with unicode control characters": profile("P-\u202eEVIL"),
}


@pytest.mark.parametrize("case", list(BAD_PATIENTS))
def test_a_hostile_patient_is_refused_with_a_4xx_and_nothing_is_written(
        client: TestClient, seeded: Seeded, case: str) -> None:
    before = rows(seeded)
    response = client.post("/api/v1/patients", json={"patient": BAD_PATIENTS[case]},
                           headers={"Authorization": f"Bearer {seeded.tokens['navigator']}"})
    assert 400 <= response.status_code < 500, response.text[:300]
    assert rows(seeded) == before


def test_malformed_json_is_refused_with_a_4xx(client: TestClient, seeded: Seeded) -> None:
    before = rows(seeded)
    response = client.post("/api/v1/patients/P-LATE/events", content=b'{"type": "reassessment", "date": ',
                           headers={"Authorization": f"Bearer {seeded.tokens['navigator']}",
                                    "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert rows(seeded) == before
