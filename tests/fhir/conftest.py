"""Fixtures of the FHIR tests: the mCODE IG package (fetched by scripts/fetch-mcode-package),
trackers on real SQLite files, and helpers to export, import and compare."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from journey.scenario import read_scenario
from tests.api.conftest import client, seeded, template  # noqa: F401  (the API tests' fixtures)
from tests.conftest import ROOT
from tracker.application import replay_document
from tracker.fhir.ig import Package

MCODE_PACKAGE = Path(os.environ.get("JOURNEY_MCODE_PACKAGE")
                     or ROOT / "var" / "fhir-packages" / "hl7.fhir.us.mcode-4.0.0" / "package")
TODAY = date(2026, 1, 15)


@pytest.fixture(scope="session")
def mcode() -> Package:
    """The mCODE 4.0.0 package. Under CI=true its absence fails the test: it must run."""
    if not (MCODE_PACKAGE / "package.json").is_file():
        message = f"the mCODE IG package is not at {MCODE_PACKAGE}: run ./scripts/fetch-mcode-package"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return Package.load(MCODE_PACKAGE)


def load(tracker: Any, scenarios: Iterable[dict[str, Any]]) -> list[str]:
    """Import scenario mappings through the service; the references, in order."""
    refs = []
    for raw in scenarios:
        report = tracker.import_scenario(read_scenario(copy.deepcopy(raw)), actor="test")
        assert not report.refused, report.refused
        refs.append(report.ref)
    return refs


def without_volatile(resource: Any) -> Any:
    """A resource less what may differ between two exports of the same journey: ids, references
    by id, meta.lastUpdated and the bundle's timestamp."""
    if isinstance(resource, dict):
        return {k: without_volatile(v) for k, v in resource.items()
                if k not in ("id", "fullUrl", "reference", "lastUpdated", "timestamp")}
    if isinstance(resource, list):
        return [without_volatile(v) for v in resource]
    return resource


def replay_of(tracker: Any, ref: str, day: date = TODAY) -> dict[str, Any]:
    view = tracker.patient_view(ref, day)
    return replay_document(view, [], tracker.settings.synchronous_window_days)


@pytest.fixture
def two_trackers(make_tracker: Callable[..., Any]) -> tuple[Any, Any]:
    """The record exported from, and an empty one imported into, on the same day."""
    return make_tracker(TODAY, "source.sqlite"), make_tracker(TODAY, "target.sqlite")
