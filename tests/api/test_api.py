"""The REST API, end to end through FastAPI's TestClient on a SQLite file: every endpoint, and
each role's allowed and forbidden actions (401 without a token, 403 for the wrong role)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from db.tables import AccessLogRow
from db.users import AccessLog
from tests.api.seed import Seeded, csrf_of, profile, sign_in
from tracker.application import pseudonym


def auth(seeded: Seeded, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded.tokens[role]}"}


def access_log(seeded: Seeded) -> list[AccessLogRow]:
    with Session(seeded.tracker.engine) as session:
        return list(session.exec(select(AccessLogRow)))


REASSESSMENT = {"type": "reassessment", "date": "2025-05-30", "response": "PR", "resectable": False}

ENDPOINTS = [
    ("get", "/api/v1/me", None), ("get", "/api/v1/patients", None),
    ("post", "/api/v1/patients", {"patient": profile("P-X")}), ("get", "/api/v1/patients/P-LATE", None),
    ("get", "/api/v1/patients/P-LATE/events", None), ("post", "/api/v1/patients/P-LATE/events", REASSESSMENT),
    ("get", "/api/v1/patients/P-LATE/recommendations", None), ("get", "/api/v1/reminders", None),
    ("post", "/api/v1/reminders/1/acknowledge", None),
    ("post", "/api/v1/reminders/1/snooze", {"until": "2025-06-08", "reason": "awaiting_scan"}),
    ("post", "/api/v1/reminders/1/dismiss", {"reason": "toxicity"}), ("get", "/api/v1/worklist", None),
    ("post", "/api/v1/reminders/1/assign", {"to": "navigator1"}),
    ("get", "/api/v1/patients/P-LATE/explanation", None), ("get", "/api/v1/audit", None),
    ("get", "/api/v1/exports/csv", None), ("get", "/api/v1/pathway", None),
    ("get", "/api/v1/users", None), ("post", "/api/v1/users", {"name": "x1", "role": "navigator"}),
]


def call(client: TestClient, method: str, url: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    return client.request(method.upper(), url, json=body, headers=headers or {})


# -- authentication ---------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS)
def test_every_endpoint_answers_401_without_a_token(client: TestClient, method: str, url: str, body: Any):
    response = call(client, method, url, body)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"] == "not-signed-in"


def test_a_wrong_token_is_refused_with_401(client: TestClient):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer jt_nonsense"})
    assert response.status_code == 401
    assert "not valid" in response.json()["message"]


@pytest.mark.parametrize("role", ["navigator", "clinician", "auditor", "admin"])
def test_me_names_the_account_and_its_permissions(client: TestClient, seeded: Seeded, role: str):
    body = client.get("/api/v1/me", headers=auth(seeded, role)).json()
    assert body["name"] == f"{role}1" and body["role"] == role and body["permissions"]


# -- who may do what: one table ---------------------------------------------------------------

FORBIDDEN = {
    "navigator": [("get", "/api/v1/exports/csv", None), ("get", "/api/v1/users", None),
                  ("post", "/api/v1/users", {"name": "x1", "role": "navigator"}),
                  ("post", "/api/v1/patients/P-LATE/events",
                   {"type": "mdt_review", "date": "2025-05-30", "resectable": True}),
                  ("post", "/api/v1/patients/P-NEW/events",
                   {"type": "surgery", "date": "2025-05-30", "procedure": "liver_resection",
                    "override": "MDT decided"})],
    "clinician": [("get", "/api/v1/users", None),
                  ("post", "/api/v1/users", {"name": "x1", "role": "navigator"})],
    "auditor": [("post", "/api/v1/patients", {"patient": profile("P-X")}),
                ("post", "/api/v1/patients/P-LATE/events", REASSESSMENT),
                ("post", "/api/v1/reminders/1/acknowledge", None),
                ("post", "/api/v1/reminders/1/snooze", {"until": "2025-06-08", "reason": "awaiting_scan"}),
                ("post", "/api/v1/reminders/1/dismiss", {"reason": "toxicity"}),
                ("post", "/api/v1/reminders/1/assign", {"to": "navigator1"}),
                ("get", "/api/v1/users", None)],
    "admin": [("get", "/api/v1/patients", None), ("get", "/api/v1/patients/P-LATE", None),
              ("get", "/api/v1/worklist", None), ("get", "/api/v1/reminders", None),
              ("post", "/api/v1/patients/P-LATE/events", REASSESSMENT), ("get", "/api/v1/audit", None),
              ("get", "/api/v1/exports/csv", None), ("post", "/api/v1/reminders/1/acknowledge", None),
              ("get", "/api/v1/patients/P-LATE/explanation", None)],
}


@pytest.mark.parametrize(("role", "method", "url", "body"),
                         [(role, *case) for role, cases in FORBIDDEN.items() for case in cases])
def test_each_role_is_refused_what_it_may_not_do(client: TestClient, seeded: Seeded, role: str,
                                                 method: str, url: str, body: Any):
    response = call(client, method, url, body, auth(seeded, role))
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "access-denied"
    assert role in response.json()["message"]


ALLOWED = {
    "navigator": ["/api/v1/patients", "/api/v1/patients/P-LATE", "/api/v1/worklist", "/api/v1/audit",
                  "/api/v1/reminders", "/api/v1/pathway", "/api/v1/patients/P-LATE/events",
                  "/api/v1/patients/P-LATE/recommendations"],
    "clinician": ["/api/v1/patients", "/api/v1/exports/csv", "/api/v1/audit", "/api/v1/worklist"],
    "auditor": ["/api/v1/patients", "/api/v1/worklist", "/api/v1/audit", "/api/v1/exports/csv"],
    "admin": ["/api/v1/users", "/api/v1/pathway", "/api/v1/me"],
}


@pytest.mark.parametrize(("role", "url"), [(r, u) for r, urls in ALLOWED.items() for u in urls])
def test_each_role_may_read_what_it_needs(client: TestClient, seeded: Seeded, role: str, url: str):
    assert client.get(url, headers=auth(seeded, role)).status_code == 200


# -- patients ---------------------------------------------------------------------------------

def test_patients_are_listed_and_filtered_by_phase_and_team(client: TestClient, seeded: Seeded):
    h = auth(seeded, "navigator")
    every = client.get("/api/v1/patients", headers=h).json()
    assert [p["ref"] for p in every] == ["P-LATE", "P-NEW", "P-SURV"]
    late = client.get("/api/v1/patients", params={"phase": "reassessment"}, headers=h).json()
    assert [p["ref"] for p in late] == ["P-LATE"]
    assert client.get("/api/v1/patients", params={"team": "nobody"}, headers=h).json() == []
    assert client.get("/api/v1/patients", params={"phase": "nonsense"}, headers=h).status_code == 422


def test_a_navigator_registers_a_patient_once(client: TestClient, seeded: Seeded):
    h = auth(seeded, "navigator")
    created = client.post("/api/v1/patients", json={"patient": profile("P-0009"), "care_team": "hpb"},
                          headers=h)
    assert created.status_code == 201
    assert created.json()["phase"] == "assessment" and created.json()["care_team"] == "hpb"
    again = client.post("/api/v1/patients", json={"patient": profile("P-0009")}, headers=h)
    assert again.status_code == 409 and "already registered" in again.json()["message"]


def test_an_unreadable_patient_is_refused_with_a_sentence(client: TestClient, seeded: Seeded):
    response = client.post("/api/v1/patients", json={"patient": {"ref": "P-1"}},
                           headers=auth(seeded, "navigator"))
    assert response.status_code in (400, 422)
    assert response.json()["message"]


def test_a_patient_reads_with_phase_reminders_and_an_etag(client: TestClient, seeded: Seeded):
    response = client.get("/api/v1/patients/P-LATE", headers=auth(seeded, "navigator"))
    body = response.json()
    assert body["phase"] == "reassessment"
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert [(r["kind"], r["status"]) for r in body["reminders"]] == [("reassessment_due", "overdue")]
    assert body["history"][-1]["event"] == "reassessment_falls_due"
    assert client.get("/api/v1/patients/NOBODY", headers=auth(seeded, "navigator")).status_code == 404


def test_the_auditor_sees_only_pseudonyms_and_reads_by_them(client: TestClient, seeded: Seeded):
    h = auth(seeded, "auditor")
    refs = [p["ref"] for p in client.get("/api/v1/patients", headers=h).json()]
    key = seeded.tracker.settings.pseudonym_key
    assert sorted(refs) == sorted(pseudonym(r, key) for r in ("P-LATE", "P-NEW", "P-SURV"))
    assert not any(r.startswith("P-") for r in refs)
    shown = pseudonym("P-LATE", key)
    body = client.get(f"/api/v1/patients/{shown}", headers=h).json()
    assert body["ref"] == shown and body["phase"] == "reassessment"
    assert client.get("/api/v1/patients/P-LATE", headers=h).status_code == 404
    assert all(i["ref"].startswith("PX-") for i in client.get("/api/v1/worklist", headers=h).json())
    assert {e["actor"] for e in client.get(f"/api/v1/patients/{shown}/events", headers=h).json()} == {"-"}


# -- events -----------------------------------------------------------------------------------

def test_a_navigator_records_a_reassessment_and_the_phase_moves_on(client: TestClient, seeded: Seeded):
    h = auth(seeded, "navigator")
    recorded = client.post("/api/v1/patients/P-LATE/events", json=REASSESSMENT, headers=h)
    assert recorded.status_code == 201, recorded.text
    body = recorded.json()
    assert (body["phase_before"], body["phase_after"], body["phase_now"]) == \
        ("reassessment", "neoadjuvant", "neoadjuvant")
    assert recorded.headers["ETag"] == f'"{body["version"]}"'
    reminders = client.get("/api/v1/reminders", params={"ref": "P-LATE"}, headers=h).json()
    assert [r["status"] for r in reminders] == ["resolved", "scheduled"]
    events = client.get("/api/v1/patients/P-LATE/events", headers=h).json()
    assert events[-1]["type"] == "reassessment" and events[-1]["actor"] == "web:navigator1"


def test_a_navigator_holds_and_resumes_a_line_through_the_api(client: TestClient, seeded: Seeded):
    """Contract §7.4 through the API: the hold's own reason (not a stop reason) is accepted."""
    h = auth(seeded, "navigator")
    held = client.post("/api/v1/patients/P-LATE/events", headers=h,
                       json={"type": "systemic_paused", "date": "2025-05-20",
                             "reason": "intercurrent_illness"})
    assert held.status_code == 201, held.text
    resumed = client.post("/api/v1/patients/P-LATE/events", headers=h,
                          json={"type": "systemic_resumed", "date": "2025-05-27", "regimen": "FOLFIRI"})
    assert resumed.status_code == 201, resumed.text
    reminders = client.get("/api/v1/reminders", params={"ref": "P-LATE"}, headers=h).json()
    [review] = [r for r in reminders if r["kind"] == "hold_review"]
    assert (review["due_on"], review["status"]) == ("2025-07-01", "resolved")


