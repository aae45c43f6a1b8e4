"""The reminder policy (contract §3): due dates in calendar months, statuses across dates, the
grace period, resolution and cancellation, and the total-chemotherapy check."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from freezegun import freeze_time

from journey.dates import add_months
from journey.reminders import (
    Reminder,
    ReminderKind,
    ReminderStatus,
    next_reassessment,
    overdue_from,
    status_on,
    total_chemo_check,
)
from journey.settings import DEFAULT_SETTINGS, PathwaySettings
from tests.conftest import PERIOP_START, ev, follow, scenario

S = ReminderStatus
K = ReminderKind


def reminders_of(outcome, kind: ReminderKind) -> list[tuple[Reminder, ReminderStatus]]:
    return [(r, s) for r, s in outcome.reminders_with_status() if r.kind is kind]


# ---------------------------------------------------------------------------------------------
# Calendar months

@pytest.mark.parametrize("start,due", [
    (date(2024, 12, 31), date(2025, 2, 28)),
    (date(2023, 12, 31), date(2024, 2, 29)),  # leap year
    (date(2024, 12, 30), date(2025, 2, 28)),
    (date(2024, 12, 29), date(2025, 2, 28)),
    (date(2023, 12, 29), date(2024, 2, 29)),
    (date(2024, 8, 31), date(2024, 10, 31)),
    (date(2024, 10, 31), date(2024, 12, 31)),
    (date(2024, 11, 30), date(2025, 1, 30)),
    (date(2024, 1, 10), date(2024, 3, 10)),
    (date(2024, 11, 15), date(2025, 1, 15)),
])
def test_a_reassessment_falls_due_two_calendar_months_after_its_anchor(start: date, due: date) -> None:
    assert add_months(start, 2) == due
    reminder = next_reassessment(1, start, DEFAULT_SETTINGS)
    assert (reminder.kind, reminder.anchor_on, reminder.due_on) == (K.REASSESSMENT_DUE, start, due)


@pytest.mark.parametrize("start,due", [
    ("2024-12-31", "2025-02-28"), ("2023-12-31", "2024-02-29"),
    ("2024-08-31", "2024-10-31"), ("2024-10-31", "2024-12-31")])
def test_the_replayed_reminder_clamps_month_ends_like_the_calendar(start: str, due: str) -> None:
    outcome = follow(scenario(ev("systemic_started", start, regimen="FOLFOX"),
                              primary={"diagnosed_on": "2023-06-01", "resected_on": None},
                              metastases={"detected_on": "2023-06-01"}),
                     as_of=date.fromisoformat(start))
    [(reminder, status)] = reminders_of(outcome, K.REASSESSMENT_DUE)
    assert reminder.due_on == date.fromisoformat(due)
    assert status is S.SCHEDULED


def test_each_reassessment_anchors_the_next_one_two_months_later() -> None:
    outcome = follow(scenario(*PERIOP_START,  # started 2025-01-10
                              ev("reassessment", "2025-03-05", response="SD", resectable=False),
                              ev("reassessment", "2025-05-12", response="PR", resectable=False)),
                     as_of=date(2025, 5, 20))
    got = [(r.anchor_on, r.due_on, r.resolved_on, s) for r, s in reminders_of(outcome, K.REASSESSMENT_DUE)]
    assert got == [
        (date(2025, 1, 10), date(2025, 3, 10), date(2025, 3, 5), S.RESOLVED),
        (date(2025, 3, 5), date(2025, 5, 5), date(2025, 5, 12), S.RESOLVED),
        (date(2025, 5, 12), date(2025, 7, 12), None, S.SCHEDULED),
    ]


def test_a_regimen_change_keeps_the_reassessment_clock_of_the_first_start() -> None:
    outcome = follow(scenario(*PERIOP_START, ev("systemic_started", "2025-02-01", regimen="FOLFIRI")),
                     as_of=date(2025, 2, 2))
    [(reminder, _)] = reminders_of(outcome, K.REASSESSMENT_DUE)
    assert reminder.anchor_on == date(2025, 1, 10) and reminder.due_on == date(2025, 3, 10)


# ---------------------------------------------------------------------------------------------
# Statuses across dates

DUE = date(2025, 3, 10)


@pytest.mark.parametrize("day,status", [
    (DUE - timedelta(days=30), S.SCHEDULED),
    (DUE - timedelta(days=1), S.SCHEDULED),
    (DUE, S.DUE),
    (DUE + timedelta(days=1), S.DUE),
    (DUE + timedelta(days=14), S.DUE),
    (DUE + timedelta(days=15), S.OVERDUE),
    (DUE + timedelta(days=400), S.OVERDUE),
])
def test_the_status_moves_from_scheduled_to_due_to_overdue_after_the_grace(day: date,
                                                                           status: ReminderStatus) -> None:
    reminder = Reminder(K.REASSESSMENT_DUE, 1, date(2025, 1, 10), DUE)
    assert status_on(reminder, day, DEFAULT_SETTINGS) is status
    # and the same through the replay of a patient on pre-operative therapy (started 2025-01-10)
    if day >= date(2025, 1, 10):
        [(_, replayed)] = reminders_of(follow(scenario(*PERIOP_START), as_of=day), K.REASSESSMENT_DUE)
        assert replayed is status


@pytest.mark.parametrize("grace,first_overdue", [(0, DUE + timedelta(days=1)),
                                                 (7, DUE + timedelta(days=8)),
                                                 (30, DUE + timedelta(days=31))])
def test_the_grace_period_is_a_setting(grace: int, first_overdue: date) -> None:
    settings = PathwaySettings(reminder_grace_days=grace)
    reminder = Reminder(K.REASSESSMENT_DUE, 1, date(2025, 1, 10), DUE)
    assert overdue_from(DUE, settings) == first_overdue
    assert status_on(reminder, first_overdue - timedelta(days=1), settings) is S.DUE
    assert status_on(reminder, first_overdue, settings) is S.OVERDUE
    [(_, status)] = reminders_of(follow(scenario(*PERIOP_START), as_of=first_overdue, settings=settings),
                                 K.REASSESSMENT_DUE)
    assert status is S.OVERDUE


def test_a_resolved_reminder_reads_resolved_from_its_resolution_day_only() -> None:
    reminder = Reminder(K.REASSESSMENT_DUE, 1, date(2025, 1, 10), DUE).resolve(DUE + timedelta(days=20), by=2)
    assert status_on(reminder, DUE + timedelta(days=19), DEFAULT_SETTINGS) is S.OVERDUE
    assert status_on(reminder, DUE + timedelta(days=20), DEFAULT_SETTINGS) is S.RESOLVED
    assert status_on(reminder, DUE + timedelta(days=900), DEFAULT_SETTINGS) is S.RESOLVED


def test_a_cancelled_reminder_reads_cancelled_from_its_cancellation_day() -> None:
    reminder = Reminder(K.REASSESSMENT_DUE, 1, date(2025, 1, 10), DUE).cancel(DUE - timedelta(days=5), by=2)
    assert status_on(reminder, DUE - timedelta(days=6), DEFAULT_SETTINGS) is S.SCHEDULED
    assert status_on(reminder, DUE - timedelta(days=5), DEFAULT_SETTINGS) is S.CANCELLED
    assert status_on(reminder, DUE + timedelta(days=60), DEFAULT_SETTINGS) is S.CANCELLED


def test_a_late_reassessment_resolves_an_overdue_reminder() -> None:
    outcome = follow(scenario(*PERIOP_START, ev("reassessment", "2025-04-20", response="SD",
                                                resectable=False)), as_of=date(2025, 4, 20))
    first, status = reminders_of(outcome, K.REASSESSMENT_DUE)[0]
    assert (first.due_on, first.resolved_on, status) == (DUE, date(2025, 4, 20), S.RESOLVED)


@pytest.mark.parametrize("ending", [
    ev("surgery", "2025-02-20", procedure="liver_resection"),
    ev("progression", "2025-02-20"),
    ev("systemic_stopped", "2025-02-20", reason="toxicity"),
    ev("systemic_stopped", "2025-02-20", reason="surgery"),
    ev("mdt_review", "2025-02-20", resectable=False, plan="salvage"),
    ev("death", "2025-02-20"),
    ev("transfer", "2025-02-20"),
])
def test_the_reassessment_reminder_is_cancelled_when_preoperative_therapy_ends(ending: dict) -> None:
    outcome = follow(scenario(*PERIOP_START, ending), as_of=date(2025, 6, 1))
    [(reminder, status)] = reminders_of(outcome, K.REASSESSMENT_DUE)
    assert (reminder.cancelled_on, reminder.resolved_on, status) == (date(2025, 2, 20), None, S.CANCELLED)


def test_a_progressive_reassessment_resolves_the_reminder_and_opens_no_other() -> None:
    outcome = follow(scenario(*PERIOP_START, ev("reassessment", "2025-03-01", response="PD",
                                                resectable=False)), as_of=date(2025, 9, 1))
    [(reminder, status)] = reminders_of(outcome, K.REASSESSMENT_DUE)
    assert reminder.resolved_on == date(2025, 3, 1) and status is S.RESOLVED


def test_cleared_for_surgery_on_therapy_the_reassessments_go_on_until_therapy_stops() -> None:
    outcome = follow(scenario(*PERIOP_START, ev("reassessment", "2025-03-01", response="PR",
                                                resectable=True)), as_of=date(2025, 5, 2))
    statuses = [(r.anchor_on, s) for r, s in reminders_of(outcome, K.REASSESSMENT_DUE)]
    assert statuses == [(date(2025, 1, 10), S.RESOLVED), (date(2025, 3, 1), S.DUE)]


def test_status_is_read_on_the_day_the_freezegun_clock_says() -> None:
    from tracker.clock import SystemClock

    reminder = Reminder(K.REASSESSMENT_DUE, 1, date(2025, 1, 10), DUE)
    clock = SystemClock("UTC")
    with freeze_time("2025-03-09 23:59:59"):
        assert status_on(reminder, clock.today(), DEFAULT_SETTINGS) is S.SCHEDULED
    with freeze_time("2025-03-10 00:00:00"):
        assert status_on(reminder, clock.today(), DEFAULT_SETTINGS) is S.DUE
    with freeze_time("2025-03-25 08:00:00"):
        assert status_on(reminder, clock.today(), DEFAULT_SETTINGS) is S.OVERDUE


def test_today_is_the_day_at_the_site_not_in_utc() -> None:
    from tracker.clock import SystemClock

    with freeze_time("2025-03-09 23:30:00"):  # 00:30 on 2025-03-10 in Paris
        assert SystemClock("Europe/Paris").today() == date(2025, 3, 10)
        assert SystemClock("UTC").today() == date(2025, 3, 9)


# ---------------------------------------------------------------------------------------------
# Total chemotherapy check (seed:5, seed:14)

def test_the_total_check_falls_due_when_pre_and_post_operative_days_reach_the_target() -> None:
    assert total_chemo_check(1, date(2025, 5, 19), 84, DEFAULT_SETTINGS).due_on == date(2025, 5, 19) + \
        timedelta(days=99)
    assert total_chemo_check(1, date(2025, 5, 19), 0, DEFAULT_SETTINGS).due_on == date(2025, 11, 18)
    assert total_chemo_check(1, date(2025, 5, 19), 200, DEFAULT_SETTINGS).due_on == date(2025, 5, 19)
    custom = PathwaySettings(total_chemo_target_days=150)
    assert total_chemo_check(1, date(2025, 5, 19), 50, custom).due_on == date(2025, 5, 19) + timedelta(100)


PERIOP_TO_ADJUVANT = (*PERIOP_START,  # pre-op 2025-01-10 .. 2025-04-04 = 84 days
                      ev("systemic_stopped", "2025-04-04", reason="surgery"),
                      ev("surgery", "2025-04-25", procedure="liver_resection", margin="R0"),
                      ev("systemic_started", "2025-05-26", regimen="FOLFOX"))


def test_the_total_check_counts_preoperative_days_until_therapy_stopped() -> None:
    outcome = follow(scenario(*PERIOP_TO_ADJUVANT), as_of=date(2025, 6, 1))
    [(reminder, status)] = reminders_of(outcome, K.TOTAL_CHEMO_CHECK)
    assert reminder.anchor_on == date(2025, 5, 26)
    assert reminder.due_on == date(2025, 5, 26) + timedelta(days=183 - 84)
    assert status is S.SCHEDULED


def test_preoperative_days_end_at_surgery_when_therapy_was_not_stopped_first() -> None:
    outcome = follow(scenario(*PERIOP_START,
                              ev("surgery", "2025-04-04", procedure="liver_resection"),
                              ev("systemic_started", "2025-05-26", regimen="FOLFOX")),
                     as_of=date(2025, 6, 1))
    [(reminder, _)] = reminders_of(outcome, K.TOTAL_CHEMO_CHECK)
    assert reminder.due_on == date(2025, 5, 26) + timedelta(days=183 - 84)


def test_preoperative_days_sum_every_interval_of_the_episode() -> None:
    outcome = follow(scenario(*PERIOP_START,  # 2025-01-10 .. 2025-02-09: 30 days
                              ev("systemic_stopped", "2025-02-09", reason="toxicity"),
                              ev("systemic_started", "2025-03-01", regimen="FOLFIRI"),
                              # 2025-03-01 .. 2025-04-10: 40 days
                              ev("surgery", "2025-04-10", procedure="liver_resection"),
                              ev("systemic_started", "2025-05-12", regimen="FOLFIRI")),
                     as_of=date(2025, 6, 1))
    [(reminder, _)] = reminders_of(outcome, K.TOTAL_CHEMO_CHECK)
    assert reminder.due_on == date(2025, 5, 12) + timedelta(days=183 - 70)


def test_after_upfront_surgery_the_total_check_is_the_whole_target_after_the_start() -> None:
    outcome = follow(scenario(ev("mdt_review", "2025-01-06", resectable=True, plan="upfront_surgery"),
                              ev("surgery", "2025-01-27", procedure="liver_resection"),
                              ev("systemic_started", "2025-03-03", regimen="FOLFOX")),
                     as_of=date(2025, 3, 3))
    assert outcome.phase.value == "adjuvant"
    assert [r.kind for r in outcome.reminders] == [K.TOTAL_CHEMO_CHECK]
    assert outcome.reminders[0].due_on == date(2025, 3, 3) + timedelta(days=183)


def test_the_total_check_statuses_and_its_resolution_when_postoperative_therapy_stops() -> None:
    due = date(2025, 5, 26) + timedelta(days=99)  # 2025-09-02
    for day, status in [(due - timedelta(1), S.SCHEDULED), (due, S.DUE),
                        (due + timedelta(14), S.DUE), (due + timedelta(15), S.OVERDUE)]:
        [(_, got)] = reminders_of(follow(scenario(*PERIOP_TO_ADJUVANT), as_of=day), K.TOTAL_CHEMO_CHECK)
        assert got is status, day
    stopped = follow(scenario(*PERIOP_TO_ADJUVANT, ev("systemic_stopped", "2025-09-01", reason="completed")),
                     as_of=date(2025, 12, 1))
    [(reminder, status)] = reminders_of(stopped, K.TOTAL_CHEMO_CHECK)
    assert (reminder.resolved_on, status) == (date(2025, 9, 1), S.RESOLVED)
    assert stopped.phase.value == "surveillance"


def test_a_recurrence_during_postoperative_therapy_cancels_the_total_check() -> None:
    outcome = follow(scenario(*PERIOP_TO_ADJUVANT, ev("recurrence", "2025-07-01", site="liver_only")),
                     as_of=date(2025, 12, 1))
    [(reminder, status)] = reminders_of(outcome, K.TOTAL_CHEMO_CHECK)
    assert (reminder.cancelled_on, status) == (date(2025, 7, 1), S.CANCELLED)


def test_no_total_check_without_postoperative_therapy() -> None:
    outcome = follow(scenario(*PERIOP_START, ev("surgery", "2025-04-04", procedure="liver_resection")),
                     as_of=date(2025, 12, 1))
    assert reminders_of(outcome, K.TOTAL_CHEMO_CHECK) == []


# ---------------------------------------------------------------------------------------------
# Each reminder exists once

def test_a_reminder_computed_many_times_is_one_reminder() -> None:
    raw = scenario(*PERIOP_START, ev("reassessment", "2025-03-05", response="SD", resectable=False))
    for day in (date(2025, 3, 5), date(2025, 4, 1), date(2025, 6, 1), date(2025, 12, 1)):
        outcome = follow(raw, as_of=day)
        keys = [r.key for r in outcome.reminders]
        assert len(keys) == len(set(keys)) == 2


def test_reminders_are_identified_by_kind_and_the_entry_that_opened_them() -> None:
    a = next_reassessment(7, date(2025, 1, 10), DEFAULT_SETTINGS)
    assert a.key == ("reassessment_due", 7)
    resolved = a.resolve(date(2025, 3, 1), by=9)
    assert resolved.key == a.key and resolved.closed_by == 9
    # another entry on the same day opens another reminder, never the same one (contract §7.1)
    assert next_reassessment(8, date(2025, 1, 10), DEFAULT_SETTINGS).key != a.key
