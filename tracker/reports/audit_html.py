"""The cohort audit as one self-contained HTML file for a quality committee (issue 5).

Everything is inside the file: CSS inline, charts drawn with matplotlib's Agg canvas and embedded
as base64 PNG. No script, font, stylesheet or image is fetched from anywhere, so the report opens
offline and leaks nothing when opened. Small cells are suppressed exactly as in the JSON summary
(:meth:`journey.cohort.CohortAudit.summary`), from which every number here is read.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from journey.adherence import CHECKS_BY_ID
from journey.cohort import (
    DAYS_PER_MONTH,
    GROUPS,
    INTERVAL_LABELS,
    INTERVALS,
    SEED_DFI_MEDIAN_MONTHS,
    TIMINGS,
    CohortAudit,
)

COLOURS = {"synchronous": "#b5452b", "metachronous": "#2b6cb5", "all": "#444444",
           "justified": "#8fb996", "unexplained": "#c8553d"}
CHART_IDS = ("adherence", "by-timing", "times", "reassessment", "dfi", "justified")
_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


# ---------------------------------------------------------------------------------------------
# Charts


def _png(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    # no Software/URL metadata in the PNG: the file carries nothing but the picture
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    fig.set_layout_engine("constrained")
    return fig


def _nothing_to_draw(fig: Figure, message: str) -> str:
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#666666", wrap=True)
    return _png(fig)


def _timing_handles(alpha: float = 0.8) -> list[Patch]:
    return [Patch(facecolor=COLOURS[t], alpha=alpha, label=t) for t in TIMINGS]


def _rate_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if not r["suppressed"] and r["eligible"]]


def chart_adherence(rows: Sequence[dict[str, Any]], suppress_below: int) -> str:
    """Deviation rate per check with its 95% Wilson interval (all patients)."""
    shown = _rate_rows(rows)
    fig = _figure(8, 0.45 * max(len(rows), 4) + 1)
    if not shown:
        return _nothing_to_draw(fig, f"No check has {suppress_below} or more eligible patients yet.")
    ax = fig.add_subplot()
    labels = [r["check"] for r in rows][::-1]
    for y, row in enumerate(rows[::-1]):
        if row["suppressed"] or not row["eligible"]:
            ax.text(0.005, y, f"suppressed (< {suppress_below} eligible)" if row["suppressed"]
                    else "no eligible patients", va="center", fontsize=8, color="#888888")
            continue
        low, high = row["ci95"]
        ax.barh(y, row["rate"], color=COLOURS["all"], alpha=0.75, height=0.6)
        ax.errorbar(row["rate"], y, xerr=[[row["rate"] - low], [high - row["rate"]]], fmt="none",
                    ecolor="black", capsize=3, linewidth=1)
        ax.text(min(high + 0.01, 0.93), y, f"{row['deviations']}/{row['eligible']}", va="center", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of eligible patients with a deviation (95% Wilson interval)")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def chart_by_timing(by_timing: dict[str, Any], suppress_below: int) -> str:
    """Synchronous and metachronous deviation rates side by side, per check."""
    groups = {t: {r["check"]: r for r in by_timing[t]["checks"]} for t in TIMINGS}
    checks = [c for c in dict.fromkeys([*groups["synchronous"], *groups["metachronous"]])
              if any(c in groups[t] and not groups[t][c]["suppressed"] and groups[t][c]["eligible"]
                     for t in TIMINGS)]
    fig = _figure(8, 0.55 * max(len(checks), 4) + 1)
    if not checks:
        return _nothing_to_draw(fig, f"Not enough patients to compare synchronous and metachronous "
                                     f"disease (fewer than {suppress_below} eligible in every check).")
    ax = fig.add_subplot()
    for offset, timing in ((0.2, "synchronous"), (-0.2, "metachronous")):
        for y, check in enumerate(checks[::-1]):
            row = groups[timing].get(check)
            if row is None or row["suppressed"] or not row["eligible"]:
                ax.text(0.005, y + offset, "suppressed" if row and row["suppressed"] else "-",
                        va="center", fontsize=7, color=COLOURS[timing])
                continue
            low, high = row["ci95"]
            ax.barh(y + offset, row["rate"], height=0.38, color=COLOURS[timing], alpha=0.8,
                    label=timing if y == 0 else None)
            ax.errorbar(row["rate"], y + offset, xerr=[[row["rate"] - low], [high - row["rate"]]],
                        fmt="none", ecolor="black", capsize=2, linewidth=0.8)
    ax.set_yticks(range(len(checks)), checks[::-1], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of eligible patients with a deviation (95% Wilson interval)")
    ax.legend(handles=_timing_handles(), loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def chart_times(intervals: dict[str, Any], suppress_below: int) -> str:
    """Days from metastasis detection to MDT, first treatment and first liver operation: box
    plots (median, quartiles, whiskers at the 5th and 95th percentiles) by timing."""
    stats, positions, colours = [], [], []
    for i, name in enumerate(INTERVALS):
        for j, timing in enumerate(TIMINGS):
            d = intervals[name][timing]
            if d["suppressed"] or not d["n"]:
                continue
            stats.append({"med": d["median"], "q1": d["q1"], "q3": d["q3"], "whislo": d["p5"],
                          "whishi": d["p95"], "fliers": [], "label": f"n={d['n']}"})
            positions.append(i * 3 + j)
            colours.append(COLOURS[timing])
    fig = _figure(8, 3.6)
    if not stats:
        return _nothing_to_draw(fig, f"Fewer than {suppress_below} patients in every group: suppressed.")
    ax = fig.add_subplot()
    boxes = ax.bxp(stats, positions=positions, patch_artist=True, widths=0.7, showfliers=False,
                   medianprops={"color": "black", "linewidth": 1.5})
    for patch, colour in zip(boxes["boxes"], colours, strict=True):
        patch.set_facecolor(colour)
        patch.set_alpha(0.6)
    ax.set_xticks([i * 3 + 0.5 for i in range(len(INTERVALS))],
                  [INTERVAL_LABELS[n] for n in INTERVALS], fontsize=8)
    ax.set_ylabel("days")
    ax.legend(handles=_timing_handles(alpha=0.6), fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def chart_reassessment(hist: list[tuple[int, int]] | None, grace_days: int, suppress_below: int) -> str:
    """The distribution of reassessment intervals on pre-operative therapy, by week."""
    fig = _figure(8, 3.2)
    if not hist:
        return _nothing_to_draw(fig, f"Fewer than {suppress_below} reassessment intervals: suppressed.")
    ax = fig.add_subplot()
    weeks: dict[int, int] = {}
    for days, count in hist:
        weeks[days // 7] = weeks.get(days // 7, 0) + count
    ax.bar([w * 7 + 3.5 for w in weeks], list(weeks.values()), width=6.5, color=COLOURS["all"], alpha=0.7)
    two_months = 2 * DAYS_PER_MONTH
    ax.axvline(two_months, color="#2a7a2a", linestyle="--", linewidth=1, label="due: 2 months (seed:13)")
    ax.axvline(two_months + grace_days, color=COLOURS["unexplained"], linestyle=":", linewidth=1.2,
               label=f"overdue after {grace_days} days' grace")
    ax.set_xlabel("days between start of pre-operative therapy or the last reassessment and the next")
    ax.set_ylabel("intervals")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def chart_dfi(dfi: dict[str, Any], suppress_below: int) -> str:
    """Kaplan-Meier disease-free interval after the first liver operation, by timing, beside the
    seed's reference medians (6 vs 10 months, seed:29)."""
    fig = _figure(8, 3.8)
    drawable = [t for t in TIMINGS if not dfi[t]["suppressed"] and dfi[t]["n"]]
    ax = fig.add_subplot()
    for timing in TIMINGS:
        ax.axvline(SEED_DFI_MEDIAN_MONTHS[timing], color=COLOURS[timing], linestyle=":", linewidth=1.2,
                   label=f"seed median, {timing} ({SEED_DFI_MEDIAN_MONTHS[timing]:g} months)")
    for timing in drawable:
        curve = dfi[timing]["curve"]
        xs = [d / DAYS_PER_MONTH for d, _ in curve]
        ys = [s for _, s in curve]
        ax.step(xs, ys, where="post", color=COLOURS[timing], linewidth=1.8,
                label=f"{timing}: n={dfi[timing]['n']}, {dfi[timing]['recurrences']} recurrences")
    if not drawable:
        ax.text(0.5, 0.5, f"Fewer than {suppress_below} operated patients per group: curves suppressed.",
                ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.axhline(0.5, color="#999999", linewidth=0.6)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel("months after the first liver operation")
    ax.set_ylabel("free of recurrence")
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3)
    return _png(fig)