def test_a_stage_is_a_number_in_the_api(client: TestClient, seeded: Seeded):
    h = auth(seeded, "navigator")
    stage = client.post("/api/v1/patients/P-LATE/events", headers=h,
                        json={"type": "surgery", "date": "2025-05-30", "procedure": "liver_resection",
                              "stage": 1, "margin": "R0"})
    assert stage.status_code == 201, stage.text
    assert stage.json()["phase_now"] == "resection"
    wrong = client.post("/api/v1/patients/P-LATE/events", headers=h,
                        json={"type": "surgery", "date": "2025-05-31", "procedure": "liver_resection",
                              "stage": 3})
    assert wrong.status_code == 422


def test_a_refused_entry_answers_422_in_the_nurses_words(client: TestClient, seeded: Seeded):
    h = auth(seeded, "navigator")
    future = client.post("/api/v1/patients/P-LATE/events", json={**REASSESSMENT, "date": "2025-07-01"},
                         headers=h)
    assert future.status_code == 422
    assert future.json()["error"] == "impossible-entry"
    assert "cannot be in the future" in future.json()["message"]
    off = client.post("/api/v1/patients/P-NEW/events",
                      json={"type": "recurrence", "date": "2025-05-01", "site": "liver_only"}, headers=h)
    assert off.status_code == 422 and off.json()["error"] == "off-pathway"
    assert "override" in off.json()["message"]
    wrong_field = client.post("/api/v1/patients/P-NEW/events",
                              json={"type": "progression", "date": "2025-05-01", "regimen": "FOLFOX"},
                              headers=h)
    assert wrong_field.status_code == 422 and "has no field regimen" in wrong_field.json()["message"]


