"""The cohort audit (contract §6, issue 5): per-patient adherence folded into counts, streaming.

:class:`CohortAudit` takes one patient at a time (``add``) and keeps only counters: per check and
timing group, and histograms of days (a ``Counter`` of day -> patients), which stay bounded by the
number of distinct day values, not by the number of patients. Patients whose verdicts look alike
to the counters (the same eligible checks, the same deviation flags) are tallied together and
counted once at the end, so the tally is bounded by the number of distinct verdicts. 100,000
patients stream through in the memory of a few thousand integers; no patient is kept.

Units (docs/audit.md):

* ``eligible``: patients in the check's denominator; ``deviations``: eligible patients with at
  least one deviation of that check; ``rate`` = deviations / eligible with a 95% Wilson interval.
* ``justified`` / ``unexplained``: of those patients, whose deviations were all justified / who
  had at least one unexplained deviation (justified + unexplained = deviations).
* ``events``, ``events_justified``, ``events_unexplained``: deviation records (a patient can be
  late for several reassessments); summed over checks they equal the per-patient deviations.
* Small cells: a row whose denominator is 1..suppress_below-1 patients is suppressed (counts,
  rate and interval null, ``"suppressed": true``); so is a timing group, a time distribution or a
  Kaplan-Meier curve of fewer patients.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from journey.adherence import CHECKS, PatientAdherence, Reading
from journey.course import JourneyOutcome
from journey.events import CLOSING_EVENTS, LIVER_PROCEDURES, OVERRIDE_REASONS, EventType
from journey.guideline import RULESET_VERSION
from journey.treatment import Intent

TIMINGS = ("synchronous", "metachronous")
GROUPS = ("all", *TIMINGS)
#: the intervals the report draws, from metastasis detection
INTERVALS = ("detection_to_mdt", "detection_to_treatment", "detection_to_surgery")
INTERVAL_LABELS = {"detection_to_mdt": "detection to first MDT review",
                   "detection_to_treatment": "detection to first treatment",
                   "detection_to_surgery": "detection to first liver operation"}
#: reference median disease-free intervals after liver surgery, in months (seed:29)
SEED_DFI_MEDIAN_MONTHS = {"synchronous": 6.0, "metachronous": 10.0}
DAYS_PER_MONTH = 365.25 / 12
Z95 = 1.959963984540054
#: an override given in words alone, without one of the coded reasons (OVERRIDE_REASONS)
UNCODED_OVERRIDE = "free_text"
OVERRIDE_REASON_WORDS = {**OVERRIDE_REASONS, UNCODED_OVERRIDE: "another reason, in words only"}


# ---------------------------------------------------------------------------------------------
# What one journey contributes besides its deviations: a few numbers, never the patient


@dataclass(frozen=True)
class JourneySummary:
    """The compact numbers one journey adds to the cohort's pictures (days; None = not reached)."""

    detection_to_mdt: int | None = None
    detection_to_treatment: int | None = None
    detection_to_surgery: int | None = None
    #: days from the start of pre-operative therapy to the first reassessment, then between
    #: reassessments, while on pre-operative therapy
    reassessment_intervals: tuple[int, ...] = ()
    #: disease-free interval after the first liver operation: (days, recurred); recurred False =
    #: censored at closure or as_of
    dfi: tuple[int, bool] | None = None
    #: lines of systemic therapy given (contract §7.4: the audit counts holds beside them)
    lines: int = 0
    #: for each line that was held, its days on hold (up to as_of while a hold runs)
    held_days: tuple[int, ...] = ()
    #: the coded reason of each entry recorded with an override (UNCODED_OVERRIDE for words alone)
    overrides: tuple[str, ...] = ()

    def as_list(self) -> list[Any]:
        """The numbers as a compact JSON-ready list (stored with the day's verdict)."""
        return [self.detection_to_mdt, self.detection_to_treatment, self.detection_to_surgery,
                list(self.reassessment_intervals), list(self.dfi) if self.dfi is not None else None,
                self.lines, list(self.held_days), list(self.overrides)]

    @classmethod
    def from_list(cls, values: list[Any]) -> JourneySummary:
        mdt, treatment, surgery, intervals, dfi, lines, held, overrides = values
        return cls(mdt, treatment, surgery, tuple(intervals),
                   (dfi[0], dfi[1]) if dfi is not None else None, lines, tuple(held), tuple(overrides))


