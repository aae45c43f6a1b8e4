"""Traceability: every bullet statement of the seed is covered by a rule, a context note or an
explicit "not encoded, because ..." entry, and docs/guideline.md is generated from the rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from journey.guideline import (
    CONTEXT_NOTES,
    NOT_ENCODED,
    RULES,
    guideline_markdown,
    seed_bullet_lines,
    seed_coverage,
)
from tests.conftest import SEED_FILE

ROOT = Path(__file__).resolve().parents[2]

#: the bullet lines of the seed as it was when the rules were written; the test below proves the
#: seed still has exactly these when it is present beside the project
KNOWN_BULLET_LINES = (5, 6, 7, 8, 10, 11, 12, 13, 14, 17, 18, 19, 20, 22, 23, 24, 25, 28, 29, 30,
                      32, 33, 34, 35, 37, 38, 39)


def test_every_bullet_line_of_the_seed_is_covered_by_a_rule_context_or_not_encoded_entry():
    coverage = seed_coverage()
    uncovered = [line for line in KNOWN_BULLET_LINES if line not in coverage]
    assert uncovered == []


def test_the_seed_file_has_the_bullet_lines_the_rules_were_written_for():
    assert tuple(seed_bullet_lines(SEED_FILE.read_text(encoding="utf-8"))) == KNOWN_BULLET_LINES


def test_every_rule_and_context_note_cites_a_bullet_line_of_the_seed():
    cited = [line for rule in RULES for line in rule.seed_lines] + [n.seed for n in CONTEXT_NOTES]
    assert set(cited) <= set(KNOWN_BULLET_LINES)


def test_context_notes_cover_the_surgical_timing_and_prognostic_lines():
    assert {n.seed for n in CONTEXT_NOTES} == {22, 23, 24, 25, 28, 29, 30, 38}


def test_every_not_encoded_entry_says_why():
    for line, reason in NOT_ENCODED.items():
        assert reason.startswith("not encoded") and "because" in reason, line


def test_the_committed_guideline_document_is_what_the_script_writes():
    committed = (ROOT / "docs" / "guideline.md").read_text(encoding="utf-8")
    assert committed == guideline_markdown(), "run: python scripts/generate_guideline_doc.py"


def test_the_generation_script_writes_the_same_document(tmp_path):
    script = (ROOT / "scripts" / "generate_guideline_doc.py").read_text(encoding="utf-8")
    # run the script against a copy of the repository layout so the real doc is not touched
    (tmp_path / "scripts").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "scripts" / "generate_guideline_doc.py").write_text(script, encoding="utf-8")
    subprocess.run([sys.executable, str(tmp_path / "scripts" / "generate_guideline_doc.py")],
                   check=True, capture_output=True, cwd=ROOT,
                   env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert (tmp_path / "docs" / "guideline.md").read_text(encoding="utf-8") == guideline_markdown()
