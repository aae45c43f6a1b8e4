"""The accessibility check of every page the browser tests open: axe-core (Deque's engine, from the
npm registry: ``./scripts/setup --system`` puts it in the git-ignored ``.cache/``), run in the page
as the person sees it, failing on any violation of any rule axe runs by default (WCAG 2.x A and
AA, and its best practices)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
#: the version ./scripts/setup fetches (AXE_VERSION there)
AXE_VERSION = "4.14.1"
AXE_SCRIPT = ROOT / ".cache" / f"axe-core-{AXE_VERSION}" / "axe.min.js"


def violations(page: Any) -> list[dict[str, Any]]:
    """axe's violations on the page as it stands (axe is loaded into every page by the fixture)."""
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document, "
                                           "{resultTypes: ['violations']})")
    return list(result["violations"])


def described(found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        targets = "; ".join(" ".join(node["target"]) for node in v["nodes"][:4])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} -- {len(v['nodes'])} element(s): {targets}")
    return "\n".join(lines)


def assert_accessible(page: Any, where: str = "") -> None:
    found = violations(page)
    assert not found, f"axe-core found violations on {where or page.url}:\n{described(found)}"
