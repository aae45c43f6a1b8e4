"""Readable terminal layouts (rich) for a patient."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from journey.course import Refusal
from journey.pathway import PHASE_MEANING
from tracker.application import PatientView

STATUS_STYLE = {"overdue": "bold red", "due": "yellow", "scheduled": "cyan", "resolved": "green",
                "cancelled": "dim"}


def print_patient(console: Console, view: PatientView, refused: Sequence[Refusal] = ()) -> None:
    profile, outcome, findings = view.profile, view.outcome, view.findings
    p, m, b = profile.primary, profile.metastases, profile.biomarkers
    timing = profile.timing(outcome.settings.synchronous_window_days).value
    lines = [
        f"[bold]{profile.ref}[/]  phase [bold]{outcome.phase.value}[/] ({PHASE_MEANING[outcome.phase]}) "
        f"on {outcome.as_of}",
        f"Primary: {p.site.replace('_', ' ')} ({profile.sidedness.value}-sided), diagnosed {p.diagnosed_on}"
        + (f", symptoms: {', '.join(p.symptoms)}" if p.symptoms else ", asymptomatic")
        + (f", removed {p.resected_on}" if p.resected_on else ""),
        f"Liver metastases: {m.count}, largest {m.max_size_mm:g} mm, found {m.detected_on} ({timing})"
        + (", with extrahepatic disease" if m.extrahepatic else ""),
        f"Biomarkers: MMR {b.mmr}, RAS {b.ras}, BRAF {b.braf}; ECOG "
        f"{profile.ecog if profile.ecog is not None else 'not recorded'}",
    ]
    console.print(Panel("\n".join(lines), title="Patient", expand=False), highlight=False)

    timeline = Table(title="Timeline", show_lines=False)
    for column in ("date", "event", "details", "phase"):
        timeline.add_column(column)
    for step in outcome.steps:
        if step.event is None:
            details = "[italic]by the clock[/]"
        else:
            details = ", ".join(f"{k}={v}" for k, v in step.event.fields.items())
            if step.event.override:
                details += f" [magenta](override: {step.event.override_words})[/]"
        moved = step.to_phase.value if step.from_phase == step.to_phase else \
            f"{step.from_phase.value} -> {step.to_phase.value}"
        timeline.add_row(step.date.isoformat(), step.trigger, details, moved)
    console.print(timeline)

    reminders = Table(title="Reminders")
    for column in ("what", "due on", "status", "closed on"):
        reminders.add_column(column)
    for reminder, status in outcome.reminders_with_status():
        closed = reminder.resolved_on or reminder.cancelled_on
        due_on = reminder.due_on_at(outcome.as_of)
        reminders.add_row(reminder.kind.value.replace("_", " "), due_on.isoformat(),
                          f"[{STATUS_STYLE[status.value]}]{status.value}[/]",
                          closed.isoformat() if closed else "")
    console.print(reminders)

    if findings.recommendations or findings.missing:
        console.print("[bold]What the guideline says now[/]"
                      + (f" (ruleset {findings.ruleset})" if findings.ruleset else ""))
        for rec in findings.recommendations:
            seed = f"seed:{rec.seed}" if rec.seed else "no seed statement"
            console.print(f"  • [bold]{rec.id}[/] ({seed}): {rec.text}", highlight=False)
        for sentence in findings.missing:
            console.print(f"  • [yellow]Missing:[/] {sentence}", highlight=False)
    for note in findings.context:
        console.print(f"  [dim]Context (seed:{note.seed}): {note.text}[/]", highlight=False)
    if findings.deviations:
        console.print("[bold]Where the journey left the pathway[/]")
        for dev in findings.deviations:
            how = "justified" if dev.justified else "unexplained"
            console.print(f"  • [bold]{dev.check}[/] {dev.date} ({how}): {dev.detail}", highlight=False)
    for refusal in refused:
        console.print(f"[red]Refused entry {refusal.seq}[/] ({refusal.type}): {refusal.reason}",
                      highlight=False)
