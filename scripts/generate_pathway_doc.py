#!/usr/bin/env python3
"""Write docs/pathway.md from the transition table."""

from pathlib import Path

from journey.pathway_doc import pathway_markdown

if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "pathway.md"
    target.write_text(pathway_markdown(), encoding="utf-8")
    print(f"wrote {target}")
