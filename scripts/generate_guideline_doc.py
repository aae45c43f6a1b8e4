#!/usr/bin/env python3
"""Write docs/guideline.md from the guideline rules (journey/guideline.py)."""

from pathlib import Path

from journey.guideline import guideline_markdown

if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "guideline.md"
    target.write_text(guideline_markdown(), encoding="utf-8")
    print(f"wrote {target}")
