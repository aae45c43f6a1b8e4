"""Why is this patient not moving? The explanation says, in words, what the pathway waits for and
since when, which reminders are open and what clears them, and which guideline statements apply,
quoted with their place in the guideline."""

from __future__ import annotations

from datetime import date

import pytest

from journey.adherence import ReminderDismissal
from journey.events import EventType
from journey.explain import (
    REMINDER_LABEL,
    clearing_entries,
    clearing_prefill,
    due_in_words,
    explain,
    readable_references,
)
from journey.guideline import advise
from journey.pathway import Phase
from journey.reminders import RESOLVED_BY, ReminderKind, ReminderStatus
from journey.settings import DEFAULT_SETTINGS
from tests.conftest import ev, follow, scenario


def explained(raw, on: str, dismissals=()):
    outcome = follow(raw, date.fromisoformat(on))
    advice = advise(outcome)
    return explain(outcome, advice.recommendations, advice.missing, dismissals)


CONVERSION = scenario(
    ev("mdt_review", "2024-12-10", resectable=False, plan="conversion"),
    ev("systemic_started", "2025-01-05", regimen="FOLFOXIRI", biologic="bevacizumab"),
    biomarkers={"mmr": "pMMR", "ras": "mutant", "braf": "wild_type"})


def test_a_missed_reassessment_is_what_the_journey_waits_for_since_its_due_day():
    x = explained(CONVERSION, "2025-05-01")
    assert x.phase is Phase.REASSESSMENT
    assert x.headline == ("Waiting for a resectability reassessment since 5 Mar 2025 (57 days). "
                          "1 reminder is overdue.")
    awaited = x.awaited[0]
    assert awaited.entries == (EventType.REASSESSMENT,)
    assert "fell due on 5 Mar 2025" in awaited.why
    [reminder] = x.reminders
    assert reminder.label == "resectability reassessment"
    assert reminder.timing == "43 days overdue"
    assert reminder.cleared_in_words == "resectability reassessment"


def test_the_guideline_statements_that_apply_are_quoted_with_their_section():
    x = explained(CONVERSION, "2025-05-01")
    by_id = {s.id: s for s in x.statements}
    reassess = by_id["G-REASSESS-2M"]
    assert reassess.citation is not None
    assert reassess.citation.sections == ("Unresectable Disease (Conversion Strategy)",)
    assert reassess.citation.quotes[0].text == "Reassess resectability every 2 months during chemotherapy"
    assert "G-CONVERSION-MUTANT" in by_id


def test_conflicting_statements_are_named_with_why():
    raw = scenario(
        ev("mdt_review", "2024-12-10", resectable=False, plan="conversion"),
        biomarkers={"mmr": "pMMR", "ras": "mutant", "braf": "wild_type"},
        prior_oxaliplatin={"last_dose_on": "2024-06-01"})
    x = explained(raw, "2024-12-20")
    assert x.conflicts, [s.id for s in x.statements]
    one, other, why = x.conflicts[0]
    assert {one, other} == {"G-OXALIPLATIN-FAILURE", "G-CONVERSION-MUTANT"}
    assert "oxaliplatin" in why


def test_a_new_patient_waits_for_an_mdt_review_since_the_metastases_were_found():
    x = explained(scenario(), "2025-01-10")
    assert x.phase is Phase.ASSESSMENT and x.phase_since is None
    assert x.headline == "Waiting for an MDT review to decide the plan since 1 Dec 2024 (40 days)."
    assert x.awaited[0].entries == (EventType.MDT_REVIEW,)
    assert x.last_entry is None


def test_after_a_non_surgical_plan_the_journey_waits_for_the_therapy_it_decided():
    x = explained(scenario(ev("mdt_review", "2024-12-10", resectable=True, plan="perioperative")),
                  "2024-12-20")
    assert x.awaited[0].what == "the start of perioperative therapy"
    assert x.awaited[0].since == date(2024, 12, 10)
    assert x.days_since_last_entry == 10


