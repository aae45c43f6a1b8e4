"""``journey audit`` and ``journey export xes``: the cohort audit and its exports."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from journey.cohort import CohortAudit
from tracker.audit import AuditedJourney, audited_journeys, patient_count
from tracker.exports import CSV_COLUMNS, JourneyTrace, PatientDeviations, write_deviations_csv, write_xes
from tracker.files import day_option

export_app = typer.Typer(help="Export the event log for other tools.", no_args_is_help=True)
err = Console(stderr=True)


def _progress() -> Progress:
    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeRemainingColumn(), console=err, transient=True,
                    disable=not err.is_terminal)


def _journeys(tracker, as_of: date, start: date | None, end: date | None,  # type: ignore[no-untyped-def]
              label: str, replay: bool = False, details: bool = True) -> Iterator[AuditedJourney]:
    total = patient_count(tracker)
    with _progress() as bar:
        task = bar.add_task(label, total=total)
        yield from audited_journeys(tracker, as_of, start, end, replay=replay, details=details,
                                    progress=lambda n: bar.update(task, completed=n))


def register(app: typer.Typer, friendly, tracker_factory) -> None:  # type: ignore[no-untyped-def]
    """Add the audit and export commands to the main CLI."""

    @app.command()
    @friendly
    def audit(as_json: Annotated[bool, typer.Option("--json", help="Print the cohort audit as JSON.")] = False,
              csv_file: Annotated[Path | None, typer.Option("--csv", help="Write one row per deviation.")] = None,
              html_file: Annotated[Path | None, typer.Option("--html", help="Write the report.")] = None,
              start: Annotated[str | None, typer.Option("--from", help="Metastases found on or after.")] = None,
              end: Annotated[str | None, typer.Option("--to", help="Metastases found on or before; "
                                                                   "also the day judged.")] = None,
              identified: Annotated[bool, typer.Option(help="Real references instead of pseudonyms.")] = False,
              suppress_below: Annotated[int, typer.Option(help="Hide cells under this many patients.")] = 5,
              ) -> None:
        """Pathway adherence over the cohort: rates per check, synchronous vs metachronous."""
        tracker = tracker_factory()
        day_from, day_to = day_option(start, "--from"), day_option(end, "--to")
        as_of = day_to or tracker.clock.today()
        cohort = CohortAudit()
        csv_out = csv_file.open("w", encoding="utf-8", newline="") if csv_file else None

        def patients() -> Iterator[PatientDeviations]:
            details = csv_out is not None  # the deviations in full, only for the CSV
            for journey in _journeys(tracker, as_of, day_from, day_to, "Auditing", details=details):
                journey.count_into(cohort)
                deviations = journey.adherence.deviations if journey.adherence is not None else []
                yield PatientDeviations(journey.ref, journey.timing, deviations)

        try:
            if csv_out is not None:
                rows = write_deviations_csv(csv_out, patients(), key=tracker.settings.pseudonym_key,
                                            identified=identified)
            else:
                rows = sum(1 for _ in patients())
        finally:
            if csv_out is not None:
                csv_out.close()
        summary = cohort.summary(suppress_below=suppress_below)
        summary["as_of"] = as_of.isoformat()
        if day_from or day_to:
            summary["period"] = {"from": start, "to": end}
        if html_file is not None:
            from tracker.reports.audit_html import write_audit_html

            period = f"metastases found {start or '…'} to {end or '…'}" if (start or end) else None
            write_audit_html(html_file, cohort, suppress_below=suppress_below, generated_on=as_of,
                             period=period, grace_days=tracker.pathway.reminder_grace_days)
            err.print(f"Report written to {html_file}")
        if csv_file is not None:
            err.print(f"{rows} deviation row(s) written to {csv_file} ({', '.join(CSV_COLUMNS[:3])}, ...)"
                      + ("" if identified else "; references are pseudonymous"))
        if as_json or (html_file is None and csv_file is None):
            sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")

    @export_app.command("xes")
    @friendly
    def export_xes(file: Annotated[Path, typer.Argument(help="The .xes file to write.")],
                   identified: Annotated[bool, typer.Option(help="Real references.")] = False,
                   as_of: Annotated[str | None, typer.Option("--as-of")] = None) -> None:
        """The event log as IEEE 1849 XES: one trace per patient, for process-mining tools."""
        tracker = tracker_factory()
        day = day_option(as_of, "--as-of") or tracker.clock.today()
        with file.open("w", encoding="utf-8") as out:
            traces = (JourneyTrace(j.ref, j.timing, j.outcome.steps)
                      for j in _journeys(tracker, day, None, None, "Exporting", replay=True)
                      if j.outcome is not None)
            count = write_xes(out, traces, key=tracker.settings.pseudonym_key, identified=identified)
        err.print(f"{count} trace(s) written to {file}")

    app.add_typer(export_app, name="export")
