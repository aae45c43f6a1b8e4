"""docs/fhir.md stays true: its worked example is what the export gives today, and it names every
local code system and extension the export uses."""

from __future__ import annotations

import json
import re

from tests.conftest import ROOT
from tracker.application.fhir import example_bundle
from tracker.compose import throwaway_tracker
from tracker.fhir import codes as c
from tracker.fhir.example import EXAMPLE_BUNDLE, EXAMPLE_DAY, EXAMPLE_KEY
from tracker.settings import Settings

DOC = (ROOT / "docs" / "fhir.md").read_text(encoding="utf-8")


def test_the_worked_example_bundle_is_what_the_export_gives_today():
    committed = json.loads(EXAMPLE_BUNDLE.read_text(encoding="utf-8"))
    today = example_bundle(throwaway_tracker(EXAMPLE_DAY, Settings(pseudonym_key=EXAMPLE_KEY)))
    assert committed == today, "run: python scripts/generate_fhir_example.py"


def test_the_fhir_doc_names_every_local_code_system_and_extension():
    local_systems = [system.rsplit("/", 1)[-1] for system in c.LOCAL_CODE_SYSTEMS] + ["reminder-kind"]
    local_extensions = [url.rsplit("/", 1)[-1] for url in c.EXT.values() if url.startswith(c.LOCAL_SD)]
    missing = [name for name in local_systems + local_extensions if f"`{name}`" not in DOC]
    assert missing == []


def _without_concept_text(value):
    if isinstance(value, dict):
        return {k: _without_concept_text(v) for k, v in value.items()
                if not (k == "text" and "coding" in value)}
    if isinstance(value, list):
        return [_without_concept_text(v) for v in value]
    return value


def test_the_docs_excerpts_are_the_example_bundles_resources():
    resources = {e["resource"]["id"]: e["resource"] for e in json.loads(EXAMPLE_BUNDLE.read_text())["entry"]}
    excerpts = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", DOC, re.S)]
    assert len(excerpts) == 2
    for excerpt in excerpts:
        assert _without_concept_text(excerpt) == _without_concept_text(resources[excerpt["id"]])
