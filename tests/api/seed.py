"""A small, deterministic database for the web tests: one user per role and three patients.

``P-LATE`` has started pre-operative FOLFOX on 2025-02-01, so on TODAY (2025-06-01) its
reassessment (due 2025-04-01) is overdue and the patient is in ``reassessment``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from journey.scenario import read_scenario
from tracker.application import Tracker, Users
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.settings import Settings

TODAY = date(2025, 6, 1)
PASSWORD = "correct horse battery"
ROLES = ("navigator", "clinician", "auditor", "admin")


def profile(ref: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ref": ref, "ecog": 1,
        "primary": {"site": "sigmoid", "diagnosed_on": "2024-11-10", "symptoms": [],
                    "resected_on": "2024-12-01"},
        "metastases": {"detected_on": "2025-01-05", "count": 2, "max_size_mm": 35, "extrahepatic": False},
        "biomarkers": {"mmr": "pMMR", "ras": "wild_type", "braf": "wild_type"},
    }
    out.update(extra)
    return out


SCENARIOS = [
    {"patient": profile("P-LATE"), "events": [
        {"date": "2025-01-20", "type": "mdt_review", "resectable": True, "plan": "perioperative"},
        {"date": "2025-02-01", "type": "systemic_started", "regimen": "FOLFOX"}]},
    {"patient": profile("P-NEW"), "events": []},
    {"patient": profile("P-SURV"), "events": [
        {"date": "2025-01-10", "type": "mdt_review", "resectable": True, "plan": "upfront_surgery"},
        {"date": "2025-01-25", "type": "surgery", "procedure": "liver_resection", "margin": "R0"},
        {"date": "2025-03-01", "type": "systemic_started", "regimen": "FOLFOX"}]},
]


@dataclass
class Seeded:
    tracker: Tracker
    users: Users
    tokens: dict[str, str]
    url: str


def seed(folder: Path, today: date = TODAY) -> Seeded:
    url = f"sqlite:///{folder / 'web.sqlite'}"
    tracker = build_tracker(Settings(database_url=url), clock=FixedClock(today))
    for raw in SCENARIOS:
        tracker.import_scenario(read_scenario(raw), actor="seed")
    users = Users(tracker)
    tokens = {role: users.add(f"{role}1", role, PASSWORD).token for role in ROLES}
    return Seeded(tracker, users, tokens, url)


def clone(template: Seeded, folder: Path) -> Seeded:
    """A copy of a seeded database in ``folder``, with the same users and tokens."""
    import sqlite3

    source = template.url.removeprefix("sqlite:///")
    target = folder / "web.sqlite"
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    url = f"sqlite:///{target}"
    # a clock of its own: a test may move it on
    tracker = build_tracker(Settings(database_url=url), clock=FixedClock(template.tracker.clock.today()),
                            migrate=False)
    return Seeded(tracker, Users(tracker, template.users.hasher), template.tokens, url)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD, expect: int = 303) -> Any:
    """Sign in through the sign-in page, as a browser does; the answer (303 when it worked)."""
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"csrf": token, "name": name, "password": password,
                                           "next": "/worklist"}, follow_redirects=False)
    assert response.status_code == expect, response.text[:300]
    return response