def test_mdt_decisions_and_overrides_are_for_clinicians(client: TestClient, seeded: Seeded):
    h = auth(seeded, "clinician")
    mdt = client.post("/api/v1/patients/P-NEW/events",
                      json={"type": "mdt_review", "date": "2025-05-20", "resectable": True,
                            "plan": "perioperative"}, headers=h)
    assert mdt.status_code == 201
    override = client.post("/api/v1/patients/P-NEW/events",
                           json={"type": "recurrence", "date": "2025-05-21", "site": "liver_only",
                                 "override": "found at MDT; recorded on purpose"}, headers=h)
    assert override.status_code == 201, override.text
    deviations = client.get("/api/v1/patients/P-NEW", headers=h).json()["deviations"]
    assert any(d["check"] == "A-OVERRIDE" for d in deviations) or deviations == []


def test_if_match_guards_against_a_lost_update(client: TestClient, seeded: Seeded):
    h = auth(seeded, "navigator")
    version = client.get("/api/v1/patients/P-LATE", headers=h).json()["version"]
    stale = client.post("/api/v1/patients/P-LATE/events", json=REASSESSMENT,
                        headers={**h, "If-Match": f'"{version - 1}"'})
    assert stale.status_code == 409 and stale.json()["error"] == "concurrent-update"
    fresh = client.post("/api/v1/patients/P-LATE/events", json=REASSESSMENT,
                        headers={**h, "If-Match": f'"{version}"'})
    assert fresh.status_code == 201 and fresh.json()["version"] == version + 1
    garbled = client.post("/api/v1/patients/P-LATE/events", json=REASSESSMENT,
                          headers={**h, "If-Match": "yesterday"})
    assert garbled.status_code == 400


