"""``journey scheduler`` (the pacemaker, or one sweep and delivery round with ``--once``) and
``journey notifications`` (the outbox: what waits, what failed and why)."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
from rich.table import Table

from tracker.cli.common import day_option, friendly, open_tracker, out, say
from tracker.compose import run_scheduler

#: the commands that sit at the top of ``journey`` (added without a name)
commands = typer.Typer()


@commands.command("scheduler")
@friendly
def scheduler_command(
        once: Annotated[bool, typer.Option("--once", help="One sweep and one delivery round, then exit.")]
        = False,
        as_of: Annotated[str | None, typer.Option("--as-of", help="With --once: the day to sweep "
                                                  "(YYYY-MM-DD); default today.")] = None) -> None:
    """Run the scheduler: sweeps, notification delivery and the daily digest (docs/scheduler.md)."""
    tracker = open_tracker()
    if once:
        say(tracker.sweep(day_option(as_of) or tracker.clock.today()).sentence())
        say(tracker.deliver().sentence())
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


@commands.command("notifications")
@friendly
def notifications_command(
        failed: Annotated[bool, typer.Option("--failed", help="Only those that failed after the last "
                                             "attempt (exit 1 if there are any).")] = False,
        all_: Annotated[bool, typer.Option("--all", help="Also those sent or superseded.")] = False,
        retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Offer every failed one "
                                                   "again (after fixing the channel).")] = False,
        limit: Annotated[int, typer.Option(help="How many rows at most.")] = 200) -> None:
    """The notification outbox: what is waiting, what failed and why (default: not yet sent)."""
    tracker = open_tracker()
    if retry_failed:
        say(f"{tracker.requeue_failed_notifications()} failed notification(s) offered again.")
        return
    rows = tracker.notifications(failed_only=failed, everything=all_, limit=limit)
    if not rows:
        say("No failed notifications." if failed else "No notifications waiting or failed.")
        return
    table = Table(title="Notifications")
    for column in ("id", "state", "channel", "what", "attempts", "next attempt", "last error"):
        table.add_column(column)
    for row in rows:
        p = row.payload
        what = (f"digest {p.get('care_team')} {p.get('date')}" if row.kind == "digest"
                else f"checkpoint {p.get('statement', {}).get('sequence')}" if row.kind == "checkpoint"
                else f"{p.get('patient')} {p.get('kind')} {row.status} (due {p.get('due_on')})")
        style = {"failed": "bold red", "sent": "green", "superseded": "dim"}.get(row.state, "yellow")
        table.add_row(str(row.id), f"[{style}]{row.state}[/]", row.channel, what, str(row.attempts),
                      row.next_attempt_at.isoformat(timespec="seconds") if row.waiting else "",
                      row.last_error or "")
    out.print(table)
    if failed:
        raise typer.Exit(1)
