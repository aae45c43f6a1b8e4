"""Fixtures of the API tests: a seeded SQLite database copied fresh for each test (seeding and
password hashing happen once per module), and a TestClient on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.seed import Seeded, clone, seed
from tracker.web import create_app


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed(tmp_path_factory.mktemp("template"))


@pytest.fixture
def seeded(template: Seeded, tmp_path: Path) -> Seeded:
    return clone(template, tmp_path)


@pytest.fixture
def client(seeded: Seeded) -> Iterator[TestClient]:
    with TestClient(create_app(seeded.tracker, seeded.users)) as c:
        yield c
