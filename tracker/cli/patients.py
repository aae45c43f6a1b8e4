"""The patient record on the command line: ``replay``, ``import``, ``event add``, ``patient
show|count``, ``worklist``, ``verify``, and the pathway's own ``phases`` and ``guideline``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from journey import guideline as rules
from journey.errors import EntryRefused, InvalidScenario
from journey.pathway import PHASE_MEANING, Phase
from tracker.application import load_scenario, replay_document, scenario_files
from tracker.cli.common import AsOf, day_option, err, friendly, open_tracker, out
from tracker.cli.console import print_patient
from tracker.compose import throwaway_tracker

#: the commands that sit at the top of ``journey`` (added without a name)
commands = typer.Typer()
event_app = typer.Typer(help="Record clinical events.", no_args_is_help=True)
patient_app = typer.Typer(help="Look at patients.", no_args_is_help=True)
commands.add_typer(event_app, name="event")
commands.add_typer(patient_app, name="patient")


@commands.command()
@friendly
def replay(file: Annotated[Path, typer.Argument(help="A scenario file (YAML or JSON).")],
           as_json: Annotated[bool, typer.Option("--json", help="Print the contract JSON.")] = False,
           as_of: AsOf = None) -> None:
    """Replay a scenario in a throwaway in-memory database; nothing else is touched."""
    scenario = load_scenario(file)
    tracker = throwaway_tracker(day_option(as_of) or scenario.as_of)
    day = tracker.clock.today()
    report = tracker.import_scenario(scenario, actor="replay", source=file.name)
    view = tracker.patient_view(scenario.profile.ref, day)
    if as_json:
        document = replay_document(view, report.refused, tracker.pathway.synchronous_window_days)
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return
    print_patient(out, view, refused=report.refused)


@commands.command("import")
@friendly
def import_(path: Annotated[Path, typer.Argument(help="A scenario file or a folder of them.")]) -> None:
    """Load scenarios into the configured database. Importing the same file twice changes nothing."""
    tracker = open_tracker()
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
            message = e.message.removeprefix(f"{file.name}: ")  # load_scenario names the file
            err.print(f"[red]{file.name}:[/] {message}", highlight=False)
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
              override: Annotated[str | None, typer.Option(help="Why this off-pathway step is right (words; with --override-code REASON for the coded reason: toxicity_or_comorbidity, prior_treatment, new_indication, continued_from_elsewhere, mdt_rationale, patient_preference).")] = None,
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
    tracker = open_tracker()
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
    tracker = open_tracker()
    view = tracker.patient_view(ref, day_option(as_of))
    tracker.users.log(tracker.settings.actor, "read", view.row.ref)
    print_patient(out, view)


@patient_app.command("count")
@friendly
def patient_count() -> None:
    """How many patients are registered (scripts use it)."""
    out.print(str(open_tracker().patient_count()))


@commands.command()
@friendly
def worklist(as_of: AsOf = None,
             kind: Annotated[str | None, typer.Option(help="Only this reminder kind.")] = None,
             team: Annotated[str | None, typer.Option(help="Only this care team.")] = None,
             limit: Annotated[int, typer.Option(help="How many rows at most.")] = 200) -> None:
    """Every due and overdue reminder across patients, most urgent first."""
    tracker = open_tracker()
    day = day_option(as_of) or tracker.clock.today()
    items = tracker.worklist(day, limit=limit, kind=kind, team=team)
    tracker.users.log_shown(tracker.settings.actor, "worklist", [i.ref for i in items],
                            detail=f"kind={kind or '*'} team={team or '*'} n={len(items)}")
    if not items:
        out.print(f"Nothing due or overdue on {day}.")
        return
    table = Table(title=f"Worklist for {day}")
    for column in ("reminder", "patient", "phase", "what", "due on", "status", "who"):
        table.add_column(column, no_wrap=column in ("reminder", "patient", "due on"))
    for item in items:
        style = "bold red" if item.status == "overdue" else "yellow"
        table.add_row(str(item.reminder_id), item.ref, item.phase, item.kind.replace("_", " "),
                      item.due_on.isoformat(), f"[{style}]{item.timing}[/]",
                      item.assignee or "not yet taken")
    out.print(table)


@commands.command()
@friendly
def verify(
        checkpoints: Annotated[Path | None, typer.Option(
            "--checkpoints", help="Also prove that the database extends every checkpoint in this directory "
                                  "(or file).")] = None,
        public_key: Annotated[list[Path] | None, typer.Option(
            "--public-key", help="A file of trusted public keys (repeatable); default "
                                 "JOURNEY_CHECKPOINT_PUBLIC_KEYS.")] = None) -> None:
    """Prove that every stored phase, reminder and hash link equals what the event log implies; with
    --checkpoints, that no entry a checkpoint witnessed was changed, removed or reordered."""
    tracker = open_tracker()
    if checkpoints is None:
        problems, notes = list(tracker.verify()), []
    else:
        found = tracker.verify_with_checkpoints(checkpoints, public_key or None)
        problems, notes = found.problems, found.notes
    for problem in problems:
        out.print(f"[red]x[/] {problem}", highlight=False)
    for note in notes:
        out.print(f"  {note}", highlight=False)
    if problems:
        out.print(f"{len(problems)} difference(s) found.")
        raise typer.Exit(1)
    out.print("Verified: every stored phase, reminder and event link agrees with the event log"
              + (", and the database extends every checkpoint." if checkpoints else "."))


@commands.command()
def guideline(markdown: Annotated[bool, typer.Option("--markdown", help="Print docs/guideline.md.")] = False,
              ) -> None:
    """The guideline rules: id, kind, seed line and the sentence shown to the clinician."""
    if markdown:
        sys.stdout.write(rules.guideline_markdown())
        return
    table = Table(title=f"Guideline rules (ruleset {rules.RULESET_VERSION})", show_lines=True)
    for column in ("id", "kind", "seed", "text"):
        table.add_column(column)
    for row in rules.rule_table():
        table.add_row(str(row["id"]), str(row["kind"]), str(row.get("seed_label") or row["seed"] or "-"), str(row["text"]))
    out.print(table)


@commands.command()
def phases() -> None:
    """The phases of the pathway and what each means."""
    for phase in Phase:
        out.print(f"[bold]{phase.value:13}[/] {PHASE_MEANING[phase]}")
