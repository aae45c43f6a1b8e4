"""Shared builders and fixtures.

``scenario(...)`` builds a contract §1 scenario as plain data (the shape a YAML file gives);
``make_tracker(today)`` builds a Tracker on a SQLite file in the test's tmp folder, its clock
standing still on ``today``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from journey.course import JourneyOutcome, follow_journey
from journey.scenario import read_scenario
from journey.settings import DEFAULT_SETTINGS, PathwaySettings

#: the site secrets of the test runs (every program refuses to start without them: the tests that
#: hold that set the environment they need); subprocesses inherit them
TEST_SECRETS = {"JOURNEY_PSEUDONYM_KEY": "tests-only-pseudonym-key-0123456789",
                "JOURNEY_SESSION_SECRET": "tests-only-session-secret-0123456789"}
for _name, _value in TEST_SECRETS.items():
    os.environ.setdefault(_name, _value)

ROOT = Path(__file__).resolve().parents[1]
#: the project's fixed outside (seed, contract, examples): ../shared beside the checkout when it is
#: there, else the pinned copy in tests/fixtures/shared (its README), so these checks never skip
SHARED = (ROOT.parent / "shared" if (ROOT.parent / "shared" / "spec" / "examples").is_dir()
          else ROOT / "tests" / "fixtures" / "shared")
SEED_FILE = SHARED / "seed" / "guideline-summary.txt"
SHARED_EXAMPLES = SHARED / "spec" / "examples"
DOCS_EXAMPLES = ROOT / "docs" / "examples"

#: a metachronous, left-sided, pMMR patient with 2 resectable metastases; the primary was removed
BASE_PATIENT: dict[str, Any] = {
    "ref": "T-0001",
    "ecog": 1,
    "primary": {"site": "sigmoid", "diagnosed_on": "2024-01-10", "symptoms": [],
                "resected_on": "2024-02-01"},
    "metastases": {"detected_on": "2024-12-01", "count": 2, "max_size_mm": 35,
                   "extrahepatic": False},
    "biomarkers": {"mmr": "pMMR", "ras": "wild_type", "braf": "wild_type"},
}


def patient(**overrides: Any) -> dict[str, Any]:
    """BASE_PATIENT with ``overrides``; nested blocks (primary, metastases...) are merged."""
    out = copy.deepcopy(BASE_PATIENT)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def ev(type_: str, on: str | date, **fields: Any) -> dict[str, Any]:
    """One entry in the scenario format."""
    return {"date": on if isinstance(on, str) else on.isoformat(), "type": type_, **fields}


def scenario(*events: dict[str, Any], as_of: str | date | None = None, ref: str = "T-0001",
             **patient_overrides: Any) -> dict[str, Any]:
    """A scenario mapping: the base patient (with overrides), ``events`` in the given order."""
    out: dict[str, Any] = {"patient": patient(ref=ref, **patient_overrides), "events": list(events)}
    if as_of is not None:
        out["as_of"] = as_of if isinstance(as_of, str) else as_of.isoformat()
    return out


def follow(raw: dict[str, Any], as_of: date | None = None,
           settings: PathwaySettings = DEFAULT_SETTINGS) -> JourneyOutcome:
    """Replay a scenario mapping through the pure fold."""
    sc = read_scenario(raw)
    assert not sc.unreadable, sc.unreadable
    day = as_of or sc.as_of
    assert day is not None, "give as_of"
    return follow_journey(sc.profile, sc.events, day, settings)


def seen_key(row: Any) -> str:
    """A sort key for rows of what a user sees that does not depend on how a date prints: a date
    made while freezegun runs is a FakeDate, and a memoized date may outlive the test that froze
    time, so ``key=str`` would order the same rows differently from one test run to another."""
    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(plain(v) for v in value)
        return value.isoformat() if isinstance(value, date) else value
    return str(plain(row))


def as_seen(outcome: JourneyOutcome) -> tuple[Any, ...]:
    """What a user sees of a journey, with each reminder's opening and closing entry named by
    its content rather than its seq (which depends on the order the entries were written in)."""
    by_seq = {e.seq: (e.date.isoformat(), e.type.value, tuple(sorted(e.fields.items())))
              for e in outcome.events}
    reminders = sorted(
        ((r.kind.value, by_seq.get(r.opened_by), r.anchor_on, r.due_on_at(outcome.as_of),
          r.resolved_on, r.cancelled_on, by_seq.get(r.closed_by) if r.closed_by is not None else None,
          outcome.status(r).value)
         for r in outcome.reminders), key=seen_key)
    refusals = sorted(((by_seq.get(r.seq, r.type), r.reason) for r in outcome.refusals), key=seen_key)
    return (outcome.phase, [s.to_dict() for s in outcome.steps], reminders, refusals)


# Frequently used openings of a journey
PERIOP_START = (ev("mdt_review", "2025-01-06", resectable=True, plan="perioperative"),
                ev("systemic_started", "2025-01-10", regimen="FOLFOX"))


@pytest.fixture(name="scenario")
def scenario_fixture() -> Callable[..., dict[str, Any]]:
    """The scenario builder, for tests that prefer a fixture to an import."""
    return scenario


@pytest.fixture
def make_tracker(tmp_path: Path) -> Callable[..., Any]:
    """A Tracker on a SQLite file under tmp_path, its clock fixed on ``today``. Called again with
    the same ``name`` it opens the same file (a new Tracker, as after a restart)."""
    from tracker.clock import FixedClock
    from tracker.compose import build_tracker
    from tracker.settings import Settings

    def make(today: date = date(2026, 1, 15), name: str = "journey.sqlite") -> Any:
        url = f"sqlite:///{tmp_path / name}"
        return build_tracker(Settings(database_url=url), clock=FixedClock(today))

    return make


@pytest.fixture
def tracker(make_tracker: Callable[..., Any]) -> Any:
    return make_tracker()
