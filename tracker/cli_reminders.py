"""``journey reminder ack|snooze|dismiss``, ``journey scheduler`` and ``journey notifications``.

Registered on the main app by ``tracker.cli``. The helpers of ``tracker.cli`` (error mapping,
date parsing, the tracker) are imported when a command runs, not at import time, because
``tracker.cli`` imports this module while it is itself being imported.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])

reminder_app = typer.Typer(help="Act on a reminder: acknowledge, snooze or dismiss it (ids: journey "
                                "worklist).", no_args_is_help=True)


def friendly(func: F) -> F:
    """``tracker.cli.friendly``, looked up when the command runs."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from tracker.cli import friendly as map_errors

        return map_errors(func)(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _tracker() -> Any:
    from tracker.cli import _tracker as build

    return build()


def _print(text: str) -> None:
    from tracker.cli import out

    out.print(text, highlight=False)


ReminderId = Annotated[int, typer.Argument(help="The reminder id (first column of journey worklist).")]
Text = Annotated[str | None, typer.Option("--text", help="Free text (required with 'other').")]


@reminder_app.command("ack")
@friendly
def reminder_ack(reminder_id: ReminderId,
                 note: Annotated[str | None, typer.Option(help="A short note.")] = None) -> None:
    """Acknowledge a reminder: you have seen it and are on it."""
    from tracker.reminder_actions import acknowledge

    tracker = _tracker()
    _print(acknowledge(tracker, reminder_id, tracker.settings.actor, note).sentence())


@reminder_app.command("snooze")
@friendly
def reminder_snooze(
        reminder_id: ReminderId,
        until: Annotated[str, typer.Option("--until", help="Hide it until this day (YYYY-MM-DD).")],
        reason: Annotated[str, typer.Option("--reason", help="awaiting_scan, awaiting_results, "
                                            "treatment_delayed, patient_request or other.")],
        text: Text = None) -> None:
    """Snooze a reminder until a day, with a coded reason."""
    from tracker.cli import _date
    from tracker.reminder_actions import snooze

    tracker = _tracker()
    day = _date(until, "--until")
    assert day is not None
    _print(snooze(tracker, reminder_id, day, reason, tracker.settings.actor, text).sentence())


@reminder_app.command("dismiss")
@friendly
def reminder_dismiss(
        reminder_id: ReminderId,
        reason: Annotated[str, typer.Option("--reason", help="patient_choice, toxicity, mdt_decision, "
                                            "progression or other.")],
        text: Text = None) -> None:
    """Dismiss a reminder with a coded justification (the audit reports it as justified)."""
    from tracker.reminder_actions import dismiss

    tracker = _tracker()
    _print(dismiss(tracker, reminder_id, reason, tracker.settings.actor, text).sentence())


@friendly
def scheduler_command(
        once: Annotated[bool, typer.Option("--once", help="One sweep and one delivery round, then exit.")]
        = False,
        as_of: Annotated[str | None, typer.Option("--as-of", help="With --once: the day to sweep "
                                                  "(YYYY-MM-DD); default today.")] = None) -> None:
    """Run the scheduler: sweeps, notification delivery and the daily digest (docs/scheduler.md)."""
    import logging
    import signal
    import threading

    from tracker.cli import _date
    from tracker.scheduler import run_once, run_scheduler

    tracker = _tracker()
    if once:
        report = run_once(tracker, _date(as_of))
        _print(report.sweep.sentence())
        _print(report.delivery.sentence())
        return
    if as_of is not None:
        raise typer.BadParameter("--as-of goes with --once; the running scheduler follows the clock.")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("transitions").setLevel(logging.WARNING)  # one line per state callback
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_scheduler(tracker, stop)


@friendly
def notifications_command(
        failed: Annotated[bool, typer.Option("--failed", help="Only those that failed after the last "
                                             "attempt (exit 1 if there are any).")] = False,
        all_: Annotated[bool, typer.Option("--all", help="Also those sent or superseded.")] = False,
        retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Offer every failed one "
                                                   "again (after fixing the channel).")] = False,
        limit: Annotated[int, typer.Option(help="How many rows at most.")] = 200) -> None:
    """The notification outbox: what is waiting, what failed and why (default: not yet sent)."""
    from rich.table import Table

    from tracker.cli import out
    from tracker.notify import FAILED, PENDING, SENDING, list_notifications, requeue_failed

    tracker = _tracker()
    if retry_failed:
        _print(f"{requeue_failed(tracker.engine)} failed notification(s) offered again.")
        return
    states = None if all_ else [FAILED] if failed else [PENDING, SENDING, FAILED]
    rows = list_notifications(tracker.engine, states, limit)
    if not rows:
        _print("No failed notifications." if failed else "No notifications waiting or failed.")
        return
    table = Table(title="Notifications")
    for column in ("id", "state", "channel", "what", "attempts", "next attempt", "last error"):
        table.add_column(column)
    for row in rows:
        p = row.payload
        what = (f"digest {p.get('care_team')} {p.get('date')}" if row.kind == "digest"
                else f"{p.get('patient')} {p.get('kind')} {row.status} (due {p.get('due_on')})")
        style = {"failed": "bold red", "sent": "green", "superseded": "dim"}.get(row.state, "yellow")
        table.add_row(str(row.id), f"[{style}]{row.state}[/]", row.channel, what, str(row.attempts),
                      row.next_attempt_at.isoformat(timespec="seconds") if row.state in (PENDING, SENDING)
                      else "", row.last_error or "")
    out.print(table)
    if failed:
        raise typer.Exit(1)


def register_commands(app: typer.Typer) -> None:
    """Add ``journey scheduler`` and ``journey notifications`` (``reminder_app`` is added by name)."""
    app.command("scheduler")(scheduler_command)
    app.command("notifications")(notifications_command)
