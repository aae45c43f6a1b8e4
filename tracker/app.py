"""The composition root: settings, engine, clock and services are created here and only here."""

from __future__ import annotations

from datetime import date

from db.engine import create_schema, make_engine
from db.migrate import upgrade
from tracker.clock import Clock, FixedClock, SystemClock
from tracker.services import Tracker
from tracker.settings import Settings


def build_tracker(settings: Settings | None = None, clock: Clock | None = None,
                  migrate: bool = True) -> Tracker:
    """The tracker on the configured database, migrated to the latest schema."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    tracker = Tracker(engine, clock or SystemClock(settings.site_timezone), settings)
    if migrate:
        upgrade(engine)
        tracker.rederive_stale()  # a new version of the rules: the stored state follows the log
    return tracker


def throwaway_tracker(as_of: date, settings: Settings | None = None) -> Tracker:
    """An in-memory tracker whose clock stands on ``as_of`` (``journey replay``)."""
    settings = settings or Settings()
    engine = make_engine("sqlite://")
    create_schema(engine)
    return Tracker(engine, FixedClock(as_of), settings)
