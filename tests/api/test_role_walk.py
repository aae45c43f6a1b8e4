"""The role walk: every endpoint of the API and every page, called with each role's credentials,
on a database that holds typed free text in every place it can be (a note, an override reason, a
snooze text, a dismissal text) and a colleague's name wherever one is kept (who recorded, who is on
a reminder, who acknowledged it). It fails if a real patient reference or any of those texts or
names reaches an auditor, or if anything about a patient reaches an admin; and it fails if the
application has a route the walk does not call, so a new endpoint (FHIR, say) cannot be added
without being walked. A refused form comes back with what was typed: the walk posts refused
forms too, and reads the pages they come back on.

The walk's detector is checked too: the navigator's walk must show every planted text and
reference, else the walk would prove nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from journey.scenario import read_scenario
from tests.api.seed import PASSWORD, ROLES, Seeded, clone, csrf_of, profile, seed, sign_in
from tracker.application import pseudonym
from tracker.web import create_app

NOTE = "NOTE-SENTINEL-Mrs-Example"
OVERRIDE = "OVERRIDE-SENTINEL-decided-by-Dr-Example"
SNOOZE = "SNOOZE-SENTINEL-waiting-for-Mr-Example"
DISMISS = "DISMISS-SENTINEL-told-by-Ms-Example"
FREE_TEXT = (NOTE, OVERRIDE, SNOOZE, DISMISS)
#: who is on a reminder and who acknowledged it (colleagues' names: planted on P-LATE's reminder)
ASSIGNEE = "walk-assignee"
ACKNOWLEDGER = "walk-acknowledger"
#: the texts and names a clinical role reads somewhere (snooze texts are kept, not shown to anyone)
SHOWN_TO_CLINICIANS = (NOTE, OVERRIDE, DISMISS, ASSIGNEE, ACKNOWLEDGER)
REFS = ("P-LATE", "P-NEW", "P-SURV", "P-WALK", "P-SNOOZED")
#: the people who recorded things or are on a reminder (an auditor learns nobody's name)
STAFF = ("navigator1", "clinician1", "web:", ASSIGNEE, ACKNOWLEDGER)
PSEUDONYM = re.compile(r"PX-[0-9a-f]{16}")
TARGET = "walk-target"  # the user the admin's actions act on


def planted(folder: Path) -> Seeded:
    """The web tests' database, and free text typed everywhere it can be."""
    seeded = seed(folder)
    tracker = seeded.tracker
    periop = [{"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "perioperative"},
              {"date": "2025-02-01", "type": "systemic_started", "regimen": "FOLFOX"}]
    for ref in ("P-WALK", "P-SNOOZED"):
        tracker.import_scenario(read_scenario({"patient": profile(ref), "events": periop}), actor="seed")
    tracker.record_event("P-NEW", {"type": "recurrence", "date": "2025-05-21", "site": "liver_only",
                                   "override": OVERRIDE, "note": NOTE}, actor="web:clinician1", source="web")
    tracker.record_event("P-LATE", {"type": "reassessment", "date": "2025-03-01",
                                    "response": "SD", "resectable": False, "note": NOTE},
                         actor="web:navigator1", source="web")
    due = {i.ref: i.reminder_id for i in tracker.worklist(limit=None)}
    tracker.act_on_reminder("dismiss", due["P-WALK"], "web:navigator1", reason="other", text=DISMISS)
    tracker.act_on_reminder("snooze", due["P-SNOOZED"], "web:navigator1", until=date(2025, 6, 20),
                            reason="awaiting_scan", text=SNOOZE)
    seeded.users.add(TARGET, "navigator", PASSWORD)
    seeded.users.add(ASSIGNEE, "navigator", PASSWORD)
    seeded.users.add(ACKNOWLEDGER, "clinician", PASSWORD)
    tracker.act_on_reminder("acknowledge", due["P-LATE"], f"web:{ACKNOWLEDGER}", person=ACKNOWLEDGER)
    tracker.act_on_reminder("assign", due["P-LATE"], f"web:{ACKNOWLEDGER}", person=ASSIGNEE)
    return seeded


@dataclass
class Walker:
    """One role's walk: a client signed in (pages) and a token (API), and every answer seen."""

    role: str
    client: TestClient
    seeded: Seeded
    seen: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def api(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.seeded.tokens[self.role]}"}

    def ref(self, real: str) -> str:
        """The reference this role would have in hand: the pseudonym for an auditor."""
        key = self.seeded.tracker.settings.pseudonym_key
        return pseudonym(real, key) if self.role == "auditor" else real

    def csrf(self) -> str:
        """The CSRF token of this browser's session (or of its sign-in form, once signed out)."""
        signed_in = self.client.get("/account/password", follow_redirects=False)
        return csrf_of(signed_in.text if signed_in.status_code == 200 else self.client.get("/login").text)

    def call(self, name: str, method: str, url: str, **kwargs: Any) -> None:
        response = self.client.request(method, url, follow_redirects=True, **kwargs)
        assert response.status_code < 500, f"{self.role} {method} {url}: {response.status_code}"
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.seen[f"{name} {url}"] = headers + "\n" + response.text
        self.statuses[f"{name} {url}"] = response.status_code

    def reminder(self, real: str) -> int:
        """A reminder of the patient (its latest; acting on a closed one is refused, and walked)."""
        return max(r.id for r in self.seeded.tracker.patient_view(real).reminder_rows)

    def reminder_query(self, real: str) -> dict[str, Any]:
        """What the worklist's "Record ..." adds to the form's address: the reminder it clears."""
        rows = self.seeded.tracker.patient_view(real).reminder_rows
        return {"reminder": max(r.id for r in rows), "back": "/worklist"} if rows else {"back": "/worklist"}


def _reassessment() -> dict[str, Any]:
    return {"type": "reassessment", "date": "2025-05-30", "response": "PR", "resectable": False,
            "note": "walk"}


def _refused_entry(w: Walker) -> None:
    """An entry refused on its own form page: it comes back there, with what was typed (the
    note), kept in the server-side session for that page view."""
    form = f"/patients/{w.ref('P-LATE')}/record/reassessment"
    w.call("refused entry", "POST", f"/patients/{w.ref('P-LATE')}/events", data={
        "csrf": w.csrf(), "type": "reassessment", "date": "2024-10-01", "response": "PR",
        "resectable": "no", "note": NOTE, "origin": form, "back": "/worklist"})


Step = Callable[[Walker], None]

#: every route of the app (method, path as declared) and how the walk calls it
WALK: dict[tuple[str, str], Step] = {
    # -- the API ------------------------------------------------------------------------------
    ("GET", "/api/v1/openapi.json"): lambda w: w.call("openapi", "GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/me"): lambda w: w.call("me", "GET", "/api/v1/me", headers=w.api),
    ("GET", "/api/v1/patients"): lambda w: w.call("patients", "GET", "/api/v1/patients", headers=w.api),
    ("POST", "/api/v1/patients"): lambda w: w.call(
        "register", "POST", "/api/v1/patients", headers=w.api, json={"patient": profile(f"P-REG-{w.role}")}),
    ("GET", "/api/v1/patients/{ref}"): lambda w: [w.call("patient", "GET", f"/api/v1/patients/{w.ref(r)}",
                                                         headers=w.api) for r in REFS],
    ("GET", "/api/v1/patients/{ref}/events"): lambda w: [w.call(
        "events", "GET", f"/api/v1/patients/{w.ref(r)}/events", headers=w.api) for r in REFS],
    ("POST", "/api/v1/patients/{ref}/events"): lambda w: w.call(
        "record", "POST", f"/api/v1/patients/{w.ref('P-LATE')}/events", headers=w.api, json=_reassessment()),
    ("GET", "/api/v1/patients/{ref}/recommendations"): lambda w: w.call(
        "recommendations", "GET", f"/api/v1/patients/{w.ref('P-LATE')}/recommendations", headers=w.api),
    ("GET", "/api/v1/patients/{ref}/explanation"): lambda w: [w.call(
        "explanation", "GET", f"/api/v1/patients/{w.ref(r)}/explanation", headers=w.api) for r in REFS],
    ("GET", "/api/v1/reminders"): lambda w: [
        w.call("reminders", "GET", "/api/v1/reminders", headers=w.api),
        *[w.call(f"reminders of {r}", "GET", "/api/v1/reminders", params={"ref": w.ref(r)}, headers=w.api)
          for r in REFS]],
    ("POST", "/api/v1/reminders/{reminder_id}/acknowledge"): lambda w: w.call(
        "acknowledge", "POST", f"/api/v1/reminders/{w.reminder('P-LATE')}/acknowledge", headers=w.api),
    ("POST", "/api/v1/reminders/{reminder_id}/snooze"): lambda w: w.call(
        "snooze", "POST", f"/api/v1/reminders/{w.reminder('P-LATE')}/snooze", headers=w.api,
        json={"until": "2025-06-03", "reason": "awaiting_scan", "text": SNOOZE}),
    ("POST", "/api/v1/reminders/{reminder_id}/dismiss"): lambda w: w.call(
        "dismiss", "POST", f"/api/v1/reminders/{w.reminder('P-LATE')}/dismiss", headers=w.api,
        json={"reason": "other", "text": DISMISS}),
    ("POST", "/api/v1/reminders/{reminder_id}/assign"): lambda w: w.call(
        "assign", "POST", f"/api/v1/reminders/{w.reminder('P-SURV')}/assign", headers=w.api,
        json={"to": ASSIGNEE}),
    ("GET", "/api/v1/worklist"): lambda w: w.call("worklist", "GET", "/api/v1/worklist", headers=w.api),
    ("GET", "/api/v1/audit"): lambda w: w.call("audit", "GET", "/api/v1/audit", headers=w.api),
    ("GET", "/api/v1/exports/{kind}"): lambda w: [
        w.call("export", "GET", f"/api/v1/exports/{k}", headers=w.api) for k in ("csv", "xes")],
    ("GET", "/api/v1/pathway"): lambda w: w.call("pathway", "GET", "/api/v1/pathway", headers=w.api),
    ("GET", "/api/v1/patients/{ref}/fhir"): lambda w: [w.call(
        "fhir bundle", "GET", f"/api/v1/patients/{w.ref(r)}/fhir", headers=w.api) for r in REFS],
    ("POST", "/api/v1/fhir"): lambda w: w.call(
        "fhir import", "POST", "/api/v1/fhir", headers=w.api,
        json=w.seeded.tracker.fhir_bundle("P-WALK", False)),
    ("GET", "/api/v1/users"): lambda w: w.call("users", "GET", "/api/v1/users", headers=w.api),
    ("POST", "/api/v1/users"): lambda w: w.call("add user", "POST", "/api/v1/users", headers=w.api,
                                                json={"name": f"new-{w.role}", "role": "navigator"}),
    **{("POST", f"/api/v1/users/{{name}}/{action}"): (
        lambda w, action=action: w.call(action, "POST", f"/api/v1/users/{TARGET}/{action}", headers=w.api))
       for action in ("deactivate", "activate", "reset-password", "token", "revoke-token")},
    ("POST", "/api/v1/me/password"): lambda w: w.call(
        "password", "POST", "/api/v1/me/password", headers=w.api,
        json={"current": "not-the-password", "new": "another-long-password"}),
    # -- the pages ----------------------------------------------------------------------------
    ("GET", "/login"): lambda w: w.call("login page", "GET", "/login"),
    ("POST", "/login"): lambda w: sign_in(w.client, f"{w.role}1"),
    ("GET", "/"): lambda w: w.call("home", "GET", "/"),
    ("GET", "/worklist"): lambda w: w.call("worklist page", "GET", "/worklist"),
    ("GET", "/patients"): lambda w: w.call("patients page", "GET", "/patients"),
    ("GET", "/patients/{ref}"): lambda w: [
        w.call("patient page", "GET", f"/patients/{w.ref(r)}") for r in REFS],
    ("GET", "/patients/{ref}/record/{event_type}"): lambda w: [
        w.call(f"record form {t}", "GET", f"/patients/{w.ref(r)}/record/{t}", params=w.reminder_query(r))
        for r in REFS for t in ("reassessment", "mdt_review")],
    ("POST", "/patients/{ref}/events"): lambda w: [
        _refused_entry(w),
        w.call("record page", "POST", f"/patients/{w.ref('P-NEW')}/events",
               data={"csrf": w.csrf(), "type": "progression", "date": "2025-05-30", "note": "walk"})],
    ("POST", "/reminders/{reminder_id}/acknowledge"): lambda w: w.call(
        "acknowledge page", "POST", f"/reminders/{w.reminder('P-LATE')}/acknowledge",
        data={"csrf": w.csrf()}),
    ("POST", "/reminders/{reminder_id}/snooze"): lambda w: w.call(
        "snooze page", "POST", f"/reminders/{w.reminder('P-LATE')}/snooze",
        data={"csrf": w.csrf(), "until": "2025-06-03", "reason": "awaiting_scan", "text": SNOOZE}),
    ("POST", "/reminders/{reminder_id}/dismiss"): lambda w: w.call(
        "dismiss page", "POST", f"/reminders/{w.reminder('P-LATE')}/dismiss",
        data={"csrf": w.csrf(), "reason": "other", "text": DISMISS}),
    ("POST", "/reminders/{reminder_id}/assign"): lambda w: [
        w.call("assign refused page", "POST", f"/reminders/{w.reminder('P-LATE')}/assign",
               data={"csrf": w.csrf(), "to": "nobody-of-that-name", "back": "/worklist"}),
        w.call("assign page", "POST", f"/reminders/{w.reminder('P-LATE')}/assign",
               data={"csrf": w.csrf(), "to": "", "back": "/worklist"})],
    ("GET", "/audit"): lambda w: w.call("audit page", "GET", "/audit"),
    ("GET", "/audit/report"): lambda w: w.call("audit report", "GET", "/audit/report"),
    ("GET", "/pathway"): lambda w: w.call("pathway page", "GET", "/pathway"),
    ("GET", "/account/password"): lambda w: w.call("password page", "GET", "/account/password"),
    ("POST", "/account/password"): lambda w: w.call(
        "password change", "POST", "/account/password",
        data={"csrf": w.csrf(), "current": "not-the-password", "new": "x" * 12, "again": "x" * 12}),
    ("GET", "/admin/users"): lambda w: w.call("users page", "GET", "/admin/users"),
    ("POST", "/admin/users"): lambda w: w.call(
        "add user page", "POST", "/admin/users",
        data={"csrf": w.csrf(), "name": f"page-{w.role}", "role": "auditor"}),
    ("POST", "/admin/users/{name}/{action}"): lambda w: [
        w.call(f"user {action} page", "POST", f"/admin/users/{TARGET}/{action}", data={"csrf": w.csrf()})
        for action in ("deactivate", "activate", "reset-password", "token", "revoke-token")],
    ("POST", "/logout"): lambda w: w.call("logout", "POST", "/logout", data={"csrf": w.csrf()}),
}
#: walked first (reads, with the planted data as it is), then the writes, signing out last
ORDER = sorted(WALK, key=lambda k: (k == ("POST", "/logout"), k != ("POST", "/login"), k[0] != "GET"))


def app_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route the app answers (the included routers' too)."""
    try:  # FastAPI 0.165 includes routers lazily; this walks into them
        from fastapi.routing import iter_route_contexts
        found = [(c.path, c.original_route) for c in iter_route_contexts(app.routes)]
    except ImportError:  # older FastAPI: the routes are flat
        found = [(r.path, r) for r in app.routes]
    return {(method, path) for path, route in found if isinstance(route, APIRoute | Route)
            for method in (route.methods or ()) if method != "HEAD"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return planted(tmp_path_factory.mktemp("walk"))


def walk(template: Seeded, folder: Path, role: str) -> Walker:
    seeded = clone(template, folder)
    with TestClient(create_app(seeded.tracker, seeded.users)) as client:
        walker = Walker(role, client, seeded)
        for key in ORDER:
            WALK[key](walker)
    return walker


def findings(walker: Walker, forbidden: Iterator[str] | tuple[str, ...],
             pattern: re.Pattern[str] | None = None) -> list[str]:
    """Where a forbidden text (or the pattern) appears in what the walker saw."""
    found = []
    for where, text in walker.seen.items():
        found += [f"{where}: {word}" for word in forbidden if word in text]
        if pattern is not None and (m := pattern.search(text)):
            found.append(f"{where}: {m.group(0)}")
    return found


def test_the_walk_calls_every_route_of_the_app(template: Seeded) -> None:
    routes = app_routes(create_app(template.tracker, template.users))
    assert routes - set(WALK) == set(), "routes the role walk does not call: add them to WALK"
    assert set(WALK) - routes == set(), "the walk calls routes that no longer exist"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_walks_every_endpoint_and_page_and_sees_only_what_it_may(
        template: Seeded, tmp_path: Path, role: str) -> None:
    walker = walk(template, tmp_path, role)
    assert len(walker.seen) >= len(WALK)
    if role == "auditor":
        assert findings(walker, (*REFS, *FREE_TEXT, *STAFF)) == []
        assert walker.statuses["patient page /patients/" + walker.ref("P-NEW")] == 200  # it did read them
        late = walker.ref("P-LATE")
        assert walker.statuses[f"record form reassessment /patients/{late}/record/reassessment"] == 200
        assert walker.statuses[f"explanation /api/v1/patients/{late}/explanation"] == 200
        assert PSEUDONYM.search(walker.seen["worklist /api/v1/worklist"])
    elif role == "admin":
        assert findings(walker, (*REFS, *FREE_TEXT), PSEUDONYM) == []
        assert walker.statuses["users page /admin/users"] == 200
    else:  # the detector works: a clinical role's walk shows every planted text and reference
        missing = [word for word in (*REFS, *SHOWN_TO_CLINICIANS)
                   if not any(word in text for text in walker.seen.values())]
        assert missing == []
        # a refused entry came back on its form with what was typed (kept in the session row)
        assert NOTE in walker.seen["refused entry /patients/P-LATE/events"]
        assert ASSIGNEE in walker.seen["worklist page /worklist"]


def test_an_auditors_patient_view_holds_no_name_and_no_dismissal_words(template: Seeded,
                                                                        tmp_path: Path) -> None:
    """What the pages choose not to print is not in the value either: the role's projection took
    the names and the words out of the patient view (its reminder rows, its dismissals, and so the
    explanation built from it)."""
    from tracker.application import Origin
    from tracker.web.desk import Desk

    seeded = clone(template, tmp_path)
    here = Origin("web", "127.0.0.1")
    desk = Desk(seeded.tracker, seeded.users, seeded.users.authenticate("auditor1", PASSWORD), here)
    late = desk.patient(desk.projection.ref("P-LATE"))
    walked = desk.patient(desk.projection.ref("P-WALK"))
    assert {(r.assignee, r.acknowledged_by, r.acknowledged_at) for r in late.reminder_rows} == {
        (None, None, None)}
    assert walked.dismissals and all(d.text is None for d in walked.dismissals)
    explained = desk.explanation(desk.projection.ref("P-WALK"))
    assert all(r.dismissed is None or r.dismissed.text is None for r in explained.reminders)
    clinician = Desk(seeded.tracker, seeded.users, seeded.users.authenticate("clinician1", PASSWORD), here)
    assert any(r.assignee == ASSIGNEE for r in clinician.patient("P-LATE").reminder_rows)
    assert any(d.text == DISMISS for d in clinician.patient("P-WALK").dismissals)
