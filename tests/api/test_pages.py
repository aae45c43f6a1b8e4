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


def reminder_id(page: str, action: str = "acknowledge") -> str:
    found = re.search(rf'action="/reminders/(\d+)/{action}"', page)
    assert found, f"no {action} form on the page"
    return found.group(1)


def row_of(page: str, rid: str) -> str:
    """The worklist row (or the patient page's list item) of one reminder."""
    start = page.index(f'id="reminder-{rid}"')
    return page[start:page.index("</tr>", start) if "</tr>" in page[start:] else None]


def test_a_navigator_acknowledges_from_the_worklist_with_one_click_and_it_shows(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/worklist").text
    rid = reminder_id(page)
    assert "not yet taken" in row_of(page, rid)
    response = client.post(f"/reminders/{rid}/acknowledge", data={"csrf": csrf_of(page), "back": "/worklist"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/worklist#reminder-{rid}"
    after = client.get("/worklist").text
    assert "Acknowledged the reassessment due of P-LATE (due 2025-04-01); it is yours now." in after
    row = row_of(after, rid)
    assert "navigator1, acknowledged 1 Jun, 13:00" in row  # noon UTC is 13:00 in London
    assert 'aria-label="Acknowledge' not in row  # acknowledged by her already
    assert 'id="count-overdue">1<' in client.get("/worklist?who=mine").text
    assert 'id="count-overdue">0<' in client.get("/worklist?who=untaken").text


def test_a_reminder_is_given_to_a_colleague_from_the_worklist(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/worklist").text
    rid = reminder_id(page, "assign")
    assert '<option value="clinician1">clinician1</option>' in page  # people who act on reminders
    assert "admin1" not in page.split('id="to-')[1].split("</select>")[0]
    after = client.post(f"/reminders/{rid}/assign", data={"csrf": csrf_of(page), "to": "clinician1",
                                                          "back": "/worklist?who=person:clinician1"}).text
    assert "Gave the reassessment due of P-LATE (due 2025-04-01) to clinician1." in after
    assert "clinician1 (assigned, not yet acknowledged)" in row_of(after, rid)


def test_a_refused_dismissal_comes_back_in_place_in_words_with_what_was_typed(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/worklist").text
    rid = reminder_id(page, "dismiss")
    response = client.post(f"/reminders/{rid}/dismiss", data={"csrf": csrf_of(page), "reason": "other",
                                                               "text": "  ", "back": "/worklist?who=untaken"},
                           follow_redirects=False)
    assert response.status_code == 303  # post/redirect/get, refused or not
    assert response.headers["location"] == f"/worklist?who=untaken#reminder-{rid}"
    again = client.get("/worklist?who=untaken").text
    row = row_of(again, rid)
    assert '<details class="more" open>' in row and 'role="alert"' in row
    assert "needs the justification in words" in row and "--text" not in row
    assert '<option value="other" selected>' in row
    # shown once: a reload shows the worklist as it is
    assert 'role="alert"' not in row_of(client.get("/worklist?who=untaken").text, rid)


def test_a_snooze_for_another_reason_takes_its_words_from_the_page(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/worklist").text
    rid = reminder_id(page, "snooze")
    assert f'id="stext-{rid}" name="text"' in page
    after = client.post(f"/reminders/{rid}/snooze", data={
        "csrf": csrf_of(page), "until": "2025-06-10", "reason": "other", "text": "scan on 9 June"}).text
    assert "Snoozed the reassessment due of P-LATE (due 2025-04-01) until 2025-06-10 (other)." in after
    assert 'id="count-overdue">0<' in after


def test_a_snooze_until_an_unreadable_day_is_refused_in_place(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/worklist").text
    rid = reminder_id(page, "snooze")
    row = row_of(client.post(f"/reminders/{rid}/snooze", data={
        "csrf": csrf_of(page), "until": "next week", "reason": "awaiting_scan"}).text, rid)
    assert "Give the day to snooze until as a date" in row and 'value="next week"' in row


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


def test_a_refusal_comes_back_on_its_form_keeps_what_was_typed_and_says_who_may_override(
        client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/patients/P-NEW").text
    response = client.post("/patients/P-NEW/events", data={
        "csrf": csrf_of(page), "type": "recurrence", "date": "2025-05-01", "site": "both", "version": "1",
        "origin": "/patients/P-NEW"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/patients/P-NEW#refusal"
    again = client.get("/patients/P-NEW").text
    assert 'id="refusal"' in again and "If the team decided this on purpose" in again
    assert "Only a clinician may record an override: ask clinician1." in again
    assert '<details open id="form-recurrence">' in again
    assert '<option value="both" selected>' in again
    assert 'id="refusal"' not in client.get("/patients/P-NEW").text  # a reload: the page as it is


def test_a_clinician_records_an_override_with_a_coded_reason(client: TestClient):
    sign_in(client, "clinician1")
    page = client.get("/patients/P-NEW/record/recurrence").text
    assert '<option value="mdt_rationale">MDT rationale</option>' in page
    client.post("/patients/P-NEW/events", data={
        "csrf": csrf_of(page), "type": "recurrence", "date": "2025-05-01", "site": "both", "version": "1",
        "override_code": "continued_from_elsewhere", "override": "treated at the referring centre"})
    after = client.get("/patients/P-NEW").text
    assert "override: treatment continued from elsewhere: treated at the referring centre" in after
    audit = client.get("/audit").text
    assert "treatment continued from elsewhere" in audit.split('id="overrides-by-reason"')[1]


def test_an_override_for_another_reason_needs_words(client: TestClient):
    sign_in(client, "clinician1")
    page = client.get("/patients/P-NEW/record/recurrence").text
    again = client.post("/patients/P-NEW/events", data={
        "csrf": csrf_of(page), "type": "recurrence", "date": "2025-05-01", "site": "both", "version": "1",
        "override_code": "other", "origin": "/patients/P-NEW/record/recurrence"}).text
    assert "An override for another reason needs the reason in words." in again
    assert '<option value="other" selected>' in again


def test_the_action_that_clears_a_reminder_opens_its_form_prefilled(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/worklist").text
    link = re.search(r'<a class="button" href="([^"]+)" aria-label="Record reassessment for P-LATE">', page)
    assert link, "no Record reassessment on the worklist row"
    href = link.group(1).replace("&amp;", "&")
    assert href.startswith("/patients/P-LATE/record/reassessment?reminder=")
    form = client.get(href).text
    assert "This clears</strong> the resectability reassessment reminder due 1 Apr 2025" in form
    assert 'value="2025-06-01"' in form  # today
    response = client.post("/patients/P-LATE/events", data={
        "csrf": csrf_of(form), "type": "reassessment", "date": "2025-06-01", "response": "PR",
        "resectable": "no", "version": re.search(r'name="version" value="(\d+)"', form).group(1),  # type: ignore[union-attr]  # no match fails the test
        "reminder": re.search(r"reminder=(\d+)", href).group(1), "back": "/worklist",  # type: ignore[union-attr]  # no match fails the test
        "origin": href}, follow_redirects=False)
    assert response.headers["location"] == "/worklist"
    after = client.get("/worklist").text
    assert ("Recorded the resectability reassessment of 1 Jun 2025 for P-LATE (reassessment → neoadjuvant)"
            in after)
    assert "The resectability reassessment reminder of P-LATE is done." in after
    assert 'id="count-overdue">0<' in after


def test_a_second_stage_form_starts_with_what_the_reminder_says(client: TestClient):
    sign_in(client, "clinician1")
    plan = {"type": "mdt_review", "date": "2025-03-01", "resectable": "yes", "plan": "upfront_surgery"}
    first_stage = {"type": "surgery", "date": "2025-04-20", "procedure": "liver_resection", "stage": "1"}
    for entry in (plan, first_stage):
        page = client.get("/patients/P-NEW").text
        client.post("/patients/P-NEW/events", data={"csrf": csrf_of(page), **entry})
    page = client.get("/patients/P-NEW").text
    assert "Waiting for the second stage of the liver operation since 20 Apr 2025" in page
    link = re.search(r'href="(/patients/P-NEW/record/surgery\?reminder=[^"]+)"', page)
    assert link, "no Record operation on the open second-stage reminder"
    form = client.get(link.group(1).replace("&amp;", "&")).text
    assert '<option value="liver_resection" selected>' in form and '<option value="2" selected>' in form
    unprompted = client.get("/patients/P-NEW/record/surgery").text  # no reminder named: nothing guessed
    assert '<option value="liver_resection" selected>' not in unprompted


def test_the_patient_page_opens_with_why_the_journey_is_not_moving(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/patients/P-LATE").text
    headings = re.findall(r"<h2 id=\"[^\"]+\">([^<]+)</h2>", page)
    assert headings[0] == "Why is this patient not moving?"
    assert ("Waiting for a resectability reassessment since 1 Apr 2025 (61 days). 1 reminder is overdue."
            in page)
    assert "Cleared by recording: resectability reassessment." in page
    assert "“Reassess resectability every 2 months during chemotherapy.”" in page
    assert "Treatment Approach for Synchronous vs Metachronous Liver Metastases</cite>, section " \
           "“Unresectable Disease (Conversion Strategy)”" in page
    assert 'id="care-team">liver<' in page


def test_values_are_shown_in_words_and_checks_with_their_titles(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/patients/P-LATE").text
    history = page.split('id="history"')[1]
    assert 'resectable: yes</span>; <span class="field">plan: perioperative' in history
    assert "resectable=True" not in history
    assert "systemic therapy started" in history
    assert ('A-REASSESS-INTERVAL</strong> <span class="check-title">Resectability reassessed every 2 months'
            in page)
    audit = client.get("/audit").text
    assert ('<span class="check-id">A-TOTAL-6M</span> <span class="check-title">Six months of perioperative'
            in audit)


def test_the_audit_report_is_an_app_page_styled_by_the_app_under_its_csp(client: TestClient):
    sign_in(client, "navigator1")
    response = client.get("/audit/report")
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert "<style" not in response.text and '<link rel="stylesheet" href="/static/app.css">' in response.text
    assert '<a href="/audit">Back to the audit</a>' in response.text
    assert "<b>3</b> patients" in response.text


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


@pytest.mark.parametrize("url", ["/worklist", "/patients", "/patients/P-LATE", "/audit", "/pathway",
                                 "/audit/report", "/patients/P-LATE/record/reassessment"])
def test_every_page_uses_only_local_assets_and_a_strict_csp(client: TestClient, url: str):
    sign_in(client, "clinician1")
    response = client.get(url)
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert not re.search(r'(src|href)="(https?:)?//', response.text)


def test_the_stylesheet_is_served_locally(client: TestClient):
    response = client.get("/static/app.css")
    assert response.status_code == 200 and "text/css" in response.headers["content-type"]


def test_the_auditor_sees_no_ones_name_on_the_worklist(client: TestClient):
    sign_in(client, "navigator1")
    page = client.get("/worklist").text
    client.post(f"/reminders/{reminder_id(page)}/acknowledge", data={"csrf": csrf_of(page)})
    client.post("/logout", data={"csrf": csrf_of(client.get("/worklist").text)})
    sign_in(client, "auditor1")
    worklist = client.get("/worklist").text
    assert "PX-" in worklist and "P-LATE" not in worklist
    assert "navigator1" not in worklist and "Who is on it" not in worklist
    assert "navigator1" not in client.get("/worklist?who=person:navigator1").text
