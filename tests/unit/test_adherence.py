"""The audit checks of contract §5: each fires, stays quiet on both sides of its boundary, and
tells justified deviations from unexplained ones."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from journey.adherence import CHECKS, CHECKS_BY_ID, Deviation, ReminderDismissal, judge
from journey.course import follow_journey
from journey.events import read_event
from journey.profile import read_profile
from tests.conftest import SEED_FILE, SHARED_EXAMPLES

D = date.fromisoformat

BASE_PATIENT: dict[str, Any] = {
    "ref": "T-1",
    "ecog": 1,
    "primary": {"site": "sigmoid", "diagnosed_on": "2024-01-10", "symptoms": [],
                "resected_on": "2024-01-30"},
    "metastases": {"detected_on": "2025-01-06", "count": 3, "max_size_mm": 30, "extrahepatic": False},
    "biomarkers": {"mmr": "pMMR", "ras": "wild_type", "braf": "wild_type"},
}

SYNCHRONOUS = {"primary": {"diagnosed_on": "2025-01-06", "resected_on": None},
               "metastases": {"detected_on": "2025-01-06"}}


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def judged(events: list[dict[str, Any]], as_of: str, patient: dict[str, Any] | None = None,
           dismissals: tuple[ReminderDismissal, ...] = ()):
    profile = read_profile(merged(BASE_PATIENT, patient or {}))
    evs = [read_event(e, seq=i) for i, e in enumerate(events)]
    outcome = follow_journey(profile, evs, D(as_of))
    assert not outcome.refusals, outcome.refusals
    return judge(outcome, dismissals)


def found(result, check: str) -> list[Deviation]:
    return [d for d in result.deviations if d.check == check]


def day(text: str, plus: int = 0) -> str:
    return (D(text) + timedelta(days=plus)).isoformat()


# --------------------------------------------------------------------------------------------
# The checks as data


def test_every_contract_check_is_declared_once_with_its_seed_line():
    ids = [c.id for c in CHECKS]
    assert len(ids) == len(set(ids))
    assert set(ids) == {
        "A-REASSESS-INTERVAL", "A-TOTAL-6M", "A-CONVERSION-REGIMEN", "A-FOLFOX-AFTER-OXA-FAILURE",
        "A-DMMR-NO-IMMUNO", "A-RESECTION-AFTER-PROGRESSION", "A-COMPLETE-RESPONSE",
        "A-SMALL-NOT-UPFRONT", "A-PRIMARY-NOT-FIRST", "A-SIMULTANEOUS-UNFIT", "A-R1-NO-CHEMO",
        "A-RECURRENCE-NO-MDT", "A-RECTAL-RT-UNDECIDED", "A-OVERRIDE"}
    for check in CHECKS:
        assert check.eligibility and check.deviation and check.dates_as
        assert check.seed is not None or check.id == "A-OVERRIDE"


def test_check_settings_name_real_pathway_settings():
    from journey.settings import PathwaySettings
    fields = set(PathwaySettings.__dataclass_fields__)
    for check in CHECKS:
        assert set(check.settings) <= fields, check.id


def test_seed_lines_say_what_the_checks_enforce():
    lines = SEED_FILE.read_text(encoding="utf-8").splitlines()
    words = {"A-REASSESS-INTERVAL": "every 2 months", "A-TOTAL-6M": "6 months total",
             "A-CONVERSION-REGIMEN": "triplet chemotherapy plus bevacizumab",
             "A-FOLFOX-AFTER-OXA-FAILURE": "FOLFIRI instead", "A-DMMR-NO-IMMUNO": "immunotherapy",
             "A-RESECTION-AFTER-PROGRESSION": "progressing", "A-COMPLETE-RESPONSE": "complete",
             "A-SMALL-NOT-UPFRONT": "Single metastasis", "A-PRIMARY-NOT-FIRST": "symptomatic",
             "A-SIMULTANEOUS-UNFIT": "good performance", "A-R1-NO-CHEMO": "R1",
             "A-RECURRENCE-NO-MDT": "multidisciplinary", "A-RECTAL-RT-UNDECIDED": "pelvic radiotherapy"}
    for check_id, text in words.items():
        seed_line = CHECKS_BY_ID[check_id].seed
        assert seed_line is not None
        assert text.lower() in lines[seed_line - 1].lower(), check_id


def test_deviation_dict_has_the_contract_keys():
    d = Deviation("A-OVERRIDE", D("2025-01-01"), "x", True, "why")
    assert d.to_dict() == {"check": "A-OVERRIDE", "date": "2025-01-01", "detail": "x",
                           "justified": True, "justification": "why"}


def test_a_dismissal_needs_a_coded_reason():
    with pytest.raises(ValueError):
        ReminderDismissal("reassessment_due", D("2025-01-01"), D("2025-01-02"), "busy")


# --------------------------------------------------------------------------------------------
# A-REASSESS-INTERVAL: due 2 calendar months after the start, grace 14 days

PREOP = [
    {"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "perioperative"},
    {"date": "2025-02-03", "type": "systemic_started", "regimen": "FOLFOX"},
]  # reassessment due 2025-04-03; overdue from 2025-04-18


def reassessed(on: str, **extra: Any) -> dict[str, Any]:
    return {"date": on, "type": "reassessment", "response": "PR", "resectable": False, **extra}


def test_reassessment_on_the_last_grace_day_is_on_time():
    result = judged([*PREOP, reassessed("2025-04-17")], "2025-05-01")
    assert "A-REASSESS-INTERVAL" in result.eligible
    assert not found(result, "A-REASSESS-INTERVAL")


def test_reassessment_the_day_after_grace_is_late_and_dated_that_day():
    result = judged([*PREOP, reassessed("2025-04-18")], "2025-05-01")
    [dev] = found(result, "A-REASSESS-INTERVAL")
    assert dev.date == D("2025-04-18") and not dev.justified and dev.seed == 13


def test_missing_reassessment_is_not_judged_before_the_grace_runs_out():
    result = judged(PREOP, "2025-04-17")
    assert "A-REASSESS-INTERVAL" not in result.eligible
    assert not found(result, "A-REASSESS-INTERVAL")


def test_missing_reassessment_is_a_deviation_from_the_first_overdue_day():
    [dev] = found(judged(PREOP, "2025-04-18"), "A-REASSESS-INTERVAL")
    assert dev.date == D("2025-04-18")
    assert "2025-04-03" in dev.detail


def test_therapy_going_on_past_the_overdue_day_without_reassessment_counts_after_it_ends():
    events = [*PREOP, {"date": "2025-04-25", "type": "systemic_stopped", "reason": "surgery"}]
    [dev] = found(judged(events, "2025-06-01"), "A-REASSESS-INTERVAL")
    assert dev.date == D("2025-04-18")


def test_therapy_stopped_inside_the_grace_leaves_no_reassessment_deviation():
    events = [*PREOP, {"date": "2025-04-10", "type": "systemic_stopped", "reason": "surgery"}]
    result = judged(events, "2025-06-01")
    assert not found(result, "A-REASSESS-INTERVAL")


def test_a_coded_dismissal_of_the_reminder_justifies_the_late_reassessment():
    dismissal = ReminderDismissal("reassessment_due", D("2025-04-03"), D("2025-04-05"), "toxicity",
                                  "neutropenic sepsis, scan postponed")
    [dev] = found(judged([*PREOP, reassessed("2025-04-25")], "2025-05-01", dismissals=(dismissal,)),
                  "A-REASSESS-INTERVAL")
    assert dev.justified and "neutropenic sepsis" in (dev.justification or "")


def test_a_dismissal_of_another_reminder_does_not_justify():
    dismissal = ReminderDismissal("reassessment_due", D("2025-06-03"), D("2025-04-05"), "toxicity")
    [dev] = found(judged([*PREOP, reassessed("2025-04-25")], "2025-05-01", dismissals=(dismissal,)),
                  "A-REASSESS-INTERVAL")
    assert not dev.justified and dev.justification is None


def test_a_late_reassessment_recorded_with_an_override_is_justified():
    result = judged([*PREOP, reassessed("2025-04-25", override="scanner out of service")], "2025-05-01")
    [dev] = found(result, "A-REASSESS-INTERVAL")
    assert dev.justified and "scanner out of service" in (dev.justification or "")
    [ov] = found(result, "A-OVERRIDE")
    assert ov.justified and ov.justification == "scanner out of service"


# --------------------------------------------------------------------------------------------
# A-TOTAL-6M: pre-op 2025-02-03..2025-05-05 = 91 days; target 183 +- 30


def periop(postop_days: int | None, reason: str = "completed") -> list[dict[str, Any]]:
    events = [*PREOP, reassessed("2025-04-01"),
              {"date": "2025-05-05", "type": "systemic_stopped", "reason": "surgery"},
              {"date": "2025-05-20", "type": "surgery", "procedure": "liver_resection", "margin": "R0"},
              {"date": "2025-06-16", "type": "systemic_started", "regimen": "FOLFOX"}]
    if postop_days is not None:
        events.append({"date": day("2025-06-16", postop_days), "type": "systemic_stopped",
                       "reason": reason})
    return events


@pytest.mark.parametrize(("postop_days", "deviates"), [(122, False), (123, True), (62, False),
                                                       (61, True), (92, False)])
def test_total_perioperative_days_within_the_tolerance_are_on_target(postop_days: int, deviates: bool):
    result = judged(periop(postop_days), "2026-01-31")
    assert "A-TOTAL-6M" in result.eligible
    devs = found(result, "A-TOTAL-6M")
    assert bool(devs) is deviates
    if devs:
        assert devs[0].date == D(day("2025-06-16", postop_days))
        assert str(91 + postop_days) in devs[0].detail


def test_total_is_not_judged_while_post_operative_therapy_goes_on():
    result = judged(periop(None), "2026-01-31")
    assert "A-TOTAL-6M" not in result.eligible
    assert not found(result, "A-TOTAL-6M")


def test_therapy_stopped_for_toxicity_is_a_justified_short_total():
    [dev] = found(judged(periop(30, "toxicity"), "2026-01-31"), "A-TOTAL-6M")
    assert dev.justified and "toxicity" in (dev.justification or "")


def test_a_dismissed_total_check_justifies_the_short_total():
    due = D("2025-06-16") + timedelta(days=183 - 91)
    dismissal = ReminderDismissal("total_chemo_check", due, D("2025-08-01"), "mdt_decision")
    [dev] = found(judged(periop(30, "other"), "2026-01-31", dismissals=(dismissal,)), "A-TOTAL-6M")
    assert dev.justified


def test_surveillance_after_surgery_without_post_operative_therapy_ends_the_episode_short():
    events = [*periop(None)[:5],
              {"date": "2025-06-10", "type": "mdt_review", "resectable": True, "plan": "surveillance"}]
    [dev] = found(judged(events, "2025-09-01"), "A-TOTAL-6M")
    assert dev.date == D("2025-06-10") and "91 days" in dev.detail


# --------------------------------------------------------------------------------------------
# A-CONVERSION-REGIMEN

CONVERSION_MDT = {"date": "2025-01-20", "type": "mdt_review", "resectable": False, "plan": "conversion"}


def conversion(regimen: str, biologic: str | None = None) -> list[dict[str, Any]]:
    start: dict[str, Any] = {"date": "2025-02-03", "type": "systemic_started", "regimen": regimen}
    if biologic:
        start["biologic"] = biologic
    return [CONVERSION_MDT, start]


MUTANT = {"biomarkers": {"ras": "mutant"}}
RIGHT = {"primary": {"site": "ascending"}}


@pytest.mark.parametrize(("patient", "regimen", "biologic", "deviates"), [
    (MUTANT, "FOLFOXIRI", "bevacizumab", False),
    (MUTANT, "FOLFIRINOX", "bevacizumab", False),
    (MUTANT, "FOLFOX", "anti_egfr", True),
    (MUTANT, "FOLFOXIRI", None, True),
    (MUTANT, "FOLFOX", "bevacizumab", True),
    (RIGHT, "FOLFOXIRI", "bevacizumab", False),
    (RIGHT, "FOLFOXIRI", "anti_egfr", True),
    (RIGHT, "FOLFOX", "bevacizumab", True),
])
def test_conversion_regimen_follows_biology_and_side(patient, regimen, biologic, deviates):
    result = judged(conversion(regimen, biologic), "2025-02-10", patient)
    assert "A-CONVERSION-REGIMEN" in result.eligible
    assert bool(found(result, "A-CONVERSION-REGIMEN")) is deviates


def test_left_sided_wild_type_and_dmmr_are_outside_the_conversion_check():
    assert "A-CONVERSION-REGIMEN" not in judged(conversion("FOLFOX", "anti_egfr"), "2025-02-10").eligible
    dmmr = {"biomarkers": {"mmr": "dMMR", "ras": "mutant"}}
    assert "A-CONVERSION-REGIMEN" not in judged(conversion("FOLFOX", "anti_egfr"), "2025-02-10",
                                                dmmr).eligible


def test_therapy_for_resectable_disease_is_not_conversion():
    events = [PREOP[0], {"date": "2025-02-03", "type": "systemic_started", "regimen": "FOLFOX",
                         "biologic": "anti_egfr"}]
    assert "A-CONVERSION-REGIMEN" not in judged(events, "2025-02-10", MUTANT).eligible


# --------------------------------------------------------------------------------------------
# A-FOLFOX-AFTER-OXA-FAILURE: relapse <= 12 calendar months after the last dose


def oxaliplatin(relapsed_on: str) -> dict[str, Any]:
    return {"primary": {"diagnosed_on": "2023-06-01", "resected_on": "2023-06-20"},
            "prior_oxaliplatin": {"last_dose_on": "2024-01-05", "relapsed_on": relapsed_on}}


def test_folfox_after_failure_within_twelve_months_deviates():
    result = judged(PREOP, "2025-02-10", oxaliplatin("2025-01-05"))
    [dev] = found(result, "A-FOLFOX-AFTER-OXA-FAILURE")
    assert dev.date == D("2025-02-03") and dev.seed == 34


def test_relapse_a_day_after_twelve_months_is_not_failure():
    result = judged(PREOP, "2025-02-10", oxaliplatin("2025-01-06"))
    assert "A-FOLFOX-AFTER-OXA-FAILURE" not in result.eligible


def test_folfox_between_the_two_stages_after_failure_deviates_too():
    """Interval therapy is part of the perioperative course (contract §7.6 exempts it from the
    reassessment and conversion rules, not from this one)."""
    events = [PREOP[0], {"date": "2025-02-03", "type": "systemic_started", "regimen": "FOLFIRI"},
              {"date": "2025-03-20", "type": "systemic_stopped", "reason": "surgery"},
              {"date": "2025-03-25", "type": "surgery", "procedure": "liver_resection", "stage": 1,
               "margin": "R0"},
              {"date": "2025-04-10", "type": "systemic_started", "regimen": "CAPOX"}]
    [dev] = found(judged(events, "2025-05-01", oxaliplatin("2025-01-05")), "A-FOLFOX-AFTER-OXA-FAILURE")
    assert dev.date == D("2025-04-10") and "interval" in dev.detail


def test_folfiri_after_failure_is_as_advised():
    events = [PREOP[0], {"date": "2025-02-03", "type": "systemic_started", "regimen": "FOLFIRI"}]
    result = judged(events, "2025-02-10", oxaliplatin("2025-01-05"))
    assert "A-FOLFOX-AFTER-OXA-FAILURE" in result.eligible
    assert not found(result, "A-FOLFOX-AFTER-OXA-FAILURE")


# --------------------------------------------------------------------------------------------
# A-DMMR-NO-IMMUNO

DMMR = {"biomarkers": {"mmr": "dMMR"}}


def test_chemotherapy_for_resectable_dmmr_disease_deviates():
    [dev] = found(judged(PREOP, "2025-02-10", DMMR), "A-DMMR-NO-IMMUNO")
    assert dev.date == D("2025-02-03")


def test_immunotherapy_for_resectable_dmmr_disease_is_as_advised():
    events = [{**PREOP[0], "plan": "immunotherapy"},
              {"date": "2025-02-03", "type": "systemic_started", "regimen": "IMMUNOTHERAPY"}]
    result = judged(events, "2025-02-10", DMMR)
    assert "A-DMMR-NO-IMMUNO" in result.eligible and not found(result, "A-DMMR-NO-IMMUNO")


def test_pmmr_disease_is_outside_the_dmmr_check():
    assert "A-DMMR-NO-IMMUNO" not in judged(PREOP, "2025-02-10").eligible


# --------------------------------------------------------------------------------------------
# A-RESECTION-AFTER-PROGRESSION and A-COMPLETE-RESPONSE

PD = {"date": "2025-03-20", "type": "reassessment", "response": "PD", "resectable": False}
LIVER_SURGERY = {"date": "2025-04-20", "type": "surgery", "procedure": "liver_resection", "margin": "R0"}


def test_surgery_straight_after_progression_deviates():
    [dev] = found(judged([*PREOP, PD, LIVER_SURGERY], "2025-05-01"), "A-RESECTION-AFTER-PROGRESSION")
    assert dev.date == D("2025-04-20") and not dev.justified


def test_a_resectable_reassessment_between_progression_and_surgery_clears_it():
    clear = {"date": "2025-04-10", "type": "reassessment", "response": "SD", "resectable": True}
    result = judged([*PREOP, PD, clear, LIVER_SURGERY], "2025-05-01")
    assert "A-RESECTION-AFTER-PROGRESSION" in result.eligible
    assert not found(result, "A-RESECTION-AFTER-PROGRESSION")


def test_a_resectable_mdt_review_alone_does_not_clear_progression_before_surgery():
    """Contract §5: "with no resectable reassessment between"; the MDT's word is a decision, not
    the imaging that shows the disease resectable again."""
    mdt = {"date": "2025-04-10", "type": "mdt_review", "resectable": True, "plan": "liver_first"}
    [dev] = found(judged([*PREOP, PD, mdt, LIVER_SURGERY], "2025-05-01"), "A-RESECTION-AFTER-PROGRESSION")
    assert dev.date == D("2025-04-20")


def test_surgery_after_progression_with_an_override_is_justified():
    result = judged([*PREOP, PD, {**LIVER_SURGERY, "override": "MDT: oligoprogression"}], "2025-05-01")
    [dev] = found(result, "A-RESECTION-AFTER-PROGRESSION")
    assert dev.justified and "oligoprogression" in (dev.justification or "")
    [ov] = found(result, "A-OVERRIDE")
    assert ov.justified and "allowed it anyway" in ov.detail


def test_no_progression_means_not_eligible_for_the_progression_check():
    result = judged([*PREOP, reassessed("2025-03-20"), LIVER_SURGERY], "2025-05-01")
    assert "A-RESECTION-AFTER-PROGRESSION" not in result.eligible


def test_complete_response_before_surgery_deviates_and_partial_does_not():
    cr = {"date": "2025-03-20", "type": "reassessment", "response": "CR", "resectable": True}
    [dev] = found(judged([*PREOP, cr], "2025-04-01"), "A-COMPLETE-RESPONSE")
    assert dev.date == D("2025-03-20")
    result = judged([*PREOP, reassessed("2025-03-20")], "2025-04-01")
    assert "A-COMPLETE-RESPONSE" in result.eligible and not found(result, "A-COMPLETE-RESPONSE")


# --------------------------------------------------------------------------------------------
# A-SMALL-NOT-UPFRONT: single metastasis < 20 mm


def small(size: float) -> dict[str, Any]:
    return {"metastases": {"count": 1, "max_size_mm": size}}


def test_chemotherapy_first_for_a_single_19_mm_metastasis_deviates():
    [dev] = found(judged(PREOP, "2025-02-10", small(19)), "A-SMALL-NOT-UPFRONT")
    assert dev.date == D("2025-02-03") and dev.seed == 8


def test_a_single_20_mm_metastasis_is_outside_the_exception():
    assert "A-SMALL-NOT-UPFRONT" not in judged(PREOP, "2025-02-10", small(20)).eligible


def test_upfront_surgery_for_a_single_small_metastasis_is_as_advised():
    events = [{"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "upfront_surgery"},
              {"date": "2025-02-10", "type": "surgery", "procedure": "liver_resection", "margin": "R0"}]
    result = judged(events, "2025-03-01", small(12))
    assert "A-SMALL-NOT-UPFRONT" in result.eligible and not found(result, "A-SMALL-NOT-UPFRONT")


def test_two_small_metastases_are_outside_the_exception():
    patient = {"metastases": {"count": 2, "max_size_mm": 12}}
    assert "A-SMALL-NOT-UPFRONT" not in judged(PREOP, "2025-02-10", patient).eligible


# --------------------------------------------------------------------------------------------
# A-PRIMARY-NOT-FIRST and A-SIMULTANEOUS-UNFIT and A-RECTAL-RT-UNDECIDED (synchronous disease)


def symptomatic() -> dict[str, Any]:
    return merged(SYNCHRONOUS, {"primary": {"symptoms": ["bleeding"]}})


def test_liver_before_a_symptomatic_primary_deviates():
    events = [{"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "liver_first"},
              {"date": "2025-02-10", "type": "surgery", "procedure": "liver_resection", "margin": "R0"}]
    [dev] = found(judged(events, "2025-03-01", symptomatic()), "A-PRIMARY-NOT-FIRST")
    assert dev.date == D("2025-02-10") and "bleeding" in dev.detail


def test_primary_first_for_a_symptomatic_primary_is_as_advised():
    events = [{"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "primary_first"},
              {"date": "2025-02-01", "type": "surgery", "procedure": "primary_resection"},
              {"date": "2025-03-10", "type": "surgery", "procedure": "liver_resection", "margin": "R0"}]
    result = judged(events, "2025-04-01", symptomatic())
    assert "A-PRIMARY-NOT-FIRST" in result.eligible and not found(result, "A-PRIMARY-NOT-FIRST")


def test_an_asymptomatic_or_metachronous_primary_is_outside_the_primary_first_check():
    assert "A-PRIMARY-NOT-FIRST" not in judged([], "2025-03-01", SYNCHRONOUS).eligible
    metachronous = {"primary": {"symptoms": ["bleeding"]}}
    assert "A-PRIMARY-NOT-FIRST" not in judged([], "2025-03-01", metachronous).eligible


SIMULTANEOUS = [
    {"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "simultaneous",
     "simultaneous_feasible": True},
    {"date": "2025-02-10", "type": "surgery", "procedure": "simultaneous_resection", "margin": "R0"}]


@pytest.mark.parametrize(("ecog", "deviates"), [(0, False), (1, False), (2, True), (3, True)])
def test_simultaneous_resection_needs_good_performance_status(ecog: int, deviates: bool):
    result = judged(SIMULTANEOUS, "2025-03-01", {**SYNCHRONOUS, "ecog": ecog})
    assert "A-SIMULTANEOUS-UNFIT" in result.eligible
    assert bool(found(result, "A-SIMULTANEOUS-UNFIT")) is deviates


def test_no_simultaneous_resection_means_not_eligible():
    assert "A-SIMULTANEOUS-UNFIT" not in judged(SIMULTANEOUS[:1], "2025-03-01", SYNCHRONOUS).eligible


RECTAL = merged(SYNCHRONOUS, {"primary": {"site": "rectum"}})
UPFRONT = [{"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "liver_first"},
           {"date": "2025-02-10", "type": "surgery", "procedure": "liver_resection", "margin": "R0"}]


def test_liver_surgery_before_the_pelvic_radiotherapy_decision_deviates():
    [dev] = found(judged(UPFRONT, "2025-03-01", RECTAL), "A-RECTAL-RT-UNDECIDED")
    assert dev.date == D("2025-02-10") and dev.seed == 20


@pytest.mark.parametrize("indicated", [True, False])
def test_an_mdt_recording_the_pelvic_radiotherapy_decision_satisfies_the_check(indicated: bool):
    events = [{**UPFRONT[0], "pelvic_rt_indicated": indicated}, UPFRONT[1]]
    result = judged(events, "2025-03-01", RECTAL)
    assert "A-RECTAL-RT-UNDECIDED" in result.eligible and not found(result, "A-RECTAL-RT-UNDECIDED")


def test_pelvic_radiotherapy_given_without_the_mdt_decision_on_record_still_deviates():
    """Contract §5: the MDT must have recorded pelvic_rt_indicated; radiotherapy given is not that."""
    events = [UPFRONT[0],
              {"date": "2025-01-25", "type": "radiotherapy", "target": "pelvis", "status": "started"},
              {"date": "2025-02-05", "type": "radiotherapy", "target": "pelvis", "status": "completed"},
              UPFRONT[1]]
    [dev] = found(judged(events, "2025-03-01", RECTAL), "A-RECTAL-RT-UNDECIDED")
    assert dev.date == D("2025-02-10")


def test_the_pelvic_radiotherapy_decision_is_not_judged_before_liver_surgery():
    result = judged(UPFRONT[:1], "2025-03-01", RECTAL)
    assert not found(result, "A-RECTAL-RT-UNDECIDED")
    assert "A-RECTAL-RT-UNDECIDED" not in judged(UPFRONT, "2025-03-01", SYNCHRONOUS).eligible


# --------------------------------------------------------------------------------------------
# A-R1-NO-CHEMO: 12 weeks = 84 days after an R1 liver resection

R1 = [{"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "upfront_surgery"},
      {"date": "2025-02-10", "type": "surgery", "procedure": "liver_resection", "margin": "R1"}]


def started(on: str) -> dict[str, Any]:
    return {"date": on, "type": "systemic_started", "regimen": "FOLFOX"}


def test_post_operative_therapy_on_the_last_day_of_twelve_weeks_is_in_time():
    result = judged([*R1, started(day("2025-02-10", 84))], "2025-07-01")
    assert "A-R1-NO-CHEMO" in result.eligible and not found(result, "A-R1-NO-CHEMO")


def test_post_operative_therapy_a_day_after_twelve_weeks_is_late():
    [dev] = found(judged([*R1, started(day("2025-02-10", 85))], "2025-07-01"), "A-R1-NO-CHEMO")
    assert dev.date == D(day("2025-02-10", 85))


def test_no_therapy_after_r1_is_judged_only_once_the_window_has_passed():
    assert "A-R1-NO-CHEMO" not in judged(R1, day("2025-02-10", 84)).eligible
    [dev] = found(judged(R1, day("2025-02-10", 85)), "A-R1-NO-CHEMO")
    assert dev.date == D(day("2025-02-10", 85))


def test_an_r1_ablation_is_not_an_r1_resection_for_the_audit_the_reminders_or_the_advice():
    """One definition (LiverOperation.resection): contract §5 "R1 liver resection", §4 "last
    liver resection had margin R1"."""
    from journey.guideline import advise

    ablation = [R1[0], {**R1[1], "procedure": "ablation"}]
    profile = read_profile(BASE_PATIENT)
    outcome = follow_journey(profile, [read_event(e, seq=i) for i, e in enumerate(ablation)], D("2025-07-01"))
    assert "A-R1-NO-CHEMO" not in judge(outcome).eligible
    assert "r1_postop_therapy" not in [r.kind.value for r in outcome.reminders]
    assert "G-R1-CONTINUE" not in advise(outcome).ids
    resected = follow_journey(profile, [read_event(e, seq=i) for i, e in enumerate(R1)], D("2025-07-01"))
    assert "r1_postop_therapy" in [r.kind.value for r in resected.reminders]


