"""The layers of docs/architecture.md hold: faces -> application -> db -> domain, and nothing
imports upwards or in a circle. Read from the source (every import, also those inside functions),
so a lazy import cannot hide a dependency.

    faces          tracker.cli, tracker.web, tracker.scheduler: the application and the domain
                   (the CLI also the composition root, which starts the other faces)
    application    tracker.application: db's repositories (never its tables), the domain, and the
                   rooms below it (reports, fhir, demo, evidence, clock, settings)
    below it       tracker.reports, tracker.fhir (pure, like reports), tracker.demo, tracker.evidence,
                   tracker.clock, tracker.settings
    persistence    db: the domain; the only package that touches SQLAlchemy or SQLModel
    domain         journey: itself (tests/unit/test_domain_is_pure.py)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("journey", "db", "tracker")
#: program entry points: run, never imported (``python -m journey`` runs the CLI)
ENTRY_POINTS = {"journey.__main__"}
#: the libraries only db/ may import
DATABASE_LIBRARIES = ("sqlalchemy", "sqlmodel", "alembic", "psycopg")

FACES = ("tracker.cli", "tracker.web", "tracker.scheduler")
#: what each room may import of the project (besides itself)
ALLOWED: dict[str, tuple[str, ...]] = {
    "tracker.cli": ("journey", "tracker.application", "tracker.compose"),
    "tracker.web": ("journey", "tracker.application"),
    "tracker.scheduler": ("journey", "tracker.application"),
    "tracker.compose": ("db.engine", "db.migrate", "tracker.application", "tracker.clock",
                        "tracker.settings", "tracker.web", "tracker.scheduler"),
    "tracker.application": ("journey", "db", "tracker.reports", "tracker.fhir", "tracker.demo",
                            "tracker.evidence", "tracker.clock", "tracker.settings"),
    "tracker.demo": ("journey", "db"),
    "tracker.reports": ("journey",),
    #: the FHIR mapping and checks, pure; of the libraries only fhir.resources.R4B (test_purity.py)
    "tracker.fhir": ("journey",),
    #: the checkpoints' Merkle tree, signatures and files: pure, neither db nor the faces
    "tracker.evidence": (),
    "tracker.clock": (),
    "tracker.settings": ("journey",),
    "tracker": (),
    "db": ("journey",),
    "journey": (),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic's scripts, run by Alembic
            found[module_name(path)] = path
    return found


MODULES = modules()


def imports_of(name: str, path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import in the file, resolved to a module or package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([node.module] if node.module else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield node.lineno, candidate if candidate in MODULES else base


def room_of(name: str) -> str:
    """The longest key of ALLOWED that ``name`` lies in."""
    return max((room for room in ALLOWED if name == room or name.startswith(room + ".")), key=len)


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def project_edges() -> Iterator[tuple[str, int, str]]:
    for name, path in MODULES.items():
        if name in ENTRY_POINTS:
            continue
        for line, imported in imports_of(name, path):
            yield name, line, imported


def test_each_room_imports_only_the_rooms_below_it() -> None:
    offenders = []
    for name, line, imported in project_edges():
        if imported.split(".")[0] not in PACKAGES:
            continue
        room = room_of(name)
        if within(imported, (room,)) or within(imported, ALLOWED[room]):
            continue
        offenders.append(f"{name}:{line} imports {imported} ({room} may import {ALLOWED[room] or 'nothing'})")
    assert not offenders, "\n".join(offenders)


def test_only_db_touches_the_database_libraries_and_its_tables() -> None:
    offenders = [f"{name}:{line} imports {imported}" for name, line, imported in project_edges()
                 if not within(name, ("db",))
                 and (within(imported, DATABASE_LIBRARIES) or within(imported, ("db.tables",)))]
    assert not offenders, "\n".join(offenders)


def test_the_faces_reach_the_application_through_its_front_door() -> None:
    """``tracker.application`` itself (its __init__ names what the faces may use), never the
    modules behind it."""
    offenders = [f"{name}:{line} imports {imported}" for name, line, imported in project_edges()
                 if within(name, FACES) and within(imported, ("tracker.application",))
                 and imported != "tracker.application"]
    assert not offenders, "\n".join(offenders)


def test_no_module_imports_itself_through_a_circle() -> None:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, _, imported in project_edges():
        if imported in MODULES and imported != name:
            graph[name].add(imported)
    circles = [c for c in strongly_connected(graph) if len(c) > 1]
    assert not circles, circles


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the groups of modules that reach one another."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(sorted(group))
    return groups


def test_the_checks_see_the_rooms_they_guard() -> None:
    """A guard that reads nothing passes: make sure it reads the faces, the application and db."""
    names = set(MODULES)
    assert {"tracker.cli", "tracker.web.api", "tracker.scheduler.pacemaker", "tracker.application.service",
            "tracker.fhir.export", "db.unit_of_work", "journey.course"} <= names
    assert any(imported == "tracker.application" for name, _, imported in project_edges()
               if name == "tracker.web.desk")
    assert sorted(strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}})) == [["a", "b"], ["c"]]
