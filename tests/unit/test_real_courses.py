"""Real courses (contract 1.1, §7): same-day entries, pre-operative therapy that ends only at the
liver operation, decisions that end therapy, holds, immunotherapy, two-stage surgery, R2, prior
oxaliplatin, patients who come back, overrides routed by the course. Each test is a journey a
navigator could meet, and checks what she would see: the phase, the reminders, the guideline's
statements and the audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from journey.adherence import judge
from journey.course import JourneyOutcome
from journey.guideline import advise
from journey.pathway import Phase
from journey.reminders import Reminder, ReminderKind, ReminderStatus
from journey.treatment import Intent, LineEnd
from tests.conftest import PERIOP_START, ev, follow, scenario

K, S, P = ReminderKind, ReminderStatus, Phase


def reminders(outcome: JourneyOutcome, kind: ReminderKind) -> list[tuple[Reminder, ReminderStatus]]:
    return [(r, s) for r, s in outcome.reminders_with_status() if r.kind is kind]


def deviations(outcome: JourneyOutcome, check: str | None = None) -> list:
    return [d for d in judge(outcome).deviations if check is None or d.check == check]


def rec_ids(outcome: JourneyOutcome) -> set[str]:
    return set(advise(outcome).ids)


def seq_of(outcome: JourneyOutcome, type_: str, day: str) -> int:
    return next(e.seq for e in outcome.events if e.type.value == type_ and e.date.isoformat() == day)


# ---------------------------------------------------------------------------------------------
# 7.1 Each entry counts

SD = {"response": "SD", "resectable": False}


def test_two_reassessments_on_one_day_each_resolve_and_open_their_own_reminder() -> None:
    outcome = follow(scenario(*PERIOP_START,  # started 2025-01-10: due 2025-03-10
                              ev("reassessment", "2025-03-05", **SD),
                              ev("reassessment", "2025-03-05", **SD)),  # a duplicate entry
                     as_of=date(2025, 5, 1))
    got = [(r.anchor_on, r.due_on, r.resolved_on, s) for r, s in reminders(outcome, K.REASSESSMENT_DUE)]
    assert got == [(date(2025, 1, 10), date(2025, 3, 10), date(2025, 3, 5), S.RESOLVED),
                   (date(2025, 3, 5), date(2025, 5, 5), date(2025, 3, 5), S.RESOLVED),
                   (date(2025, 3, 5), date(2025, 5, 5), None, S.SCHEDULED)]


def test_the_reassessment_missed_after_a_same_day_duplicate_is_overdue_and_audited() -> None:
    """The failure the issue found: the next reminder was shown resolved on the day it was
    created, and the missed reassessment two months later raised nothing."""
    outcome = follow(scenario(*PERIOP_START, ev("reassessment", "2025-03-05", **SD),
                              ev("reassessment", "2025-03-05", **SD)), as_of=date(2025, 6, 1))
    open_ = [(r.due_on, s) for r, s in reminders(outcome, K.REASSESSMENT_DUE) if r.closed_on is None]
    assert open_ == [(date(2025, 5, 5), S.OVERDUE)]
    assert outcome.phase is P.REASSESSMENT
    [late] = deviations(outcome, "A-REASSESS-INTERVAL")
    assert late.date == date(2025, 5, 20)


def test_a_baseline_scan_on_the_day_therapy_starts_opens_the_next_reassessment_from_it() -> None:
    outcome = follow(scenario(ev("mdt_review", "2025-01-06", resectable=False, plan="conversion"),
                              ev("systemic_started", "2025-01-10", regimen="FOLFOXIRI",
                                 biologic="bevacizumab"),
                              ev("reassessment", "2025-01-10", **SD)), as_of=date(2025, 2, 1))
    start, scan = seq_of(outcome, "systemic_started", "2025-01-10"), seq_of(outcome, "reassessment",
                                                                              "2025-01-10")
    [(first, s1), (second, s2)] = reminders(outcome, K.REASSESSMENT_DUE)
    assert (first.opened_by, first.closed_by, s1) == (start, scan, S.RESOLVED)
    assert (second.opened_by, second.due_on, s2) == (scan, date(2025, 3, 10), S.SCHEDULED)


def test_a_line_stopped_and_another_started_on_the_day_of_a_scan_opens_its_own_reminder() -> None:
    outcome = follow(scenario(*PERIOP_START,
                              ev("reassessment", "2025-03-05", **SD),
                              ev("systemic_stopped", "2025-03-05", reason="toxicity"),
                              ev("mdt_review", "2025-03-05", resectable=False, plan="conversion"),
                              ev("systemic_started", "2025-03-05", regimen="FOLFIRI")),
                     as_of=date(2025, 4, 1))
    got = [(r.anchor_on, r.due_on, s) for r, s in reminders(outcome, K.REASSESSMENT_DUE)]
    assert got == [(date(2025, 1, 10), date(2025, 3, 10), S.RESOLVED),
                   (date(2025, 3, 5), date(2025, 5, 5), S.CANCELLED),  # the stopped line's
                   (date(2025, 3, 5), date(2025, 5, 5), S.SCHEDULED)]  # the new line's own
    assert outcome.phase is P.NEOADJUVANT


def test_a_resolved_reminder_always_names_the_entry_that_resolved_it() -> None:
    outcome = follow(scenario(*PERIOP_START, ev("reassessment", "2025-03-05", **SD),
                              ev("reassessment", "2025-03-05", **SD),
                              ev("reassessment", "2025-05-01", **SD)), as_of=date(2025, 6, 1))
    seqs = {e.seq: e for e in outcome.events}
    for reminder, status in outcome.reminders_with_status():
        if status is S.RESOLVED:
            resolver = seqs[reminder.closed_by]
            assert resolver.type.value == "reassessment" and resolver.date == reminder.resolved_on


# ---------------------------------------------------------------------------------------------
# 7.2 Pre-operative therapy ends at the liver operation

CONVERSION = (ev("mdt_review", "2025-01-06", resectable=False, plan="conversion"),
              ev("systemic_started", "2025-01-10", regimen="FOLFOXIRI", biologic="bevacizumab"))
SYNC = {"primary": {"resected_on": None, "diagnosed_on": "2024-12-01"}}


def test_a_primary_resection_during_conversion_therapy_does_not_end_it() -> None:
    outcome = follow(scenario(*CONVERSION,
                              ev("surgery", "2025-02-15", procedure="primary_resection"),
                              ev("reassessment", "2025-03-05", response="PR", resectable=True),
                              ev("systemic_stopped", "2025-04-10", reason="surgery"),
                              ev("surgery", "2025-05-01", procedure="liver_resection", margin="R0"),
                              ev("systemic_started", "2025-06-02", regimen="FOLFOX"),
                              **SYNC), as_of=date(2025, 6, 10))
    [line, _] = outcome.course.episode.lines
    assert (line.intent, line.ended_on, line.ending) == (Intent.PREOP, date(2025, 4, 10), LineEnd.STOPPED)
    assert [s.to_phase for s in outcome.steps[1:4]] == [P.NEOADJUVANT, P.NEOADJUVANT, P.RESECTION]
    # the reminders went on through the primary resection
    got = [(r.anchor_on, s) for r, s in reminders(outcome, K.REASSESSMENT_DUE)]
    assert got == [(date(2025, 1, 10), S.RESOLVED), (date(2025, 3, 5), S.CANCELLED)]
    # 2025-01-10 .. 2025-04-10 = 90 pre-operative days, to the stop, not to the primary resection
    [(check, _)] = reminders(outcome, K.TOTAL_CHEMO_CHECK)
    assert check.due_on == date(2025, 6, 2) + timedelta(days=183 - 90)


def test_reminder_and_audit_count_the_same_preoperative_days_around_a_primary_resection() -> None:
    outcome = follow(scenario(*CONVERSION,
                              ev("surgery", "2025-02-15", procedure="primary_resection"),
                              ev("reassessment", "2025-03-05", response="PR", resectable=True),
                              ev("systemic_stopped", "2025-04-10", reason="surgery"),
                              ev("surgery", "2025-05-01", procedure="liver_resection", margin="R0"),
                              ev("systemic_started", "2025-06-02", regimen="FOLFOX"),
                              ev("systemic_stopped", "2025-09-03", reason="completed"),
                              **SYNC), as_of=date(2025, 10, 1))
    # 90 + 93 = 183: on target, and the reminder was due the day therapy stopped
    [(check, status)] = reminders(outcome, K.TOTAL_CHEMO_CHECK)
    assert check.due_on == date(2025, 9, 3) and status is S.RESOLVED
    assert outcome.course.episode.perioperative_chemotherapy_days(date(2025, 9, 3)) == 183
    assert deviations(outcome, "A-TOTAL-6M") == []


def test_after_a_primary_resection_the_reassessment_still_falls_due_on_therapy() -> None:
    outcome = follow(scenario(*CONVERSION, ev("surgery", "2025-02-15", procedure="primary_resection"),
                              **SYNC), as_of=date(2025, 3, 20))
    assert outcome.phase is P.REASSESSMENT and outcome.steps[-1].by_clock
    [(_, status)] = reminders(outcome, K.REASSESSMENT_DUE)
    assert status is S.DUE
    assert "G-REASSESS-2M" in rec_ids(outcome)


def test_progression_after_a_primary_resection_is_progression_on_preoperative_therapy() -> None:
    outcome = follow(scenario(*CONVERSION,
                              ev("surgery", "2025-02-15", procedure="primary_resection"),
                              ev("reassessment", "2025-03-05", response="PD", resectable=False),
                              **SYNC), as_of=date(2025, 3, 10))
    assert outcome.phase is P.SALVAGE
    assert "G-PROGRESSION-SALVAGE" in rec_ids(outcome)
    operated = follow(scenario(*CONVERSION,
                               ev("surgery", "2025-02-15", procedure="primary_resection"),
                               ev("reassessment", "2025-03-05", response="PD", resectable=False),
                               ev("surgery", "2025-04-01", procedure="liver_resection", margin="R0"),
                               **SYNC), as_of=date(2025, 4, 10))
    assert [d.date for d in deviations(operated, "A-RESECTION-AFTER-PROGRESSION")] == [date(2025, 4, 1)]


def test_progression_after_therapy_stopped_for_surgery_before_the_liver_operation_counts() -> None:
    history = (*PERIOP_START, ev("systemic_stopped", "2025-03-01", reason="surgery"),
               ev("progression", "2025-03-15"))
    outcome = follow(scenario(*history), as_of=date(2025, 3, 20))
    assert "G-PROGRESSION-SALVAGE" in rec_ids(outcome)
    operated = follow(scenario(*history, ev("surgery", "2025-04-01", procedure="liver_resection",
                                            override="the MDT chose to operate")),
                      as_of=date(2025, 4, 10))
    assert [d.check for d in deviations(operated) if d.check != "A-OVERRIDE"] == [
        "A-RESECTION-AFTER-PROGRESSION"]


# ---------------------------------------------------------------------------------------------
# 7.3 A decision can end therapy

PERIOP_TO_ADJUVANT = (*PERIOP_START,  # pre-op 2025-01-10 .. 2025-04-04 = 84 days
                      ev("systemic_stopped", "2025-04-04", reason="surgery"),
                      ev("surgery", "2025-04-25", procedure="liver_resection", margin="R0"),
                      ev("systemic_started", "2025-05-26", regimen="FOLFOX"))


def test_a_postoperative_line_switched_on_one_day_goes_on_as_postoperative_therapy() -> None:
    """§7.1 each entry counts: FOLFOX stopped for neuropathy and CAPOX started the same day is a
    change of regimen, not an entry to refuse; the total counts both lines."""
    outcome = follow(scenario(*PERIOP_TO_ADJUVANT, ev("systemic_stopped", "2025-06-26", reason="toxicity"),
                              ev("systemic_started", "2025-06-26", regimen="CAPOX")),
                     as_of=date(2025, 7, 10))
    assert outcome.phase is P.ADJUVANT and outcome.refusals == []
    checks = reminders(outcome, K.TOTAL_CHEMO_CHECK)
    assert [s for _, s in checks] == [ReminderStatus.RESOLVED, ReminderStatus.SCHEDULED]
    # 84 pre-operative + 31 post-operative days so far: the new line's check falls due on the
    # day the episode's total reaches 183 days
    assert checks[1][0].due_on == date(2025, 6, 26) + timedelta(days=183 - 84 - 31)
    assert deviations(outcome, "A-TOTAL-6M") == []


def test_a_decision_for_surveillance_ends_postoperative_therapy_and_cancels_the_check() -> None:
    outcome = follow(scenario(*PERIOP_TO_ADJUVANT,
                              ev("mdt_review", "2025-07-01", resectable=True, plan="surveillance")),
                     as_of=date(2025, 12, 1))
    assert outcome.phase is P.SURVEILLANCE
    [(check, status)] = reminders(outcome, K.TOTAL_CHEMO_CHECK)
    assert (check.cancelled_on, check.resolved_on, status) == (date(2025, 7, 1), None, S.CANCELLED)
    [short] = deviations(outcome, "A-TOTAL-6M")
    # 84 + 36 = 120 days, judged on the day of the decision
    assert short.date == date(2025, 7, 1) and "120 days" in short.detail
    assert short.justified and "MDT decision" in (short.justification or "")


def test_a_decision_for_salvage_ends_preoperative_therapy_on_its_date() -> None:
    outcome = follow(scenario(*PERIOP_START,
                              ev("mdt_review", "2025-02-20", resectable=False, plan="salvage")),
                     as_of=date(2025, 6, 1))
    [line] = outcome.course.lines
    assert (line.ended_on, line.ending) == (date(2025, 2, 20), LineEnd.DECISION)
    assert line.therapy_days(date(2025, 6, 1)) == 41
    [(reminder, status)] = reminders(outcome, K.REASSESSMENT_DUE)
    assert status is S.CANCELLED and reminder.cancelled_on == date(2025, 2, 20)
    assert "G-REASSESS-2M" not in rec_ids(outcome)


def test_a_postoperative_line_stopped_from_resection_is_judged_by_the_total_check() -> None:
    """Liver first, the primary removed during post-operative therapy, therapy stopped while the
    patient is in resection: the issue found A-TOTAL-6M silent here."""
    outcome = follow(scenario(ev("mdt_review", "2025-01-06", resectable=True, plan="liver_first"),
                              ev("surgery", "2025-01-27", procedure="liver_resection", margin="R0"),
                              ev("systemic_started", "2025-03-03", regimen="FOLFOX"),
                              ev("surgery", "2025-04-14", procedure="primary_resection"),
                              ev("systemic_stopped", "2025-05-05", reason="patient_choice"),
                              **SYNC), as_of=date(2025, 6, 1))
    assert outcome.phase is P.SURVEILLANCE
    [short] = deviations(outcome, "A-TOTAL-6M")
    assert short.date == date(2025, 5, 5) and short.justified


# ---------------------------------------------------------------------------------------------
# 7.4 Therapy held and resumed

def test_a_short_hold_shows_its_review_resolved_by_the_resumption() -> None:
    outcome = follow(scenario(*PERIOP_START,
                              ev("systemic_paused", "2025-02-01", reason="toxicity"),
                              ev("systemic_resumed", "2025-02-15")), as_of=date(2025, 3, 1))
    [(review, status)] = reminders(outcome, K.HOLD_REVIEW)
    assert (review.due_on, review.resolved_on, status) == (date(2025, 3, 15), date(2025, 2, 15),
                                                           S.RESOLVED)
    assert outcome.phase is P.NEOADJUVANT
    # the reassessment clock ignored the hold, and no reminder opened on resumption
    [(reassessment, _)] = reminders(outcome, K.REASSESSMENT_DUE)
    assert reassessment.due_on == date(2025, 3, 10)


def test_a_hold_left_unreviewed_falls_due_and_an_mdt_review_resolves_it() -> None:
    held = (*PERIOP_START, ev("systemic_paused", "2025-02-01", reason="intercurrent_illness"))
    [(_, status)] = reminders(follow(scenario(*held), as_of=date(2025, 3, 16)), K.HOLD_REVIEW)
    assert status is S.DUE
    outcome = follow(scenario(*held, ev("mdt_review", "2025-03-20", resectable=False)),
                     as_of=date(2025, 3, 21))
    [(review, status)] = reminders(outcome, K.HOLD_REVIEW)
    assert status is S.RESOLVED and review.resolved_on == date(2025, 3, 20)
    assert outcome.course.line is not None and outcome.course.line.held  # still held


@pytest.mark.parametrize("closing", ["death", "transfer", "lost_to_follow_up"])
def test_closure_cancels_a_hold_review(closing: str) -> None:
    outcome = follow(scenario(*PERIOP_START, ev("systemic_paused", "2025-02-01", reason="other"),
                              ev(closing, "2025-02-20")), as_of=date(2025, 4, 1))
    [(_, status)] = reminders(outcome, K.HOLD_REVIEW)
    assert status is S.CANCELLED


def test_days_on_hold_move_the_total_check_later_and_a_running_hold_keeps_moving_it() -> None:
    base = date(2025, 5, 26) + timedelta(days=183 - 84)  # 2025-09-02 without a hold
    held = (*PERIOP_TO_ADJUVANT, ev("systemic_paused", "2025-07-01", reason="toxicity"))
    for as_of, moved in [(date(2025, 7, 11), 10), (date(2025, 8, 1), 31)]:
        [(check, status)] = reminders(follow(scenario(*held), as_of=as_of), K.TOTAL_CHEMO_CHECK)
        assert check.due_on_at(as_of) == base + timedelta(days=moved) and status is S.SCHEDULED
    resumed = follow(scenario(*held, ev("systemic_resumed", "2025-07-21")), as_of=date(2025, 12, 1))
    [(check, _)] = reminders(resumed, K.TOTAL_CHEMO_CHECK)
    assert check.due_on_at(date(2025, 12, 1)) == base + timedelta(days=20)


def test_a_hold_after_the_target_was_reached_does_not_move_the_check() -> None:
    outcome = follow(scenario(*PERIOP_TO_ADJUVANT,
                              ev("systemic_paused", "2025-09-10", reason="toxicity")),
                     as_of=date(2025, 10, 1))
    [(check, status)] = reminders(outcome, K.TOTAL_CHEMO_CHECK)
    assert check.due_on_at(date(2025, 10, 1)) == date(2025, 9, 2) and status is S.OVERDUE


def test_days_on_hold_are_not_therapy_days_for_the_audit_either() -> None:
    outcome = follow(scenario(*PERIOP_TO_ADJUVANT,  # 84 pre-op days
                              ev("systemic_paused", "2025-07-01", reason="toxicity"),
                              ev("systemic_resumed", "2025-07-31"),
                              ev("systemic_stopped", "2025-10-02", reason="completed")),
                     as_of=date(2025, 11, 1))
    # post-op 2025-05-26 .. 2025-10-02 = 129 days, less 30 held = 99: 84 + 99 = 183
    assert outcome.course.episode.perioperative_chemotherapy_days(date(2025, 11, 1)) == 183
    assert deviations(outcome, "A-TOTAL-6M") == []
    [(check, status)] = reminders(outcome, K.TOTAL_CHEMO_CHECK)
    assert check.due_on == date(2025, 10, 2) and status is S.RESOLVED


@pytest.mark.parametrize("entry,words", [
    (ev("systemic_paused", "2025-02-01", reason="toxicity"), "Only a running line"),
    (ev("systemic_resumed", "2025-02-01"), "Only a line on hold"),
])
def test_holding_nothing_or_resuming_what_is_not_held_is_refused(entry: dict, words: str) -> None:
    outcome = follow(scenario(ev("mdt_review", "2025-01-06", resectable=True, plan="perioperative"),
                              entry), as_of=date(2025, 3, 1))
    [refusal] = outcome.refusals
    assert words in refusal.reason and not refusal.impossible
    overridden = follow(scenario(ev("mdt_review", "2025-01-06", resectable=True, plan="perioperative"),
                                 {**entry, "override": "recorded from the ward's notes"}),
                        as_of=date(2025, 3, 1))
    assert overridden.refusals == [] and overridden.phase is P.ASSESSMENT
    assert reminders(overridden, K.HOLD_REVIEW) == []


def test_a_resumption_may_change_the_regimen() -> None:
    outcome = follow(scenario(*PERIOP_START, ev("systemic_paused", "2025-02-01", reason="toxicity"),
                              ev("systemic_resumed", "2025-02-20", regimen="OTHER")),
                     as_of=date(2025, 3, 1))
    [line] = outcome.course.lines
    assert [r.regimen for r in line.regimens] == ["FOLFOX", "OTHER"]
    assert line.therapy_days(date(2025, 3, 1)) == (date(2025, 3, 1) - date(2025, 1, 10)).days - 19


# ---------------------------------------------------------------------------------------------
# 7.5 Immunotherapy is not chemotherapy

DMMR = {"biomarkers": {"mmr": "dMMR"}}
IMMUNO_THEN_SURGERY = (ev("mdt_review", "2025-01-06", resectable=True, plan="immunotherapy"),
                       ev("systemic_started", "2025-01-10", regimen="IMMUNOTHERAPY"),
                       ev("systemic_stopped", "2025-04-10", reason="surgery"),
                       ev("surgery", "2025-05-01", procedure="liver_resection", margin="R0"))


def test_immunotherapy_is_preoperative_therapy_with_its_reassessments() -> None:
    outcome = follow(scenario(*IMMUNO_THEN_SURGERY[:2], **DMMR), as_of=date(2025, 3, 1))
    assert outcome.phase is P.NEOADJUVANT and "G-REASSESS-2M" in rec_ids(outcome)
    assert reminders(outcome, K.REASSESSMENT_DUE)


def test_after_immunotherapy_then_resection_the_six_months_do_not_apply() -> None:
    outcome = follow(scenario(*IMMUNO_THEN_SURGERY, **DMMR), as_of=date(2025, 5, 10))
    assert "G-COMPLETE-6M" not in rec_ids(outcome)


def test_chemotherapy_after_immunotherapy_and_resection_is_checked_as_after_upfront_surgery() -> None:
    outcome = follow(scenario(*IMMUNO_THEN_SURGERY,
                              ev("systemic_started", "2025-06-02", regimen="FOLFOX"),
                              ev("systemic_stopped", "2025-09-01", reason="toxicity"), **DMMR),
                     as_of=date(2025, 10, 1))
    [(check, _)] = reminders(outcome, K.TOTAL_CHEMO_CHECK)
    assert check.due_on == date(2025, 6, 2) + timedelta(days=183)
    [short] = deviations(outcome, "A-TOTAL-6M")
    assert "91 days (0 pre-operative + 91 post-operative" in short.detail


# ---------------------------------------------------------------------------------------------
# 7.6 Two-stage liver surgery

TWO_STAGE = (ev("mdt_review", "2025-01-06", resectable=True, plan="perioperative"),
             ev("systemic_started", "2025-01-10", regimen="FOLFOX"),
             ev("systemic_stopped", "2025-04-01", reason="surgery"),
             ev("surgery", "2025-04-20", procedure="liver_resection", stage=1, margin="R1"),
             ev("surgery", "2025-04-28", procedure="portal_vein_embolisation"))


def test_between_the_stages_the_patient_stays_in_resection_and_interval_therapy_counts_for_nothing() -> None:
    outcome = follow(scenario(*TWO_STAGE, ev("systemic_started", "2025-05-05", regimen="FOLFOX"),
                              ev("systemic_stopped", "2025-06-01", reason="surgery")),
                     as_of=date(2025, 6, 2))
    assert outcome.phase is P.RESECTION
    interval = outcome.course.lines[-1]
    assert interval.intent is Intent.INTERVAL
    assert [r.anchor_on for r, _ in reminders(outcome, K.REASSESSMENT_DUE)] == [date(2025, 1, 10)]
    recommended = rec_ids(outcome)
    assert not recommended & {"G-REASSESS-2M", "G-R1-CONTINUE", "G-COMPLETE-6M"}
    assert deviations(outcome, "A-R1-NO-CHEMO") == []  # the R1 first stage is not judged


def test_the_second_stage_is_due_eight_weeks_after_the_first_and_overdue_when_missed() -> None:
    outcome = follow(scenario(*TWO_STAGE), as_of=date(2025, 7, 1))
    [(due, status)] = reminders(outcome, K.SECOND_STAGE_DUE)
    assert due.due_on == date(2025, 6, 15) and status is S.OVERDUE


def test_after_the_second_stage_its_margin_and_postoperative_therapy_count() -> None:
    outcome = follow(scenario(*TWO_STAGE,
                              ev("surgery", "2025-06-10", procedure="liver_resection", stage=2,
                                 margin="R1"),
                              ev("systemic_started", "2025-07-14", regimen="FOLFOX")),
                     as_of=date(2025, 7, 20))
    assert outcome.phase is P.ADJUVANT
    [(second, status)] = reminders(outcome, K.SECOND_STAGE_DUE)
    assert status is S.RESOLVED and second.resolved_on == date(2025, 6, 10)
    assert {"G-R1-CONTINUE", "G-COMPLETE-6M"} <= rec_ids(outcome)
    [(check, _)] = reminders(outcome, K.TOTAL_CHEMO_CHECK)  # 81 pre-operative days
    assert check.due_on == date(2025, 7, 14) + timedelta(days=183 - 81)


def test_progression_between_the_stages_cancels_the_second_stage() -> None:
    outcome = follow(scenario(*TWO_STAGE, ev("reassessment", "2025-05-20", response="PD",
                                             resectable=False)), as_of=date(2025, 8, 1))
    assert outcome.phase is P.SALVAGE
    [(_, status)] = reminders(outcome, K.SECOND_STAGE_DUE)
    assert status is S.CANCELLED


def test_a_second_stage_without_a_first_is_refused() -> None:
    outcome = follow(scenario(*PERIOP_START, ev("surgery", "2025-03-01", procedure="liver_resection",
                                                stage=2)), as_of=date(2025, 3, 2))
    [refusal] = outcome.refusals
    assert "no first stage" in refusal.reason


@pytest.mark.parametrize("entry,words", [
    (ev("surgery", "2025-03-01", procedure="primary_resection", stage=1), "Only a liver operation"),
    (ev("surgery", "2025-03-01", procedure="portal_vein_embolisation", margin="R0"), "no margin"),
])
def test_stages_and_margins_only_where_they_mean_something(entry: dict, words: str) -> None:
    outcome = follow(scenario(*PERIOP_START, entry, primary={"resected_on": None}),
                     as_of=date(2025, 3, 2))
    [refusal] = outcome.refusals
    assert refusal.impossible and words in refusal.reason


def test_portal_vein_embolisation_neither_moves_the_phase_nor_ends_preoperative_therapy() -> None:
    outcome = follow(scenario(*PERIOP_START, ev("surgery", "2025-02-01",
                                                procedure="portal_vein_embolisation")),
                     as_of=date(2025, 2, 2))
    assert outcome.phase is P.NEOADJUVANT and outcome.course.on_preop_therapy


# ---------------------------------------------------------------------------------------------
# 7.7 R2 is not a curative resection

R2 = (*PERIOP_START, ev("systemic_stopped", "2025-04-04", reason="surgery"),
      ev("surgery", "2025-04-25", procedure="liver_resection", margin="R2"))


def test_after_an_r2_operation_the_mdt_decides_and_no_six_month_check_opens() -> None:
    outcome = follow(scenario(*R2, ev("systemic_started", "2025-05-26", regimen="FOLFOX")),
                     as_of=date(2025, 6, 1))
    assert outcome.phase is P.ADJUVANT
    assert reminders(outcome, K.TOTAL_CHEMO_CHECK) == []
    [(mdt, status)] = reminders(outcome, K.MDT_AFTER_R2)
    assert mdt.due_on == date(2025, 5, 25) and status is S.DUE
    found = rec_ids(outcome)
    assert "G-OUTSIDE-GUIDELINE" in found
    assert not found & {"G-COMPLETE-6M", "G-R1-CONTINUE"}


def test_an_mdt_review_resolves_the_r2_reminder_and_no_total_is_judged() -> None:
    outcome = follow(scenario(*R2, ev("mdt_review", "2025-05-10", resectable=False),
                              ev("systemic_started", "2025-05-26", regimen="FOLFOX"),
                              ev("systemic_stopped", "2025-07-01", reason="completed")),
                     as_of=date(2025, 12, 1))
    [(_, status)] = reminders(outcome, K.MDT_AFTER_R2)
    assert status is S.RESOLVED
    assert deviations(outcome, "A-TOTAL-6M") == [] and deviations(outcome, "A-R1-NO-CHEMO") == []


# ---------------------------------------------------------------------------------------------
# 7.8 Prior oxaliplatin: conflicting statements name each other

FAILED_OXA = {"prior_oxaliplatin": {"last_dose_on": "2024-06-01"}}  # relapse = detection 2024-12-01


@pytest.mark.parametrize("overrides,conversion,conflict", [
    ({"biomarkers": {"ras": "mutant"}}, "G-CONVERSION-MUTANT", True),
    ({"primary": {"site": "cecum"}}, "G-CONVERSION-RIGHT", True),
    ({}, "G-CONVERSION-LEFT", False),
])
def test_oxaliplatin_failure_and_a_triplet_conversion_name_each_other(overrides: dict, conversion: str,
                                                                       conflict: bool) -> None:
    outcome = follow(scenario(ev("mdt_review", "2025-01-06", resectable=False, plan="conversion"),
                              **FAILED_OXA, **overrides), as_of=date(2025, 1, 7))
    shown = {r.id: r for r in advise(outcome).recommendations}
    assert {"G-OXALIPLATIN-FAILURE", conversion} <= set(shown)
    expected = (conversion,) if conflict else ()
    assert shown["G-OXALIPLATIN-FAILURE"].conflicts_with == expected
    assert shown[conversion].conflicts_with == (("G-OXALIPLATIN-FAILURE",) if conflict else ())


# ---------------------------------------------------------------------------------------------
# 7.9 Leaving and coming back

def test_a_patient_who_returns_starts_a_new_episode_with_the_history_kept() -> None:
    outcome = follow(scenario(*PERIOP_START, ev("transfer", "2025-02-10"), ev("returned", "2025-05-01"),
                              ev("mdt_review", "2025-05-05", resectable=True, plan="perioperative"),
                              ev("systemic_started", "2025-05-12", regimen="FOLFOX"),
                              ev("systemic_stopped", "2025-08-12", reason="surgery"),
                              ev("surgery", "2025-09-01", procedure="liver_resection", margin="R0"),
                              ev("systemic_started", "2025-10-01", regimen="FOLFOX")),
                     as_of=date(2025, 10, 2))
    assert outcome.phase is P.ADJUVANT
    assert [s.to_phase for s in outcome.steps][:4] == [P.ASSESSMENT, P.NEOADJUVANT, P.CLOSED,
                                                       P.ASSESSMENT]
    assert len(outcome.course.episodes) == 2
    # the 31 days before the transfer do not count: 92 pre-operative days in the new episode
    [(check, _)] = reminders(outcome, K.TOTAL_CHEMO_CHECK)
    assert check.due_on == date(2025, 10, 1) + timedelta(days=183 - 92)


@pytest.mark.parametrize("history,words", [
    ((ev("death", "2025-02-10"),), "died"),
    ((), "in this centre's care"),
])
def test_a_return_is_for_a_patient_transferred_or_lost(history: tuple, words: str) -> None:
    outcome = follow(scenario(*PERIOP_START, *history, ev("returned", "2025-05-01",
                                                          override="the team insists")),
                     as_of=date(2025, 6, 1))
    [refusal] = outcome.refusals
    assert refusal.impossible and words in refusal.reason


def test_a_returned_patient_keeps_the_latest_resectability_judgement_until_the_next_one() -> None:
    """§4 "the latest resectability judgement recorded", §7.9 "with the history kept": coming
    back is not new disease (a recurrence is, and starts over)."""
    outcome = follow(scenario(*PERIOP_START, ev("transfer", "2025-02-10"), ev("returned", "2025-05-01")),
                     as_of=date(2025, 5, 5))
    assert outcome.phase is P.ASSESSMENT
    assert {"G-PERIOP-FOLFOX", "G-PMMR-CHEMO-FIRST"} <= rec_ids(outcome)
    assert "G-OUTSIDE-GUIDELINE" not in rec_ids(outcome)
    dmmr = follow(scenario(*PERIOP_START[:1], ev("transfer", "2025-01-20"), ev("returned", "2025-05-01"),
                           ev("systemic_started", "2025-05-05", regimen="FOLFOX"),
                           biomarkers={"mmr": "dMMR", "ras": "wild_type", "braf": "wild_type"}),
                  as_of=date(2025, 5, 10))
    assert [d.check for d in deviations(dmmr, "A-DMMR-NO-IMMUNO")] == ["A-DMMR-NO-IMMUNO"]


def test_a_recurrence_found_on_return_after_liver_surgery_is_a_recurrence() -> None:
    outcome = follow(scenario(*PERIOP_TO_ADJUVANT, ev("systemic_stopped", "2025-09-01", reason="completed"),
                              ev("lost_to_follow_up", "2025-12-01"), ev("returned", "2026-06-01"),
                              ev("recurrence", "2026-06-01", site="liver_only")),
                     as_of=date(2026, 6, 2))
    assert outcome.phase is P.RECURRENCE
    assert "G-RECURRENCE-MDT" in rec_ids(outcome)


# ---------------------------------------------------------------------------------------------
# 7.10 An override keeps the event's meaning

def test_adjuvant_therapy_restarted_by_override_is_postoperative_not_neoadjuvant() -> None:
    """The issue's case: adjuvant FOLFOX stopped for neuropathy, then resumed with an override."""
    outcome = follow(scenario(*PERIOP_TO_ADJUVANT,
                              ev("systemic_stopped", "2025-07-01", reason="toxicity"),
                              ev("systemic_started", "2025-07-29", regimen="FOLFOX",
                                 override="neuropathy improved; the MDT resumed oxaliplatin")),
                     as_of=date(2025, 8, 1))
    assert outcome.phase is P.ADJUVANT
    assert outcome.course.line is not None and outcome.course.line.intent is Intent.POSTOP
    assert [r for r, s in reminders(outcome, K.REASSESSMENT_DUE) if s not in (S.RESOLVED, S.CANCELLED)] == []
    assert "G-REASSESS-2M" not in rec_ids(outcome)
    # the second post-operative line's check counts what was given already: 84 + 36 days
    checks = [(r.anchor_on, r.due_on) for r, _ in reminders(outcome, K.TOTAL_CHEMO_CHECK)]
    assert checks[-1] == (date(2025, 7, 29), date(2025, 7, 29) + timedelta(days=183 - 84 - 36))


