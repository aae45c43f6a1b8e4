"""Exports: the deviations CSV (one row per deviation, pseudonymous unless asked) and the XES event
log (IEEE 1849: structure checked by parsing it)."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, datetime

import pytest

from tests.unit.audit_cohort import judged_cohort
from tracker.reports.exports import (
    JourneyTrace,
    PatientDeviations,
    pseudonym,
    write_deviations_csv,
    write_xes,
)

KEY = "site-secret-for-tests"
NS = "{http://www.xes-standard.org/}"


@pytest.fixture(scope="module")
def judged():
    return judged_cohort(2)


def csv_rows(judged, **options) -> list[dict[str, str]]:
    out = io.StringIO()
    count = write_deviations_csv(out, (PatientDeviations(j.ref, j.timing, j.adherence.deviations)
                                       for j in judged), **options)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count == len(rows)
    return rows


def test_the_csv_has_one_row_per_deviation(judged):
    rows = csv_rows(judged, key=KEY)
    assert len(rows) == sum(len(j.adherence.deviations) for j in judged) > 0
    assert {"patient", "timing", "check", "seed", "date", "justified", "detail"} <= set(rows[0])
    assert {r["justified"] for r in rows} <= {"yes", "no"}


def test_csv_references_are_keyed_pseudonyms(judged):
    rows = csv_rows(judged, key=KEY)
    refs = {j.ref for j in judged}
    assert not any(r["patient"] in refs for r in rows)
    assert all(r["patient"].startswith("PX-") for r in rows)
    first = next(j for j in judged if j.adherence.deviations)
    assert pseudonym(first.ref, KEY) in {r["patient"] for r in rows}
    assert pseudonym(first.ref, KEY) != pseudonym(first.ref, "another-site")
    assert pseudonym(first.ref, KEY) == pseudonym(first.ref, KEY.encode())


def test_pseudonymous_csv_leaves_out_typed_free_text(judged):
    text = "".join(str(r) for r in csv_rows(judged, key=KEY))
    assert "Dr Example" not in text
    identified = "".join(str(r) for r in csv_rows(judged, identified=True))
    assert "Dr Example" in identified


def test_identified_csv_must_be_asked_for(judged):
    rows = csv_rows(judged, identified=True)
    assert {r["patient"] for r in rows} <= {j.ref for j in judged}
    with pytest.raises(ValueError):
        csv_rows(judged)
    with pytest.raises(ValueError):
        pseudonym("PT-1", "")


def xes_of(judged, **options) -> ET.Element:
    out = io.StringIO()
    traces = (JourneyTrace(j.ref, j.timing, j.outcome.steps) for j in judged)
    assert write_xes(out, traces, **options) == len(judged)
    return ET.fromstring(out.getvalue().encode("utf-8"))


def test_the_xes_log_declares_the_standard_extensions_and_globals(judged):
    log = xes_of(judged, key=KEY)
    assert log.tag == f"{NS}log" and log.get("xes.version") == "1849-2016"
    prefixes = {e.get("prefix"): e.get("uri") for e in log.findall(f"{NS}extension")}
    assert set(prefixes) >= {"concept", "lifecycle", "time"}
    assert all(uri and uri.endswith(".xesext") for uri in prefixes.values())
    scopes = {g.get("scope") for g in log.findall(f"{NS}global")}
    assert scopes == {"trace", "event"}
    assert log.find(f"{NS}classifier") is not None


def test_one_trace_per_patient_with_complete_events(judged):
    log = xes_of(judged, key=KEY)
    traces = log.findall(f"{NS}trace")
    assert len(traces) == len(judged)
    for trace, j in zip(traces, judged, strict=True):
        name = trace.find(f"{NS}string[@key='concept:name']")
        assert name is not None and name.get("value") == pseudonym(j.ref, KEY)
        events = trace.findall(f"{NS}event")
        assert len(events) == len(j.outcome.steps)
        for event, step in zip(events, j.outcome.steps, strict=True):
            attrs = {a.get("key"): (a.tag.removeprefix(NS), a.get("value")) for a in event}
            assert attrs["concept:name"] == ("string", step.trigger)
            assert attrs["lifecycle:transition"][0] == "string"
            assert attrs["lifecycle:transition"][1] in ("start", "complete")
            kind, stamp = attrs["time:timestamp"]
            assert kind == "date" and datetime.fromisoformat(stamp).date() == step.date
            assert attrs["phase"] == ("string", step.to_phase.value)
            assert attrs["phase_before"] == ("string", step.from_phase.value)


def test_timed_transitions_and_overrides_are_marked(judged):
    log = xes_of(judged, key=KEY)
    text = ET.tostring(log, encoding="unicode")
    assert "reassessment_falls_due" in text and 'key="by_clock"' in text
    assert 'key="overridden"' in text and "Dr Example" not in text
    identified = ET.tostring(xes_of(judged, identified=True), encoding="unicode")
    assert "Dr Example" in identified and "PT-001" in identified


def test_a_coded_override_reason_goes_into_the_pseudonymous_event_log():
    from tests.conftest import ev, follow, scenario

    outcome = follow(scenario(ev("recurrence", "2025-01-05", site="both", override_code="mdt_rationale",
                                 override="Dr Example agreed"), ref="PT-9"), date(2025, 2, 1))
    out = io.StringIO()
    write_xes(out, [JourneyTrace("PT-9", "metachronous", outcome.steps)], key=KEY)
    assert 'key="override_code" value="mdt_rationale"' in out.getvalue()
    assert "Dr Example" not in out.getvalue()
