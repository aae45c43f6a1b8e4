"""``journey audit`` and ``journey export xes``: the cohort audit and its exports."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from tracker.application import CSV_COLUMNS
from tracker.cli.common import day_option, err, friendly, open_tracker, progress_bar

#: the commands that sit at the top of ``journey`` (added without a name)
commands = typer.Typer()
export_app = typer.Typer(help="Export the event log for other tools.", no_args_is_help=True)
commands.add_typer(export_app, name="export")


@commands.command()
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
    tracker = open_tracker()
    day_from, day_to = day_option(start, "--from"), day_option(end, "--to")
    csv_out = csv_file.open("w", encoding="utf-8", newline="") if csv_file else None
    try:
        with progress_bar(tracker, "Auditing") as read:
            run = tracker.run_audit(day_to, day_from, day_to, csv=csv_out, identified=identified,
                                    progress=read)
    finally:
        if csv_out is not None:
            csv_out.close()
    if csv_file is not None or html_file is not None:
        tracker.users.log(tracker.settings.actor, "export", detail=(
            f"audit{' csv' if csv_file else ''}{' html' if html_file else ''}"
            f"{' identified' if identified else ''}"))
    summary = run.cohort.summary(suppress_below=suppress_below)
    summary["as_of"] = run.as_of.isoformat()
    if day_from or day_to:
        summary["period"] = {"from": start, "to": end}
    if html_file is not None:
        period = f"metastases found {start or '…'} to {end or '…'}" if (start or end) else None
        tracker.audit_report_html(run, suppress_below=suppress_below, period=period, file=html_file)
        err.print(f"Report written to {html_file}")
    if csv_file is not None:
        err.print(f"{run.csv_rows} deviation row(s) written to {csv_file} ({', '.join(CSV_COLUMNS[:3])}, ...)"
                  + ("" if identified else "; references are pseudonymous"))
    if as_json or (html_file is None and csv_file is None):
        sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")


@export_app.command("xes")
@friendly
def export_xes(file: Annotated[Path, typer.Argument(help="The .xes file to write.")],
               identified: Annotated[bool, typer.Option(help="Real references.")] = False,
               as_of: Annotated[str | None, typer.Option("--as-of")] = None) -> None:
    """The event log as IEEE 1849 XES: one trace per patient, for process-mining tools."""
    tracker = open_tracker()
    with file.open("w", encoding="utf-8") as out, progress_bar(tracker, "Exporting") as read:
        count = tracker.write_event_log_xes(out, day_option(as_of), identified=identified, progress=read)
    tracker.users.log(tracker.settings.actor, "export", detail=f"xes{' identified' if identified else ''}")
    err.print(f"{count} trace(s) written to {file}")