def test_an_r0_resection_or_death_inside_the_window_is_outside_the_r1_check():
    r0 = [R1[0], {**R1[1], "margin": "R0"}]
    assert "A-R1-NO-CHEMO" not in judged(r0, "2025-07-01").eligible
    died = [*R1, {"date": "2025-03-01", "type": "death"}]
    assert "A-R1-NO-CHEMO" not in judged(died, "2025-07-01").eligible


def test_a_dismissed_r1_reminder_justifies_the_missing_therapy():
    dismissal = ReminderDismissal("r1_postop_therapy", D(day("2025-02-10", 84)), D("2025-05-01"),
                                  "patient_choice", "declined further chemotherapy")
    [dev] = found(judged(R1, "2025-07-01", dismissals=(dismissal,)), "A-R1-NO-CHEMO")
    assert dev.justified and "declined" in (dev.justification or "")


# --------------------------------------------------------------------------------------------
# A-RECURRENCE-NO-MDT: 30 days

AFTER_SURGERY = [*R1[:1], {**R1[1], "margin": "R0"}, started("2025-03-01"),
                 {"date": "2025-08-20", "type": "systemic_stopped", "reason": "completed"},
                 {"date": "2026-01-05", "type": "recurrence", "site": "liver_only"}]


def mdt(on: str) -> dict[str, Any]:
    return {"date": on, "type": "mdt_review", "resectable": True, "plan": "upfront_surgery"}


