"""Pictures drawn on the server as SVG: a patient's timeline and the pathway's state diagram.

No JavaScript and no external assets: the SVG is part of the page. Colours are SVG attributes
(the page's CSP forbids inline styles); every mark carries a <title> so a screen reader, or a
mouse, can read what it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from journey.course import JourneyOutcome
from journey.dates import MONTH_ABBREVIATIONS, add_months
from journey.events import EventType
from journey.pathway import PHASE_MEANING, Phase, diagram_edges
from journey.reminders import ReminderStatus

PHASE_COLOUR = {
    Phase.ASSESSMENT: "#d9d9d9", Phase.NEOADJUVANT: "#9ecae1", Phase.REASSESSMENT: "#fdae6b",
    Phase.RESECTION: "#a1d99b", Phase.ADJUVANT: "#c6dbef", Phase.SURVEILLANCE: "#e5f5e0",
    Phase.RECURRENCE: "#fcbba1", Phase.SALVAGE: "#bcbddc", Phase.CLOSED: "#969696",
}
#: the reminder marks; the legend under the timeline (.k in app.css) uses the same colours, with
#: white text on them at 4.5:1 or more (tests/unit/test_contrast.py)
STATUS_COLOUR = {
    ReminderStatus.SCHEDULED: "#1f5f9e", ReminderStatus.DUE: "#a33a00",
    ReminderStatus.OVERDUE: "#a50f15", ReminderStatus.RESOLVED: "#1e7b34",
    ReminderStatus.CANCELLED: "#6b6b6b",
}
#: therapy bars, labelled in white
INTENT_COLOUR = {"pre-operative": "#2171b5", "post-operative": "#2f6fad", "salvage": "#756bb1",
                 "interval": "#3a7480"}
#: the spacing of the month labels on the time axis: every 1, 2, 3, 6 or 12 months, whichever
#: first leaves this many pixels between two labels ("Aug 2026" is about 45 px wide)
TICK_STEPS = (1, 2, 3, 6, 12)
MIN_LABEL_GAP = 64


def _t(text: object) -> str:
    return escape(str(text), quote=True)


@dataclass(frozen=True)
class Bar:
    start: date
    end: date
    label: str
    intent: str
    #: (from, to, reason) of each hold within the line
    holds: tuple[tuple[date, date, str], ...] = ()


def therapy_bars(outcome: JourneyOutcome) -> list[Bar]:
    """The lines of systemic therapy the fold recorded (``journey.treatment``), each from its
    start to its end (running lines end on ``as_of``), with the days it was held."""
    bars: list[Bar] = []
    for line in outcome.course.lines:
        label = " → ".join(dict.fromkeys(
            r.regimen + (f" + {r.biologic}" if r.biologic and r.biologic != "none" else "")
            for r in line.regimens))
        end = line.end_on(outcome.as_of)
        holds = tuple((h.paused_on, min(h.resumed_on or end, end), h.reason.replace("_", " "))
                      for h in line.holds)
        bars.append(Bar(line.started_on, max(end, line.started_on), label, line.intent.value, holds))
    return bars


def month_label(day: date) -> str:
    """'Aug 2026': a month, never to be read as a day ('Aug 26')."""
    return f"{MONTH_ABBREVIATIONS[day.month - 1]} {day.year}"


def month_starts(start: date, end: date) -> list[date]:
    """The first day of every month from ``start`` to ``end``."""
    tick = date(start.year, start.month, 1)
    if tick < start:
        tick = add_months(tick, 1)
    out = []
    while tick <= end:
        out.append(tick)
        tick = add_months(tick, 1)
    return out


def month_step(span_days: int, axis_px: float) -> int:
    """Label every n-th month, n the first of TICK_STEPS that keeps labels MIN_LABEL_GAP apart
    (counting every month as short as February: n months are never closer than that)."""
    per_month = axis_px * 28 / max(span_days, 1)
    return next((n for n in TICK_STEPS if n * per_month >= MIN_LABEL_GAP), TICK_STEPS[-1])


def timeline_svg(outcome: JourneyOutcome, shown_ref: str, width: int = 960) -> str:
    """Phases, therapy bars, events and reminders of one patient on one time axis (``shown_ref``:
    the reference this reader may see)."""
    days = [s.date for s in outcome.steps] + [outcome.as_of]
    days += [r.due_on_at(outcome.as_of) for r in outcome.reminders] + [r.anchor_on for r in outcome.reminders]
    start = min([*days, outcome.profile.metastases.detected_on]) - timedelta(days=7)
    end = max(days) + timedelta(days=14)
    left, right = 110, 20
    span = max((end - start).days, 1)

    def x(day: date) -> float:
        return left + (width - left - right) * (day - start).days / span

    lanes = {"phase": 30, "therapy": 70, "events": 115, "reminders": 160}
    height = 200
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="timeline" '
           f'role="img" aria-labelledby="timeline-title"><title id="timeline-title">Timeline of '
           f'{_t(shown_ref)} up to {outcome.as_of.isoformat()}</title>']
    for name, y in lanes.items():
        out.append(f'<text x="4" y="{y + 4}" font-size="12" fill="#333">{name}</text>')
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y}" y2="{y}" stroke="#eee"/>')
    # month ticks: a line each month, a label ("Aug 2026") every few months, never crowded
    label_every = month_step(span, width - left - right)
    for tick in month_starts(start, end):
        tx = x(tick)
        out.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="12" y2="{height - 22}" stroke="#f0f0f0"/>')
        if (tick.month - 1) % label_every == 0:
            out.append(f'<text x="{tx:.1f}" y="{height - 8}" font-size="10" fill="#555" '
                       f'text-anchor="middle" class="tick">{month_label(tick)}</text>')
    # phases as bands
    segments: list[tuple[date, Phase]] = [(start, Phase.ASSESSMENT)]
    for step in outcome.steps:
        if step.to_phase is not step.from_phase:
            segments.append((step.date, step.to_phase))
    for i, (day, phase) in enumerate(segments):
        until = segments[i + 1][0] if i + 1 < len(segments) else outcome.as_of
        x1, x2 = x(max(day, start)), x(until)
        out.append(f'<rect x="{x1:.1f}" y="{lanes["phase"] - 11}" width="{max(x2 - x1, 1.5):.1f}" '
                   f'height="22" fill="{PHASE_COLOUR[phase]}" stroke="#fff"><title>{phase.value} from '
                   f'{day.isoformat()}: {_t(PHASE_MEANING[phase])}</title></rect>')
        if x2 - x1 > 60:
            out.append(f'<text x="{x1 + 4:.1f}" y="{lanes["phase"] + 4}" font-size="11" '
                       f'fill="#111">{phase.value}</text>')
    # therapy bars
    for bar in therapy_bars(outcome):
        x1, x2 = x(bar.start), x(bar.end)
        colour = INTENT_COLOUR.get(bar.intent, "#2171b5")
        out.append(f'<rect x="{x1:.1f}" y="{lanes["therapy"] - 9}" width="{max(x2 - x1, 2):.1f}" '
                   f'height="18" rx="3" fill="{colour}"><title>{_t(bar.label)} ({_t(bar.intent)}) '
                   f'{bar.start.isoformat()} to {bar.end.isoformat()}</title></rect>')
        out.append(f'<text x="{x1 + 3:.1f}" y="{lanes["therapy"] + 4}" font-size="11" '
                   f'fill="#fff">{_t(bar.label)}</text>')
        for held_from, held_to, reason in bar.holds:
            h1, h2 = x(held_from), x(held_to)
            out.append(f'<rect x="{h1:.1f}" y="{lanes["therapy"] - 9}" width="{max(h2 - h1, 2):.1f}" '
                       f'height="18" fill="#f7f7f7" stroke="{colour}" stroke-dasharray="2 2">'
                       f'<title>held ({_t(reason)}) {held_from.isoformat()} to '
                       f'{held_to.isoformat()}</title></rect>')
    # events
    y = lanes["events"]
    for step in outcome.steps:
        ex = x(step.date)
        what = f"{step.date.isoformat()} {step.trigger}: {step.from_phase.value} → {step.to_phase.value}"
        event = step.event
        if event is None:
            out.append(f'<circle cx="{ex:.1f}" cy="{y}" r="4" fill="none" stroke="#e6550d">'
                       f'<title>{_t(what)} (by the clock)</title></circle>')
        elif event.type is EventType.REASSESSMENT:
            out.append(f'<path d="M{ex:.1f},{y - 8} l8,8 l-8,8 l-8,-8 z" fill="#fd8d3c" stroke="#a63603">'
                       f'<title>{_t(what)} response {_t(event.get("response"))}</title></path>')
            out.append(f'<text x="{ex:.1f}" y="{y - 11}" font-size="10" text-anchor="middle">'
                       f'{_t(event.get("response"))}</text>')
        elif event.type is EventType.SURGERY:
            out.append(f'<path d="M{ex:.1f},{y - 9} l9,16 l-18,0 z" fill="#31a354" stroke="#006d2c">'
                       f'<title>{_t(what)} ({_t(event.get("procedure"))})</title></path>')
        elif event.type is EventType.MDT_REVIEW:
            out.append(f'<circle cx="{ex:.1f}" cy="{y}" r="6" fill="#6a51a3">'
                       f'<title>{_t(what)} plan {_t(event.get("plan") or "-")}</title></circle>')
        elif event.type not in (EventType.SYSTEMIC_STARTED, EventType.SYSTEMIC_STOPPED,
                                EventType.SYSTEMIC_PAUSED, EventType.SYSTEMIC_RESUMED):
            out.append(f'<rect x="{ex - 5:.1f}" y="{y - 5}" width="10" height="10" fill="#636363">'
                       f'<title>{_t(what)}</title></rect>')
    # reminders: a thin line from the day that created it to its due day
    y = lanes["reminders"]
    for reminder, status in outcome.reminders_with_status():
        due_on = reminder.due_on_at(outcome.as_of)
        x1, x2 = x(reminder.anchor_on), x(due_on)
        colour = STATUS_COLOUR[status]
        closed = reminder.closed_on
        title = (f"{reminder.kind.value.replace('_', ' ')} due {due_on.isoformat()}: "
                 f"{status.value}" + (f" on {closed.isoformat()}" if closed else ""))
        out.append(f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y}" y2="{y}" stroke="{colour}" '
                   f'stroke-dasharray="3 3"/>')
        out.append(f'<circle cx="{x2:.1f}" cy="{y}" r="6" fill="{colour}"><title>{_t(title)}</title>'
                   f'</circle>')
        if closed is not None:
            out.append(f'<text x="{x(closed):.1f}" y="{y + 4}" font-size="12" text-anchor="middle" '
                       f'fill="{colour}">✓</text>' if status is ReminderStatus.RESOLVED else "")
    today = x(outcome.as_of)
    out.append(f'<line x1="{today:.1f}" x2="{today:.1f}" y1="10" y2="{height - 22}" stroke="#a50f15" '
               f'stroke-width="1.5"/><text x="{today:.1f}" y="10" font-size="10" fill="#a50f15" '
               f'text-anchor="middle">today</text>')
    out.append("</svg>")
    return "".join(out)


# -- the pathway ---------------------------------------------------------------------------------

#: where each phase sits (column, row): presentation only; the arrows come from the table
LAYOUT: dict[str, tuple[float, float]] = {
    "assessment": (0, 1), "neoadjuvant": (1, 0), "reassessment": (2, 0), "resection": (2, 1.5),
    "adjuvant": (3, 1.5), "surveillance": (4, 1), "recurrence": (4, 2.5), "salvage": (1, 2.5),
    "closed": (3, 3),
}


def pathway_svg(width: int = 1000) -> str:
    """The state diagram, drawn from ``diagram_edges()`` (the transition table itself)."""
    edges = diagram_edges()
    phases = [p.value for p in Phase]
    extra = [p for p in phases if p not in LAYOUT]
    positions = dict(LAYOUT)
    for i, name in enumerate(extra):  # a phase added later still gets a place
        positions[name] = (i, 4)
    col_w, row_h, box_w, box_h = 200, 120, 130, 40
    height = int(max(r for _, r in positions.values()) * row_h + 110)

    def centre(name: str) -> tuple[float, float]:
        c, r = positions[name]
        return 90 + c * col_w, 50 + r * row_h

    grouped: dict[tuple[str, str], list[str]] = {}
    for src, dst, label in edges:
        grouped.setdefault((src, dst), []).append(label)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="pathway" '
           f'role="img" aria-labelledby="pathway-title"><title id="pathway-title">The pathway: '
           f'{len(phases)} phases, {len(edges)} transitions from the transition table</title>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/>'
           '</marker></defs>']
    for (src, dst), labels in grouped.items():
        (x1, y1), (x2, y2) = centre(src), centre(dst)
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1
        # leave the boxes: shorten each end to the box edge
        scale = min((box_w / 2) / abs(dx) if dx else math.inf, (box_h / 2) / abs(dy) if dy else math.inf)
        sx, sy = x1 + dx * scale, y1 + dy * scale
        ex, ey = x2 - dx * scale, y2 - dy * scale
        # bend every arrow to the same side of its direction, so a pair A->B, B->A never overlaps
        bend = 28
        mx, my = (sx + ex) / 2 - dy / length * bend, (sy + ey) / 2 + dx / length * bend
        text = ", ".join(labels)
        # closing edges leave every phase: drawn light and unlabelled, named once by the box
        closing = dst == Phase.CLOSED.value
        stroke = 'stroke="#c8c8c8" stroke-dasharray="4 3"' if closing else 'stroke="#777"'
        out.append(f'<path d="M{sx:.1f},{sy:.1f} Q{mx:.1f},{my:.1f} {ex:.1f},{ey:.1f}" fill="none" '
                   f'{stroke} stroke-width="1.3" marker-end="url(#arrow)"><title>{_t(src)} → '
                   f'{_t(dst)}: {_t(text)}</title></path>')
        if closing:
            continue
        lx, ly = (sx + 2 * mx + ex) / 4, (sy + 2 * my + ey) / 4
        short = text if len(text) <= 26 else text[:24] + "…"
        out.append(f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="9" fill="#444" text-anchor="middle">'
                   f'{_t(short)}</text>')
    closers = sorted({label for (_, dst), labels in grouped.items() if dst == Phase.CLOSED.value
                      for label in labels})
    if closers:
        cx, cy = centre(Phase.CLOSED.value)
        out.append(f'<text x="{cx:.1f}" y="{cy + box_h / 2 + 16:.1f}" font-size="11" fill="#555" '
                   f'text-anchor="middle">from any phase on: {_t(", ".join(closers))}</text>')
    for name in phases:
        cx, cy = centre(name)
        colour = PHASE_COLOUR.get(Phase(name), "#eee")
        out.append(f'<g><rect x="{cx - box_w / 2:.1f}" y="{cy - box_h / 2:.1f}" width="{box_w}" '
                   f'height="{box_h}" rx="8" fill="{colour}" stroke="#333"><title>{_t(name)}: '
                   f'{_t(PHASE_MEANING[Phase(name)])}</title></rect><text x="{cx:.1f}" y="{cy + 5:.1f}" '
                   f'font-size="14" font-weight="bold" text-anchor="middle">{_t(name)}</text></g>')
    out.append("</svg>")
    return "".join(out)
