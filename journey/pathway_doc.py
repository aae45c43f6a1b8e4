"""The pathway as Markdown, generated from the transition table (docs/pathway.md)."""

from __future__ import annotations

from journey.events import EVENT_SPECS
from journey.pathway import PATHWAY, PHASE_MEANING, Phase, mermaid_diagram
from journey.reminders import REMINDER_MEANING

#: the notions every reader of a journey shares (journey/treatment.py), in words
TREATMENT_NOTES = [
    "The fold keeps a record of the treatment (`journey/treatment.py`) that the reminders, the "
    "guideline rules and the audit all read; none of them computes these again:",
    "",
    "- **Episodes**: the first presentation; a recurrence or a return after a transfer or loss to "
    "follow-up begins a new one.",
    "- **Lines of therapy**, each with an intent judged by the course when it starts: "
    "*pre-operative* before the episode's liver operation, *interval* between the two stages of a "
    "liver operation, *post-operative* once the liver surgery is complete, *salvage* in salvage. "
    "A line ends at a stop, at the episode's first liver operation (pre-operative lines; a primary "
    "resection or a portal vein embolisation does not end them), at progression, at an MDT "
    "decision for surveillance or salvage, at a recurrence or closure. A hold keeps the line.",
    "- **Therapy days**: from a line's start to its end, less the days held; the 6-month total "
    "counts chemotherapy days only (immunotherapy is left out).",
    "- **The episode's liver operation**: the first ends pre-operative therapy; the one that "
    "completes the surgery (a single operation, or the second stage) starts post-operative "
    "therapy, and its margin is the one the R1 and R2 rules read.",
    "- **Progression during pre-operative therapy**: on it, or after it was stopped for surgery and "
    "before the liver operation.",
]


def pathway_markdown() -> str:
    lines = [
        "# The pathway",
        "",
        "Generated from `journey/pathway.py` by `python scripts/generate_pathway_doc.py`; do not edit.",
        "",
        "## Phases",
        "",
        "| phase | meaning |",
        "| --- | --- |",
    ]
    lines += [f"| `{p.value}` | {PHASE_MEANING[p]} |" for p in Phase]
    lines += ["", "## Diagram", "", "```mermaid", mermaid_diagram(), "```", "",
              "## Transition table", "",
              "Rows are tried in order; the first whose guards hold is taken. `(stays)` records the "
              "entry without a change of phase. A step with no row from the current phase is "
              "refused, unless it carries an override reason, in which case it is recorded through "
              "the same rows from any phase and audited as `A-OVERRIDE`.", "",
              "| on | from | to | when | unless | meaning |", "| --- | --- | --- | --- | --- | --- |"]
    for row in PATHWAY:
        sources = ", ".join(s.value for s in row.sources)
        if len(row.sources) == len(Phase) - 1:
            sources = "any open phase"
        if row.by_override:
            sources += " (override only)"
        when = ", ".join(g.__name__ for g in row.when) or ""
        unless = ", ".join(g.__name__ for g in row.unless) or ""
        dest = row.dest.value if row.dest else "(stays)"
        lines.append(f"| `{row.trigger}` | {sources} | {dest} | {when} | {unless} | {row.why} |")
    lines += ["", "## What the course records", "", *TREATMENT_NOTES]
    lines += ["", "## Entries", "", "| type | fields (required in bold) |", "| --- | --- |"]
    for spec in EVENT_SPECS.values():
        fields = ", ".join((f"**{f.name}**" if f.required else f.name)
                           + (f" ({' / '.join(f.choices)})" if f.choices else " (yes/no)")
                           for f in spec.fields) or "none"
        lines.append(f"| `{spec.type.value}` | {fields} |")
    lines += ["", "## Reminders", "", "| kind | meaning |", "| --- | --- |"]
    lines += [f"| `{k.value}` | {v} |" for k, v in REMINDER_MEANING.items()]
    return "\n".join(lines) + "\n"