def test_mdt_on_the_thirtieth_day_after_recurrence_is_in_time():
    result = judged([*AFTER_SURGERY, mdt(day("2026-01-05", 30))], "2026-03-01")
    assert "A-RECURRENCE-NO-MDT" in result.eligible and not found(result, "A-RECURRENCE-NO-MDT")


def test_mdt_on_the_thirty_first_day_is_late():
    [dev] = found(judged([*AFTER_SURGERY, mdt(day("2026-01-05", 31))], "2026-03-01"),
                  "A-RECURRENCE-NO-MDT")
    assert dev.date == D(day("2026-01-05", 31))


def test_missing_mdt_after_recurrence_counts_from_the_thirty_first_day():
    assert "A-RECURRENCE-NO-MDT" not in judged(AFTER_SURGERY, day("2026-01-05", 30)).eligible
    [dev] = found(judged(AFTER_SURGERY, day("2026-01-05", 31)), "A-RECURRENCE-NO-MDT")
    assert dev.date == D(day("2026-01-05", 31)) and not dev.justified


# --------------------------------------------------------------------------------------------
# A-OVERRIDE and the general rules


def test_an_off_pathway_event_recorded_with_override_is_a_justified_deviation():
    events = [*AFTER_SURGERY[:4],
              {"date": "2025-10-01", "type": "surgery", "procedure": "ablation",
               "override": "new lesion ablated on MDT advice"}]
    result = judged(events, "2025-11-01")
    [dev] = found(result, "A-OVERRIDE")
    assert dev.justified and dev.justification == "new lesion ablated on MDT advice"
    assert "allowed it anyway" not in dev.detail


