"""The pathway as Markdown, generated from the transition table (docs/pathway.md)."""

from __future__ import annotations

from journey.events import EVENT_SPECS
from journey.pathway import PATHWAY, PHASE_MEANING, Phase, mermaid_diagram
from journey.reminders import REMINDER_MEANING


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
        when = ", ".join(g.__name__ for g in row.when) or ""
        unless = ", ".join(g.__name__ for g in row.unless) or ""
        dest = row.dest.value if row.dest else "(stays)"
        lines.append(f"| `{row.trigger}` | {sources} | {dest} | {when} | {unless} | {row.why} |")
    lines += ["", "## Entries", "", "| type | fields (required in bold) |", "| --- | --- |"]
    for spec in EVENT_SPECS.values():
        fields = ", ".join((f"**{f.name}**" if f.required else f.name)
                           + (f" ({' / '.join(f.choices)})" if f.choices else " (yes/no)")
                           for f in spec.fields) or "none"
        lines.append(f"| `{spec.type.value}` | {fields} |")
    lines += ["", "## Reminders", "", "| kind | meaning |", "| --- | --- |"]
    lines += [f"| `{k.value}` | {v} |" for k, v in REMINDER_MEANING.items()]
    return "\n".join(lines) + "\n"
