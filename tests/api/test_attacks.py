"""The six findings of issue 16, each tried again as the attacker tried it, on the web tests'
database (127.0.0.1 in the issue, FastAPI's TestClient here; the injected clock stands in for
time passing). Each test reproduces the attack and shows it no longer gets through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from tests.api.seed import PASSWORD, Seeded, csrf_of, sign_in
from tracker.application import Settings, Users, pseudonym
from tracker.clock import FixedClock
from tracker.compose import build_tracker, require_secrets
from tracker.settings import UnsafeSettings
from tracker.web import create_app

NOTE, OVERRIDE = "phoned Mrs Jones at home", "Dr Smith decided at the MDT"


class CountingHasher(PasswordHasher):
    """Argon2 as configured, counting the passwords it is asked to check."""

    verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # argon2's names
        CountingHasher.verified += 1
        return super().verify(hash, password)


def bearer(seeded: Seeded, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {seeded.tokens[role]}"}


def clock(seeded: Seeded) -> FixedClock:
    assert isinstance(seeded.tracker.clock, FixedClock)
    return seeded.tracker.clock


# -- 1. an auditor read real references, notes and override reasons ------------------------------

def test_1_an_auditor_reads_pseudonyms_and_no_typed_text_through_the_api_and_the_pages(
        client: TestClient, seeded: Seeded) -> None:
    recorded = client.post("/api/v1/patients/P-NEW/events", headers=bearer(seeded, "clinician"), json={
        "type": "recurrence", "date": "2025-05-21", "site": "liver_only", "override": OVERRIDE, "note": NOTE})
    assert recorded.status_code == 201, recorded.text
    shown = pseudonym("P-NEW", seeded.tracker.settings.pseudonym_key)
    auditor = bearer(seeded, "auditor")

    patient = client.get(f"/api/v1/patients/{shown}", headers=auditor)  # the request of the finding
    events = client.get(f"/api/v1/patients/{shown}/events", headers=auditor)
    sign_in(client, "auditor1")
    page = client.get(f"/patients/{shown}")

    assert patient.json()["profile"]["ref"] == shown and patient.json()["ref"] == shown
    assert events.json()[-1]["override_reason"] == "(free text withheld)"
    assert events.json()[-1]["actor"] == "-" and "note" not in events.json()[-1]["payload"]
    for answer in (patient, events, page):
        assert answer.status_code == 200
        assert "P-NEW" not in answer.text and NOTE not in answer.text and OVERRIDE not in answer.text
    # the clinician who typed them still reads them
    own = client.get("/api/v1/patients/P-NEW/events", headers=bearer(seeded, "clinician")).json()[-1]
    assert own["override_reason"] == OVERRIDE and own["payload"]["note"] == NOTE


# -- 2. the pseudonym key had a public default ---------------------------------------------------

def test_2_the_public_default_key_is_refused_at_start_so_guessed_references_do_not_reproduce_pseudonyms(
        seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    public = Settings(database_url=seeded.url, pseudonym_key=SecretStr("change-me-per-site"))
    with pytest.raises(UnsafeSettings, match="JOURNEY_PSEUDONYM_KEY is a value published") as refused:
        require_secrets(public)
    assert "secrets.token_urlsafe" in refused.value.message  # says how to set it
    for missing in ("", "short"):
        with pytest.raises(UnsafeSettings, match="JOURNEY_PSEUDONYM_KEY"):
            require_secrets(Settings(database_url=seeded.url, pseudonym_key=SecretStr(missing)))
    hook = Settings(database_url=seeded.url, webhook_url="https://hooks.example.org/x")
    with pytest.raises(UnsafeSettings, match="JOURNEY_WEBHOOK_SECRET is not set"):
        require_secrets(hook)

    # the programs refuse to start: the CLI before opening the records, the web app before serving
    monkeypatch.setenv("JOURNEY_DATABASE_URL", seeded.url)
    monkeypatch.setenv("JOURNEY_PSEUDONYM_KEY", "change-me-per-site")
    from tracker.cli import app

    worklist = CliRunner().invoke(app, ["worklist"])
    assert worklist.exit_code == 2 and "Refusing to start" in worklist.output
    monkeypatch.setenv("JOURNEY_PSEUDONYM_KEY", "a-long-and-private-site-key-1234")
    monkeypatch.setenv("JOURNEY_SESSION_SECRET", "")
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("served without a session secret"))
    served = CliRunner().invoke(app, ["serve"])
    assert served.exit_code == 2 and "JOURNEY_SESSION_SECRET is not set" in served.output

    # the offline attack of the finding: HMAC of a guessed reference under the public key
    site_key = seeded.tracker.settings.pseudonym_key
    assert pseudonym("P-LATE", "change-me-per-site") != pseudonym("P-LATE", site_key)
    # typed as secrets: a printed or logged Settings shows none of them
    assert "tests-only" not in repr(seeded.tracker.settings) + str(seeded.tracker.settings)


def test_2_there_is_one_pseudonym_function_and_it_refuses_an_empty_key() -> None:
    root = Path(__file__).resolve().parents[2]
    keyed = sorted(str(p.relative_to(root)) for package in ("tracker", "db", "journey")
                   for p in (root / package).rglob("*.py") if "hmac.new(" in p.read_text(encoding="utf-8"))
    # the pseudonym, and the webhook's signature (a different key and purpose)
    assert keyed == ["tracker/application/notifications.py", "tracker/reports/exports.py"]
    with pytest.raises(ValueError, match="needs the site's key"):
        pseudonym("P-LATE", "")


# -- 3. signing out did not end the session; nothing could be revoked -----------------------------

def test_3_a_cookie_saved_before_signing_out_opens_nothing_afterwards(client: TestClient,
                                                                      seeded: Seeded) -> None:
    sign_in(client, "navigator1")
    saved = dict(client.cookies)
    assert client.get("/worklist").status_code == 200
    client.post("/logout", data={"csrf": csrf_of(client.get("/worklist").text)})

    with TestClient(create_app(seeded.tracker, seeded.users), cookies=saved) as replay:
        for url in ("/worklist", "/patients/P-LATE"):
            answer = replay.get(url, follow_redirects=False)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_3_sessions_end_when_idle_at_their_lifetime_and_on_deactivation_or_a_password_reset(
        client: TestClient, seeded: Seeded) -> None:
    settings = seeded.tracker.settings
    sign_in(client, "navigator1")
    clock(seeded).advance(timedelta(minutes=settings.session_idle_minutes + 1))
    idle = client.get("/worklist")
    assert idle.url.path == "/login" and "without activity" in idle.text

    sign_in(client, "navigator1")
    for _ in range(settings.session_lifetime_hours * 3 + 1):  # busy all day: never idle, still ends
        clock(seeded).advance(timedelta(minutes=20))
        last = client.get("/worklist")
    assert last.url.path == "/login" and "time limit" in last.text

    for how in ("deactivate", "reset_password"):
        sign_in(client, "navigator1")
        getattr(seeded.users, how)("navigator1", by="admin1")
        assert client.get("/worklist").url.path == "/login"
        seeded.users.activate("navigator1")
    assert client.get("/api/v1/me", headers=bearer(seeded, "navigator")).status_code == 401  # revoked


def test_3_a_password_change_ends_the_other_sessions_and_admins_act_through_the_api(
        seeded: Seeded) -> None:
    app = create_app(seeded.tracker, seeded.users)
    with TestClient(app) as laptop, TestClient(app) as phone:
        sign_in(laptop, "clinician1")
        sign_in(phone, "clinician1")
        changed = laptop.post("/account/password", data={
            "csrf": csrf_of(laptop.get("/account/password").text), "current": PASSWORD,
            "new": "a brand new password", "again": "a brand new password"})
        assert changed.url.path == "/worklist" and "Password changed" in changed.text
        assert phone.get("/worklist").url.path == "/login"
        assert laptop.get("/worklist").status_code == 200  # the browser that changed it stays in

        admin = bearer(seeded, "admin")
        reset = laptop.post("/api/v1/users/clinician1/reset-password", headers=admin)
        assert reset.status_code == 200 and len(reset.json()["password"]) >= 10
        assert laptop.get("/worklist").url.path == "/login"
        assert laptop.post("/api/v1/users/clinician1/revoke-token", headers=admin).status_code == 200
        assert laptop.get("/api/v1/me", headers=bearer(seeded, "clinician")).status_code == 401
        assert laptop.post("/api/v1/users/admin1/deactivate", headers=admin).status_code == 403  # not oneself


def test_3_api_tokens_expire_and_say_when_they_were_last_used(client: TestClient, seeded: Seeded) -> None:
    assert client.get("/api/v1/me", headers=bearer(seeded, "navigator")).status_code == 200
    account = next(a for a in seeded.users.list() if a.name == "navigator1")
    assert account.token_last_used_at == clock(seeded).now()
    assert account.token_expires_at is not None
    clock(seeded).advance(timedelta(days=seeded.tracker.settings.api_token_days, seconds=1))
    expired = client.get("/api/v1/me", headers=bearer(seeded, "navigator"))
    assert expired.status_code == 401 and "expired" in expired.json()["message"]


# -- 4. fifty wrong passwords in 34 s, then the right one signed in -------------------------------

def try_password(client: TestClient, password: str, name: str = "navigator1") -> int:
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": token, "name": name, "password": password},
                       follow_redirects=False).status_code


def test_4_fifty_wrong_passwords_in_34_seconds_cost_few_hashes_and_the_right_one_waits(
        seeded: Seeded) -> None:
    users = Users(seeded.tracker, CountingHasher())
    CountingHasher.verified = 0
    with TestClient(create_app(seeded.tracker, users)) as client:
        answers = []
        for attempt in range(50):  # the finding's pace: 50 tries in 34 s
            answers.append(try_password(client, f"guess-{attempt:04d}"))
            clock(seeded).advance(timedelta(seconds=0.68))
        assert answers[:3] == [401, 401, 401] and answers.count(429) > 40
        assert CountingHasher.verified == answers.count(401) < 10  # a refused try hashes nothing
        assert try_password(client, PASSWORD) == 429  # the right one, too soon after
    actions = [r.action for r in seeded.users.access_log(user="navigator1", limit=100)]
    assert "login-throttled" in actions and "login-failed" in actions


def test_4_the_lock_holds_across_processes_and_lifts_after_its_time(seeded: Seeded) -> None:
    other = build_tracker(Settings(database_url=seeded.url), clock=FixedClock(clock(seeded).today()),
                          migrate=False)  # a second process on the same database
    settings = seeded.tracker.settings
    with (TestClient(create_app(seeded.tracker, seeded.users)) as first,
          TestClient(create_app(other, Users(other, seeded.users.hasher))) as second):
        for attempt in range(settings.signin_lock_failures):  # slowly enough never to be throttled
            for c in (clock(seeded), other.clock):
                assert isinstance(c, FixedClock)
                c.advance(timedelta(seconds=61))
            assert try_password(first if attempt % 2 else second, "wrong-password") == 401
        assert try_password(first, PASSWORD) == 429 and try_password(second, PASSWORD) == 429  # locked
        clock(seeded).advance(timedelta(minutes=settings.signin_lock_minutes, seconds=1))
        assert try_password(first, PASSWORD) == 303
    rows = seeded.users.access_log(user="navigator1", limit=100)
    locked = [r for r in rows if r.action == "login-locked"]
    assert len(locked) == 1 and locked[0].channel == "web" and locked[0].client == "testclient"


def test_4_bad_bearer_tokens_are_logged_and_then_throttled(client: TestClient, seeded: Seeded) -> None:
    answers = [client.get("/api/v1/me", headers={"Authorization": f"Bearer jt_guess{n}"}).status_code
               for n in range(50)]
    free = seeded.tracker.settings.signin_client_free_failures
    assert answers[:free] == [401] * free and set(answers[free:]) == {429}
    throttled = client.get("/api/v1/me", headers={"Authorization": "Bearer jt_guess"})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    logged = [r for r in seeded.users.access_log(limit=200) if r.action.startswith("token-")]
    assert sum(r.action == "token-failed" for r in logged) == free
    assert all(r.client == "testclient" and r.channel == "api" for r in logged)


# -- 5. big numbers crashed the server; bodies had no size limit ----------------------------------

@pytest.mark.parametrize(("method", "url"), [
    ("get", "/api/v1/patients?offset=100000000000000000000"),
    ("get", "/api/v1/patients?offset=-1"),
    ("post", "/api/v1/reminders/100000000000000000000/acknowledge"),
    ("post", "/api/v1/reminders/1e20/acknowledge"),
    ("post", "/api/v1/reminders/0/acknowledge"),
    ("get", "/api/v1/worklist?as_of=9999-12-31"),
    ("get", "/api/v1/patients/P-LATE?as_of=0001-01-01"),
    ("get", "/api/v1/patients/" + "P" * 200),
])
def test_5_out_of_range_numbers_and_ids_are_422_in_words(client: TestClient, seeded: Seeded, method: str,
                                                          url: str) -> None:
    answer = client.request(method.upper(), url, headers=bearer(seeded, "navigator"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["message"].startswith("The request could not be read:")


def test_5_the_pages_take_no_crash_from_big_ids_or_odd_digits(client: TestClient) -> None:
    sign_in(client, "navigator1")
    csrf = csrf_of(client.get("/worklist").text)
    huge = client.post("/reminders/100000000000000000000/acknowledge", data={"csrf": csrf})
    assert huge.status_code in (400, 404, 422)
    odd = client.post("/patients/P-LATE/events", data={"csrf": csrf, "type": "progression",
                                                        "date": "2025-05-30", "version": "²"})
    assert odd.status_code < 500


def test_5_a_20_mb_body_is_refused_with_413_whether_or_not_it_says_its_length(
        client: TestClient, seeded: Seeded) -> None:
    body = b'{"type": "reassessment", "date": "2025-05-30", "x": "' + b"y" * 20_000_000 + b'"}'
    headers = {**bearer(seeded, "navigator"), "Content-Type": "application/json"}
    declared = client.post("/api/v1/patients/P-LATE/events", content=body, headers=headers)
    assert declared.status_code == 413 and "larger than" in declared.json()["message"]

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]

    streamed = client.post("/api/v1/patients/P-LATE/events", content=chunks(), headers=headers)
    assert streamed.status_code == 413


# -- 6. headers, the cookie's content, the access log ---------------------------------------------

def test_6_api_answers_are_not_stored_and_https_answers_ask_for_https_only(seeded: Seeded) -> None:
    app = create_app(seeded.tracker, seeded.users)
    with TestClient(app) as plain, TestClient(app, base_url="https://tracker.example.org") as tls:
        for c in (plain, tls):
            answer = c.get("/api/v1/patients", headers=bearer(seeded, "navigator"))
            assert answer.headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in plain.get("/login").headers
        assert tls.get("/login").headers["Strict-Transport-Security"].startswith("max-age=")
        cookie = sign_in(tls, "navigator1").headers["set-cookie"].lower()
        assert "secure" in cookie and "httponly" in cookie


def test_6_the_session_cookie_carries_nothing_readable(client: TestClient) -> None:
    answer = sign_in(client, "clinician1")
    value = client.cookies.get("journey_session") or ""
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), value  # 256 random bits, nothing else
    client.get("/worklist")  # the flash ("Signed in as clinician1 ...") was shown from the server
    assert all("clinician1" not in v and "Signed" not in v for v in client.cookies.values())
    assert "journey_session" in answer.headers["set-cookie"]


def test_6_the_access_log_says_channel_client_what_a_worklist_showed_and_report_views(
        client: TestClient, seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(client, "navigator1")
    client.get("/worklist")
    client.get("/audit/report")
    client.get("/api/v1/patients/P-SURV", headers=bearer(seeded, "clinician"))
    rows = seeded.users.access_log(limit=100)
    shown = [r for r in rows if r.action == "shown" and r.patient_ref == "P-LATE"]
    assert shown and shown[0].user == "navigator1"
    assert (shown[0].channel, shown[0].client) == ("web", "testclient")
    assert any(r.action == "audit-report" and r.user == "navigator1" for r in rows)
    assert any(r.action == "read" and r.patient_ref == "P-SURV" and r.channel == "api" for r in rows)

    monkeypatch.setenv("JOURNEY_DATABASE_URL", seeded.url)
    from tracker.cli import app

    who = CliRunner().invoke(app, ["access-log", "--patient", "P-LATE"], env={"COLUMNS": "200"})
    assert who.exit_code == 0 and "navigator1" in who.output and "web" in who.output and "shown" in who.output
    what = CliRunner().invoke(app, ["access-log", "--user", "clinician1"], env={"COLUMNS": "200"})
    assert "P-SURV" in what.output and "api" in what.output
