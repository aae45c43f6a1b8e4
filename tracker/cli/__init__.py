"""The ``journey`` command line. Thin: each command parses, calls the Tracker, and prints.

Each module holds one group of commands; this one puts them together, one line each (a new
group, say ``fhir``, is one more ``app.add_typer``). Exit codes: 0 done; 2 refused or unreadable
input; 3 not found; 4 conflict (someone else wrote first); 1 verification found differences.
"""

from __future__ import annotations

import typer

from tracker.cli import audit, operations, patients, scheduler, users
from tracker.cli.demo import demo_app
from tracker.cli.evidence import checkpoint_app
from tracker.cli.fhir import fhir_app
from tracker.cli.reminders import reminder_app

app = typer.Typer(help="Treatment-journey tracker for colorectal liver metastases.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
app.add_typer(patients.commands)  # replay, import, event add, patient show|count, worklist, verify, ...
app.add_typer(audit.commands)  # audit, export xes
app.add_typer(reminder_app, name="reminder")  # reminder ack|snooze|dismiss
app.add_typer(scheduler.commands)  # scheduler, notifications
app.add_typer(users.commands)  # user add|list|token, serve
app.add_typer(operations.commands)  # backup, restore
app.add_typer(demo_app, name="demo")  # demo generate
app.add_typer(fhir_app, name="fhir")  # fhir export|import (docs/fhir.md)
app.add_typer(checkpoint_app, name="checkpoint")  # checkpoint, checkpoint keygen|proof


def main() -> None:
    app()