def chart_justified(rows: Sequence[dict[str, Any]], suppress_below: int) -> str:
    """Deviation records per check: justified (override, coded dismissal) vs unexplained."""
    shown = [r for r in rows if not r["suppressed"] and r["events"]]
    fig = _figure(8, 0.45 * max(len(shown), 4) + 1)
    if not shown:
        return _nothing_to_draw(fig, "No deviations to show (or every check suppressed).")
    ax = fig.add_subplot()
    labels = [r["check"] for r in shown][::-1]
    just = [r["events_justified"] for r in shown][::-1]
    unexp = [r["events_unexplained"] for r in shown][::-1]
    ax.barh(labels, just, color=COLOURS["justified"], label="justified")
    ax.barh(labels, unexp, left=just, color=COLOURS["unexplained"], label="unexplained")
    ax.set_xlabel("deviations recorded")
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


# ---------------------------------------------------------------------------------------------
# The page

#: the report's content: the same markup in the self-contained file (PAGE, with its own CSS) and
#: in the web app, whose stylesheet styles it under the app's Content-Security-Policy
BODY = """<div class="report">
<h1>{{ title }}</h1>
<p class="meta">{% if generated_on %}Generated {{ generated_on }}{% else %}Cohort audit{% endif %}
{%- if period %} &middot; period {{ period }}{% endif %}
 &middot; rules {{ s.ruleset_version }} &middot; cells of fewer than {{ s.suppress_below }} patients
 suppressed &middot; references pseudonymous</p>

<ul class="kpi">
 <li><b>{{ s.patients }}</b> patients</li>
 {% for t in timings %}<li><b>{{ fmt(s.by_timing[t].patients) }}</b> {{ t }}</li>{% endfor %}
 <li><b>{{ total_events }}</b> deviations recorded</li>
 <li><b>{{ total_unexplained }}</b> unexplained</li>
</ul>

<h2>Adherence per check</h2>
<figure><img id="chart-adherence" alt="Deviation rate per check with 95% Wilson intervals"
 src="{{ charts.adherence }}">
<figcaption>Share of eligible patients with at least one deviation; bars are 95% Wilson score
intervals.</figcaption></figure>
<div class="scroll" role="region" aria-label="Adherence per check (table)" tabindex="0">
<table>
<tr><th class="l" scope="col">check</th><th scope="col">seed</th>
<th class="l" scope="col">what is checked</th><th scope="col">eligible</th><th scope="col">deviations</th>
<th scope="col">rate</th><th scope="col">95% CI</th><th scope="col">justified</th>
<th scope="col">unexplained</th></tr>
{% for r in s.checks %}<tr>
<td class="l">{{ r.check }}</td><td>{{ r.seed or "-" }}</td>
<td class="l">{{ r.title }}<br><span class="note">eligible: {{ eligibility[r.check] }}</span></td>
{% if r.suppressed %}
<td colspan="6" class="sup">suppressed: fewer than {{ s.suppress_below }} eligible patients</td>
{% else %}<td>{{ r.eligible }}</td><td>{{ r.deviations }}</td><td>{{ pct(r.rate) }}</td>
<td>{{ ci(r.ci95) }}</td>
<td>{{ r.justified }}</td><td>{{ r.unexplained }}</td>{% endif %}
</tr>{% endfor %}
</table></div>
<p class="note">Eligible, deviations, justified and unexplained count patients (a patient is
unexplained when any of their deviations for the check is unexplained). Seed numbers are lines of
the guideline summary the check enforces.</p>

<h2>Synchronous and metachronous disease side by side</h2>
<figure><img id="chart-by-timing" alt="Deviation rates by timing" src="{{ charts['by-timing'] }}"></figure>
<div class="side">
{% for t in timings %}<div>
<h3>{{ t|capitalize }} ({{ fmt(s.by_timing[t].patients) }} patients)</h3>
{% if s.by_timing[t].suppressed %}<p class="sup">Suppressed: fewer than {{ s.suppress_below }} patients.</p>
{% else %}<div class="scroll" role="region" aria-label="{{ t|capitalize }} disease (table)" tabindex="0">
<table><tr><th class="l" scope="col">check</th><th scope="col">eligible</th>
<th scope="col">deviations</th><th scope="col">rate (95% CI)</th></tr>
{% for r in s.by_timing[t].checks %}<tr><td class="l">{{ r.check }}</td>
{% if r.suppressed %}<td colspan="3" class="sup">suppressed</td>
{% else %}<td>{{ r.eligible }}</td><td>{{ r.deviations }}</td><td>{{ pct(r.rate) }} {{ ci(r.ci95) }}
</td>{% endif %}
</tr>{% endfor %}</table></div>{% endif %}
</div>{% endfor %}
</div>

<h2>Time from metastasis detection</h2>
<figure><img id="chart-times" alt="Days from detection to MDT, treatment and surgery"
 src="{{ charts.times }}">
<figcaption>Boxes: quartiles and median; whiskers: 5th and 95th percentiles. First episode only
(the detection date the record holds).</figcaption></figure>
<div class="scroll" role="region" aria-label="Time from metastasis detection (table)" tabindex="0">
<table><tr><th class="l" scope="col">interval</th>{% for t in timings %}<th scope="col">{{ t }}: n</th>
<th scope="col">median (IQR), days</th>{% endfor %}</tr>
{% for name in intervals %}<tr><td class="l">{{ interval_labels[name] }}</td>
{% for t in timings %}{% set d = s.times[name][t] %}
{% if d.suppressed %}<td colspan="2" class="sup">suppressed</td>{% elif not d.n %}<td>0</td><td>-</td>
{% else %}<td>{{ d.n }}</td><td>{{ num(d.median) }} ({{ num(d.q1) }}&ndash;{{ num(d.q3) }})</td>{% endif %}
{% endfor %}</tr>{% endfor %}</table></div>

<h2>Reassessment intervals on pre-operative therapy</h2>
<figure><img id="chart-reassessment" alt="Distribution of reassessment intervals"
 src="{{ charts.reassessment }}">
<figcaption>Days from the start of pre-operative therapy to the first reassessment, then between
reassessments (seed:13: every 2 months).
{% set ri = s.reassessment_interval_days %}{% if not ri.suppressed and ri.n %}n={{ ri.n }}, median
{{ num(ri.median) }} days (IQR {{ num(ri.q1) }}&ndash;{{ num(ri.q3) }}).{% endif %}</figcaption></figure>

<h2>Lines of therapy held and resumed</h2>
<div class="scroll" role="region" aria-label="Lines of therapy held and resumed (table)" tabindex="0">
<table><tr><th class="l" scope="col">group</th><th scope="col">lines given</th><th scope="col">lines held</th>
<th scope="col">share held</th><th scope="col">median days held</th></tr>
{% for g in groups %}{% set h = s.holds[g] %}<tr><td class="l">{{ g }}</td><td>{{ h.lines }}</td>
{% if h.suppressed %}<td colspan="3" class="sup">suppressed</td>
{% else %}<td>{{ h.held_lines }}</td><td>{{ pct(h.share) }}</td>
<td>{{ num(h.median_days_held) }}</td>{% endif %}</tr>{% endfor %}</table></div>
<p class="note">A line held (<code>systemic_paused</code>) and resumed stays one line; its days on
hold do not count toward the 6-month total (contract &sect;7.4).</p>

<h2>Overrides by reason</h2>
<div class="scroll" role="region" aria-label="Overrides by reason (table)" tabindex="0">
<table id="overrides-by-reason"><tr><th class="l" scope="col">reason</th><th scope="col">entries</th></tr>
{% for o in s.overrides_by_reason %}<tr><td class="l">{{ o.words }}</td>
{% if o.suppressed %}<td class="sup">suppressed</td>{% else %}<td>{{ o.entries }}</td>{% endif %}</tr>
{% endfor %}</table></div>
<p class="note">Entries recorded off the pathway on purpose (A-OVERRIDE), by the coded reason given
with them; "another reason" is an override given in words only.</p>

<h2>Disease-free interval after liver surgery</h2>
<figure><img id="chart-dfi" alt="Kaplan-Meier disease-free interval by timing" src="{{ charts.dfi }}">
<figcaption>Kaplan-Meier estimate from the first liver operation to recurrence; death, transfer,
loss to follow-up and the audit date censor. Dotted lines: the seed's reference medians (seed:29).
</figcaption></figure>
<div class="scroll" role="region" aria-label="Disease-free interval (table)" tabindex="0">
<table><tr><th class="l" scope="col">timing</th><th scope="col">operated</th><th scope="col">recurrences</th>
<th scope="col">median DFI (months)</th><th scope="col">seed reference (months)</th></tr>
{% for t in timings %}{% set d = s.dfi_after_liver_surgery[t] %}<tr><td class="l">{{ t }}</td>
{% if d.suppressed %}<td colspan="3" class="sup">suppressed</td>
{% else %}<td>{{ d.n }}</td><td>{{ d.recurrences if d.recurrences is not none else "-" }}</td>
<td>{{ d.median_months if d.median_months is not none else "not reached" }}</td>{% endif %}
<td>{{ d.seed_median_months }}</td></tr>{% endfor %}</table></div>

<h2>Justified and unexplained deviations</h2>
<figure><img id="chart-justified" alt="Justified versus unexplained deviations per check"
 src="{{ charts.justified }}">
<figcaption>Deviation records: justified by an override reason, a coded reminder dismissal or a
coded stop reason; unexplained otherwise.</figcaption></figure>

<h2>How to read this report</h2>
<ul class="note">
<li>Each check is a statement of the guideline summary (seed line in the table). A patient is in a
check's denominator only once the check can be judged: a deadline that has not passed is never
counted as a deviation.</li>
<li>Intervals are 95% Wilson score intervals for a proportion.</li>
<li>Cells with 1 to {{ s.suppress_below - 1 }} patients are suppressed, as registries do.</li>
<li>The definitions of every check are in docs/audit.md of the tracker.</li>
</ul>
</div>
"""

