"""Backups and restores of the configured database (``journey backup FILE``, ``journey restore
FILE``). The files are made and read by db.backup; a restored database is migrated to the current
schema and verified (hash chains, phases, reminders) before it is reported as restored."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from db import backup as backups
from db.migrate import upgrade
from tracker.application.context import Context
from tracker.application.verify import verify


@dataclass
class RestoreReport:
    patients: int
    events: int
    problems: list[str] = field(default_factory=list)


def backup(ctx: Context, destination: Path, overwrite: bool = False) -> int:
    """Write a backup of the database to ``destination`` while it runs; its size in bytes."""
    return backups.backup(ctx.settings.database_url, destination, overwrite=overwrite)


def restore(ctx: Context, source: Path, replace: bool = False) -> RestoreReport:
    """Replace the database's content by a backup, migrate it and verify it. Refuses a database
    that holds patients unless ``replace``."""
    ctx.engine.dispose()  # no pooled connection holds the database while it is replaced
    backups.restore(ctx.settings.database_url, source, replace=replace)
    upgrade(ctx.engine)  # an older backup gets today's schema
    problems = list(verify(ctx))
    with ctx.unit_of_work() as uow:
        return RestoreReport(uow.patients.count(), uow.patients.entry_count(), problems)
