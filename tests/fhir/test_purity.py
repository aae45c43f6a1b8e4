"""The FHIR mapping is pure and speaks R4 only.

The mapping modules import nothing but the domain (``journey``), the R4B models of
``fhir.resources`` and each other: no database, web framework or command line. And nothing in the
project imports from the top-level ``fhir.resources`` package, which is FHIR R5 and silently drops
R4 data (MedicationRequest.reported[x], Procedure.performed[x]... renamed in R5)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PURE = ("codes", "elements", "export", "imports", "conformance")


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


def test_the_mapping_modules_import_only_the_domain_the_r4b_models_and_the_standard_library():
    allowed_roots = {"journey", "fhir", "tracker", "__future__"} | set(sys.stdlib_module_names)
    for name in PURE:
        path = ROOT / "tracker" / "fhir" / f"{name}.py"
        for module in imported_modules(path):
            root = module.split(".")[0]
            assert root in allowed_roots, (name, module)
            if root == "tracker":  # only each other (the package itself holds a docstring)
                assert module == "tracker.fhir" or (
                    module.startswith("tracker.fhir.") and module.split(".")[2] in PURE), (name, module)


def test_nothing_imports_the_r5_models_of_fhir_resources():
    offenders = []
    for folder in ("tracker", "tests", "scripts", "journey", "db"):
        for path in (ROOT / folder).rglob("*.py"):
            for module in imported_modules(path):
                if module.startswith("fhir.resources") and not module.startswith("fhir.resources.R4B"):
                    offenders.append((str(path.relative_to(ROOT)), module))
    assert offenders == []