#: the self-contained file: the report with its own CSS, nothing fetched from anywhere
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem;
       border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.meta { color: #555; } .note { color: #555; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin: .6rem 0; }
th, td { border-bottom: 1px solid #e4e4e4; padding: .3rem .45rem; text-align: right; vertical-align: top; }
th { background: #f5f5f5; } td.l, th.l { text-align: left; }
td:not(.l), td:first-child { white-space: nowrap; }
.sup { color: #767676; font-style: italic; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1.2rem; }
.scroll { overflow-x: auto; }
figure { margin: .8rem 0; } figure img { max-width: 100%; } figcaption { color: #555; font-size: .85rem; }
.kpi { display: flex; flex-wrap: wrap; gap: 1.5rem; margin: 1rem 0; padding: 0; list-style: none; }
.kpi li { background: #f5f5f5; padding: .6rem 1rem; }
.kpi b { display: block; font-size: 1.4rem; }
@media print { h2 { break-before: auto; } figure { break-inside: avoid; } }
</style>
</head>
<body>
{{ body }}
</body>
</html>
"""


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _ci(v: Sequence[float] | None) -> str:
    return "" if not v else f"{100 * v[0]:.1f}&ndash;{100 * v[1]:.1f}%"


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def _fmt(v: object) -> str:
    return "suppressed" if v is None else str(v)


def render_audit_body(cohort: CohortAudit, *, suppress_below: int = 5,
                      title: str = "Colorectal liver metastases: pathway adherence audit",
                      generated_on: date | None = None, period: str | None = None,
                      grace_days: int = 14) -> str:
    """The report's content (BODY), for a page that brings its own stylesheet (the web app);
    ``generated_on`` is the site's day the caller judged the cohort on (the application passes
    it; the report never reads a clock)."""
    from markupsafe import Markup

    summary = cohort.summary(suppress_below)
    measures = cohort.measures(suppress_below)
    charts = {
        "adherence": chart_adherence(summary["checks"], suppress_below),
        "by-timing": chart_by_timing(summary["by_timing"], suppress_below),
        "times": chart_times(measures["intervals"], suppress_below),
        "reassessment": chart_reassessment(measures["reassessment"]["all"]["histogram"], grace_days,
                                           suppress_below),
        "dfi": chart_dfi(measures["dfi"], suppress_below),
        "justified": chart_justified(summary["checks"], suppress_below),
    }
    rows = [r for r in summary["checks"] if not r["suppressed"]]
    return _ENV.from_string(BODY).render(
        title=title, s=summary, charts=charts, timings=TIMINGS, groups=GROUPS, intervals=INTERVALS,
        interval_labels=INTERVAL_LABELS, generated_on=generated_on.isoformat() if generated_on else None,
        period=period, eligibility={c: (CHECKS_BY_ID[c].eligibility if c in CHECKS_BY_ID else "")
                                    for c in (r["check"] for r in summary["checks"])},
        total_events=sum(r["events"] or 0 for r in rows),
        total_unexplained=sum(r["events_unexplained"] or 0 for r in rows),
        pct=_pct, ci=lambda v: Markup(_ci(v)), num=_num, fmt=_fmt)


def render_audit_html(cohort: CohortAudit, *, title: str = "Colorectal liver metastases: pathway "
                      "adherence audit", **options: Any) -> str:
    """The whole report as one self-contained HTML string (its CSS inside: a file opened from a
    disk has no stylesheet to fetch)."""
    from markupsafe import Markup

    body = render_audit_body(cohort, title=title, **options)
    return _ENV.from_string(PAGE).render(title=title, body=Markup(body))


def write_audit_html(path: str | Path, cohort: CohortAudit, **options: Any) -> Path:
    target = Path(path)
    target.write_text(render_audit_html(cohort, **options), encoding="utf-8")
    return target