def test_held_adjuvant_therapy_resumed_keeps_the_patient_in_adjuvant() -> None:
    outcome = follow(scenario(*PERIOP_TO_ADJUVANT,
                              ev("systemic_paused", "2025-07-01", reason="toxicity"),
                              ev("systemic_resumed", "2025-07-29")), as_of=date(2025, 8, 1))
    assert outcome.phase is P.ADJUVANT and outcome.refusals == []
    assert "G-REASSESS-2M" not in rec_ids(outcome)


def test_the_timeline_draws_each_line_with_its_holds() -> None:
    from tracker.web.svg import therapy_bars, timeline_svg

    outcome = follow(scenario(*PERIOP_TO_ADJUVANT,
                              ev("systemic_paused", "2025-07-01", reason="intercurrent_illness"),
                              ev("systemic_resumed", "2025-07-21", regimen="FOLFIRI")),
                     as_of=date(2025, 8, 1))
    pre, post = therapy_bars(outcome)
    assert (pre.intent, pre.start, pre.end, pre.holds) == ("pre-operative", date(2025, 1, 10),
                                                          date(2025, 4, 4), ())
    assert (post.label, post.end) == ("FOLFOX → FOLFIRI", date(2025, 8, 1))
    assert post.holds == ((date(2025, 7, 1), date(2025, 7, 21), "intercurrent illness"),)
    assert "held (intercurrent illness) 2025-07-01 to 2025-07-21" in timeline_svg(outcome, "T-0001")
