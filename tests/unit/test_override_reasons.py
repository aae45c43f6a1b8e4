"""Overrides carry one of the six coded reasons pathway programmes use (or words alone), and the
audit counts them by reason."""

from __future__ import annotations

from datetime import date

import pytest

from journey.adherence import judge
from journey.cohort import UNCODED_OVERRIDE, CohortAudit, JourneySummary, summarize
from journey.errors import ImpossibleEntry
from journey.events import OVERRIDE_REASONS, read_event, stored_event
from tests.conftest import ev, follow, scenario


def test_the_six_coded_reasons():
    assert list(OVERRIDE_REASONS.values()) == [
        "toxicity or comorbidity", "prior treatment", "new indication",
        "treatment continued from elsewhere", "MDT rationale", "patient preference"]


def test_a_coded_override_without_words_records_the_reason_in_words():
    event = read_event({"date": "2025-01-02", "type": "progression", "override_code": "mdt_rationale"})
    assert event.override == "MDT rationale" and event.override_code == "mdt_rationale"
    assert event.override_words == "MDT rationale"
    assert stored_event(event.to_dict(), 1) == read_event(event.to_dict(), 1)


def test_a_coded_override_with_words_reads_as_both():
    event = read_event({"date": "2025-01-02", "type": "progression", "override_code": "patient_preference",
                        "override": "wants treatment closer to home"})
    assert event.override_words == "patient preference: wants treatment closer to home"


def test_an_unknown_code_is_refused_in_words():
    with pytest.raises(ImpossibleEntry, match="is not a coded override reason"):
        read_event({"date": "2025-01-02", "type": "progression", "override_code": "because"})


def test_the_audit_says_the_reason_and_counts_overrides_by_it():
    raw = scenario(ev("recurrence", "2025-01-05", site="liver_only", override_code="new_indication"),
                   ref="T-1")
    outcome = follow(raw, date(2025, 2, 1))
    adherence = judge(outcome)
    [deviation] = adherence.deviations_for("A-OVERRIDE")
    assert deviation.justified and deviation.justification == "new indication"
    words_only = follow(scenario(ev("recurrence", "2025-01-05", site="both", override="seen elsewhere"),
                                 ref="T-2"), date(2025, 2, 1))
    cohort = CohortAudit()
    for _ in range(5):
        cohort.add("metachronous", adherence, summarize(outcome))
    cohort.add("metachronous", judge(words_only), summarize(words_only))
    rows = {r["reason"]: r for r in cohort.summary()["overrides_by_reason"]}
    assert rows["new_indication"]["entries"] == 5
    assert rows[UNCODED_OVERRIDE] == {"reason": UNCODED_OVERRIDE, "words": "another reason, in words only",
                                      "entries": None, "suppressed": True}
    assert rows["mdt_rationale"]["entries"] == 0 and not rows["mdt_rationale"]["suppressed"]


def test_the_reasons_survive_the_stored_verdict():
    summary = JourneySummary(overrides=("mdt_rationale", UNCODED_OVERRIDE))
    assert JourneySummary.from_list(summary.as_list()) == summary
