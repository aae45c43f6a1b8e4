"""Hypothesis strategies for generated journeys (issue 12): messy real courses drawn from the
whole vocabulary (contract §1 and §7) with same-day entries, holds, two-stage operations, R2,
overrides, closures and returns. Shared by the domain invariants and the persistence tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from tests.conftest import patient

START = date(2025, 1, 6)

PLANS = ["perioperative", "conversion", "upfront_surgery", "liver_first", "surveillance", "salvage",
         "immunotherapy", None]
#: (type, weight, fields) — fields are strategies; weights favour the pathway's main road
VOCABULARY: list[tuple[str, int, dict[str, st.SearchStrategy[Any]]]] = [
    ("mdt_review", 3, {"resectable": st.booleans(), "plan": st.sampled_from(PLANS)}),
    ("systemic_started", 4, {"regimen": st.sampled_from(["FOLFOX", "FOLFOX", "FOLFIRI", "FOLFOXIRI",
                                                         "IMMUNOTHERAPY"])}),
    ("systemic_stopped", 3, {"reason": st.sampled_from(["surgery", "completed", "toxicity",
                                                        "progression", "patient_choice"])}),
    ("systemic_paused", 2, {"reason": st.sampled_from(["toxicity", "intercurrent_illness"])}),
    ("systemic_resumed", 2, {"regimen": st.sampled_from([None, None, "OTHER", "FOLFIRI"])}),
    ("reassessment", 4, {"response": st.sampled_from(["PR", "SD", "SD", "PD", "CR"]),
                         "resectable": st.booleans()}),
    ("surgery", 3, {"procedure": st.sampled_from(["liver_resection", "liver_resection", "ablation",
                                                  "primary_resection", "portal_vein_embolisation"]),
                    "stage": st.sampled_from([None, None, 1, 2]),
                    "margin": st.sampled_from([None, "R0", "R1", "R2"])}),
    ("progression", 1, {}),
    ("recurrence", 1, {"site": st.just("liver_only")}),
    ("transfer", 1, {}),
    ("returned", 1, {}),
    ("death", 1, {}),
]
WEIGHTED = [entry for entry in VOCABULARY for _ in range(entry[1])]
GAPS = [0, 0, 0, 1, 5, 14, 21, 30, 45, 55, 61, 70, 90]


@st.composite
def entries(draw: st.DrawFn) -> dict[str, Any]:
    type_, _, fields = draw(st.sampled_from(WEIGHTED))
    values = {name: draw(strategy) for name, strategy in fields.items()}
    if type_ == "surgery":
        if values["procedure"] not in ("liver_resection", "ablation"):
            values["stage"] = None
        if values["procedure"] == "portal_vein_embolisation":
            values["margin"] = None
    return {"type": type_, **{k: v for k, v in values.items() if v is not None}}


@st.composite
def journeys(draw: st.DrawFn) -> dict[str, Any]:
    """A scenario: the base patient (with some variations), 2-16 entries, the as-of day."""
    count = draw(st.integers(2, 16))
    day = START
    events = []
    for _ in range(count):
        day += timedelta(days=draw(st.sampled_from(GAPS)))
        entry = {"date": day.isoformat(), **draw(entries())}
        if draw(st.integers(0, 9)) == 0:
            entry["override"] = "decided by the MDT"
        events.append(entry)
    as_of = day + timedelta(days=draw(st.sampled_from([0, 10, 40, 90, 200])))
    overrides = draw(st.sampled_from([{}, {"biomarkers": {"mmr": "dMMR"}},
                                      {"primary": {"resected_on": None, "diagnosed_on": "2024-12-01"}},
                                      {"metastases": {"count": 1, "max_size_mm": 15}}]))
    return {"patient": patient(**overrides), "events": events, "as_of": as_of.isoformat()}