def test_every_patient_is_eligible_for_the_override_check_and_on_time_care_has_no_deviations():
    events = [*PREOP, reassessed("2025-03-25"), reassessed("2025-05-20")]
    result = judged(events, "2025-06-01")
    assert "A-OVERRIDE" in result.eligible
    assert result.deviations == []


def test_a_patient_with_a_deviation_is_eligible_for_its_check_and_deviations_are_in_date_order():
    events = [*PREOP, PD, LIVER_SURGERY]
    result = judged(events, "2025-06-01", merged(small(15), DMMR))
    assert {d.check for d in result.deviations} <= result.eligible
    assert [d.date for d in result.deviations] == sorted(d.date for d in result.deviations)
    assert {"A-DMMR-NO-IMMUNO", "A-SMALL-NOT-UPFRONT", "A-RESECTION-AFTER-PROGRESSION"} <= \
        {d.check for d in result.deviations}


def test_the_contract_examples_give_the_expected_deviations():
    import yaml

    from journey.scenario import read_scenario

    files = sorted(SHARED_EXAMPLES.glob("*.yaml"))
    assert len(files) >= 5
    for f in files:
        spec = yaml.safe_load(f.read_text(encoding="utf-8"))
        scenario = read_scenario(spec["scenario"])
        assert scenario.as_of is not None
        outcome = follow_journey(scenario.profile, scenario.events, scenario.as_of)
        checks = {d.check for d in judge(outcome).deviations}
        assert set(spec["expect"].get("dev_in", [])) <= checks, f.name
        assert not set(spec["expect"].get("dev_out", [])) & checks, f.name


