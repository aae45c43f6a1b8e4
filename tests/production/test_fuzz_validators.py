"""Fuzzing the validators (hypothesis): whatever a file, a form or an API body holds, reading an
entry or a patient description either gives a sound value or raises the one refusal the entry
points map to exit code 2 / HTTP 4xx, never anything else."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from journey.errors import ImpossibleEntry, InvalidScenario
from journey.events import COMMON_KEYS, EVENT_SPECS, MAX_TEXT, EventType, read_event
from journey.profile import MAX_METASTASIS_COUNT, MAX_METASTASIS_MM, PRIMARY_SITES, read_profile
from tests.conftest import BASE_PATIENT

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

nasty_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "\x00", "\x1b[31mred", "a\u202eb", "Zoë", "名前", "'; DROP TABLE event; --",
                     "1 OR 1=1", "=cmd|' /C calc'!A0", "2025-02-30", "2025-13-01", "0001-01-01",
                     "9999-12-31", "20250101", "2025-W01-1", "NaN", "true", "yes", "x" * 600]))
huge = st.integers(min_value=10**4400, max_value=10**4500)  # more digits than str() converts
scalars = st.one_of(st.none(), st.booleans(), st.integers(), huge,
                    st.floats(allow_nan=True, allow_infinity=True), nasty_text,
                    st.dates().map(lambda d: d.isoformat()), st.dates())
values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                     st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
field_names = sorted({f.name for spec in EVENT_SPECS.values() for f in spec.fields} | set(COMMON_KEYS))
choices = sorted({c for spec in EVENT_SPECS.values() for f in spec.fields for c in f.choices})


@st.composite
def entries(draw: st.DrawFn) -> Any:
    """Mostly near-valid entries (a known type, known fields) with hostile values mixed in."""
    if draw(st.integers(0, 9)) == 0:
        return draw(values)
    entry: dict[Any, Any] = {"type": draw(st.one_of(st.sampled_from([t.value for t in EventType]), values))}
    for name in draw(st.lists(st.sampled_from(field_names), max_size=6)):
        entry[name] = draw(st.one_of(st.sampled_from(choices), st.booleans(), values))
    if draw(st.booleans()):
        entry[draw(st.one_of(st.text(max_size=5), st.integers(), huge))] = draw(values)
    return entry


@st.composite
def profiles(draw: st.DrawFn) -> Any:
    """The base patient with some of its values replaced by hostile ones."""
    if draw(st.integers(0, 9)) == 0:
        return draw(values)
    raw: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE_PATIENT.items()}
    for _ in range(draw(st.integers(1, 4))):
        block = draw(st.sampled_from(["", "primary", "metastases", "biomarkers", "prior_oxaliplatin"]))
        key = draw(st.sampled_from(["ref", "ecog", "site", "diagnosed_on", "resected_on", "symptoms",
                                    "t_stage", "detected_on", "count", "max_size_mm", "extrahepatic",
                                    "mmr", "ras", "braf", "last_dose_on", "relapsed_on"]))
        value = draw(values)
        if block:
            target = raw.setdefault(block, {})
            if isinstance(target, dict):
                target[key] = value
        else:
            raw[key] = value
    return raw


@FUZZ
@given(entries())
@example({"type": "progression", "date": "2025-01-01", 10**5000: 1})
def test_read_event_accepts_sound_entries_and_refuses_everything_else_clearly(raw: Any) -> None:
    try:
        event = read_event(raw, seq=1)
    except ImpossibleEntry as e:
        assert e.message and len(e.message) < 1000
        return
    spec = EVENT_SPECS[event.type]
    for name, value in event.fields.items():
        f = spec.field(name)
        assert f is not None
        assert isinstance(value, bool) if f.kind == "bool" else value in f.choices
    for text in (event.note, event.override):
        assert text is None or 0 < len(text) <= MAX_TEXT
        assert text is None or all(c.isprintable() or c in "\n\t" for c in text)
    assert event.to_dict()["type"] == event.type.value


@FUZZ
@given(profiles())
@example({**BASE_PATIENT, "biomarkers": {"mmr": 10**5000}})
@example({**BASE_PATIENT, "ecog": 10**5000, "primary": {**BASE_PATIENT["primary"], "t_stage": 10**5000}})
def test_read_profile_accepts_sound_descriptions_and_refuses_everything_else_clearly(raw: Any) -> None:
    try:
        profile = read_profile(raw)
    except InvalidScenario as e:
        assert e.message.startswith(("The patient description has problems", "The patient"))
        assert len(e.message) < 3000
        return
    assert profile.ref and len(profile.ref) <= 64 and profile.ref.isprintable()
    assert profile.primary.site in PRIMARY_SITES
    assert 1 <= profile.metastases.count <= MAX_METASTASIS_COUNT
    assert 0 < profile.metastases.max_size_mm <= MAX_METASTASIS_MM
    assert profile.ecog is None or 0 <= profile.ecog <= 4
    assert profile.primary.diagnosed_on.year >= 1900