def summarize(outcome: JourneyOutcome) -> JourneySummary:
    """The numbers of :class:`JourneySummary` for one journey (first episode: the metastases the
    profile describes; a recurrence starts a new story the detection date does not date)."""
    r = Reading(outcome)
    detected = outcome.profile.metastases.detected_on
    first_episode = [s.event for i, s in enumerate(r.steps)
                     if r.episode_of[i] == 0 and s.event is not None]

    def days_to(pred: Any) -> int | None:
        hit = next((e.date for e in first_episode if e is not None and pred(e)), None)
        return None if hit is None else max((hit - detected).days, 0)

    mdt = days_to(lambda e: e.type is EventType.MDT_REVIEW)
    treatment = days_to(lambda e: e.type in (EventType.SYSTEMIC_STARTED, EventType.SURGERY)
                        or (e.type is EventType.RADIOTHERAPY and e.get("status") == "started"))
    surgery = days_to(lambda e: e.type is EventType.SURGERY and e.get("procedure") in LIVER_PROCEDURES)

    intervals: list[int] = []
    reassessments = [e.date for _, _, e in r.events(EventType.REASSESSMENT)]
    for line in r.lines(Intent.PREOP):
        end = line.end_on(r.as_of)
        points = [line.started_on, *(d for d in reassessments if line.started_on < d <= end)]
        intervals.extend((b - a).days for a, b in pairwise(points))
    lines = r.lines(*Intent)
    held = tuple(line.held_days(r.as_of) for line in lines if line.holds)

    dfi: tuple[int, bool] | None = None
    surgeries = r.liver_surgeries()
    if surgeries:
        index, _, operation = surgeries[0]
        recurrence = next((e.date for i, _, e in r.events(EventType.RECURRENCE) if i > index), None)
        if recurrence is not None:
            dfi = ((recurrence - operation.date).days, True)
        else:
            closed = next((e.date for i, _, e in r.events(*CLOSING_EVENTS) if i > index), None)
            dfi = (((closed or r.as_of) - operation.date).days, False)
    overrides = tuple(e.override_code or UNCODED_OVERRIDE for e in outcome.events if e.override)
    return JourneySummary(mdt, treatment, surgery, tuple(intervals), dfi, len(lines), held, overrides)


# ---------------------------------------------------------------------------------------------
# Statistics over counters


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for a proportion (95% by default); None when n is 0."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def quantile(histogram: Counter[int], q: float) -> float | None:
    """The q-quantile of the values a histogram counts (linear between order statistics)."""
    n = sum(histogram.values())
    if n == 0:
        return None
    position = q * (n - 1)
    lower, upper = math.floor(position), math.ceil(position)
    values = _values_at(histogram, (lower, upper))
    return values[0] + (values[1] - values[0]) * (position - lower)


def _values_at(histogram: Counter[int], ranks: tuple[int, int]) -> tuple[int, int]:
    found: dict[int, int] = {}
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        for rank in ranks:
            if rank not in found and rank < seen:
                found[rank] = value
        if len(found) == len(set(ranks)):
            break
    return found[ranks[0]], found[ranks[1]]


def describe(histogram: Counter[int], suppress_below: int) -> dict[str, Any]:
    n = sum(histogram.values())
    if 0 < n < suppress_below:
        return {"n": None, "suppressed": True}
    out: dict[str, Any] = {"n": n, "suppressed": False}
    for name, q in (("p5", 0.05), ("q1", 0.25), ("median", 0.5), ("q3", 0.75), ("p95", 0.95)):
        out[name] = quantile(histogram, q)
    return out


