"""``journey backup FILE`` and ``journey restore FILE``: the operations commands.

Registered in ``tracker.cli`` by one ``add_typer`` without a name, so both sit beside the other
commands. Errors go through ``tracker.cli.friendly`` (looked up when a command runs, because
``tracker.cli`` imports this module while it is itself being imported).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from tracker.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

ops_app = typer.Typer()
out = Console()


def friendly(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tracker.cli import friendly as map_errors

        return map_errors(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@ops_app.command("backup")
@friendly
def backup_command(
        file: Annotated[Path, typer.Argument(help="Where to write the backup (a new file).")],
        overwrite: Annotated[bool, typer.Option(help="Replace FILE if it exists.")] = False) -> None:
    """Back up the configured database while it runs (SQLite online backup; pg_dump for PostgreSQL)."""
    from tracker.backup import backup

    size = backup(Settings().database_url, file, overwrite=overwrite)
    out.print(f"Backed up to {file} ({size // 1024} KB). Restore it with: journey restore {file}",
              highlight=False)


@ops_app.command("restore")
@friendly
def restore_command(
        file: Annotated[Path, typer.Argument(help="A file written by `journey backup`.")],
        replace: Annotated[bool, typer.Option(
            help="Allow replacing a database that already holds patients.")] = False) -> None:
    """Replace the configured database's content by a backup, then verify it (exit 1 if it differs).
    Stop the web app and the scheduler first."""
    from tracker.backup import restore

    report = restore(Settings().database_url, file, replace=replace)
    out.print(f"Restored {file}: {report.patients} patient(s), {report.events} event(s).", highlight=False)
    for problem in report.problems:
        out.print(f"[red]x[/] {problem}", highlight=False)
    if report.problems:
        out.print(f"{len(report.problems)} difference(s) found after the restore.")
        raise typer.Exit(1)
    out.print("Verified: every stored phase, reminder and event link agrees with the event log.")
