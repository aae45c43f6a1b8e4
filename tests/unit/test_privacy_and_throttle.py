"""The pieces of issue 16 that need no database: the sign-in throttle's arithmetic, the table of
projections beside the table of grants, and the secrets' checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import SecretStr

from journey.reminders import ReminderStatus
from tracker.application import (
    WITHHELD,
    AccessDenied,
    Account,
    Role,
    Section,
    Worklist,
    WorklistItem,
    projection_for,
)
from tracker.application.privacy import TAUGHT, Identified, NoPatients, Pseudonymous
from tracker.application.signin import Throttle
from tracker.settings import Settings, secret_problems

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
KEY = SecretStr("a-long-private-key-for-the-tests")


def at(*seconds: float) -> list[datetime]:
    return [T0 + timedelta(seconds=s) for s in seconds]


def test_the_throttle_lets_the_first_failures_through_then_doubles_the_wait_then_locks() -> None:
    throttle = Throttle(free=3, lock=6, lock_for=timedelta(minutes=15))
    assert throttle.wait(at(0, 1), T0 + timedelta(seconds=1)) == timedelta(0)
    assert throttle.wait(at(0, 1, 2), T0 + timedelta(seconds=2)) == timedelta(seconds=1)
    assert throttle.wait(at(0, 1, 2, 3), T0 + timedelta(seconds=3)) == timedelta(seconds=2)
    assert throttle.wait(at(0, 1, 2, 3, 7), T0 + timedelta(seconds=8)) == timedelta(seconds=3)
    assert throttle.wait(at(0, 1, 2, 3, 7, 20), T0 + timedelta(seconds=20)) == timedelta(minutes=15)
    assert throttle.locked(at(0, 1, 2, 3, 7, 20)) and not throttle.locked(at(0, 1, 2, 3, 7))
    assert throttle.wait(at(0, 1, 2, 3, 7, 20), T0 + timedelta(minutes=16)) == timedelta(0)


def test_the_back_off_never_exceeds_a_minute_before_the_lock() -> None:
    throttle = Throttle(free=1, lock=100, lock_for=timedelta(hours=1))
    failures = at(*range(50))
    assert throttle.wait(failures, failures[-1]) == timedelta(seconds=60)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_one_projection_and_it_agrees_with_the_account(role: Role) -> None:
    account = Account(1, "someone", role)
    projection = projection_for(account, KEY)
    assert projection.pseudonymous == account.pseudonymous
    expected = {Role.NAVIGATOR: Identified, Role.CLINICIAN: Identified, Role.AUDITOR: Pseudonymous,
                Role.ADMIN: NoPatients}[role]
    assert type(projection) is expected
    assert set(projection.handlers()) == set(TAUGHT)  # every kind of answer has its handler


def test_a_projection_refuses_what_it_was_not_taught_and_admins_see_no_patient() -> None:
    with pytest.raises(TypeError, match="has no projection"):
        projection_for(Account(1, "a", Role.AUDITOR), KEY).show({"ref": "P-1"})
    with pytest.raises(AccessDenied):
        projection_for(Account(1, "a", Role.ADMIN), KEY).ref("P-1")
    auditor = projection_for(Account(1, "a", Role.AUDITOR), KEY)
    assert auditor.ref("P-1").startswith("PX-") and auditor.text("Dr Who said so") == WITHHELD
    assert auditor.text(None) is None and auditor.actor("web:nurse1") == "-"


def _item(ref: str) -> WorklistItem:
    return WorklistItem(7, ref, "liver", "reassessment", "reassessment_due", date(2025, 5, 1),
                        ReminderStatus.OVERDUE, 31, assignee="nina", acknowledged_by="web:carl",
                        acknowledged_at=T0, timing="17 days overdue", section="overdue")


def test_who_is_on_a_reminder_is_a_name_an_auditor_does_not_see() -> None:
    worklist = Worklist(date(2025, 6, 1), 7, [Section("overdue", "Overdue", date.min, date(2025, 5, 17), 1,
                                                      [_item("P-1")])])
    auditor = projection_for(Account(1, "a", Role.AUDITOR), KEY)
    shown = auditor.show(worklist).sections[0].items[0]
    assert shown.ref.startswith("PX-") and (shown.assignee, shown.acknowledged_by, shown.acknowledged_at) == \
        (None, None, None)
    assert shown.timing == "17 days overdue" and worklist.sections[0].items[0].assignee == "nina"  # a copy
    assert auditor.people(["nina", "carl"]) == [] and auditor.person("nina") is None
    navigator = projection_for(Account(1, "n", Role.NAVIGATOR), KEY)
    assert navigator.show(worklist) == worklist and navigator.people(["nina"]) == ["nina"]
    with pytest.raises(AccessDenied):
        projection_for(Account(1, "a", Role.ADMIN), KEY).show(worklist)


def test_secrets_are_refused_when_missing_short_or_published_and_never_printed() -> None:
    good = "x" * 32
    settings = Settings(pseudonym_key=SecretStr(good), session_secret=SecretStr(good))
    assert secret_problems(settings, web=True) == []
    assert good not in repr(settings) and good not in str(settings.model_dump())
    published = Settings(pseudonym_key=SecretStr("change-me-per-site"), session_secret=SecretStr("short"))
    assert secret_problems(published, web=True) == [
        "JOURNEY_PSEUDONYM_KEY is a value published in the source code.",
        "JOURNEY_SESSION_SECRET is shorter than 16 characters."]
    assert secret_problems(published.model_copy(update={"pseudonym_key": SecretStr(good)})) == []
    hooked = settings.model_copy(update={"webhook_url": "https://example.org/hook"})
    assert secret_problems(hooked) == ["JOURNEY_WEBHOOK_SECRET is not set."]
