"""The FHIR room is pure and speaks R4 only.

Every module of ``tracker/fhir/`` (the mapping, the codes, the checks, the IG checker, the
example's terms) imports nothing but the domain (``journey``), the R4B models of
``fhir.resources``, the standard library and each other: no database, web framework, command
line or application (tests/unit/test_layering.py holds the project's side of it too). And nothing
in the project imports from the top-level ``fhir.resources`` package, which is FHIR R5 and
silently drops R4 data (MedicationRequest.reported[x], Procedure.performed[x]... renamed in R5)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FHIR_ROOM = ROOT / "tracker" / "fhir"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_the_fhir_room_imports_only_the_domain_the_r4b_models_and_the_standard_library():
    allowed_roots = {"journey", "fhir", "tracker", "__future__"} | set(sys.stdlib_module_names)
    paths = sorted(FHIR_ROOM.glob("*.py"))
    assert {p.stem for p in paths} >= {"codes", "elements", "export", "imports", "conformance", "ig",
                                       "example"}
    for path in paths:
        for module in imported_modules(path):
            root = module.split(".")[0]
            assert root in allowed_roots, (path.name, module)
            if root == "fhir":
                assert module.startswith("fhir.resources.R4B"), (path.name, module)
            if root == "tracker":  # only each other
                assert module == "tracker.fhir" or module.startswith("tracker.fhir."), (path.name, module)


def test_nothing_imports_the_r5_models_of_fhir_resources():
    offenders = []
    for folder in ("tracker", "tests", "scripts", "journey", "db"):
        for path in (ROOT / folder).rglob("*.py"):
            for module in imported_modules(path):
                if module.startswith("fhir.resources") and not module.startswith("fhir.resources.R4B"):
                    offenders.append((str(path.relative_to(ROOT)), module))
    assert offenders == []
