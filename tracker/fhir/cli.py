"""``journey fhir export`` and ``journey fhir import`` (docs/fhir.md). Thin: parse, call the
FhirExchange, print.

Exit codes as every command: 0 done, 2 refused or unreadable, 3 no such patient, 4 the input
contradicts what is recorded.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from journey.errors import InvalidScenario

out = Console()


def register(app: typer.Typer, friendly: Callable[[Any], Any], tracker_factory: Callable[[], Any]) -> None:
    """Add the ``fhir`` commands to the ``journey`` program."""
    fhir_app = typer.Typer(help="FHIR R4 / mCODE STU4: export journeys, import them (docs/fhir.md).",
                           no_args_is_help=True)
    app.add_typer(fhir_app, name="fhir")

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
        from tracker.fhir.service import FhirExchange, counts_sentence
        from tracker.files import day_option

        day = day_option(as_of, "--as-of")
        exchange = FhirExchange(tracker_factory())
        if all_:
            if ref is not None or out_ is None:
                raise InvalidScenario("Give either a patient reference, or --all with --out FOLDER.")
            from tracker.demo import _progress  # the same progress bar as journey demo generate

            with _progress(True, exchange.patient_count(), "FHIR export") as advance:
                counts = exchange.export_ndjson(out_, pseudonymous, day, advance)
            out.print(counts_sentence(counts, out_), highlight=False)
            return
        if ref is None:
            raise InvalidScenario("Give the patient reference to export (or --all --out FOLDER for the cohort).")
        bundle = exchange.patient_bundle(ref, pseudonymous, day)
        text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
        if out_ is None:
            sys.stdout.write(text)
        else:
            out_.write_text(text, encoding="utf-8")
            out.print(f"Wrote the bundle of {ref} ({len(bundle['entry'])} resources) to {out_}.",
                      highlight=False)

    @fhir_app.command("import")
    @friendly
    def import_(path: Annotated[Path, typer.Argument(help="A Bundle or resource (.json), NDJSON (.ndjson), or a folder of them.")],
                ) -> None:
        """Import mCODE resources: what maps is recorded, what does not is listed with why.

        The same checks as every entry; a patient is recorded whole or not at all, and importing the
        same data twice changes nothing."""
        from tracker.fhir.service import FhirExchange, load_documents, summary_lines

        documents = load_documents(path)
        tracker = tracker_factory()
        report = FhirExchange(tracker).import_documents(documents, actor=tracker.settings.actor,
                                                        source=f"fhir:{path.name}")
        report.raise_if_nothing_recorded()  # nothing recorded: the one error, with every reason
        for line in summary_lines(report):
            out.print(line, highlight=False, soft_wrap=True)
        if any(p.status == "contradicts" for p in report.patients):
            raise typer.Exit(4)
        if any(p.status == "refused" for p in report.patients):
            raise typer.Exit(2)
