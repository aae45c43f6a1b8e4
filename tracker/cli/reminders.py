"""``journey reminder ack|snooze|dismiss|assign``: what a person does with a reminder."""

from __future__ import annotations

from typing import Annotated

import typer

from tracker.cli.common import day_option, friendly, open_tracker, say

reminder_app = typer.Typer(help="Act on a reminder: acknowledge, snooze, dismiss or assign it (ids: "
                                "journey worklist).", no_args_is_help=True)

ReminderId = Annotated[int, typer.Argument(help="The reminder id (first column of journey worklist).")]
Text = Annotated[str | None, typer.Option("--text", help="Free text (required with 'other').")]


@reminder_app.command("ack")
@friendly
def reminder_ack(reminder_id: ReminderId,
                 note: Annotated[str | None, typer.Option(help="A short note.")] = None) -> None:
    """Acknowledge a reminder: you have seen it and are on it."""
    tracker = open_tracker()
    say(tracker.act_on_reminder("acknowledge", reminder_id, tracker.settings.actor, text=note).sentence())


@reminder_app.command("snooze")
@friendly
def reminder_snooze(
        reminder_id: ReminderId,
        until: Annotated[str, typer.Option("--until", help="Hide it until this day (YYYY-MM-DD).")],
        reason: Annotated[str, typer.Option("--reason", help="awaiting_scan, awaiting_results, "
                                            "treatment_delayed, patient_request or other.")],
        text: Text = None) -> None:
    """Snooze a reminder until a day, with a coded reason."""
    tracker = open_tracker()
    day = day_option(until, "--until")
    say(tracker.act_on_reminder("snooze", reminder_id, tracker.settings.actor, until=day, reason=reason,
                                text=text).sentence())


@reminder_app.command("dismiss")
@friendly
def reminder_dismiss(
        reminder_id: ReminderId,
        reason: Annotated[str, typer.Option("--reason", help="patient_choice, toxicity, mdt_decision, "
                                            "progression or other.")],
        text: Text = None) -> None:
    """Dismiss a reminder with a coded justification (the audit reports it as justified)."""
    tracker = open_tracker()
    say(tracker.act_on_reminder("dismiss", reminder_id, tracker.settings.actor, reason=reason,
                                text=text).sentence())


@reminder_app.command("assign")
@friendly
def reminder_assign(
        reminder_id: ReminderId,
        to: Annotated[str | None, typer.Option("--to", help="The user name of the person who will be on it.")] = None,
        release: Annotated[bool, typer.Option("--release", help="Nobody is on it any more.")] = False) -> None:
    """Give a reminder to a person (a navigator or clinician), or release it."""
    if (to is None) == (not release):
        say("Give either --to NAME or --release.")
        raise typer.Exit(2)
    tracker = open_tracker()
    say(tracker.act_on_reminder("assign", reminder_id, tracker.settings.actor, person=to).sentence())
