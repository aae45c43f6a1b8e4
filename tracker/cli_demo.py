"""``journey demo``: a synthetic cohort for demonstrations and benchmarks (tracker.demo)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="A synthetic cohort for demonstrations and benchmarks.", no_args_is_help=True)
out = Console()


@app.command()
def generate(
    patients: Annotated[int, typer.Option("--patients", "-n", min=1, help="How many patients.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same cohort.")] = 1,
    bulk: Annotated[bool, typer.Option("--bulk", help="Write rows in batches (fast; for 100,000+).")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Place the journeys relative to this "
                                                                 "day (YYYY-MM-DD); default today.")] = None,
    start: Annotated[int, typer.Option("--start", min=0, help="First patient index (SYN-<index>).")] = 0,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Patients per transaction (--bulk).")] = 2000,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes generating rows (--bulk).")] = 1,
) -> None:
    """Generate a synthetic cohort into the configured database."""
    from tracker.app import build_tracker
    from tracker.clock import FixedClock
    from tracker.demo import bulk_generate, generate_cohort, import_cohort
    from tracker.settings import Settings

    settings = Settings()
    tracker = build_tracker(settings)
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            out.print(f"[red]--as-of must be a date written as YYYY-MM-DD, not {as_of!r}.[/]")
            raise typer.Exit(2) from None
        tracker.clock = FixedClock(day)
    day = tracker.clock.today()
    if bulk:
        report = bulk_generate(tracker.engine, patients, seed, day, tracker.clock.now(),
                               settings=tracker.pathway, batch=batch, workers=workers, start=start,
                               progress=True)
    else:
        report = import_cohort(tracker, generate_cohort(patients, seed, day, start=start),
                               progress=True, total=patients)
    rate = report.events / report.seconds if report.seconds else 0.0
    out.print(f"{report.patients} patients, {report.events} events "
              f"({report.refused} refused) in {report.seconds:.1f} s ({rate:,.0f} events/s), "
              f"journeys placed relative to {day.isoformat()}.")
    if report.refused:
        raise typer.Exit(1)
