"""The server-rendered pages through TestClient: sign-in, session cookie flags, CSRF, roles on
the pages, refusals inline, and no external assets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.seed import PASSWORD, Seeded, clone, csrf_of, seed, sign_in
from tracker.web import create_app


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed(tmp_path_factory.mktemp("pages"))


@pytest.fixture
def client(template: Seeded, tmp_path: Path) -> Iterator[TestClient]:
    seeded = clone(template, tmp_path)
    with TestClient(create_app(seeded.tracker, seeded.users)) as c:
        yield c


def test_pages_send_a_stranger_to_sign_in(client: TestClient):
    response = client.get("/patients/P-LATE", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/patients/P-LATE"


def test_the_session_cookie_is_httponly_and_samesite_lax(client: TestClient):
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf": token, "name": "navigator1", "password": PASSWORD},
                           follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert response.headers["location"] == "/worklist"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(client: TestClient):
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf": token, "name": "navigator1", "password": "nope-nope-nope"})
    assert response.status_code == 401
    assert "do not match an active account" in response.text


def test_a_form_without_its_csrf_token_is_refused(client: TestClient):
    response = client.post("/login", data={"csrf": "forged", "name": "navigator1", "password": PASSWORD})
    assert response.status_code == 403
    sign_in(client, "navigator1")
    forged = client.post("/patients/P-LATE/events", data={"csrf": "forged", "type": "progression",
                                                           "date": "2025-05-30"})
    assert forged.status_code == 403
    assert "progression" not in client.get("/patients/P-LATE").text.split('id="history"')[1]


def test_a_navigator_acknowledges_from_the_worklist_with_one_click(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/worklist").text
    rid = re.search(r'action="/reminders/(\d+)/acknowledge"', page).group(1)  # type: ignore[union-attr]  # no match fails the test
    response = client.post(f"/reminders/{rid}/acknowledge", data={"csrf": csrf_of(page)})
    assert response.status_code == 200 and "Acknowledged the reassessment due of P-LATE" in response.text


def test_a_dismissal_without_a_valid_reason_is_explained(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/worklist").text
    rid = re.search(r'action="/reminders/(\d+)/dismiss"', page).group(1)  # type: ignore[union-attr]  # no match fails the test
    response = client.post(f"/reminders/{rid}/dismiss", data={"csrf": csrf_of(page), "reason": "other"})
    assert response.status_code == 422 and "needs the justification in words" in response.text


def test_the_record_form_is_generated_from_the_event_vocabulary(client: TestClient):
    from journey.events import EVENT_SPECS

    sign_in(client, "clinician1")
    page = client.get("/patients/P-LATE").text
    for spec in EVENT_SPECS.values():
        assert f'id="form-{spec.type.value}"' in page
        for f in spec.fields:
            assert f'id="{spec.type.value}-{f.name}"' in page
    assert 'name="override"' in page


def test_a_navigator_cannot_record_mdt_decisions_or_overrides_on_the_page(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/patients/P-LATE").text
    assert "MDT decisions are recorded by clinicians" in page
    assert 'name="override"' not in page


def test_a_refusal_appears_inline_and_keeps_what_was_typed(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/patients/P-NEW").text
    response = client.post("/patients/P-NEW/events", data={
        "csrf": csrf_of(page), "type": "recurrence", "date": "2025-05-01", "site": "both", "version": "1"})
    assert response.status_code == 422
    assert 'id="refusal"' in response.text and "If the team decided this on purpose" in response.text
    assert '<details open id="form-recurrence">' in response.text
    assert '<option value="both" selected>' in response.text


def test_the_auditor_sees_pseudonyms_and_no_record_form(client: TestClient):
    sign_in(client, "auditor1")
    listing = client.get("/patients").text
    assert "P-LATE" not in listing and "PX-" in listing
    shown = re.search(r'href="/patients/(PX-[0-9a-f]+)"', listing).group(1)  # type: ignore[union-attr]  # no match fails the test
    page = client.get(f"/patients/{shown}").text
    assert "Record an event" not in page and "P-LATE" not in page


def test_the_admin_cannot_open_patient_pages(client: TestClient):
    sign_in(client, "admin1")
    assert client.get("/worklist").status_code == 403
    assert client.get("/pathway").status_code == 200


@pytest.mark.parametrize("url", ["/worklist", "/patients", "/patients/P-LATE", "/audit", "/pathway"])
def test_every_page_uses_only_local_assets_and_a_strict_csp(client: TestClient, url: str):
    sign_in(client, "clinician1")
    response = client.get(url)
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert not re.search(r'(src|href)="(https?:)?//', response.text)


def test_the_stylesheet_is_served_locally(client: TestClient):
    response = client.get("/static/app.css")
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]
