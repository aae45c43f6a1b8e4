"""``journey fhir export`` and ``journey fhir import``: FHIR R4 / mCODE STU4 out and in (docs/fhir.md).
Thin: parse, call the Tracker, print.

Exit codes as every command: 0 done, 2 refused or unreadable, 3 no such patient, 4 the input
contradicts what is recorded.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from journey.errors import InvalidScenario
from tracker.application import FhirImportReport, load_fhir_documents
from tracker.cli.common import day_option, friendly, open_tracker, out, progress_bar, say

fhir_app = typer.Typer(help="FHIR R4 / mCODE STU4: export journeys, import them (docs/fhir.md).",
                       no_args_is_help=True)


@fhir_app.command("export")
@friendly
def export(ref: Annotated[str | None, typer.Argument(help="The patient reference (leave out with --all).")] = None,
           all_: Annotated[bool, typer.Option("--all", help="The whole cohort as FHIR Bulk Data NDJSON (needs --out).")] = False,
           out_: Annotated[Path | None, typer.Option("--out", help="A folder (with --all) or a file for the bundle.")] = None,
           pseudonymous: Annotated[bool, typer.Option("--pseudonymous", help="Pseudonyms instead of references; no notes or other free text.")] = False,
           as_of: Annotated[str | None, typer.Option("--as-of", help="The day the reminders are seen from (YYYY-MM-DD); default today.")] = None,
           ) -> None:
    """Export one patient as an mCODE bundle, or the cohort as FHIR Bulk Data NDJSON.

    `journey fhir export P-1` prints the bundle; `journey fhir export --all --out DIR` writes one
    NDJSON file per resource type."""
    day = day_option(as_of, "--as-of")
    if all_:
        if ref is not None or out_ is None:
            raise InvalidScenario("Give either a patient reference, or --all with --out FOLDER.")
        tracker = open_tracker()
        with progress_bar(tracker, "FHIR export") as done:
            counts = tracker.export_fhir_ndjson(out_, pseudonymous, day, progress=done)
        say(counts_sentence(counts, out_))
        return
    if ref is None:
        raise InvalidScenario("Give the patient reference to export (or --all --out FOLDER for the cohort).")
    bundle = open_tracker().fhir_bundle(ref, pseudonymous, day)
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if out_ is None:
        sys.stdout.write(text)
    else:
        out_.write_text(text, encoding="utf-8")
        say(f"Wrote the bundle of {ref} ({len(bundle['entry'])} resources) to {out_}.")


@fhir_app.command("import")
@friendly
def import_(path: Annotated[Path, typer.Argument(help="A Bundle or resource (.json), NDJSON (.ndjson), or a folder of them.")],
            ) -> None:
    """Import mCODE resources: what maps is recorded, what does not is listed with why.

    The same checks as every entry; a patient is recorded whole or not at all, and importing the
    same data twice changes nothing."""
    documents = load_fhir_documents(path)
    tracker = open_tracker()
    report = tracker.import_fhir(documents, actor=tracker.settings.actor, source=f"fhir:{path.name}")
    report.raise_if_nothing_recorded()  # nothing recorded: the one error, with every reason
    for line in summary_lines(report):
        out.print(line, highlight=False, soft_wrap=True)
    if any(p.status == "contradicts" for p in report.patients):
        raise typer.Exit(4)
    if any(p.status == "refused" for p in report.patients):
        raise typer.Exit(2)


def summary_lines(report: FhirImportReport) -> list[str]:
    """The import report in sentences."""
    lines: list[str] = []
    for p in report.patients:
        lines.append(p.message if p.status != "imported" else f"{p.read.resource}: {p.message}")
        lines += [f"   refused: {line}" for line in p.refused_entries]
        lines += [f"   not imported: {u.sentence()}" for u in p.read.unmapped]
        if p.read.derived:
            lines.append(f"   {len(p.read.derived)} reminder(s) as Task read, not imported: the tracker "
                         f"derives reminders from the entries")
    lines += [f"not imported: {u.sentence()}" for u in report.unmapped]
    return lines


def counts_sentence(counts: Mapping[str, int], folder: Path) -> str:
    parts = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    return f"Wrote {sum(counts.values())} resources to {folder}: {parts or 'none'}."
