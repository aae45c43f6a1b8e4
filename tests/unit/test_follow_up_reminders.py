"""Reminders beyond the contract's two kinds: what the audit checks is also put on the worklist,
so a nurse is reminded before the deviation happens, and a coded dismissal can justify it."""

from __future__ import annotations

from datetime import date

from journey.adherence import ReminderDismissal, judge
from journey.course import JourneyOutcome
from journey.reminders import Reminder, ReminderKind, ReminderStatus
from tests.conftest import ev, follow, scenario

UPFRONT_R1 = (ev("mdt_review", "2025-01-10", resectable=True, plan="upfront_surgery"),
              ev("surgery", "2025-01-20", procedure="liver_resection", margin="R1"))
AFTER_TREATMENT = (*UPFRONT_R1,
                   ev("systemic_started", "2025-02-20", regimen="FOLFOX"),
                   ev("systemic_stopped", "2025-08-20", reason="completed"),
                   ev("recurrence", "2026-01-05", site="liver_only"))


def reminders(outcome: JourneyOutcome, kind: ReminderKind) -> list[tuple[Reminder, ReminderStatus]]:
    return [(r, outcome.status(r)) for r in outcome.reminders if r.kind is kind]


def test_an_r1_liver_resection_awaits_post_operative_therapy_within_twelve_weeks() -> None:
    outcome = follow(scenario(*UPFRONT_R1), as_of=date(2025, 4, 14))
    [(reminder, status)] = reminders(outcome, ReminderKind.R1_POSTOP_THERAPY)
    assert reminder.due_on == date(2025, 4, 14)  # 2025-01-20 + 12 weeks
    assert status is ReminderStatus.DUE


def test_starting_post_operative_therapy_resolves_the_r1_reminder() -> None:
    outcome = follow(scenario(*UPFRONT_R1, ev("systemic_started", "2025-02-20", regimen="FOLFOX")),
                     as_of=date(2025, 6, 1))
    [(reminder, status)] = reminders(outcome, ReminderKind.R1_POSTOP_THERAPY)
    assert status is ReminderStatus.RESOLVED and reminder.resolved_on == date(2025, 2, 20)


def test_an_r0_resection_raises_no_r1_reminder() -> None:
    events = (UPFRONT_R1[0], ev("surgery", "2025-01-20", procedure="liver_resection", margin="R0"))
    assert reminders(follow(scenario(*events), as_of=date(2025, 6, 1)), ReminderKind.R1_POSTOP_THERAPY) == []


def test_a_recurrence_awaits_an_mdt_review_within_thirty_days_and_the_review_resolves_it() -> None:
    waiting = follow(scenario(*AFTER_TREATMENT), as_of=date(2026, 2, 4))
    [(reminder, status)] = reminders(waiting, ReminderKind.RECURRENCE_MDT)
    assert reminder.due_on == date(2026, 2, 4) and status is ReminderStatus.DUE
    reviewed = follow(scenario(*AFTER_TREATMENT, ev("mdt_review", "2026-01-20", resectable=True,
                                                    plan="upfront_surgery")), as_of=date(2026, 3, 1))
    [(reminder, status)] = reminders(reviewed, ReminderKind.RECURRENCE_MDT)
    assert status is ReminderStatus.RESOLVED and reminder.resolved_on == date(2026, 1, 20)


def test_death_cancels_the_awaited_mdt_review() -> None:
    outcome = follow(scenario(*AFTER_TREATMENT, ev("death", "2026-01-15")), as_of=date(2026, 3, 1))
    [(_, status)] = reminders(outcome, ReminderKind.RECURRENCE_MDT)
    assert status is ReminderStatus.CANCELLED


def test_a_coded_dismissal_of_the_mdt_reminder_justifies_the_missing_review() -> None:
    outcome = follow(scenario(*AFTER_TREATMENT), as_of=date(2026, 3, 1))
    [unexplained] = judge(outcome).deviations_for("A-RECURRENCE-NO-MDT")
    assert not unexplained.justified
    dismissal = ReminderDismissal("recurrence_mdt", date(2026, 2, 4), date(2026, 1, 12), "patient_choice")
    [justified] = judge(outcome, [dismissal]).deviations_for("A-RECURRENCE-NO-MDT")
    assert justified.justified
