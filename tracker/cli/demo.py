"""``journey demo generate``: a synthetic cohort for demonstrations and benchmarks (tracker.demo)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from tracker.cli.common import open_tracker, out

demo_app = typer.Typer(help="A synthetic cohort for demonstrations and benchmarks.", no_args_is_help=True)


@demo_app.command()
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
    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            out.print(f"[red]--as-of must be a date written as YYYY-MM-DD, not {as_of!r}.[/]")
            raise typer.Exit(2) from None
    tracker = open_tracker(as_of=day, secrets=False)  # synthetic patients: no site secrets needed
    report = tracker.generate_demo_cohort(patients, seed, bulk=bulk, start=start, batch=batch,
                                          workers=workers, progress=True)
    rate = report.events / report.seconds if report.seconds else 0.0
    out.print(f"{report.patients} patients, {report.events} events "
              f"({report.refused} refused) in {report.seconds:.1f} s ({rate:,.0f} events/s), "
              f"journeys placed relative to {tracker.clock.today().isoformat()}.")
    if report.refused:
        raise typer.Exit(1)
