#!/usr/bin/env python3
"""Write docs/fhir-example-bundle.json: the worked example of docs/fhir.md (tracker.fhir.example)."""

import json

from tracker.fhir.example import EXAMPLE_BUNDLE, example_bundle

if __name__ == "__main__":
    text = json.dumps(example_bundle(), indent=2, ensure_ascii=False) + "\n"
    EXAMPLE_BUNDLE.write_text(text, encoding="utf-8")
    print(f"wrote {EXAMPLE_BUNDLE}")
