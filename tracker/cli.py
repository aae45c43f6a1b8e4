"""The ``journey`` command line. Thin: it parses, calls a service, and prints.

Exit codes: 0 done; 2 refused or unreadable input; 3 not found; 4 conflict (someone else wrote
first); 1 verification found differences.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from journey.errors import Conflict, EntryRefused, InvalidScenario, JourneyError, NotFound
from journey.pathway import PHASE_MEANING, Phase
from tracker.cli_audit import register as register_audit
from tracker.cli_demo import app as demo_app
from tracker.cli_ops import ops_app
from tracker.cli_reminders import register_commands, reminder_app
from tracker.cli_users import web_cli
from tracker.fhir.cli import register as register_fhir
from tracker.files import day_option
from tracker.settings import Settings

app = typer.Typer(help="Treatment-journey tracker for colorectal liver metastases.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
event_app = typer.Typer(help="Record clinical events.", no_args_is_help=True)
patient_app = typer.Typer(help="Look at patients.", no_args_is_help=True)
app.add_typer(event_app, name="event")
app.add_typer(patient_app, name="patient")
app.add_typer(web_cli)  # journey serve, journey user add|list|token
app.add_typer(demo_app, name="demo")
app.add_typer(reminder_app, name="reminder")
register_commands(app)  # journey scheduler, journey notifications
app.add_typer(ops_app)  # journey backup, journey restore

out = Console()
err = Console(stderr=True)

EXIT_CODES: list[tuple[type[JourneyError], int]] = [
    (EntryRefused, 2), (InvalidScenario, 2), (NotFound, 3), (Conflict, 4)]

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Map the error hierarchy to a message on stderr and an exit code, once."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except JourneyError as e:
            code = next((c for cls, c in EXIT_CODES if isinstance(e, cls)), 2)
            err.print(f"[bold red]Refused:[/] {e.message}" if code == 2 else f"[bold red]Error:[/] {e.message}",
                      highlight=False)
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


def _date(value: str | None, what: str = "--as-of") -> date | None:
    return day_option(value, what)


def _tracker() -> Any:
    from tracker.app import build_tracker

    return build_tracker(Settings())


AsOf = Annotated[str | None, typer.Option("--as-of", help="The day to look from (YYYY-MM-DD); default today.")]


@app.command()
@friendly
def replay(file: Annotated[Path, typer.Argument(help="A scenario file (YAML or JSON).")],
           as_json: Annotated[bool, typer.Option("--json", help="Print the contract JSON.")] = False,
           as_of: AsOf = None) -> None:
    """Replay a scenario in a throwaway in-memory database; nothing else is touched."""
    from tracker.app import throwaway_tracker
    from tracker.clock import SystemClock
    from tracker.files import load_scenario
    from tracker.services import replay_document

    scenario = load_scenario(file)
    settings = Settings()
    day = _date(as_of) or scenario.as_of or SystemClock(settings.site_timezone).today()
    tracker = throwaway_tracker(day, settings)
    report = tracker.import_scenario(scenario, actor="replay", source=file.name)
    view = tracker.patient_view(scenario.profile.ref, day)
    document = replay_document(view, report.refused, settings.synchronous_window_days)
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    from tracker.console import print_patient

    print_patient(out, view, refused=report.refused)


@app.command("import")
@friendly
def import_(path: Annotated[Path, typer.Argument(help="A scenario file or a folder of them.")]) -> None:
    """Load scenarios into the configured database. Importing the same file twice changes nothing."""
    from tracker.files import load_scenario, scenario_files

    tracker = _tracker()
    files = scenario_files(path)
    if not files:
        raise InvalidScenario(f"No scenario files (.yaml, .yml, .json) in {path}.")
    failed = 0
    for file in files:
        try:
            scenario = load_scenario(file)
            report = tracker.import_scenario(scenario, actor=tracker.settings.actor, source=file.name)
        except (InvalidScenario, EntryRefused) as e:
            failed += 1
            err.print(f"[red]{file.name}:[/] {e.message}", highlight=False)
            continue
        out.print(f"{file.name}: {report.sentence()}", highlight=False)
        for refusal in report.refused:
            out.print(f"   entry {refusal.seq} ({refusal.type}) refused: {refusal.reason}", highlight=False)
    if failed:
        raise typer.Exit(2)


@event_app.command("add", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@friendly
def event_add(ctx: typer.Context,
              ref: Annotated[str, typer.Argument(help="The patient reference.")],
              type_: Annotated[str, typer.Option("--type", help="The event type, e.g. reassessment.")],
              on: Annotated[str, typer.Option("--date", help="The day it happened (YYYY-MM-DD).")],
              override: Annotated[str | None, typer.Option(help="Why this off-pathway step is right.")] = None,
              note: Annotated[str | None, typer.Option(help="A free-text note.")] = None,
              expect_version: Annotated[int | None, typer.Option(help="Refuse if the patient changed.")] = None,
              ) -> None:
    """Record an event: `journey event add P-1 --type reassessment --date 2025-03-01 --response PR
    --resectable true`."""
    raw: dict[str, Any] = {"type": type_, "date": on}
    extra = list(ctx.args)
    while extra:
        key = extra.pop(0)
        if not key.startswith("--") or not extra:
            raise InvalidScenario(f"Give each field as --name value; {key!r} has no value.")
        raw[key[2:].replace("-", "_")] = extra.pop(0)
    if override:
        raw["override"] = override
    if note:
        raw["note"] = note
    tracker = _tracker()
    result = tracker.record_event(ref, raw, actor=tracker.settings.actor,
                                  expected_version=expect_version, source="cli")
    moved = (f"{result.phase_before} -> {result.phase_after}" if result.phase_before != result.phase_after
             else f"stays in {result.phase_after}")
    out.print(f"Recorded {result.event.type.value} of {result.event.date} for {ref} ({moved}); "
              f"now in {result.phase_now}.", highlight=False)


@patient_app.command("show")
@friendly
def patient_show(ref: str, as_of: AsOf = None) -> None:
    """Profile, phase, timeline, reminders, recommendations and deviations of one patient."""
    from tracker.console import print_patient

    view = _tracker().patient_view(ref, _date(as_of))
    print_patient(out, view)


@app.command()
@friendly
def worklist(as_of: AsOf = None,
             kind: Annotated[str | None, typer.Option(help="Only this reminder kind.")] = None,
             team: Annotated[str | None, typer.Option(help="Only this care team.")] = None,
             limit: Annotated[int, typer.Option(help="How many rows at most.")] = 200) -> None:
    """Every due and overdue reminder across patients, most urgent first."""
    tracker = _tracker()
    day = _date(as_of) or tracker.clock.today()
    items = tracker.worklist(day, limit=limit, kind=kind, team=team)
    if not items:
        out.print(f"Nothing due or overdue on {day}.")
        return
    table = Table(title=f"Worklist for {day}")
    for column in ("reminder", "patient", "phase", "what", "due on", "status"):
        table.add_column(column, no_wrap=column != "status")
    for item in items:
        style = "bold red" if item.status == "overdue" else "yellow"
        late = f" ({item.days_late} days)" if item.days_late else ""
        table.add_row(str(item.reminder_id), item.ref, item.phase, item.kind.replace("_", " "),
                      item.due_on.isoformat(), f"[{style}]{item.status.value}{late}[/]")
    out.print(table)


@app.command()
@friendly
def verify() -> None:
    """Prove that every stored phase, reminder and hash link equals what the event log implies."""
    tracker = _tracker()
    problems = list(tracker.verify())
    for problem in problems:
        out.print(f"[red]x[/] {problem}", highlight=False)
    if problems:
        out.print(f"{len(problems)} difference(s) found.")
        raise typer.Exit(1)
    out.print("Verified: every stored phase, reminder and event link agrees with the event log.")


@app.command()
def guideline(markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/guideline.md.")] = False,
              ) -> None:
    """The guideline rules: id, kind, seed line and the sentence shown to the clinician."""
    from journey import guideline as rules

    if markdown:
        from journey.guideline import guideline_markdown  # type: ignore[attr-defined]

        sys.stdout.write(guideline_markdown())
        return
    table = Table(title=f"Guideline rules (ruleset {rules.RULESET_VERSION})", show_lines=True)
    for column in ("id", "kind", "seed", "text"):
        table.add_column(column)
    for row in rules.rule_table():
        table.add_row(str(row["id"]), str(row["kind"]), str(row.get("seed_label") or row["seed"] or "-"), str(row["text"]))
    out.print(table)


@app.command()
def phases() -> None:
    """The phases of the pathway and what each means."""
    for phase in Phase:
        out.print(f"[bold]{phase.value:13}[/] {PHASE_MEANING[phase]}")


@patient_app.command("count")
def patient_count() -> None:
    """How many patients are registered (scripts use it)."""
    from db.repository import UnitOfWork

    tracker = _tracker()
    with UnitOfWork(tracker.engine) as repo:
        out.print(str(repo.patient_count()))


register_audit(app, friendly, _tracker)
register_fhir(app, friendly, _tracker)  # journey fhir export | import


def main() -> None:
    app()