def kaplan_meier(observations: Counter[tuple[int, bool]]) -> list[tuple[int, float]]:
    """Survival steps [(day, S(day))] from (day, event) counts, starting at (0, 1.0)."""
    at_risk = sum(observations.values())
    curve = [(0, 1.0)]
    survival = 1.0
    for day in sorted({d for d, _ in observations}):
        events = observations.get((day, True), 0)
        censored = observations.get((day, False), 0)
        if events and at_risk:
            survival *= 1 - events / at_risk
            curve.append((day, survival))
        at_risk -= events + censored
    return curve


def km_median(curve: list[tuple[int, float]]) -> int | None:
    return next((day for day, s in curve if s <= 0.5), None)


# ---------------------------------------------------------------------------------------------
# The aggregator

#: one patient's verdict as the counters see it: (check, justified flags of its deviations) for
#: every check the patient is eligible for or deviated from
_Signature = tuple[tuple[str, tuple[bool, ...]], ...]


def _signature(eligible: frozenset[str], deviations: tuple[tuple[str, bool], ...]) -> _Signature:
    flags: dict[str, list[bool]] = {}
    for check, justified in deviations:
        flags.setdefault(check, []).append(justified)
    return tuple(sorted((c, tuple(flags.get(c, ()))) for c in eligible | flags.keys()))


def _count_summary(groups: tuple[_Group, ...], s: JourneySummary) -> None:
    values = [(name, value) for name in INTERVALS if (value := getattr(s, name)) is not None]
    for group in groups:
        for name, value in values:
            group.intervals[name][value] += 1
        if s.reassessment_intervals:
            group.reassessment_days.update(s.reassessment_intervals)
        if s.dfi is not None:
            group.dfi[s.dfi] += 1
        group.lines += s.lines
        group.held_days.update(s.held_days)
        group.overrides.update(s.overrides)


@dataclass
class _CheckCounts:
    eligible: int = 0
    deviations: int = 0
    justified: int = 0
    unexplained: int = 0
    events: int = 0
    events_justified: int = 0
    events_unexplained: int = 0


@dataclass
class _Group:
    patients: int = 0
    checks: dict[str, _CheckCounts] = field(default_factory=lambda: {c.id: _CheckCounts() for c in CHECKS})
    intervals: dict[str, Counter[int]] = field(default_factory=lambda: {k: Counter() for k in INTERVALS})
    reassessment_days: Counter[int] = field(default_factory=Counter)
    dfi: Counter[tuple[int, bool]] = field(default_factory=Counter)
    lines: int = 0
    #: days on hold of each held line (a histogram)
    held_days: Counter[int] = field(default_factory=Counter)
    #: entries recorded with an override, by coded reason
    overrides: Counter[str] = field(default_factory=Counter)


