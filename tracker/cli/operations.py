"""``journey backup FILE`` and ``journey restore FILE``: the operations commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tracker.cli.common import friendly, open_tracker, out

#: the commands that sit at the top of ``journey`` (added without a name)
commands = typer.Typer()


@commands.command("backup")
@friendly
def backup_command(
        file: Annotated[Path, typer.Argument(help="Where to write the backup (a new file).")],
        overwrite: Annotated[bool, typer.Option(help="Replace FILE if it exists.")] = False) -> None:
    """Back up the configured database while it runs (SQLite online backup; pg_dump for PostgreSQL)."""
    # the database as it is: a backup neither creates nor migrates it
    size = open_tracker(migrate=False).backup(file, overwrite=overwrite)
    out.print(f"Backed up to {file} ({size // 1024} KB). Restore it with: journey restore {file}",
              highlight=False)


@commands.command("restore")
@friendly
def restore_command(
        file: Annotated[Path, typer.Argument(help="A file written by `journey backup`.")],
        replace: Annotated[bool, typer.Option(
            help="Allow replacing a database that already holds patients.")] = False,
        accept_rollback: Annotated[bool, typer.Option(
            help="Allow giving up entries that checkpoints witnessed (a new checkpoint records it).")]
        = False) -> None:
    """Replace the configured database's content by a backup, then verify it (exit 1 if it differs).
    What the replaced database delivered is never sent again. Stop the web app and the scheduler first."""
    # the restore migrates what it restored; the database it replaces is left as it is until then
    report = open_tracker(migrate=False).restore(file, replace=replace, accept_rollback=accept_rollback)
    out.print(f"Restored {file}: {report.patients} patient(s), {report.events} event(s).", highlight=False)
    if report.deliveries:
        out.print(f"{report.deliveries} notification(s) delivered before the restore will not be sent again.",
                  highlight=False)
    for line in report.rolled_back:
        out.print(f"[yellow]rolled back[/] {line}", highlight=False)
    if report.checkpoint is not None:
        out.print(f"Checkpoint {report.checkpoint} records the rollback.", highlight=False)
    for problem in report.problems:
        out.print(f"[red]x[/] {problem}", highlight=False)
    if report.problems:
        out.print(f"{len(report.problems)} difference(s) found after the restore.")
        raise typer.Exit(1)
    out.print("Verified: every stored phase, reminder and event link agrees with the event log.")
