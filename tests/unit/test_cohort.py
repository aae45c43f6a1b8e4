"""The cohort audit: counts add up to the per-patient deviations, small cells are suppressed, the
statistics are right, memory stays bounded, and the HTML report is whole and offline."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest

from journey.adherence import CHECKS, Deviation, PatientAdherence
from journey.cohort import (
    CohortAudit,
    JourneySummary,
    kaplan_meier,
    km_median,
    quantile,
    summarize,
    wilson,
)
from tests.unit.audit_cohort import judged_cohort
from tracker.reports.audit_html import CHART_IDS, render_audit_html


def cohort_of(judged) -> CohortAudit:
    cohort = CohortAudit()
    for j in judged:
        cohort.add(j.timing, j.adherence, summarize(j.outcome))
    return cohort


def test_cohort_counts_equal_the_sum_of_the_per_patient_deviations():
    judged = judged_cohort(3)
    summary = cohort_of(judged).summary(suppress_below=1)
    assert summary["patients"] == len(judged)
    rows = {r["check"]: r for r in summary["checks"]}
    assert sum(r["events"] for r in rows.values()) == sum(len(j.adherence.deviations) for j in judged)
    for check in CHECKS:
        row = rows[check.id]
        assert row["eligible"] == sum(check.id in j.adherence.eligible for j in judged)
        assert row["deviations"] == sum(bool(j.adherence.deviations_for(check.id)) for j in judged)
        assert row["events"] == sum(len(j.adherence.deviations_for(check.id)) for j in judged)
        assert row["justified"] + row["unexplained"] == row["deviations"]
        assert row["events_justified"] + row["events_unexplained"] == row["events"]
        by_timing = [
            next(r for r in summary["by_timing"][t]["checks"] if r["check"] == check.id)
            for t in ("synchronous", "metachronous")]
        assert sum(r["eligible"] for r in by_timing) == row["eligible"]
        assert sum(r["deviations"] for r in by_timing) == row["deviations"]
    assert rows["A-REASSESS-INTERVAL"]["deviations"] > 0
    assert rows["A-OVERRIDE"]["justified"] == rows["A-OVERRIDE"]["deviations"] > 0


def test_the_rate_is_deviations_over_eligible_with_a_wilson_interval():
    summary = cohort_of(judged_cohort(3)).summary()
    for row in summary["checks"]:
        if row["eligible"]:
            assert row["rate"] == round(row["deviations"] / row["eligible"], 4)
            low, high = row["ci95"]
            assert low <= row["rate"] <= high


def test_small_cells_are_suppressed_in_the_json():
    judged = judged_cohort(1)  # 3 patients per timing
    summary = cohort_of(judged).summary(suppress_below=5)
    assert summary["patients"] == 6
    for timing in ("synchronous", "metachronous"):
        group = summary["by_timing"][timing]
        assert group == {"patients": None, "suppressed": True, "checks": []}
    for row in summary["checks"]:
        if row["suppressed"]:
            assert row["eligible"] is None and row["rate"] is None and row["deviations"] is None
            assert row["ci95"] is None and row["justified"] is None and row["unexplained"] is None
        else:
            assert row["eligible"] == 0 or row["eligible"] >= 5
    assert any(r["suppressed"] for r in summary["checks"])
    dfi = summary["dfi_after_liver_surgery"]["synchronous"]
    assert dfi["suppressed"] and dfi["n"] is None and dfi["median_days"] is None


def test_suppression_threshold_is_a_parameter():
    summary = cohort_of(judged_cohort(1)).summary(suppress_below=3)
    assert summary["by_timing"]["synchronous"]["patients"] == 3


def test_unknown_timing_is_refused():
    with pytest.raises(ValueError):
        CohortAudit().add("sometimes", PatientAdherence(frozenset()))


def test_wilson_interval_matches_the_textbook_values():
    low, high = wilson(9, 80)
    assert low == pytest.approx(0.0603, abs=1e-4) and high == pytest.approx(0.2002, abs=1e-4)
    assert wilson(0, 10)[0] == 0.0
    assert wilson(10, 10)[1] == 1.0
    assert wilson(0, 0) is None


def test_quantiles_from_a_histogram_match_the_raw_values():
    values = [3, 7, 7, 10, 12, 15, 40]
    hist = Counter(values)
    assert quantile(hist, 0.5) == 10
    assert quantile(hist, 0.25) == 7
    assert quantile(Counter([1, 2, 3, 4]), 0.5) == 2.5
    assert quantile(Counter(), 0.5) is None


def test_kaplan_meier_from_counts():
    # 5 patients: events at 10 and 30 (two), censored at 20 and 40
    obs = Counter({(10, True): 1, (20, False): 1, (30, True): 2, (40, False): 1})
    curve = kaplan_meier(obs)
    assert curve[0] == (0, 1.0)
    assert curve[1] == (10, pytest.approx(0.8))
    assert curve[2] == (30, pytest.approx(0.8 * (1 - 2 / 3)))
    assert km_median(curve) == 30
    assert km_median(kaplan_meier(Counter({(10, False): 3}))) is None


def test_a_journey_summary_holds_the_intervals_and_the_disease_free_interval():
    j = next(j for j in judged_cohort(1)
             if j.timing == "metachronous" and j.outcome.events[-1].type == "recurrence")
    s = summarize(j.outcome)
    # detection 2025-01-06: MDT 2025-01-20, therapy 2025-02-03, liver surgery 2025-05-20
    assert (s.detection_to_mdt, s.detection_to_treatment, s.detection_to_surgery) == (14, 28, 134)
    # therapy 2025-02-03 -> reassessment 2025-04-25
    assert s.reassessment_intervals == (81,)
    # liver surgery 2025-05-20 -> recurrence 2025-10-01
    assert s.dfi == (134, True)
    on_time = next(j for j in judged_cohort(1) if j.timing == "metachronous")
    assert summarize(on_time.outcome).dfi == ((date(2025, 12, 31) - date(2025, 5, 20)).days, False)


def test_the_cohort_streams_in_bounded_memory():
    cohort = CohortAudit()
    deviation = Deviation("A-REASSESS-INTERVAL", date(2025, 1, 1), "late")
    for i in range(20_000):
        adherence = PatientAdherence(frozenset({"A-REASSESS-INTERVAL", "A-OVERRIDE"}),
                                     [deviation] if i % 7 == 0 else [])
        summary = JourneySummary(i % 90, i % 120, i % 200, (55 + i % 30, 60 + i % 20), (i % 700, i % 3 == 0))
        cohort.add("synchronous" if i % 2 else "metachronous", adherence, summary)
    everyone = cohort.groups["all"]
    assert everyone.patients == 20_000
    assert len(everyone.intervals["detection_to_surgery"]) == 200
    assert len(everyone.reassessment_days) <= 50
    assert len(everyone.dfi) <= 1400
    row = next(r for r in cohort.summary()["checks"] if r["check"] == "A-REASSESS-INTERVAL")
    assert row["deviations"] == len(range(0, 20_000, 7))


# --------------------------------------------------------------------------------------------
# The HTML report


@pytest.fixture(scope="module")
def report_html() -> str:
    return render_audit_html(cohort_of(judged_cohort(3)), generated_on=date(2026, 1, 5))


def test_the_report_contains_every_chart_as_an_embedded_picture(report_html: str):
    for chart in CHART_IDS:
        match = re.search(rf'<img id="chart-{chart}"[^>]*\ssrc="([^"]+)"', report_html)
        assert match, chart
        assert match.group(1).startswith("data:image/png;base64,")
        assert len(match.group(1)) > 2000


def test_the_report_loads_nothing_from_the_network(report_html: str):
    assert "http://" not in report_html and "https://" not in report_html
    assert "<script" not in report_html.lower() and "<link" not in report_html.lower()
    assert "@import" not in report_html and "url(" not in report_html
    for src in re.findall(r'src="([^"]*)"', report_html):
        assert src.startswith("data:")


def test_the_report_shows_the_seed_reference_medians_and_every_check(report_html: str):
    assert "seed:29" in report_html
    for check in CHECKS:
        assert check.id in report_html
    assert "Wilson" in report_html


def test_the_report_of_a_tiny_cohort_suppresses_and_still_has_every_chart():
    html = render_audit_html(cohort_of(judged_cohort(1)))
    for chart in CHART_IDS:
        assert f'id="chart-{chart}"' in html
    assert "suppressed" in html
    assert "PT-00" not in html


def test_an_empty_cohort_renders():
    html = render_audit_html(CohortAudit())
    assert html.count("<img id=\"chart-") == len(CHART_IDS)
