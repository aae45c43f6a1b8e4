"""Every ``# type: ignore`` names the error it silences and says, beside it, why the checker is
wrong there (mypy itself refuses an ignore without an error code: pyproject.toml)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def test_every_type_ignore_names_its_error_and_says_why() -> None:
    offenders = []
    for folder in ("journey", "db", "tracker", "tests", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                found = IGNORE.search(line)
                if found is None or path == Path(__file__):
                    continue
                reason = found["rest"].strip().lstrip("#").strip()
                if not found["codes"] or not reason:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)
