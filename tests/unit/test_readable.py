"""Readable everywhere: every badge and legend colour meets WCAG AA contrast (4.5:1 for text), the
legend under the timeline wears the timeline's own colours, and the timeline's months read as
months ("Aug 2026"), spaced so that they never run together on a long journey."""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest

from tests.conftest import ev, follow, scenario
from tracker.web.svg import (
    INTENT_COLOUR,
    MIN_LABEL_GAP,
    STATUS_COLOUR,
    TICK_STEPS,
    month_label,
    month_step,
    timeline_svg,
)

CSS = (Path(__file__).resolve().parents[2] / "tracker" / "web" / "static" / "app.css").read_text()
AA = 4.5


def luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rules(selector_pattern: str) -> dict[str, dict[str, str]]:
    """The CSS rules whose selector matches, as {selector: {property: value}}."""
    found = {}
    for selector, body in re.findall(r"([^{}\n]+)\{([^}]*)\}", CSS):
        if re.fullmatch(selector_pattern, selector.strip()):
            found[selector.strip()] = dict(
                (k.strip(), v.strip()) for k, v in (d.split(":", 1) for d in body.split(";") if ":" in d))
    return found


def test_the_contrast_arithmetic_matches_the_issues_measurements():
    assert round(contrast("#b35806", "#fee6ce"), 2) == 4.04  # the old "due" badge (issue: 4.03:1)
    assert round(contrast("#ffffff", "#3182bd"), 2) == 4.15  # the old "scheduled" legend


def test_every_badge_meets_aa():
    badges = rules(r"\.badge(\.[a-z-]+)?")
    assert len(badges) >= 8
    base = badges.pop(".badge")
    for selector, declared in badges.items():
        fg = declared.get("color", base["color"])
        bg = declared.get("background", base["background"])
        assert contrast(fg, bg) >= AA, f"{selector}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"


def test_the_timeline_legend_wears_the_timelines_colours_and_meets_aa():
    text = rules(r"\.k")[".k"]["color"]
    legend = {selector.removeprefix(".k."): declared["background"]
              for selector, declared in rules(r"\.k\.[a-z]+").items()}
    assert legend == {status.value: colour for status, colour in STATUS_COLOUR.items()}
    for status, colour in legend.items():
        assert contrast(text, colour) >= AA, status


def test_the_therapy_bars_are_labelled_in_white_at_aa():
    for intent, colour in INTENT_COLOUR.items():
        assert contrast("#ffffff", colour) >= AA, intent


@pytest.mark.parametrize("span_days", [60, 120, 400, 900, 1500, 3000])
def test_month_labels_are_as_dense_as_they_can_be_without_running_together(span_days: int):
    per_month = 830 * 28 / span_days  # the shortest month
    every = month_step(span_days, 830)
    assert every * per_month >= MIN_LABEL_GAP
    denser = [n for n in TICK_STEPS if n < every]
    assert all(n * per_month < MIN_LABEL_GAP for n in denser)


def test_a_month_reads_as_a_month():
    assert month_label(date(2026, 8, 1)) == "Aug 2026"


def test_on_a_long_journey_the_month_labels_never_run_together():
    raw = scenario(ev("mdt_review", "2019-01-10", resectable=True, plan="upfront_surgery"),
                   ev("surgery", "2019-02-01", procedure="liver_resection", margin="R0"),
                   ev("mdt_review", "2019-03-01", resectable=True, plan="surveillance"),
                   metastases={"detected_on": "2019-01-02"},
                   primary={"diagnosed_on": "2018-12-01", "resected_on": "2018-12-20"})
    svg = timeline_svg(follow(raw, date(2026, 8, 15)), "T-0001")
    ticks = re.findall(r'<text x="([0-9.]+)"[^>]*class="tick">([^<]+)</text>', svg)
    assert len(ticks) > 5
    assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", label) for _, label in ticks)
    xs = [float(x) for x, _ in ticks]
    assert min(b - a for a, b in pairwise(xs)) >= MIN_LABEL_GAP
