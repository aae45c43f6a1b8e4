"""What every command of the ``journey`` CLI shares: the consoles, the one mapping of the error
hierarchy to messages and exit codes (:func:`friendly`), dates typed on the command line, and the
tracker each command works on (built at the composition root, tracker.compose)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from journey.errors import Conflict, EntryRefused, InvalidScenario, JourneyError, NotFound
from tracker.application import Settings, Tracker
from tracker.compose import build_tracker, require_secrets

out = Console()
err = Console(stderr=True)

#: the error hierarchy mapped to exit codes, once (first match wins; anything else: 2)
EXIT_CODES: list[tuple[type[JourneyError], int]] = [
    (EntryRefused, 2), (InvalidScenario, 2), (NotFound, 3), (Conflict, 4)]

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Map the error hierarchy to a message on stderr and an exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except JourneyError as e:
            code = next((c for cls, c in EXIT_CODES if isinstance(e, cls)), 2)
            err.print(f"[bold red]Refused:[/] {e.message}" if code == 2 else f"[bold red]Error:[/] {e.message}",
                      highlight=False)
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature Typer reads


def day_option(value: str | None, what: str = "--as-of") -> date | None:
    """A date typed on the command line (YYYY-MM-DD), or None when not given."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidScenario(f"{what} must be a date written as YYYY-MM-DD, not {value!r}.") from None


def open_tracker(migrate: bool = True, as_of: date | None = None, secrets: bool = True) -> Tracker:
    """The tracker on the configured database (the settings are read now, once). Refuses to open
    the site's records without the site's secrets (tracker.compose.require_secrets); only the
    synthetic demo asks for ``secrets=False``."""
    settings = Settings()
    if secrets:
        require_secrets(settings)
    return build_tracker(settings, migrate=migrate, as_of=as_of)


@contextmanager
def progress_bar(tracker: Tracker, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar over every patient on stderr (a terminal only); yields ``done(n)``, told
    how many patients are done so far."""
    total = tracker.patient_count()
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True,
                  disable=not err.is_terminal) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.update(task, completed=n)


def say(text: str) -> None:
    out.print(text, highlight=False)


AsOf = Annotated[str | None, typer.Option("--as-of", help="The day to look from (YYYY-MM-DD); default today.")]
