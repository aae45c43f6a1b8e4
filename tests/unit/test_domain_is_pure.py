"""The domain package knows no database, web framework, command line or scheduler."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import journey

FORBIDDEN = ("db", "tracker", "sqlmodel", "sqlalchemy", "alembic", "fastapi", "starlette", "typer",
             "click", "rich", "apscheduler", "psycopg", "uvicorn", "httpx")
#: ``python -m journey`` is the program entry point: it runs the CLI, and is never imported by
#: the domain (docs/decisions.md, Layout)
ENTRY_POINT = "journey.__main__"
PACKAGE_DIR = Path(journey.__file__).parent


def domain_modules() -> list[str]:
    names = ["journey"] + [m.name for m in pkgutil.walk_packages([str(PACKAGE_DIR)], "journey.")]
    return sorted(n for n in names if n != ENTRY_POINT)


def test_importing_every_domain_module_loads_no_infrastructure() -> None:
    modules = domain_modules()
    assert "journey.pathway" in modules and "journey.course" in modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=PACKAGE_DIR.parent, check=False)
    assert run.returncode == 0, run.stderr
    loaded = set(json.loads(run.stdout))
    assert not loaded & set(FORBIDDEN), sorted(loaded & set(FORBIDDEN))


def test_no_domain_source_file_imports_infrastructure_even_lazily() -> None:
    """Also catches imports inside functions, which a plain import would not execute."""
    offenders = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if path.name == "__main__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.name}:{node.lineno} imports {name}")
    assert not offenders