def test_folfox_as_salvage_after_oxaliplatin_failure_is_the_mdts_call():
    events = [{**PREOP[0], "resectable": False, "plan": "salvage"},
              {"date": "2025-02-03", "type": "systemic_started", "regimen": "FOLFOX"}]
    result = judged(events, "2025-02-10", oxaliplatin("2025-01-05"))
    assert "A-FOLFOX-AFTER-OXA-FAILURE" not in result.eligible


def test_immunotherapy_then_surgery_then_surveillance_is_outside_the_six_month_total():
    events = [{**PREOP[0], "plan": "immunotherapy"},
              {"date": "2025-02-03", "type": "systemic_started", "regimen": "IMMUNOTHERAPY"},
              {"date": "2025-04-01", "type": "reassessment", "response": "PR", "resectable": True},
              {"date": "2025-05-05", "type": "systemic_stopped", "reason": "surgery"},
              {"date": "2025-05-20", "type": "surgery", "procedure": "liver_resection", "margin": "R0"},
              {"date": "2025-06-10", "type": "mdt_review", "resectable": True, "plan": "surveillance"}]
    result = judged(events, "2025-09-01", DMMR)
    assert "A-TOTAL-6M" not in result.eligible


def test_a_resectability_judgement_before_a_recurrence_does_not_carry_over():
    after_recurrence = [*AFTER_SURGERY, started("2026-01-20")]
    result = judged(after_recurrence, "2026-03-01", DMMR)
    assert not found(result, "A-DMMR-NO-IMMUNO")
    with_new_judgement = [*AFTER_SURGERY, mdt("2026-01-10"), started("2026-01-20")]
    assert found(judged(with_new_judgement, "2026-03-01", DMMR), "A-DMMR-NO-IMMUNO")


def test_folfox_after_a_later_recurrence_is_outside_the_oxaliplatin_failure_check():
    patient = oxaliplatin("2025-01-05")
    events = [*AFTER_SURGERY[:1], {**AFTER_SURGERY[1], "margin": "R0"},
              {**started("2025-03-01"), "regimen": "FOLFIRI"}, *AFTER_SURGERY[3:],
              mdt("2026-01-10"), started("2026-01-20")]
    result = judged(events, "2026-03-01", patient)
    assert "A-FOLFOX-AFTER-OXA-FAILURE" in result.eligible
    assert not found(result, "A-FOLFOX-AFTER-OXA-FAILURE")


def test_the_audit_document_lists_every_check_with_its_seed_line():
    text = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text(encoding="utf-8")
    for check in CHECKS:
        seed = f"seed:{check.seed}" if check.seed else "-"
        assert f"| `{check.id}` | {seed} | {check.eligibility} |" in text, check.id
