"""The worked example of docs/fhir.md: DEMO-03 (docs/examples/demo-03-adjuvant.yaml) as its mCODE
bundle, from a throwaway database on a fixed day with the default pseudonym key.
``python scripts/generate_fhir_example.py`` writes docs/fhir-example-bundle.json;
tests/fhir/test_docs.py holds it to what the export gives today."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SCENARIO = ROOT / "docs" / "examples" / "demo-03-adjuvant.yaml"
EXAMPLE_BUNDLE = ROOT / "docs" / "fhir-example-bundle.json"
EXAMPLE_DAY = date(2026, 9, 1)


def example_bundle() -> dict[str, Any]:
    from tracker.app import throwaway_tracker
    from tracker.fhir.service import FhirExchange
    from tracker.files import load_scenario
    from tracker.settings import Settings

    tracker = throwaway_tracker(EXAMPLE_DAY, Settings(pseudonym_key="change-me-per-site"))
    scenario = load_scenario(EXAMPLE_SCENARIO)
    tracker.import_scenario(scenario, actor="example")
    return FhirExchange(tracker).patient_bundle(scenario.profile.ref)
