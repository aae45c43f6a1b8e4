#!/usr/bin/env python3
"""Write docs/fhir-example-bundle.json: the worked example of docs/fhir.md (tracker.fhir.example),
exported by the application from an empty database on the example's day."""

import json

from tracker.application.fhir import example_bundle
from tracker.compose import throwaway_tracker
from tracker.fhir.example import EXAMPLE_BUNDLE, EXAMPLE_DAY, EXAMPLE_KEY
from tracker.settings import Settings

if __name__ == "__main__":
    bundle = example_bundle(throwaway_tracker(EXAMPLE_DAY, Settings(pseudonym_key=EXAMPLE_KEY)))
    EXAMPLE_BUNDLE.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {EXAMPLE_BUNDLE}")
