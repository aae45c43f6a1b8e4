"""The guideline rules (contract §4), each on real journeys: built with read_profile and read_event,
followed with follow_journey, judged with advise at as_of."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from journey.course import JourneyOutcome, follow_journey
from journey.events import read_event
from journey.guideline import (
    OUTSIDE_GUIDELINE,
    RULES,
    RULESET_VERSION,
    Advice,
    advise,
    rule_table,
)
from journey.pathway import Phase
from journey.profile import LEFT_SIDED_SITES, RIGHT_SIDED_SITES, read_profile
from journey.settings import PathwaySettings

CONTRACT_IDS = {
    "G-PERIOP-FOLFOX", "G-PMMR-CHEMO-FIRST", "G-DMMR-IMMUNO", "G-SMALL-UPFRONT",
    "G-OXALIPLATIN-FAILURE", "G-CONVERSION-LEFT", "G-CONVERSION-RIGHT", "G-CONVERSION-MUTANT",
    "G-REASSESS-2M", "G-COMPLETE-6M", "G-SYNC-PRIMARY-FIRST", "G-SYNC-LIVER-FIRST",
    "G-SYNC-SIMULTANEOUS", "G-SYNC-RECTAL-RT", "G-AVOID-COMPLETE-RESPONSE", "G-PROGRESSION-SALVAGE",
    "G-R1-CONTINUE", "G-RECURRENCE-MDT", "G-OUTSIDE-GUIDELINE",
}
TREATMENT_CHOICE = {"G-PERIOP-FOLFOX", "G-PMMR-CHEMO-FIRST", "G-DMMR-IMMUNO", "G-SMALL-UPFRONT",
                    "G-OXALIPLATIN-FAILURE", "G-CONVERSION-LEFT", "G-CONVERSION-RIGHT",
                    "G-CONVERSION-MUTANT", "G-SYNC-PRIMARY-FIRST", "G-SYNC-LIVER-FIRST",
                    "G-SYNC-SIMULTANEOUS", "G-SYNC-RECTAL-RT"}

# Metachronous, left-sided, pMMR, RAS/BRAF wild type, two 30 mm metastases, ECOG 1.
BASE_PATIENT: dict[str, Any] = {
    "ref": "T-1",
    "ecog": 1,
    "primary": {"site": "sigmoid", "diagnosed_on": "2023-01-10", "symptoms": [],
                "resected_on": "2023-02-01"},
    "metastases": {"detected_on": "2025-01-10", "count": 2, "max_size_mm": 30, "extrahepatic": False},
    "biomarkers": {"mmr": "pMMR", "ras": "wild_type", "braf": "wild_type"},
}
# Synchronous rectal-free variant: primary in place, metastases found with it.
SYNC_PATIENT: dict[str, Any] = {
    **BASE_PATIENT,
    "primary": {"site": "sigmoid", "diagnosed_on": "2025-01-10", "symptoms": []},
}

RESECTABLE = {"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "perioperative"}
UNRESECTABLE = {"date": "2025-01-20", "type": "mdt_review", "resectable": False, "plan": "conversion"}


def patient(base: dict[str, Any] = BASE_PATIENT, **changes: Any) -> dict[str, Any]:
    """A copy of ``base`` with dotted-path changes, e.g. ``**{"primary.site": "cecum"}``."""
    raw = copy.deepcopy(base)
    for path, value in changes.items():
        node = raw
        *parents, leaf = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return raw


def follow(raw_patient: dict[str, Any], events: list[dict[str, Any]], as_of: str = "2025-02-01",
           settings: PathwaySettings | None = None) -> JourneyOutcome:
    profile = read_profile(raw_patient)
    recorded = [read_event(e, seq=i) for i, e in enumerate(events)]
    outcome = follow_journey(profile, recorded, date.fromisoformat(as_of),
                             settings or PathwaySettings())
    assert not outcome.refusals, [r.reason for r in outcome.refusals]
    return outcome


def advice_for(raw_patient: dict[str, Any], events: list[dict[str, Any]], as_of: str = "2025-02-01",
               settings: PathwaySettings | None = None) -> Advice:
    return advise(follow(raw_patient, events, as_of, settings))


def ids(advice: Advice) -> set[str]:
    return {r.id for r in advice.recommendations}


PERIOP_TO_ADJUVANT = [
    RESECTABLE,
    {"date": "2025-02-01", "type": "systemic_started", "regimen": "FOLFOX"},
    {"date": "2025-03-28", "type": "reassessment", "response": "PR", "resectable": True},
    {"date": "2025-04-20", "type": "systemic_stopped", "reason": "surgery"},
    {"date": "2025-05-05", "type": "surgery", "procedure": "liver_resection", "margin": "R0"},
    {"date": "2025-06-10", "type": "systemic_started", "regimen": "FOLFOX"},
]


# ---------------------------------------------------------------------------------------------
# The rule set itself


def test_every_contract_id_is_a_rule_and_nothing_else_is():
    assert {r.id for r in RULES} == CONTRACT_IDS


def test_every_rule_cites_its_first_seed_line_in_the_sentence_the_clinician_reads():
    for rule in RULES:
        if rule.id != OUTSIDE_GUIDELINE:
            assert f"seed:{rule.seed}" in rule.text, rule.id
        assert rule.kind in ("recommendation", "warning")


def test_the_rule_table_has_one_row_per_rule_with_id_kind_seed_and_text():
    rows = rule_table()
    assert [r["id"] for r in rows] == [r.id for r in RULES]
    assert all({"id", "kind", "seed", "text"} <= set(row) for row in rows)
    recurrence = next(r for r in rows if r["id"] == "G-RECURRENCE-MDT")
    assert recurrence["seed"] == 37 and recurrence["seed_lines"] == [37, 38, 39]


def test_a_recommendation_carries_its_seed_kind_and_ruleset_version():
    advice = advice_for(BASE_PATIENT, [RESECTABLE])
    shown = {r.id: r.to_dict() for r in advice.recommendations}
    assert shown["G-PERIOP-FOLFOX"] == {
        "id": "G-PERIOP-FOLFOX", "text": shown["G-PERIOP-FOLFOX"]["text"], "seed": 5,
        "kind": "recommendation", "seed_lines": [5], "ruleset": RULESET_VERSION,
        "conflicts_with": []}


def test_outside_guideline_has_no_seed_line():
    advice = advice_for(patient(**{"biomarkers.mmr": "unknown"}), [RESECTABLE])
    outside = next(r for r in advice.recommendations if r.id == OUTSIDE_GUIDELINE)
    assert outside.seed is None and outside.to_dict()["seed"] is None


# ---------------------------------------------------------------------------------------------
# Resectable disease (seed:5-8)


def test_perioperative_folfox_is_recommended_for_resectable_pmmr_disease_with_few_metastases():
    advice = advice_for(BASE_PATIENT, [RESECTABLE])
    assert {"G-PERIOP-FOLFOX", "G-PMMR-CHEMO-FIRST"} <= ids(advice)
    assert OUTSIDE_GUIDELINE not in ids(advice)
    assert advice.missing == []


def test_four_metastases_still_qualify_for_perioperative_folfox():
    assert "G-PERIOP-FOLFOX" in ids(advice_for(patient(**{"metastases.count": 4}), [RESECTABLE]))


def test_five_metastases_do_not_qualify_for_perioperative_folfox_but_chemotherapy_first_stands():
    found = ids(advice_for(patient(**{"metastases.count": 5}), [RESECTABLE]))
    assert "G-PERIOP-FOLFOX" not in found
    assert "G-PMMR-CHEMO-FIRST" in found


def test_extrahepatic_disease_excludes_perioperative_folfox():
    found = ids(advice_for(patient(**{"metastases.extrahepatic": True}), [RESECTABLE]))
    assert "G-PERIOP-FOLFOX" not in found and "G-PMMR-CHEMO-FIRST" in found


def test_mss_is_read_as_pmmr():
    found = ids(advice_for(patient(**{"biomarkers.mmr": "MSS"}), [RESECTABLE]))
    assert {"G-PERIOP-FOLFOX", "G-PMMR-CHEMO-FIRST"} <= found


@pytest.mark.parametrize("mmr", ["dMMR", "MSI-H"])
def test_dmmr_or_msi_h_resectable_disease_gets_immunotherapy_first_and_no_chemotherapy_statement(mmr):
    found = ids(advice_for(patient(**{"biomarkers.mmr": mmr}), [RESECTABLE]))
    assert "G-DMMR-IMMUNO" in found
    assert not found & {"G-PERIOP-FOLFOX", "G-PMMR-CHEMO-FIRST"}


def test_unknown_mmr_status_is_not_guessed_and_is_named_as_missing():
    advice = advice_for(patient(**{"biomarkers.mmr": "unknown"}), [RESECTABLE])
    assert not ids(advice) & {"G-PERIOP-FOLFOX", "G-PMMR-CHEMO-FIRST", "G-DMMR-IMMUNO"}
    assert ids(advice) == {OUTSIDE_GUIDELINE}
    assert len(advice.missing) == 1
    assert "MMR" in advice.missing[0] and "G-DMMR-IMMUNO" in advice.missing[0]


def test_a_single_19_mm_metastasis_may_go_to_upfront_surgery():
    raw = patient(**{"metastases.count": 1, "metastases.max_size_mm": 19})
    assert "G-SMALL-UPFRONT" in ids(advice_for(raw, [RESECTABLE]))


def test_a_single_20_mm_metastasis_does_not_qualify_for_upfront_surgery():
    raw = patient(**{"metastases.count": 1, "metastases.max_size_mm": 20})
    assert "G-SMALL-UPFRONT" not in ids(advice_for(raw, [RESECTABLE]))


def test_two_small_metastases_do_not_qualify_for_upfront_surgery():
    raw = patient(**{"metastases.count": 2, "metastases.max_size_mm": 10})
    assert "G-SMALL-UPFRONT" not in ids(advice_for(raw, [RESECTABLE]))


def test_after_upfront_surgery_for_a_small_metastasis_six_months_of_folfox_follow():
    raw = patient(**{"metastases.count": 1, "metastases.max_size_mm": 15})
    events = [
        {"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "upfront_surgery"},
        {"date": "2025-02-10", "type": "surgery", "procedure": "liver_resection", "margin": "R0"},
        {"date": "2025-03-10", "type": "systemic_started", "regimen": "FOLFOX"},
    ]
    advice = advice_for(raw, events, "2025-04-01")
    assert ids(advice) == {"G-SMALL-UPFRONT"}


def test_a_small_metastasis_treated_with_preoperative_chemotherapy_gets_the_six_month_total_instead():
    raw = patient(**{"metastases.count": 1, "metastases.max_size_mm": 15})
    found = ids(advice_for(raw, PERIOP_TO_ADJUVANT, "2025-07-01"))
    assert "G-COMPLETE-6M" in found and "G-SMALL-UPFRONT" not in found


# ---------------------------------------------------------------------------------------------
# Oxaliplatin failure within 12 calendar months (seed:34)


def _prior(last: str | None, relapsed: str | None) -> dict[str, Any]:
    return patient(**{"prior_oxaliplatin": {"last_dose_on": last, "relapsed_on": relapsed}})


def test_relapse_exactly_twelve_months_after_the_last_dose_is_oxaliplatin_failure():
    found = ids(advice_for(_prior("2024-01-15", "2025-01-15"), [RESECTABLE]))
    assert "G-OXALIPLATIN-FAILURE" in found and "G-PERIOP-FOLFOX" not in found


def test_relapse_a_day_after_twelve_months_is_not_oxaliplatin_failure():
    found = ids(advice_for(_prior("2024-01-15", "2025-01-16"), [RESECTABLE]))
    assert "G-OXALIPLATIN-FAILURE" not in found and "G-PERIOP-FOLFOX" in found


def test_the_twelve_month_window_clamps_at_the_month_end_of_a_leap_day():
    # 2024-02-29 + 12 calendar months = 2025-02-28
    assert "G-OXALIPLATIN-FAILURE" in ids(advice_for(_prior("2024-02-29", "2025-02-28"), [RESECTABLE]))
    assert "G-OXALIPLATIN-FAILURE" not in ids(
        advice_for(_prior("2024-02-29", "2025-03-01"), [RESECTABLE]))


def test_the_twelve_month_window_counts_calendar_months_not_365_days():
    # 2023-03-01 + 12 months = 2024-03-01, which is 366 days later (leap year)
    assert "G-OXALIPLATIN-FAILURE" in ids(advice_for(_prior("2023-03-01", "2024-03-01"), [RESECTABLE]))


def test_a_missing_last_oxaliplatin_dose_is_not_guessed():
    advice = advice_for(_prior(None, "2024-11-01"), [RESECTABLE])
    assert not ids(advice) & {"G-OXALIPLATIN-FAILURE", "G-PERIOP-FOLFOX"}
    assert "G-PMMR-CHEMO-FIRST" in ids(advice)
    assert any("oxaliplatin" in m and "G-OXALIPLATIN-FAILURE" in m for m in advice.missing)


@pytest.mark.parametrize("last_dose,failed", [("2024-01-15", True), ("2023-11-30", False)])
def test_without_a_relapse_date_the_metastases_detection_stands_for_it(last_dose, failed):
    """Contract §7.8: the liver metastases (found 2025-01-10) are the relapse; the recorded
    profile keeps no relapse date (nothing is written that was not typed)."""
    profile = _prior(last_dose, None)
    found = ids(advice_for(profile, [RESECTABLE]))
    assert ("G-OXALIPLATIN-FAILURE" in found) is failed
    assert ("G-PERIOP-FOLFOX" in found) is not failed
    assert profile["prior_oxaliplatin"]["relapsed_on"] is None


def test_oxaliplatin_failure_is_warned_about_for_unresectable_disease_too():
    found = ids(advice_for(_prior("2024-06-01", "2024-12-01"), [UNRESECTABLE]))
    assert {"G-OXALIPLATIN-FAILURE", "G-CONVERSION-LEFT"} <= found


# ---------------------------------------------------------------------------------------------
# Unresectable disease: conversion (seed:10-12)


@pytest.mark.parametrize("site", LEFT_SIDED_SITES)
def test_left_sided_wild_type_unresectable_disease_gets_anti_egfr_conversion(site):
    found = ids(advice_for(patient(**{"primary.site": site}), [UNRESECTABLE]))
    assert "G-CONVERSION-LEFT" in found
    assert not found & {"G-CONVERSION-RIGHT", "G-CONVERSION-MUTANT", "G-PERIOP-FOLFOX"}


@pytest.mark.parametrize("site", RIGHT_SIDED_SITES)
def test_right_sided_wild_type_unresectable_disease_gets_triplet_conversion(site):
    found = ids(advice_for(patient(**{"primary.site": site}), [UNRESECTABLE]))
    assert "G-CONVERSION-RIGHT" in found
    assert not found & {"G-CONVERSION-LEFT", "G-CONVERSION-MUTANT"}


@pytest.mark.parametrize("gene", ["ras", "braf"])
def test_a_ras_or_braf_mutation_gets_triplet_with_bevacizumab_whatever_the_side(gene):
    for site in ("sigmoid", "cecum"):
        found = ids(advice_for(patient(**{f"biomarkers.{gene}": "mutant", "primary.site": site}),
                               [UNRESECTABLE]))
        assert "G-CONVERSION-MUTANT" in found
        assert not found & {"G-CONVERSION-LEFT", "G-CONVERSION-RIGHT"}


def test_unknown_ras_with_wild_type_braf_is_not_guessed():
    advice = advice_for(patient(**{"biomarkers.ras": "unknown"}), [UNRESECTABLE])
    assert not ids(advice) & {"G-CONVERSION-LEFT", "G-CONVERSION-RIGHT", "G-CONVERSION-MUTANT"}
    assert ids(advice) == {OUTSIDE_GUIDELINE}
    assert len(advice.missing) == 1 and "RAS" in advice.missing[0]
    assert "G-CONVERSION-LEFT" in advice.missing[0] and "G-CONVERSION-MUTANT" in advice.missing[0]


def test_a_known_braf_mutation_decides_even_when_ras_is_unknown():
    advice = advice_for(patient(**{"biomarkers.ras": "unknown", "biomarkers.braf": "mutant"}),
                        [UNRESECTABLE])
    assert "G-CONVERSION-MUTANT" in ids(advice)
    assert advice.missing == []


def test_unknown_mmr_in_unresectable_disease_names_the_conversion_statements_it_would_open():
    advice = advice_for(patient(**{"biomarkers.mmr": "unknown"}), [UNRESECTABLE])
    assert ids(advice) == {OUTSIDE_GUIDELINE}
    assert "MMR" in advice.missing[0] and "G-CONVERSION-LEFT" in advice.missing[0]


def test_dmmr_unresectable_disease_is_outside_the_guideline():
    advice = advice_for(patient(**{"biomarkers.mmr": "dMMR"}), [UNRESECTABLE])
    assert ids(advice) == {OUTSIDE_GUIDELINE} and advice.missing == []


def test_conversion_statements_stay_while_conversion_therapy_runs_and_reassessment_falls_due():
    events = [UNRESECTABLE,
              {"date": "2025-02-01", "type": "systemic_started", "regimen": "FOLFOX",
               "biologic": "anti_egfr"}]
    outcome = follow(BASE_PATIENT, events, "2025-04-10")
    assert outcome.phase is Phase.REASSESSMENT
    assert {"G-CONVERSION-LEFT", "G-REASSESS-2M"} <= ids(advise(outcome))


def test_once_judged_resectable_the_conversion_statements_give_way_to_the_resectable_ones():
    events = [UNRESECTABLE,
              {"date": "2025-02-01", "type": "systemic_started", "regimen": "FOLFOX",
               "biologic": "anti_egfr"},
              {"date": "2025-04-01", "type": "reassessment", "response": "PR", "resectable": True}]
    found = ids(advice_for(BASE_PATIENT, events, "2025-04-10"))
    assert "G-CONVERSION-LEFT" not in found
    assert {"G-REASSESS-2M", "G-AVOID-COMPLETE-RESPONSE", "G-PMMR-CHEMO-FIRST"} <= found


# ---------------------------------------------------------------------------------------------
# Therapy under way (seed:13, 14, 32, 33, 35)


def test_reassessment_every_two_months_is_recommended_on_preoperative_therapy():
    events = [RESECTABLE, {"date": "2025-02-01", "type": "systemic_started", "regimen": "FOLFOX"}]
    found = ids(advice_for(BASE_PATIENT, events, "2025-03-01"))
    assert {"G-REASSESS-2M", "G-PERIOP-FOLFOX"} <= found


def test_before_therapy_starts_no_reassessment_is_recommended():
    assert "G-REASSESS-2M" not in ids(advice_for(BASE_PATIENT, [RESECTABLE]))


def test_on_postoperative_therapy_the_six_month_total_applies_and_nothing_preoperative():
    advice = advice_for(BASE_PATIENT, PERIOP_TO_ADJUVANT, "2025-07-01")
    assert ids(advice) == {"G-COMPLETE-6M"}


def test_recovering_from_surgery_after_preoperative_therapy_the_six_month_total_applies():
    outcome = follow(BASE_PATIENT, PERIOP_TO_ADJUVANT[:5], "2025-05-20")
    assert outcome.phase is Phase.RESECTION
    assert ids(advise(outcome)) == {"G-COMPLETE-6M"}


def test_responding_resectable_disease_on_preoperative_therapy_is_warned_off_complete_response():
    outcome = follow(BASE_PATIENT, PERIOP_TO_ADJUVANT[:3], "2025-04-01")
    found = ids(advise(outcome))
    assert "G-AVOID-COMPLETE-RESPONSE" in found
    assert next(r for r in advise(outcome).recommendations
                if r.id == "G-AVOID-COMPLETE-RESPONSE").kind == "warning"


def test_stable_disease_gets_no_complete_response_warning():
    events = [*PERIOP_TO_ADJUVANT[:2],
              {"date": "2025-03-28", "type": "reassessment", "response": "SD", "resectable": True}]
    assert "G-AVOID-COMPLETE-RESPONSE" not in ids(advice_for(BASE_PATIENT, events, "2025-04-01"))


def test_responding_but_still_unresectable_disease_gets_no_complete_response_warning():
    events = [UNRESECTABLE,
              {"date": "2025-02-01", "type": "systemic_started", "regimen": "FOLFOX",
               "biologic": "anti_egfr"},
              {"date": "2025-04-01", "type": "reassessment", "response": "PR", "resectable": False}]
    found = ids(advice_for(BASE_PATIENT, events, "2025-04-10"))
    assert "G-AVOID-COMPLETE-RESPONSE" not in found and "G-CONVERSION-LEFT" in found


def test_progression_during_preoperative_therapy_warns_towards_salvage_not_resection():
    events = [*PERIOP_TO_ADJUVANT[:2],
              {"date": "2025-03-28", "type": "reassessment", "response": "PD", "resectable": True}]
    outcome = follow(BASE_PATIENT, events, "2025-04-01")
    assert outcome.phase is Phase.SALVAGE
    assert ids(advise(outcome)) == {"G-PROGRESSION-SALVAGE"}


def test_the_progression_warning_stands_when_the_mdt_clears_for_surgery_without_a_new_reassessment():
    events = [*PERIOP_TO_ADJUVANT[:2],
              {"date": "2025-03-10", "type": "progression"},
              {"date": "2025-03-20", "type": "mdt_review", "resectable": True, "plan": "upfront_surgery"}]
    outcome = follow(BASE_PATIENT, events, "2025-04-01")
    assert outcome.phase is Phase.RESECTION
    assert "G-PROGRESSION-SALVAGE" in ids(advise(outcome))


def test_progression_before_any_preoperative_therapy_is_outside_the_guideline():
    events = [RESECTABLE, {"date": "2025-01-25", "type": "progression"}]
    advice = advice_for(BASE_PATIENT, events, "2025-02-01")
    assert ids(advice) == {OUTSIDE_GUIDELINE}


def _r1(margin: str | None) -> list[dict[str, Any]]:
    surgery = {"date": "2025-05-05", "type": "surgery", "procedure": "liver_resection"}
    if margin:
        surgery["margin"] = margin
    return [*PERIOP_TO_ADJUVANT[:4], surgery, PERIOP_TO_ADJUVANT[5]]


def test_an_r1_resection_means_continuing_postoperative_chemotherapy():
    found = ids(advice_for(BASE_PATIENT, _r1("R1"), "2025-07-01"))
    assert {"G-R1-CONTINUE", "G-COMPLETE-6M"} <= found


def test_an_r0_resection_gets_no_r1_warning():
    assert "G-R1-CONTINUE" not in ids(advice_for(BASE_PATIENT, _r1("R0"), "2025-07-01"))


def test_an_unrecorded_margin_is_named_as_missing_not_assumed():
    advice = advice_for(BASE_PATIENT, _r1(None), "2025-07-01")
    assert "G-R1-CONTINUE" not in ids(advice)
    assert any("margin" in m and "G-R1-CONTINUE" in m for m in advice.missing)


# ---------------------------------------------------------------------------------------------
# Synchronous disease: the primary (seed:17-20)


def test_a_symptomatic_synchronous_primary_is_resected_first():
    raw = patient(SYNC_PATIENT, **{"primary.symptoms": ["bleeding"]})
    found = ids(advice_for(raw, [RESECTABLE]))
    assert "G-SYNC-PRIMARY-FIRST" in found
    assert not found & {"G-SYNC-LIVER-FIRST", "G-SYNC-SIMULTANEOUS"}


def test_once_the_symptomatic_primary_is_removed_the_primary_first_statement_is_done():
    raw = patient(SYNC_PATIENT, **{"primary.symptoms": ["obstruction"]})
    events = [{"date": "2025-01-12", "type": "mdt_review", "resectable": True, "plan": "primary_first"},
              {"date": "2025-01-15", "type": "surgery", "procedure": "primary_resection"},
              {"date": "2025-02-05", "type": "mdt_review", "resectable": True, "plan": "perioperative"}]
    found = ids(advice_for(raw, events, "2025-02-10"))
    assert "G-SYNC-PRIMARY-FIRST" not in found and "G-PERIOP-FOLFOX" in found


def test_a_metachronous_symptomatic_primary_gets_no_synchronous_statement():
    raw = patient(**{"primary.symptoms": ["bleeding"]})
    assert "G-SYNC-PRIMARY-FIRST" not in ids(advice_for(raw, [RESECTABLE]))


def test_metastases_found_after_the_diagnosis_are_synchronous_only_within_the_window_setting():
    raw = patient(SYNC_PATIENT, **{"primary.symptoms": ["bleeding"],
                                   "metastases.detected_on": "2025-01-20"})
    events = [{**RESECTABLE, "date": "2025-01-25"}]
    assert "G-SYNC-PRIMARY-FIRST" not in ids(advice_for(raw, events))
    wide = PathwaySettings(synchronous_window_days=10)
    assert "G-SYNC-PRIMARY-FIRST" in ids(advice_for(raw, events, settings=wide))
    narrow = PathwaySettings(synchronous_window_days=9)
    assert "G-SYNC-PRIMARY-FIRST" not in ids(advice_for(raw, events, settings=narrow))


def _sync_review(**fields: Any) -> dict[str, Any]:
    return {"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "perioperative",
            **fields}


def test_liver_first_when_simultaneous_resection_is_not_feasible():
    found = ids(advice_for(SYNC_PATIENT, [_sync_review(simultaneous_feasible=False)]))
    assert "G-SYNC-LIVER-FIRST" in found and "G-SYNC-SIMULTANEOUS" not in found


def test_simultaneous_resection_when_feasible_and_performance_status_is_good():
    found = ids(advice_for(SYNC_PATIENT, [_sync_review(simultaneous_feasible=True)]))
    assert "G-SYNC-SIMULTANEOUS" in found and "G-SYNC-LIVER-FIRST" not in found


def test_ecog_two_rules_out_simultaneous_resection_and_leads_to_liver_first():
    raw = patient(SYNC_PATIENT, ecog=2)
    found = ids(advice_for(raw, [_sync_review(simultaneous_feasible=True)]))
    assert "G-SYNC-LIVER-FIRST" in found and "G-SYNC-SIMULTANEOUS" not in found


def test_missing_ecog_is_not_guessed_when_it_decides_simultaneous_resection():
    raw = patient(SYNC_PATIENT, ecog=None)
    advice = advice_for(raw, [_sync_review(simultaneous_feasible=True)])
    assert not ids(advice) & {"G-SYNC-LIVER-FIRST", "G-SYNC-SIMULTANEOUS"}
    assert any("ECOG" in m and "G-SYNC-SIMULTANEOUS" in m for m in advice.missing)


def test_missing_ecog_does_not_matter_when_simultaneous_resection_is_not_feasible():
    raw = patient(SYNC_PATIENT, ecog=None)
    advice = advice_for(raw, [_sync_review(simultaneous_feasible=False)])
    assert "G-SYNC-LIVER-FIRST" in ids(advice)
    assert not any("ECOG" in m for m in advice.missing)


def test_unrecorded_feasibility_of_simultaneous_resection_is_named_as_missing():
    advice = advice_for(SYNC_PATIENT, [_sync_review()])
    assert not ids(advice) & {"G-SYNC-LIVER-FIRST", "G-SYNC-SIMULTANEOUS"}
    assert any("simultaneous" in m and "G-SYNC-LIVER-FIRST" in m for m in advice.missing)


def test_primary_timing_statements_need_resectable_metastases():
    found = ids(advice_for(SYNC_PATIENT, [{**UNRESECTABLE, "simultaneous_feasible": False}]))
    assert not found & {"G-SYNC-LIVER-FIRST", "G-SYNC-SIMULTANEOUS"}


def test_a_synchronous_rectal_primary_raises_pelvic_radiotherapy():
    raw = patient(SYNC_PATIENT, **{"primary.site": "rectum"})
    assert "G-SYNC-RECTAL-RT" in ids(advice_for(raw, [RESECTABLE]))


@pytest.mark.parametrize("site", ["rectosigmoid", "sigmoid", "cecum"])
def test_pelvic_radiotherapy_is_only_for_the_rectum(site):
    raw = patient(SYNC_PATIENT, **{"primary.site": site})
    assert "G-SYNC-RECTAL-RT" not in ids(advice_for(raw, [RESECTABLE]))


def test_a_metachronous_rectal_primary_gets_no_pelvic_radiotherapy_statement():
    raw = patient(**{"primary.site": "rectum"})
    assert "G-SYNC-RECTAL-RT" not in ids(advice_for(raw, [RESECTABLE]))


def test_once_pelvic_radiotherapy_is_completed_the_statement_is_done():
    raw = patient(SYNC_PATIENT, **{"primary.site": "rectum"})
    events = [RESECTABLE,
              {"date": "2025-01-22", "type": "radiotherapy", "target": "pelvis", "status": "started"},
              {"date": "2025-01-28", "type": "radiotherapy", "target": "pelvis", "status": "completed"}]
    assert "G-SYNC-RECTAL-RT" not in ids(advice_for(raw, events))


def test_synchronous_context_is_shown_apart_from_the_recommendations():
    raw = patient(SYNC_PATIENT, **{"primary.site": "rectum"})
    advice = advice_for(raw, [RESECTABLE])
    context = {c.id for c in advice.context}
    assert {"C-TIMING-OPTIONS", "C-LIVER-FIRST-RECTAL", "C-SYNC-DFI"} <= context
    assert not context & ids(advice)
    assert advice.context[0].to_dict().keys() == {"id", "seed", "text"}


def test_a_metachronous_patient_gets_no_synchronous_context():
    assert advice_for(BASE_PATIENT, [RESECTABLE]).context == []


# ---------------------------------------------------------------------------------------------
# The situation at as_of: recurrence, surveillance, closure, nothing decided yet


RECURRENCE_JOURNEY = [
    {"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "upfront_surgery"},
    {"date": "2025-02-10", "type": "surgery", "procedure": "liver_resection", "margin": "R0"},
    {"date": "2025-03-10", "type": "systemic_started", "regimen": "FOLFOX"},
    {"date": "2025-09-10", "type": "systemic_stopped", "reason": "completed"},
    {"date": "2026-05-04", "type": "recurrence", "site": "liver_only"},
]


def test_in_surveillance_no_treatment_choice_is_recommended():
    small = patient(**{"metastases.count": 1, "metastases.max_size_mm": 15})
    outcome = follow(small, RECURRENCE_JOURNEY[:4], "2025-12-01")
    assert outcome.phase is Phase.SURVEILLANCE
    advice = advise(outcome)
    assert ids(advice) == {OUTSIDE_GUIDELINE}
    assert "C-RECURRENCE-RATE" in {c.id for c in advice.context}


def test_a_recurrence_gets_the_mdt_statement_not_the_first_line_statements_of_years_before():
    small = patient(**{"metastases.count": 1, "metastases.max_size_mm": 15})
    outcome = follow(small, RECURRENCE_JOURNEY, "2026-05-10")
    assert outcome.phase is Phase.RECURRENCE
    advice = advise(outcome)
    assert ids(advice) == {"G-RECURRENCE-MDT"}
    assert advice.recommendations[0].seed_lines == (37, 38, 39)


def test_treatment_of_a_recurrence_gets_the_mdt_statement_and_the_reassessment_interval():
    events = [*RECURRENCE_JOURNEY,
              {"date": "2026-05-20", "type": "mdt_review", "resectable": True, "plan": "perioperative"},
              {"date": "2026-06-01", "type": "systemic_started", "regimen": "FOLFIRI"}]
    found = ids(advice_for(BASE_PATIENT, events, "2026-07-01"))
    assert found == {"G-RECURRENCE-MDT", "G-REASSESS-2M"}
    assert not found & TREATMENT_CHOICE


def test_a_closed_journey_gets_no_recommendation_at_all():
    events = [RESECTABLE, {"date": "2025-01-25", "type": "death"}]
    advice = advice_for(BASE_PATIENT, events)
    assert advice.recommendations == [] and advice.missing == []


def test_before_any_resectability_judgement_the_mdt_decides_and_the_judgement_is_named_missing():
    advice = advice_for(BASE_PATIENT, [])
    assert ids(advice) == {OUTSIDE_GUIDELINE}
    assert len(advice.missing) == 1 and "Resectability" in advice.missing[0]


def test_the_latest_judgement_decides_resectability():
    events = [RESECTABLE, {**UNRESECTABLE, "date": "2025-01-25"}]
    found = ids(advice_for(BASE_PATIENT, events))
    assert "G-CONVERSION-LEFT" in found and "G-PERIOP-FOLFOX" not in found


def test_the_same_outcome_asked_on_an_earlier_day_answers_for_that_day():
    assert "G-COMPLETE-6M" not in ids(advice_for(BASE_PATIENT, PERIOP_TO_ADJUVANT[:2], "2025-03-01"))
    assert "G-COMPLETE-6M" in ids(advice_for(BASE_PATIENT, PERIOP_TO_ADJUVANT, "2025-07-01"))


def test_a_resectable_reassessment_after_progression_lifts_the_salvage_warning():
    events = [*PERIOP_TO_ADJUVANT[:2],
              {"date": "2025-03-10", "type": "progression"},
              {"date": "2025-03-20", "type": "systemic_started", "regimen": "FOLFIRI"},
              {"date": "2025-05-10", "type": "reassessment", "response": "PR", "resectable": True}]
    outcome = follow(BASE_PATIENT, events, "2025-05-15")
    assert outcome.phase is Phase.RESECTION
    assert "G-PROGRESSION-SALVAGE" not in ids(advise(outcome))


def test_the_salvage_warning_ends_with_the_liver_operation():
    events = [*PERIOP_TO_ADJUVANT[:2],
              {"date": "2025-03-10", "type": "progression"},
              {"date": "2025-03-20", "type": "mdt_review", "resectable": True, "plan": "upfront_surgery"},
              {"date": "2025-04-02", "type": "surgery", "procedure": "liver_resection", "margin": "R0"}]
    outcome = follow(BASE_PATIENT, events, "2025-04-10")
    assert "G-PROGRESSION-SALVAGE" not in ids(advise(outcome))
