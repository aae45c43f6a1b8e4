"""The Alembic migrations build exactly the tables the code declares (db.tables): a column, an
index or a table added to the models without its migration would be missing on every upgraded
site database."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import db.tables  # noqa: F401 - registers the tables
from db.engine import make_engine
from db.migrate import downgrade, upgrade


def test_the_migrated_database_matches_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'journey.sqlite'}")
    upgrade(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []


def test_the_latest_migration_can_be_undone_and_redone(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'journey.sqlite'}")
    upgrade(engine)
    downgrade(engine, "0002")
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) != []
    upgrade(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