def test_recommendations_are_listed_with_their_seed_lines(client: TestClient, seeded: Seeded):
    response = client.get("/api/v1/patients/P-LATE/recommendations", headers=auth(seeded, "clinician"))
    assert response.status_code == 200
    for rec in response.json():
        assert rec["id"].startswith("G-") and rec["text"]


# -- reminders and the worklist ---------------------------------------------------------------

def _overdue_id(client: TestClient, seeded: Seeded) -> int:
    items = client.get("/api/v1/worklist", headers=auth(seeded, "navigator")).json()
    return next(i["reminder_id"] for i in items if i["ref"] == "P-LATE")


def test_the_worklist_shows_the_overdue_reassessment_most_urgent_first(client: TestClient, seeded: Seeded):
    h = auth(seeded, "navigator")
    items = client.get("/api/v1/worklist", headers=h).json()
    assert items[0]["ref"] == "P-LATE" and items[0]["status"] == "overdue" and items[0]["days_late"] == 61
    assert [i["days_late"] for i in items] == sorted((i["days_late"] for i in items), reverse=True)
    assert client.get("/api/v1/worklist", params={"kind": "total_chemo_check"}, headers=h).json() == []
    assert client.get("/api/v1/worklist", params={"team": "liver"}, headers=h).json() == items
    assert [r["ref"] for r in client.get("/api/v1/reminders", headers=h).json()] == ["P-LATE"]


def test_a_navigator_acknowledges_a_reminder(client: TestClient, seeded: Seeded):
    rid = _overdue_id(client, seeded)
    response = client.post(f"/api/v1/reminders/{rid}/acknowledge", headers=auth(seeded, "navigator"))
    assert response.status_code == 200 and response.json()["action"] == "acknowledge"


def test_a_snoozed_reminder_leaves_the_worklist_until_its_day(client: TestClient, seeded: Seeded):
    h = auth(seeded, "navigator")
    rid = _overdue_id(client, seeded)
    bad = client.post(f"/api/v1/reminders/{rid}/snooze", json={"until": "2025-06-08", "reason": "whim"},
                      headers=h)
    assert bad.status_code in (400, 422) and bad.json()["message"]
    ok = client.post(f"/api/v1/reminders/{rid}/snooze",
                     json={"until": "2025-06-08", "reason": "awaiting_scan"}, headers=h)
    assert ok.status_code == 200, ok.text
    assert client.get("/api/v1/worklist", headers=h).json() == []
    later = client.get("/api/v1/worklist", params={"as_of": "2025-06-08"}, headers=h).json()
    assert [i["reminder_id"] for i in later] == [rid]


def test_a_dismissal_needs_a_coded_reason(client: TestClient, seeded: Seeded):
    h = auth(seeded, "clinician")
    rid = _overdue_id(client, seeded)
    other = client.post(f"/api/v1/reminders/{rid}/dismiss", json={"reason": "other"}, headers=h)
    assert other.status_code in (400, 422)
    ok = client.post(f"/api/v1/reminders/{rid}/dismiss", json={"reason": "toxicity"}, headers=h)
    assert ok.status_code == 200, ok.text
    assert client.get("/api/v1/worklist", headers=h).json() == []