class CohortAudit:
    """Streams patients in, keeps counters only. ``summary()`` is the JSON of ``journey audit``;
    ``measures()`` what the HTML report draws."""

    def __init__(self) -> None:
        self._groups: dict[str, _Group] = {g: _Group() for g in GROUPS}
        self.extra_checks: set[str] = set()
        #: patients not yet counted into the check counters, by group and verdict signature
        #: (patients with the same checks and deviation flags are counted once, times n)
        self._pending: dict[str, Counter[_Signature]] = {g: Counter() for g in GROUPS}
        self._signatures: dict[tuple[frozenset[str], tuple[tuple[str, bool], ...]], _Signature] = {}

    @property
    def groups(self) -> dict[str, _Group]:
        self._settle()
        return self._groups

    @property
    def patients(self) -> int:
        return self._groups["all"].patients

    def add(self, profile_timing: str, adherence: PatientAdherence,
            outcome_summary: JourneySummary | None = None) -> None:
        self.add_tally(profile_timing, adherence.eligible, adherence.flags, outcome_summary)

    def add_tally(self, profile_timing: str, eligible: frozenset[str], flags: tuple[tuple[str, bool], ...],
                  outcome_summary: JourneySummary | None = None) -> None:
        """One patient as the counters see it: the eligible checks and, per deviation, its check
        and whether it was justified (``PatientAdherence.flags``)."""
        timing = str(profile_timing)
        if timing not in TIMINGS:
            raise ValueError(f"timing must be synchronous or metachronous, not {timing!r}")
        key = (eligible, flags)
        signature = self._signatures.get(key)
        if signature is None:
            signature = self._signatures[key] = _signature(*key)
        groups = (self._groups["all"], self._groups[timing])
        for name, group in zip(("all", timing), groups, strict=True):
            group.patients += 1
            self._pending[name][signature] += 1
        if outcome_summary is not None:
            _count_summary(groups, outcome_summary)

    def add_all(self, patients: Iterable[tuple[str, PatientAdherence, JourneySummary | None]]) -> None:
        for timing, adherence, summary in patients:
            self.add(timing, adherence, summary)

    def _settle(self) -> None:
        """Count the pending patients into the per-check counters."""
        for name, pending in self._pending.items():
            group = self._groups[name]
            for signature, n in pending.items():
                for check_id, flags in signature:
                    counts = group.checks.get(check_id)
                    if counts is None:  # a check this version does not declare: keep it, do not drop it
                        self.extra_checks.add(check_id)
                        counts = group.checks[check_id] = _CheckCounts()
                    counts.eligible += n
                    if not flags:
                        continue
                    justified = sum(flags)
                    counts.deviations += n
                    counts.events += n * len(flags)
                    counts.events_justified += n * justified
                    counts.events_unexplained += n * (len(flags) - justified)
                    if justified == len(flags):
                        counts.justified += n
                    else:
                        counts.unexplained += n
            pending.clear()

    # -- outputs ---------------------------------------------------------------------------
    def _check_rows(self, group: _Group, suppress_below: int) -> list[dict[str, Any]]:
        rows = []
        seeds = {c.id: (c.seed, c.title) for c in CHECKS}
        for check_id, c in group.checks.items():
            seed, title = seeds.get(check_id, (None, check_id))
            row: dict[str, Any] = {"check": check_id, "seed": seed, "title": title}
            if 0 < c.eligible < suppress_below:
                row.update(eligible=None, deviations=None, rate=None, ci95=None, justified=None,
                           unexplained=None, events=None, events_justified=None,
                           events_unexplained=None, suppressed=True)
            else:
                interval = wilson(c.deviations, c.eligible)
                row.update(eligible=c.eligible, deviations=c.deviations,
                           rate=round(c.deviations / c.eligible, 4) if c.eligible else None,
                           ci95=[round(interval[0], 4), round(interval[1], 4)] if interval else None,
                           justified=c.justified, unexplained=c.unexplained, events=c.events,
                           events_justified=c.events_justified,
                           events_unexplained=c.events_unexplained, suppressed=False)
            rows.append(row)
        return rows

    def summary(self, suppress_below: int = 5) -> dict[str, Any]:
        """The §6 JSON: patients, checks, by_timing; plus time distributions and DFI medians."""
        self._settle()
        everyone = self._groups["all"]
        by_timing: dict[str, Any] = {}
        for timing in TIMINGS:
            group = self.groups[timing]
            if 0 < group.patients < suppress_below:
                by_timing[timing] = {"patients": None, "suppressed": True, "checks": []}
            else:
                by_timing[timing] = {"patients": group.patients, "suppressed": False,
                                     "checks": self._check_rows(group, suppress_below)}
        measures = self.measures(suppress_below)
        return {
            "patients": everyone.patients,
            "ruleset_version": RULESET_VERSION,
            "suppress_below": suppress_below,
            "checks": self._check_rows(everyone, suppress_below),
            "by_timing": by_timing,
            "times": {name: {g: measures["intervals"][name][g] for g in GROUPS} for name in INTERVALS},
            "reassessment_interval_days": {k: v for k, v in measures["reassessment"]["all"].items()
                                           if k != "histogram"},
            "dfi_after_liver_surgery": {
                t: {k: v for k, v in measures["dfi"][t].items() if k != "curve"} for t in TIMINGS},
            "holds": measures["holds"],
            "overrides_by_reason": self.overrides_by_reason(suppress_below),
        }

    def overrides_by_reason(self, suppress_below: int = 5) -> list[dict[str, Any]]:
        """Entries recorded with an override, counted by coded reason (every reason listed, zero
        included; a count of 1 to ``suppress_below - 1`` entries is suppressed, as other cells)."""
        counts = self._groups["all"].overrides
        rows = []
        for reason, words in OVERRIDE_REASON_WORDS.items():
            n = counts.get(reason, 0)
            small = 0 < n < suppress_below
            rows.append({"reason": reason, "words": words, "entries": None if small else n,
                         "suppressed": small})
        return rows

    def measures(self, suppress_below: int = 5) -> dict[str, Any]:
        """What the HTML draws, in compact form: distribution summaries, a reassessment-interval
        histogram, Kaplan-Meier steps per timing (suppressed below the threshold)."""
        intervals = {name: {g: describe(self.groups[g].intervals[name], suppress_below) for g in GROUPS}
                     for name in INTERVALS}
        reassessment: dict[str, Any] = {}
        for g in GROUPS:
            hist = self.groups[g].reassessment_days
            info = describe(hist, suppress_below)
            info["histogram"] = None if info["suppressed"] else sorted(hist.items())
            reassessment[g] = info
        dfi: dict[str, Any] = {}
        for t in TIMINGS:
            obs = self.groups[t].dfi
            n = sum(obs.values())
            if 0 < n < suppress_below:
                dfi[t] = {"n": None, "suppressed": True, "curve": None, "median_days": None,
                          "median_months": None, "recurrences": None,
                          "seed_median_months": SEED_DFI_MEDIAN_MONTHS[t]}
                continue
            curve = kaplan_meier(obs)
            median = km_median(curve)
            dfi[t] = {"n": n, "suppressed": False, "curve": curve,
                      "recurrences": sum(v for (_, ev), v in obs.items() if ev),
                      "median_days": median,
                      "median_months": round(median / DAYS_PER_MONTH, 1) if median is not None else None,
                      "seed_median_months": SEED_DFI_MEDIAN_MONTHS[t]}
        return {"intervals": intervals, "reassessment": reassessment, "dfi": dfi,
                "holds": {g: self._holds(self.groups[g], suppress_below) for g in GROUPS}}

    @staticmethod
    def _holds(group: _Group, suppress_below: int) -> dict[str, Any]:
        """Lines of therapy held and resumed (contract §7.4): how many, and how long."""
        held = sum(group.held_days.values())
        if 0 < held < suppress_below:
            return {"lines": group.lines, "held_lines": None, "share": None,
                    "median_days_held": None, "suppressed": True}
        return {"lines": group.lines, "held_lines": held,
                "share": round(held / group.lines, 4) if group.lines else None,
                "median_days_held": quantile(group.held_days, 0.5), "suppressed": False}


def audit_outcomes(outcomes: Iterable[tuple[JourneyOutcome, PatientAdherence]]) -> CohortAudit:
    """Convenience: fold judged journeys into a cohort audit (streaming)."""
    cohort = CohortAudit()
    for outcome, adherence in outcomes:
        timing = outcome.profile.timing(outcome.settings.synchronous_window_days).value
        cohort.add(timing, adherence, summarize(outcome))
    return cohort


__all__ = ["CohortAudit", "JourneySummary", "audit_outcomes", "kaplan_meier", "km_median",
           "quantile", "summarize", "wilson"]
