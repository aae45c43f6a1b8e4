"""Sessions, the sign-in throttle, tokens and the access log behave the same on SQLite and on
PostgreSQL, and across processes (each Tracker has its own engine, as another process would)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher

from tracker.application import SESSION_ENDED, NotSignedIn, Origin, SignInThrottled, Users

PASSWORD = "a long enough password"
WEB = Origin("web", "192.0.2.7")
#: fast hashes: these tests are about what is counted and kept, not about argon2
HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def people(clinic: Any) -> Users:
    return Users(clinic, HASHER)


def test_sessions_end_by_time_password_change_and_deactivation_on_each_engine(make_clinic: Any) -> None:
    first, second = make_clinic(), make_clinic()
    users = people(first)
    users.add("nurse1", "navigator", PASSWORD)
    account = users.authenticate("nurse1", PASSWORD, WEB)
    token, _ = users.start_session(account, WEB, flash="hello")
    other = people(second)  # another process reads the same session
    session, _ = other.open_session(token, WEB)
    assert session is not None and session.flash == "hello" and session.account.name == "nurse1"
    # a refused form waits in the row for the next page, whichever process serves it, then goes
    kept = {"form": "reassessment", "message": "Refused.", "given": {"note": "Mme Ève, 2 cm"}}
    other.set_next_page(session, "moved", kept)
    again_read, _ = users.open_session(token, WEB)
    assert again_read is not None and again_read.flash == "moved" and again_read.kept == kept
    users.set_next_page(again_read, None, None)
    shown, _ = users.open_session(token, WEB)
    assert shown is not None and shown.flash is None and shown.kept is None

    first.clock.advance(timedelta(minutes=first.settings.session_idle_minutes + 1))
    assert users.open_session(token, WEB) == (None, SESSION_ENDED["idle"])

    laptop, _ = users.start_session(account, WEB)
    phone, _ = users.start_session(account, WEB)
    users.change_password(account, PASSWORD, "another long password", WEB)
    assert users.open_session(laptop, WEB)[0] is None and users.open_session(phone, WEB)[0] is None
    again, _ = users.start_session(account, WEB)
    assert users.deactivate("nurse1") == 1 and users.open_session(again, WEB)[0] is None


def test_the_throttle_counts_failures_from_every_process_on_each_engine(make_clinic: Any) -> None:
    first, second = make_clinic(), make_clinic()
    people(first).add("nurse1", "navigator", PASSWORD)
    lock = first.settings.signin_lock_failures
    for attempt in range(lock):
        tracker = (first, second)[attempt % 2]
        for clock in (first.clock, second.clock):
            clock.advance(timedelta(seconds=61))
        with pytest.raises(NotSignedIn) as refused:
            people(tracker).authenticate("nurse1", "wrong password", WEB)
        assert not isinstance(refused.value, SignInThrottled)
    with pytest.raises(SignInThrottled, match="locked"):
        people(second).authenticate("nurse1", PASSWORD, WEB)
    second.clock.advance(timedelta(minutes=first.settings.signin_lock_minutes + 1))
    assert people(second).authenticate("nurse1", PASSWORD, WEB).name == "nurse1"
    actions = [r.action for r in people(first).access_log(user="nurse1", limit=50)]
    assert actions.count("login-failed") == lock and actions.count("login-locked") == 1


def test_tokens_expire_and_the_access_log_answers_by_patient_and_user_on_each_engine(clinic: Any) -> None:
    users = people(clinic)
    token = users.add("robot", "clinician", PASSWORD).token
    assert users.by_token(token, Origin("api", "198.51.100.1")).name == "robot"
    assert users.list()[0].token_last_used_at == clinic.clock.now()
    users.log_shown("robot", "worklist", ["P-1", "P-2", "P-1"], "n=3", Origin("api", "198.51.100.1"))
    clinic.clock.advance(timedelta(days=clinic.settings.api_token_days + 1))
    with pytest.raises(NotSignedIn, match="expired"):
        users.by_token(token, Origin("api", "198.51.100.1"))
    seen = users.access_log("P-1")
    assert [(r.user, r.action, r.channel, r.client) for r in seen] == [
        ("robot", "shown", "api", "198.51.100.1")]
    mine = {r.action for r in users.access_log(user="robot", limit=20)}
    assert {"user-created", "worklist", "shown"} <= mine
    assert "token-failed" in {r.action for r in users.access_log(user="robot", limit=20)}