def test_a_reminder_is_given_to_a_person_and_the_worklist_says_who_is_on_it(client: TestClient,
                                                                          seeded: Seeded):
    h = auth(seeded, "navigator")
    rid = _overdue_id(client, seeded)
    given = client.post(f"/api/v1/reminders/{rid}/assign", json={"to": "clinician1"}, headers=h)
    assert given.status_code == 200 and given.json()["message"].endswith("to clinician1.")
    [item] = client.get("/api/v1/worklist", headers=h).json()
    assert item["assignee"] == "clinician1" and item["section"] == "overdue"
    assert item["timing"] == "47 days overdue"
    client.post(f"/api/v1/reminders/{rid}/acknowledge", headers=h)
    [item] = client.get("/api/v1/worklist", headers=h).json()
    assert item["assignee"] == "clinician1" and item["acknowledged_by"] == "web:navigator1"
    [seen] = client.get("/api/v1/worklist", headers=auth(seeded, "auditor")).json()
    assert seen["assignee"] is None and seen["acknowledged_by"] is None  # an auditor sees no names
    refused = client.post(f"/api/v1/reminders/{rid}/assign", json={"to": "admin1"}, headers=h)
    assert refused.status_code == 422 and "is not someone who acts on reminders" in refused.json()["message"]
    released = client.post(f"/api/v1/reminders/{rid}/assign", json={"to": None}, headers=h)
    assert released.status_code == 200
    assert client.get("/api/v1/worklist", headers=h).json()[0]["assignee"] is None


def test_the_explanation_says_why_the_patient_is_not_moving(client: TestClient, seeded: Seeded):
    body = client.get("/api/v1/patients/P-LATE/explanation", headers=auth(seeded, "navigator")).json()
    assert body["headline"].startswith("Waiting for a resectability reassessment since 1 Apr 2025")
    assert body["awaited"][0]["entries"] == ["reassessment"]
    assert body["reminders"][0]["cleared_by"] == ["reassessment"]
    reassess = next(s for s in body["statements"] if s["id"] == "G-REASSESS-2M")
    assert reassess["quotes"] == [{"line": 13, "section": "Unresectable Disease (Conversion Strategy)",
                                   "text": "Reassess resectability every 2 months during chemotherapy"}]


def test_an_override_takes_a_coded_reason(client: TestClient, seeded: Seeded):
    h = auth(seeded, "clinician")
    bad = client.post("/api/v1/patients/P-NEW/events", headers=h, json={
        "type": "recurrence", "date": "2025-05-01", "site": "both", "override_code": "whim"})
    assert bad.status_code == 422
    ok = client.post("/api/v1/patients/P-NEW/events", headers=h, json={
        "type": "recurrence", "date": "2025-05-01", "site": "both", "override_code": "prior_treatment"})
    assert ok.status_code == 201, ok.text
    history = client.get("/api/v1/patients/P-NEW", headers=h).json()["history"]
    assert history[-1]["override"] == "prior treatment"
    audit = client.get("/api/v1/audit", headers=h).json()
    assert {r["reason"] for r in audit["overrides_by_reason"]} >= {"prior_treatment", "free_text"}


def test_a_coded_override_reason_alone_is_still_an_override_and_for_clinicians(client: TestClient,
                                                                                 seeded: Seeded):
    """``override_code`` without words records an override (its words stand as the reason): a
    navigator may not send it, through the API or the page's form."""
    entry = {"type": "recurrence", "date": "2025-05-01", "site": "both", "override_code": "mdt_rationale"}
    refused = client.post("/api/v1/patients/P-NEW/events", headers=auth(seeded, "navigator"), json=entry)
    assert refused.status_code == 403, refused.text
    sign_in(client, "navigator1")
    page = client.post("/patients/P-NEW/events", data={"csrf": csrf_of(client.get("/patients/P-NEW").text),
                                                      **entry})
    assert page.status_code == 403
    history = client.get("/api/v1/patients/P-NEW", headers=auth(seeded, "clinician")).json()["history"]
    assert not any(step["event"] == "recurrence" for step in history)


def test_an_unknown_reminder_is_404(client: TestClient, seeded: Seeded):
    response = client.post("/api/v1/reminders/9999/acknowledge", headers=auth(seeded, "navigator"))
    assert response.status_code == 404


# -- audit, exports, pathway, users -----------------------------------------------------------

def test_the_audit_counts_the_cohort(client: TestClient, seeded: Seeded):
    body = client.get("/api/v1/audit", headers=auth(seeded, "auditor")).json()
    assert body["patients"] == 3 and isinstance(body["checks"], list)


