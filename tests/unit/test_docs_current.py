from pathlib import Path

from journey.pathway_doc import pathway_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_the_pathway_document_is_generated_from_the_current_transition_table():
    committed = (ROOT / "docs" / "pathway.md").read_text(encoding="utf-8")
    assert committed == pathway_markdown(), "run: python scripts/generate_pathway_doc.py"