def test_a_held_line_waits_for_a_decision_on_it():
    raw = scenario(ev("mdt_review", "2024-12-10", resectable=True, plan="perioperative"),
                   ev("systemic_started", "2025-01-05", regimen="FOLFOX"),
                   ev("systemic_paused", "2025-01-20", reason="toxicity"))
    x = explained(raw, "2025-02-01")
    assert any("held line" in a.what and a.since == date(2025, 1, 20) for a in x.awaited)
    hold = next(r for r in x.reminders if r.kind is ReminderKind.HOLD_REVIEW)
    assert hold.cleared_by == clearing_entries(ReminderKind.HOLD_REVIEW)


def test_in_surveillance_and_after_closure_nothing_is_awaited():
    raw = scenario(ev("mdt_review", "2024-12-10", resectable=True, plan="upfront_surgery"),
                   ev("surgery", "2024-12-20", procedure="liver_resection", margin="R0"),
                   ev("mdt_review", "2025-01-10", resectable=True, plan="surveillance"))
    x = explained(raw, "2025-02-01")
    assert x.phase is Phase.SURVEILLANCE and x.awaited == ()
    assert x.headline.startswith("Nothing is awaited by the pathway: surveillance since 10 Jan 2025")
    closed = explained(scenario(ev("death", "2025-01-03")), "2025-02-01")
    assert closed.headline == "Nothing is awaited: the journey was closed (death) on 3 Jan 2025."


def test_a_dismissed_reminder_is_not_counted_overdue():
    dismissal = ReminderDismissal("reassessment_due", date(2025, 3, 5), date(2025, 4, 1), "mdt_decision")
    x = explained(CONVERSION, "2025-05-01", dismissals=[dismissal])
    assert x.reminders[0].dismissed == dismissal
    assert "overdue" not in x.headline


@pytest.mark.parametrize("kind", list(ReminderKind))
def test_every_reminder_kind_has_words_and_the_entries_that_clear_it(kind: ReminderKind):
    assert REMINDER_LABEL[kind]
    assert [e.value for e in clearing_entries(kind)] == list(RESOLVED_BY[kind])


def test_the_clearing_form_starts_with_what_the_reminder_says():
    assert clearing_prefill(ReminderKind.SECOND_STAGE_DUE, EventType.SURGERY) == {
        "procedure": "liver_resection", "stage": "2"}
    assert clearing_prefill(ReminderKind.REASSESSMENT_DUE, EventType.REASSESSMENT) == {}


@pytest.mark.parametrize(("day", "status", "words"), [
    ("2025-03-01", ReminderStatus.SCHEDULED, "due in 4 days"),
    ("2025-03-05", ReminderStatus.DUE, "due today"),
    ("2025-03-08", ReminderStatus.DUE, "3 days past due, overdue in 12 days"),
    ("2025-03-19", ReminderStatus.DUE, "14 days past due, overdue tomorrow"),
    ("2025-03-20", ReminderStatus.OVERDUE, "1 day overdue"),
])
def test_a_due_date_is_said_without_ambiguity(day: str, status: ReminderStatus, words: str):
    assert due_in_words(date(2025, 3, 5), status, date.fromisoformat(day), DEFAULT_SETTINGS) == words


@pytest.mark.parametrize(("written", "read"), [
    ("every 2 months (seed:13).", "every 2 months (guideline line 13)."),
    ("the MDT's view (seed:37, seed:39).", "the MDT's view (guideline lines 37 and 39)."),
    ("statements seed:5-8 apply", "statements guideline lines 5 to 8 apply"),
])
def test_seed_references_read_as_a_reader_writes_them(written: str, read: str):
    assert readable_references(written) == read


def test_no_statement_shown_says_seed():
    x = explained(CONVERSION, "2025-05-01")
    assert all("seed:" not in s.text for s in x.statements)
    assert all("seed:" not in r.meaning for r in x.reminders)
    assert all("seed:" not in a.why for a in x.awaited)
