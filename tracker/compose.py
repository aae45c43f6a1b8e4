"""The composition root: the settings are read here (once per process), the engine, the
migrations and the real clock are made here, and the programs are started from here. Nothing
below makes any of them again; no engine, settings or scheduler object exists at import time."""

from __future__ import annotations

import threading
from datetime import date

from db.engine import create_schema, make_engine
from db.migrate import upgrade
from tracker.application import Tracker
from tracker.clock import Clock, FixedClock, SystemClock
from tracker.settings import Settings, secret_problems, unsafe_settings


def require_secrets(settings: Settings, web: bool = False) -> None:
    """Refuse to start a program with a missing, short or public secret (UnsafeSettings, saying
    which and how to set it): the pseudonym key always, the webhook secret when a webhook is
    configured, the session secret for the web app. Only ``journey demo`` (synthetic patients),
    ``journey replay`` (no database) and the tests start without."""
    problems = secret_problems(settings, web=web)
    if problems:
        raise unsafe_settings(problems)


def build_tracker(settings: Settings | None = None, clock: Clock | None = None, migrate: bool = True,
                  as_of: date | None = None) -> Tracker:
    """The tracker on the configured database (migrated to the latest schema unless ``migrate``
    is false), its clock the site's real one, or standing still on ``as_of``."""
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    if clock is None:
        clock = FixedClock(as_of) if as_of is not None else SystemClock(settings.site_timezone)
    tracker = Tracker(engine, clock, settings)
    if migrate:
        upgrade(engine)
        tracker.rederive_stale()  # new rules: the stored phases and reminders follow the log
    return tracker


def throwaway_tracker(as_of: date | None = None, settings: Settings | None = None) -> Tracker:
    """An in-memory tracker whose clock stands on ``as_of`` (default: today at the site), for
    ``journey replay``: nothing else is touched."""
    settings = settings or Settings()
    engine = make_engine("sqlite://")
    create_schema(engine)
    return Tracker(engine, FixedClock(as_of or SystemClock(settings.site_timezone).today()), settings)


def serve(tracker: Tracker, host: str | None = None, port: int | None = None) -> None:
    """The web pages and the REST API, until interrupted. Refuses to start without its secrets.
    X-Forwarded-For and -Proto are believed only from the proxies in ``forwarded_allow_ips``."""
    require_secrets(tracker.settings, web=True)
    import uvicorn  # the web stack is loaded only by the command that serves it

    from tracker.web import create_app

    proxies = tracker.settings.forwarded_allow_ips.strip()
    uvicorn.run(create_app(tracker), host=host or tracker.settings.host, port=port or tracker.settings.port,
                log_level="info", proxy_headers=bool(proxies), forwarded_allow_ips=proxies or None,
                server_header=False)


def run_scheduler(tracker: Tracker, stop: threading.Event) -> None:
    """The scheduler (tracker.scheduler.pacemaker) until ``stop``: the lease and APScheduler run on
    the real clock, whatever clock the tracker reads its days from. Refuses to start without its
    secrets."""
    require_secrets(tracker.settings)
    from tracker.scheduler import pacemaker  # APScheduler is loaded only by the command that runs it

    pacemaker.run_scheduler(tracker, stop, SystemClock(tracker.settings.site_timezone))