def test_the_csv_export_is_pseudonymous(client: TestClient, seeded: Seeded):
    response = client.get("/api/v1/exports/csv", headers=auth(seeded, "auditor"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "P-LATE" not in response.text
    assert pseudonym("P-LATE", seeded.tracker.settings.pseudonym_key) in response.text
    assert client.get("/api/v1/exports/nonsense", headers=auth(seeded, "auditor")).status_code == 404


def test_the_pathway_comes_from_the_transition_table(client: TestClient, seeded: Seeded):
    from journey.pathway import diagram_edges

    body = client.get("/api/v1/pathway", headers=auth(seeded, "admin")).json()
    assert [(e["source"], e["target"], e["trigger"]) for e in body["edges"]] == diagram_edges()
    assert body["mermaid"].startswith("stateDiagram-v2") and len(body["phases"]) == 9


def test_an_admin_creates_users_whose_token_works_once_shown(client: TestClient, seeded: Seeded):
    h = auth(seeded, "admin")
    created = client.post("/api/v1/users", json={"name": "nurse2", "role": "navigator"}, headers=h)
    assert created.status_code == 201
    token = created.json()["token"]
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["name"] == "nurse2"
    assert "nurse2" in [u["name"] for u in client.get("/api/v1/users", headers=h).json()]
    again = client.post("/api/v1/users", json={"name": "nurse2", "role": "navigator"}, headers=h)
    assert again.status_code == 409


# -- the access log ---------------------------------------------------------------------------

def test_every_read_and_write_of_a_patient_is_in_the_access_log(client: TestClient, seeded: Seeded):
    h = auth(seeded, "navigator")
    client.get("/api/v1/patients/P-LATE", headers=h)
    assert client.post(f"/api/v1/reminders/{_overdue_id(client, seeded)}/acknowledge", headers=h).is_success
    assert client.post("/api/v1/patients/P-LATE/events", json=REASSESSMENT, headers=h).is_success
    rows = [(r.user, r.action, r.patient_ref) for r in access_log(seeded)]
    assert ("navigator1", "read", "P-LATE") in rows
    assert ("navigator1", "write", "P-LATE") in rows
    assert sum(1 for r in rows if r[1] == "write") == 2


def test_a_kept_entry_has_its_access_line_with_what_was_kept_and_a_refused_one_has_none(
        client: TestClient, seeded: Seeded):
    h = auth(seeded, "navigator")
    refused = client.post("/api/v1/patients/P-LATE/events", headers=h,
                          json={**REASSESSMENT, "response": "better"})
    assert refused.status_code == 422
    assert [r for r in access_log(seeded) if r.action == "write"] == []
    assert client.post("/api/v1/patients/P-LATE/events", json=REASSESSMENT, headers=h).is_success
    writes = [(r.user, r.patient_ref, r.detail, r.channel) for r in access_log(seeded) if r.action == "write"]
    assert writes == [("navigator1", "P-LATE", "recorded reassessment of 2025-05-30", "api")]


def test_an_entry_whose_access_line_cannot_be_written_is_not_kept_either(
        client: TestClient, seeded: Seeded, monkeypatch: pytest.MonkeyPatch):
    """The line is written in the entry's own transaction: no write without its line."""
    h = auth(seeded, "navigator")
    before = client.get("/api/v1/patients/P-LATE/events", headers=h).json()

    def failing(self: object, **line: object) -> None:
        raise RuntimeError("the access log's disk is full")
    monkeypatch.setattr(AccessLog, "append", failing)
    with pytest.raises(RuntimeError):
        client.post("/api/v1/patients/P-LATE/events", json=REASSESSMENT, headers=h)
    monkeypatch.undo()
    assert client.get("/api/v1/patients/P-LATE/events", headers=h).json() == before


# -- the OpenAPI document ---------------------------------------------------------------------

def test_the_openapi_document_describes_every_endpoint_and_the_bearer_scheme(client: TestClient):
    doc = client.get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    for _, url, _ in ENDPOINTS:
        template = url.replace("P-LATE", "{ref}").replace("/1/", "/{reminder_id}/").replace("/csv", "/{kind}")
        assert template in paths, template
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    event_body = doc["components"]["schemas"]["EventIn"]["properties"]
    assert {"type", "date", "response", "resectable", "regimen", "override"} <= set(event_body)
    assert not any(p.startswith("/login") or p.startswith("/worklist") for p in paths)
