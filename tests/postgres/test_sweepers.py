"""Several scheduler sweeps on one PostgreSQL database at the same moment, even without the lease
(the worst case: a stalled holder and its replacement overlapping), never fire twice: each due
reminder is announced once, each patient's timed transition happens once, and verify passes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlmodel import Session, select

from db.tables import NotificationRow
from journey.scenario import read_scenario
from tests.conftest import PERIOP_START, scenario
from tests.postgres.conftest import TODAY
from tests.postgres.test_concurrency import run_together
from tracker.application.sweep import sweep
from tracker.clock import FixedClock
from tracker.compose import build_tracker
from tracker.settings import Settings

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_four_sweeps_at_once_announce_each_overdue_reminder_exactly_once(database_url: str) -> None:
    settings = Settings(database_url=database_url, webhook_url="http://127.0.0.1:9/hook")
    trackers = [build_tracker(settings, clock=FixedClock(TODAY)) for _ in range(4)]
    try:
        for i in range(12):  # on FOLFOX since January 2025: the reassessment is long overdue
            trackers[0].import_scenario(read_scenario(scenario(*PERIOP_START, ref=f"S-{i:02d}")), "import")
        results: list[Any] = run_together(*[(lambda t=t: sweep(t, TODAY)) for t in trackers])
        assert not [r for r in results if isinstance(r, Exception)], results
        with Session(trackers[0].engine) as session:
            rows = list(session.exec(select(NotificationRow)))
        per_reminder = Counter((r.reminder_id, r.status, r.channel) for r in rows)
        assert rows and max(per_reminder.values()) == 1
        assert {r.patient_id for r in rows} == set(range(1, 13))
        # a later sweep finds nothing left to announce
        assert sweep(trackers[1], TODAY).announced == []
        assert list(trackers[0].verify()) == []
    finally:
        for t in trackers:
            t.engine.dispose()
