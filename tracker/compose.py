"""The composition root: the settings are read here (once per process), the engine, the
migrations and the real clock are made here, and the programs are started from here. Nothing
below makes any of them again; no engine, settings or scheduler object exists at import time."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from db.engine import create_schema, make_engine
from db.migrate import upgrade
from tracker.application import Tracker
from tracker.clock import Clock, FixedClock, SystemClock
from tracker.settings import Settings, secret_problems, unsafe_settings

if TYPE_CHECKING:
    from fastapi import FastAPI


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
        # new rules: the stored phases and reminders follow the log (minutes for a large registry)
        tracker.rederive_stale(progress=_say_rederiving())
    return tracker


def _say_rederiving() -> Callable[[int, int], None]:
    """The one long step of an upgrade, said on stderr each tenth of the way (a program that
    starts after new pathway rules re-derives every stored journey before it does anything)."""
    said = -1

    def say(done: int, total: int) -> None:
        nonlocal said
        tenth = done * 10 // max(total, 1)
        if tenth != said:
            said = tenth
            print(f"Re-deriving the stored journeys under the current pathway rules (once, after an "
                  f"upgrade): {done:,} of {total:,}", file=sys.stderr, flush=True)
    return say


def throwaway_tracker(as_of: date | None = None, settings: Settings | None = None) -> Tracker:
    """An in-memory tracker whose clock stands on ``as_of`` (default: today at the site), for
    ``journey replay``: nothing else is touched."""
    settings = settings or Settings()
    engine = make_engine("sqlite://")
    create_schema(engine)
    return Tracker(engine, FixedClock(as_of or SystemClock(settings.site_timezone).today()), settings)


def serve(tracker: Tracker, host: str | None = None, port: int | None = None, workers: int = 1) -> None:
    """The web pages and the REST API, until interrupted. Refuses to start without its secrets.
    X-Forwarded-For and -Proto are believed only from the proxies in ``forwarded_allow_ips``.

    With ``workers`` above 1, uvicorn runs that many worker processes on one socket; each builds
    its own Tracker from the same settings (:func:`web_app`), after this process has migrated the
    database once. The scheduler is never started here: it runs as one process of its own (its
    lease), however many web workers there are."""
    require_secrets(tracker.settings, web=True)
    import uvicorn  # the web stack is loaded only by the command that serves it

    settings = tracker.settings
    proxies = settings.forwarded_allow_ips.strip()
    options: dict[str, Any] = {
        "host": host or settings.host, "port": port or settings.port, "log_level": "info",
        "proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None, "server_header": False}
    if workers > 1:
        # the workers read the settings from the same environment; none may fall back to a key of
        # its own (a sign-in form from one worker is posted to another): require_secrets above
        tracker.engine.dispose()
        run_workers(f"{__name__}:web_app", workers, **options)
        return
    from tracker.web import create_app

    uvicorn.run(create_app(tracker), **options)


def run_workers(factory: str, workers: int, **options: Any) -> None:
    """uvicorn's supervisor running ``workers`` processes of the app made by ``factory`` (an
    import string) on one listening socket, as ``uvicorn.run(..., workers=N)`` does, with one
    difference: uvicorn binds that socket with protocol 0, the accepted connections inherit it,
    and asyncio then leaves Nagle's algorithm on (it sets TCP_NODELAY only on sockets that say
    IPPROTO_TCP), so every answer on a kept-alive connection after the first waited about 40 ms
    for the client's delayed ACK (measured: /api/v1/me 44 ms with two workers, 2.4 ms with one;
    uvicorn issue #3149). The same socket, told its protocol, is handed to the workers."""
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(factory, factory=True, workers=workers, **options)
    listener = config.bind_socket()
    if listener.family in (socket.AF_INET, socket.AF_INET6):
        listener = socket.socket(listener.family, listener.type, socket.IPPROTO_TCP, fileno=listener.detach())
    Multiprocess(config, sockets=[listener]).run()


def web_app() -> FastAPI:
    """The app factory of each worker process of ``journey serve --workers N``: the settings read
    from the environment (as the parent read them), checked, and a Tracker of this process's own
    (its engine and connection pool; the database is already migrated by the parent)."""
    from tracker.web import create_app

    settings = Settings()
    require_secrets(settings, web=True)
    return create_app(build_tracker(settings, migrate=False))


def run_scheduler(tracker: Tracker, stop: threading.Event) -> None:
    """The scheduler (tracker.scheduler.pacemaker) until ``stop``: the lease and APScheduler run on
    the real clock, whatever clock the tracker reads its days from. Refuses to start without its
    secrets."""
    require_secrets(tracker.settings)
    from tracker.scheduler import pacemaker  # APScheduler is loaded only by the command that runs it

    pacemaker.run_scheduler(tracker, stop, SystemClock(tracker.settings.site_timezone))
