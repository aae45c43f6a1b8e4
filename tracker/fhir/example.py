"""The worked example of docs/fhir.md: DEMO-03 (docs/examples/demo-03-adjuvant.yaml) as its mCODE
bundle, exported from an empty database on a fixed day with the default pseudonym key.

``python scripts/generate_fhir_example.py`` writes docs/fhir-example-bundle.json (through
``tracker.application.fhir.example_bundle``); tests/fhir/test_docs.py holds it to what the export
gives today. Only the example's terms are here: this room maps and checks, it records nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_SCENARIO = ROOT / "docs" / "examples" / "demo-03-adjuvant.yaml"
EXAMPLE_BUNDLE = ROOT / "docs" / "fhir-example-bundle.json"
EXAMPLE_DAY = date(2026, 9, 1)
#: the site key the example's ids and pseudonyms are made with (the settings' default)
EXAMPLE_KEY = "change-me-per-site"
