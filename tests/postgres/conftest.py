"""The database under test: SQLite (a WAL file) and PostgreSQL, chosen per test by a parameter.

PostgreSQL comes from ``JOURNEY_TEST_POSTGRES_URL`` (a role that may create databases), or else
from the throwaway cluster ``scripts/pg-cluster`` starts. Each test gets a database of its own,
dropped afterwards. When no PostgreSQL can be had, the PostgreSQL tests are skipped, except under
``CI=true`` or ``JOURNEY_REQUIRE_POSTGRES=1`` (scripts/test sets it), where that is a failure:
a green run must mean both engines were tested.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 1, 15)
ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def postgres_required() -> bool:
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("JOURNEY_REQUIRE_POSTGRES") == "1"


def _unavailable(reason: str) -> None:
    if postgres_required():
        pytest.fail(f"PostgreSQL is required here (CI=true or JOURNEY_REQUIRE_POSTGRES=1) but {reason}",
                    pytrace=False)
    pytest.skip(f"no PostgreSQL: {reason} (set JOURNEY_TEST_POSTGRES_URL or install postgresql)")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of a PostgreSQL server whose role may create databases."""
    url = os.environ.get("JOURNEY_TEST_POSTGRES_URL")
    if not url:
        script = ROOT / "scripts" / "pg-cluster"
        if shutil.which("initdb") is None and not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
            _unavailable("its binaries are not installed")
        done = subprocess.run([str(script), "start"], capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            _unavailable(f"scripts/pg-cluster start failed: {done.stderr.strip()[-500:]}")
        url = done.stdout.strip().splitlines()[-1]
    try:
        engine = create_engine(_driver(url))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as e:
        _unavailable(f"cannot connect to {make_url(url).render_as_string(hide_password=True)}: {e}")
    return url


def _driver(url: str) -> str:
    parsed = make_url(url)
    return str(parsed.set(drivername="postgresql+psycopg")) if parsed.drivername == "postgresql" else url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the server, dropped after the test."""
    name = f"journey_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_driver(postgres_server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each engine: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'journey.sqlite'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def make_clinic(database_url: str) -> Iterator[Callable[..., Any]]:
    """Trackers on the test's database (migrated), clocks standing still on ``today``. Each call
    is a new Tracker with its own engine, as another process or a restart would have."""
    from tracker.clock import FixedClock
    from tracker.compose import build_tracker
    from tracker.settings import Settings

    made: list[Any] = []

    def make(today: date = TODAY) -> Any:
        tracker = build_tracker(Settings(database_url=database_url), clock=FixedClock(today))
        made.append(tracker)
        return tracker

    yield make
    for tracker in made:
        tracker.engine.dispose()


@pytest.fixture
def clinic(make_clinic: Callable[..., Any]) -> Any:
    """One tracker on the test's database."""
    return make_clinic()
