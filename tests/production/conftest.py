"""The production tests run on both engines with the fixtures of tests/postgres (one database
per test, PostgreSQL required under CI), plus a CLI runner bound to the test's database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.postgres.conftest import (  # noqa: F401  (fixtures shared with tests/postgres)
    TODAY,
    clinic,
    database_url,
    make_clinic,
    postgres_server,
    postgres_url,
)


@pytest.fixture
def journey(database_url: str) -> Callable[..., Any]:  # noqa: F811
    """``journey(*args)`` runs the CLI in-process on the test's database; returns the result
    (exit_code, stdout, stderr)."""
    from tracker.cli import app

    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, list(args), env={"JOURNEY_DATABASE_URL": database_url,
                                                    "JOURNEY_SITE_TIMEZONE": "UTC",
                                                    "COLUMNS": "200"}, catch_exceptions=False)

    return run
