"""A synthetic cohort: realistic CRLM journeys over every branch of the pathway, for the demo and
the benchmarks (``journey demo generate``, ``scripts/bench.py``). Pure: scenarios as plain data,
written to a database by tracker.demo.loading.

Every patient is drawn from its own ``random.Random(f"{seed}:{index}")``, so a cohort is
reproducible from its seed and any slice of it can be generated on its own. Dates are placed
relative to ``as_of`` (today by default): a share of journeys is still under way, so the
worklist always has reminders that are scheduled, due and overdue.

Care that departs from the guideline is generated on purpose, at a realistic rate (late
reassessments, wrong conversion regimens, FOLFOX after oxaliplatin failure, a recurrence with no
timely MDT...): it is what the audit counts. Entries the pathway would refuse are not generated:
every journey is accepted by :func:`journey.course.follow_journey`.

"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from journey.dates import add_months

#: the branches of the pathway and their share of the cohort (a registry's rough case mix)
BRANCH_WEIGHTS: dict[str, float] = {
    "perioperative": 0.18,
    "upfront_surgery": 0.07,
    "conversion_left": 0.09,
    "conversion_right": 0.06,
    "conversion_mutant": 0.12,
    "dmmr_immunotherapy": 0.04,
    "sync_primary_first": 0.08,
    "sync_liver_first": 0.07,
    "sync_simultaneous": 0.06,
    "rectal_pelvic_rt": 0.08,
    "progression_salvage": 0.10,
    "recurrence": 0.05,
}
#: real courses (contract 1.1): a share of the cohort, drawn apart from the branches above so
#: that every other patient of a seed stays the journey it was (docs/decisions.md, Real courses)
REAL_COURSE_WEIGHTS: dict[str, float] = {
    "held_therapy": 0.05,
    "two_stage": 0.03,
    "returned": 0.02,
    "r2_resection": 0.01,
}
BRANCHES = tuple(BRANCH_WEIGHTS) + tuple(REAL_COURSE_WEIGHTS)

MIN_EVENTS, MAX_EVENTS = 10, 25
#: the share of journeys still under way on ``as_of`` (on therapy, awaiting a decision)
OPEN_SHARE = 0.35
#: the rate of each kind of deviation where it can occur
DEVIATION_RATE = 0.10

LEFT_SITES = ("sigmoid", "sigmoid", "rectosigmoid", "descending", "splenic_flexure")
RIGHT_SITES = ("cecum", "ascending", "hepatic_flexure", "transverse")


@dataclass
class Synthetic:
    """One generated patient: the scenario (profile and entries) and what it was drawn to show."""

    index: int
    branch: str
    patient: dict[str, Any]
    events: list[dict[str, Any]]
    tags: set[str] = field(default_factory=set)

    @property
    def ref(self) -> str:
        return str(self.patient["ref"])

    def scenario(self) -> dict[str, Any]:
        return {"patient": self.patient, "events": self.events}


class _Story:
    """Entries at day offsets from the start of the liver journey (offset 0)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.t = 0
        self.entries: list[tuple[int, dict[str, Any]]] = []
        self.tags: set[str] = set()
        self.open_tail = False
        self.preop_start = 0

    def add(self, gap: int, type_: str, **fields: Any) -> None:
        self.t += max(gap, 0)
        self.entries.append((self.t, {"type": type_, **fields}))

    def __len__(self) -> int:
        return len(self.entries)

    def deviate(self, tag: str, rate: float = DEVIATION_RATE) -> bool:
        if self.rng.random() < rate:
            self.tags.add(f"deviation:{tag}")
            return True
        return False

    def room(self, target: int) -> int:
        return max(target - len(self.entries), 0)


@dataclass
class _Profile:
    site: str
    synchronous: bool
    symptoms: tuple[str, ...] = ()
    count: int = 2
    size: int = 30
    extrahepatic: bool = False
    mmr: str = "pMMR"
    ras: str = "wild_type"
    braf: str = "wild_type"
    ecog: int = 1
    oxaliplatin_failure: bool | None = None  # None: no prior adjuvant oxaliplatin


# ------------------------------------------------------------------------------------------------
# Pieces of journeys


def _reassessment_gap(s: _Story) -> int:
    """About two months; now and then late (past due + grace: A-REASSESS-INTERVAL)."""
    if s.deviate("A-REASSESS-INTERVAL", 0.04):
        return s.rng.randint(80, 110)
    return s.rng.randint(52, 64)


def _preop_course(s: _Story, regimen: str, biologic: str | None, cycles: int,
                  resectable_at_end: bool = True, allow_cr: bool = True) -> None:
    """Pre-operative therapy with 2-monthly reassessments; the last one judges resectability."""
    fields = {"regimen": regimen} | ({"biologic": biologic} if biologic else {})
    s.add(s.rng.randint(7, 21), "systemic_started", **fields)
    s.preop_start = s.t
    for i in range(cycles):
        last = i == cycles - 1
        response = s.rng.choice(("PR", "PR", "SD"))
        if last and allow_cr and s.deviate("A-COMPLETE-RESPONSE", 0.05):
            response = "CR"
        s.add(_reassessment_gap(s), "reassessment", response=response,
              resectable=resectable_at_end if last else bool(s.rng.random() < 0.2 and resectable_at_end))


def _liver_surgery(s: _Story, gap: int, procedure: str = "liver_resection") -> str:
    margin = "R1" if s.rng.random() < 0.12 else "R0"
    s.add(gap, "surgery", procedure=procedure, margin=margin)
    if margin == "R1":
        s.tags.add("r1")
    return margin


def _adjuvant(s: _Story, preop_days: int, margin: str, regimen: str = "FOLFOX") -> None:
    """Post-operative therapy to a 6-month total (now and then far off it: A-TOTAL-6M), then
    surveillance. After R1, now and then no therapy at all (A-R1-NO-CHEMO)."""
    if margin == "R1" and s.deviate("A-R1-NO-CHEMO"):
        s.add(s.rng.randint(14, 40), "mdt_review", resectable=False, plan="surveillance")
        return
    s.add(s.rng.randint(28, 56), "systemic_started", regimen=regimen)
    remaining = max(183 - preop_days, 30)
    if s.deviate("A-TOTAL-6M"):
        remaining = max(remaining + s.rng.choice((-1, 1)) * s.rng.randint(45, 80), 21)
    else:
        remaining += s.rng.randint(-12, 12)
    s.add(remaining, "systemic_stopped", reason=s.rng.choice(("completed", "completed", "toxicity")))


def _follow_up(s: _Story, target: int, may_recur: bool = True, recur: bool | None = None) -> None:
    """Surveillance reviews, maybe a recurrence (with or without a timely MDT), maybe closure."""
    rng = s.rng
    if recur is None:
        recur = may_recur and rng.random() < 0.45
    if recur:
        awaiting = rng.random() < 0.25
        while s.room(target) > (1 if awaiting else 4):
            s.add(rng.randint(80, 190), "mdt_review", resectable=False, plan="surveillance")
        _recurrence(s, target, awaiting)
        return
    while s.room(target) > 0:
        s.add(rng.randint(80, 190), "mdt_review", resectable=False, plan="surveillance")
    _maybe_close(s)


def _recurrence(s: _Story, target: int, awaiting: bool) -> None:
    rng = s.rng
    s.add(rng.randint(60, 240), "recurrence", site=rng.choice(("liver_only", "liver_only", "both",
                                                               "extrahepatic")))
    s.tags.add("recurrence")
    if awaiting:
        s.open_tail = True  # awaiting the MDT on as_of (overdue after 30 days: A-RECURRENCE-NO-MDT)
        s.tags.add("recurrence_awaiting_mdt")
        return
    if s.deviate("A-RECURRENCE-NO-MDT"):
        s.tags.add("recurrence_late_mdt")
        gap = rng.randint(35, 80)
    else:
        s.tags.add("recurrence_timely_mdt")
        gap = rng.randint(5, 28)
    if rng.random() < 0.55:
        s.add(gap, "mdt_review", resectable=True, plan="upfront_surgery")
        margin = _liver_surgery(s, rng.randint(14, 40), rng.choice(("liver_resection", "ablation")))
        if margin == "R1" and not s.deviate("A-R1-NO-CHEMO"):
            s.add(rng.randint(28, 60), "systemic_started", regimen="FOLFIRI")
            s.add(rng.randint(80, 120), "systemic_stopped", reason="completed")
        else:
            s.add(rng.randint(20, 40), "mdt_review", resectable=False, plan="surveillance")
        while s.room(target) > 0:
            s.add(rng.randint(80, 190), "mdt_review", resectable=False, plan="surveillance")
        _maybe_close(s)
    else:
        s.add(gap, "mdt_review", resectable=False, plan="salvage")
        _salvage_lines(s, target)


def _salvage_lines(s: _Story, target: int) -> None:
    """Salvage therapy: lines of treatment with reassessments, until death or as_of."""
    rng = s.rng
    lines = iter(("FOLFIRI", "FOLFOX", "OTHER", "OTHER", "OTHER"))
    s.add(rng.randint(7, 21), "systemic_started", regimen=next(lines),
          biologic=rng.choice(("bevacizumab", "none")))
    while s.room(target) > 0:
        response = rng.choice(("SD", "SD", "PR", "PD"))
        s.add(rng.randint(55, 70), "reassessment", response=response, resectable=False)
        if response == "PD" and s.room(target) > 2:
            s.add(rng.randint(3, 14), "systemic_stopped", reason="progression")
            s.add(rng.randint(7, 21), "systemic_started", regimen=next(lines, "OTHER"))
    if rng.random() < 0.5:
        s.add(rng.randint(30, 200), "death")
        s.tags.add("closed")
    else:
        s.open_tail = True


def _maybe_close(s: _Story) -> None:
    roll = s.rng.random()
    if roll < 0.06:
        s.add(s.rng.randint(60, 400), "death")
    elif roll < 0.10:
        s.add(s.rng.randint(30, 300), "transfer")
    elif roll < 0.13:
        s.add(s.rng.randint(90, 400), "lost_to_follow_up")
    else:
        return
    s.tags.add("closed")


def _open_conversion_tail(s: _Story, target: int) -> None:
    """Still on pre-operative therapy on as_of: reassessments go on (the open reminder)."""
    while s.room(target) > 0:
        s.add(_reassessment_gap(s), "reassessment", response=s.rng.choice(("SD", "PR")), resectable=False)
    s.open_tail = True


# ------------------------------------------------------------------------------------------------
# The branches


def _perioperative(s: _Story, p: _Profile, target: int) -> None:
    rng = s.rng
    p.count, p.size = rng.randint(2, 4), rng.randint(15, 60)
    regimen = "FOLFOX" if rng.random() < 0.7 else "CAPOX"
    if p.oxaliplatin_failure:
        regimen = "FOLFOX" if s.deviate("A-FOLFOX-AFTER-OXA-FAILURE") else "FOLFIRI"
    s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="perioperative")
    if rng.random() < OPEN_SHARE * 0.6:
        _preop_course(s, regimen, None, 1, resectable_at_end=True)
        _open_conversion_tail(s, target)
        return
    _preop_course(s, regimen, None, rng.choice((1, 1, 2)))
    s.add(rng.randint(14, 30), "systemic_stopped", reason="surgery")
    preop = s.t - s.preop_start
    margin = _liver_surgery(s, rng.randint(14, 35))
    _adjuvant(s, preop, margin, regimen)
    _follow_up(s, target)


def _upfront(s: _Story, p: _Profile, target: int) -> None:
    rng = s.rng
    p.count, p.size = 1, rng.randint(6, 19)
    s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="upfront_surgery")
    if s.deviate("A-SMALL-NOT-UPFRONT"):
        _preop_course(s, "FOLFOX", None, 1)
        s.add(rng.randint(14, 30), "systemic_stopped", reason="surgery")
        preop = s.t - s.preop_start
    else:
        preop = 0
    margin = _liver_surgery(s, rng.randint(14, 35), rng.choice(("liver_resection", "ablation")))
    if rng.random() < 0.6 or margin == "R1":
        _adjuvant(s, preop, margin)
    else:
        s.add(rng.randint(20, 40), "mdt_review", resectable=False, plan="surveillance")
    _follow_up(s, target)


def _conversion(s: _Story, p: _Profile, target: int, side: str) -> None:
    rng = s.rng
    p.count, p.size = rng.randint(4, 12), rng.randint(30, 95)
    right_regimen = ("FOLFOX", "anti_egfr") if side == "left" else ("FOLFOXIRI", "bevacizumab")
    wrong = s.deviate("A-CONVERSION-REGIMEN")
    if wrong:
        regimen = ("FOLFOX", "anti_egfr") if side != "left" else ("FOLFOX", "bevacizumab")
        if side == "left":  # a left wild-type tumour given a non-standard biologic is not a deviation
            s.tags.discard("deviation:A-CONVERSION-REGIMEN")
    else:
        regimen = right_regimen
    s.tags.add("wrong_regimen" if wrong else "right_regimen")
    s.add(rng.randint(7, 21), "mdt_review", resectable=False, plan="conversion")
    roll = rng.random()
    if roll < OPEN_SHARE:
        _preop_course(s, regimen[0], regimen[1], 1, resectable_at_end=False, allow_cr=False)
        _open_conversion_tail(s, target)
        return
    if roll < OPEN_SHARE + 0.25:  # progression on conversion therapy: salvage
        _preop_course(s, regimen[0], regimen[1], rng.randint(1, 2), resectable_at_end=False,
                      allow_cr=False)
        s.add(_reassessment_gap(s), "reassessment", response="PD", resectable=False)
        s.tags.add("progression")
        if s.deviate("A-RESECTION-AFTER-PROGRESSION"):
            s.add(rng.randint(20, 40), "surgery", procedure="liver_resection", margin="R1")
            s.add(rng.randint(20, 40), "mdt_review", resectable=False, plan="salvage")
        else:
            s.add(rng.randint(7, 21), "mdt_review", resectable=False, plan="salvage")
        _salvage_lines(s, target)
        return
    # converted to resectable
    cycles = rng.randint(2, 4)
    _preop_course(s, regimen[0], regimen[1], cycles, resectable_at_end=True, allow_cr=False)
    s.add(rng.randint(7, 14), "mdt_review", resectable=True)
    s.add(rng.randint(7, 21), "systemic_stopped", reason="surgery")
    preop = s.t - s.preop_start
    s.tags.add("converted")
    margin = _liver_surgery(s, rng.randint(21, 40))
    _adjuvant(s, preop, margin, "FOLFIRI" if regimen[0] == "FOLFOXIRI" else regimen[0])
    _follow_up(s, target)


def _dmmr(s: _Story, p: _Profile, target: int) -> None:
    rng = s.rng
    p.mmr, p.count, p.size = "dMMR", rng.randint(1, 4), rng.randint(20, 60)
    s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="immunotherapy")
    regimen = "FOLFOX" if s.deviate("A-DMMR-NO-IMMUNO") else "IMMUNOTHERAPY"
    if rng.random() < OPEN_SHARE:
        _preop_course(s, regimen, None, 1, resectable_at_end=True)
        _open_conversion_tail(s, target)
        return
    _preop_course(s, regimen, None, rng.randint(2, 3))
    s.add(rng.randint(14, 30), "systemic_stopped", reason="surgery")
    _liver_surgery(s, rng.randint(14, 35))
    s.add(rng.randint(20, 40), "mdt_review", resectable=False, plan="surveillance")
    _follow_up(s, target)


def _sync_primary_first(s: _Story, p: _Profile, target: int) -> None:
    rng = s.rng
    p.symptoms = (rng.choice(("bleeding", "obstruction", "perforation")),)
    p.count, p.size = rng.randint(1, 4), rng.randint(15, 50)
    if s.deviate("A-PRIMARY-NOT-FIRST"):
        s.add(rng.randint(5, 14), "mdt_review", resectable=True, plan="liver_first")
        margin = _liver_surgery(s, rng.randint(14, 30))
        s.add(rng.randint(21, 45), "surgery", procedure="primary_resection", margin="R0")
    else:
        s.add(rng.randint(2, 10), "mdt_review", resectable=True, plan="primary_first")
        s.add(rng.randint(3, 14), "surgery", procedure="primary_resection", margin="R0")
        _preop_course(s, "FOLFOX", None, rng.randint(1, 2))
        s.add(rng.randint(14, 30), "systemic_stopped", reason="surgery")
        preop = s.t - s.preop_start
        margin = _liver_surgery(s, rng.randint(14, 35))
    _adjuvant(s, preop if "deviation:A-PRIMARY-NOT-FIRST" not in s.tags else 0, margin)
    _follow_up(s, target)


def _sync_liver_first(s: _Story, p: _Profile, target: int) -> None:
    rng = s.rng
    p.count, p.size = rng.randint(2, 6), rng.randint(20, 60)
    s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="liver_first",
          simultaneous_feasible=False)
    _preop_course(s, "FOLFOX", None, rng.randint(1, 2))
    s.add(rng.randint(14, 30), "systemic_stopped", reason="surgery")
    preop = s.t - s.preop_start
    margin = _liver_surgery(s, rng.randint(14, 35))
    s.add(rng.randint(35, 70), "surgery", procedure="primary_resection", margin="R0")
    _adjuvant(s, preop, margin)
    _follow_up(s, target)


def _sync_simultaneous(s: _Story, p: _Profile, target: int) -> None:
    rng = s.rng
    p.count, p.size = rng.randint(1, 3), rng.randint(10, 40)
    p.ecog = 2 if s.deviate("A-SIMULTANEOUS-UNFIT") else rng.choice((0, 0, 1))
    s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="simultaneous",
          simultaneous_feasible=True)
    margin = _liver_surgery(s, rng.randint(14, 35), "simultaneous_resection")
    _adjuvant(s, 0, margin)
    _follow_up(s, target)


def _rectal(s: _Story, p: _Profile, target: int) -> None:
    rng = s.rng
    p.site, p.count, p.size = "rectum", rng.randint(1, 4), rng.randint(15, 50)
    indicated = rng.random() < 0.6
    if s.deviate("A-RECTAL-RT-UNDECIDED"):
        s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="liver_first",
              simultaneous_feasible=False)
    else:
        s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="liver_first",
              simultaneous_feasible=False, pelvic_rt_indicated=indicated)
    _preop_course(s, "CAPOX", None, 1)
    s.add(rng.randint(14, 30), "systemic_stopped", reason="surgery")
    preop = s.t - s.preop_start
    margin = _liver_surgery(s, rng.randint(14, 35))
    if indicated:
        s.add(rng.randint(21, 40), "radiotherapy", target="pelvis", status="started")
        s.add(rng.randint(25, 35), "radiotherapy", target="pelvis", status="completed")
    s.add(rng.randint(42, 70), "surgery", procedure="primary_resection", margin="R0")
    _adjuvant(s, preop, margin, "CAPOX")
    _follow_up(s, target)


def _progression(s: _Story, p: _Profile, target: int) -> None:
    rng = s.rng
    p.count, p.size = rng.randint(2, 6), rng.randint(20, 70)
    s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="perioperative")
    regimen = "FOLFIRI" if p.oxaliplatin_failure else "FOLFOX"
    s.add(rng.randint(7, 21), "systemic_started", regimen=regimen)
    s.add(rng.randint(25, 50), "progression")
    s.tags.add("progression")
    s.add(rng.randint(7, 21), "mdt_review", resectable=False, plan="salvage")
    _salvage_lines(s, target)


def _recurrence_branch(s: _Story, p: _Profile, target: int) -> None:
    rng = s.rng
    p.count, p.size = 1, rng.randint(20, 40)
    s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="upfront_surgery")
    margin = _liver_surgery(s, rng.randint(14, 35))
    _adjuvant(s, 0, margin)
    _follow_up(s, target, recur=True)


def _pause(s: _Story, after: int, length: int) -> int:
    """A hold of ``length`` days, ``after`` days on; its days (they count for nothing)."""
    s.add(after, "systemic_paused", reason=s.rng.choice(("toxicity", "toxicity", "intercurrent_illness",
                                                         "patient_choice")))
    s.add(length, "systemic_resumed")
    return length


def _held(s: _Story, p: _Profile, target: int) -> None:
    """Perioperative FOLFOX held and resumed (contract §7.4), before or after the operation; now
    and then still on hold on as_of (the hold review awaited, the 6-month check moving on)."""
    rng = s.rng
    p.count, p.size = rng.randint(2, 4), rng.randint(15, 60)
    s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="perioperative")
    s.add(rng.randint(7, 21), "systemic_started", regimen="FOLFOX")
    start, held = s.t, 0
    if rng.random() < 0.5:  # held before the operation; the reassessment clock runs on
        held = _pause(s, rng.randint(14, 30), rng.randint(10, 40))
    s.add(max(start + rng.randint(52, 64) - s.t, 3), "reassessment", response="PR", resectable=True)
    s.add(rng.randint(20, 40), "systemic_stopped", reason="surgery")
    preop = s.t - start - held
    margin = _liver_surgery(s, rng.randint(14, 35))
    s.add(rng.randint(28, 56), "systemic_started", regimen="FOLFOX")
    post_start = s.t
    post_held = _pause(s, rng.randint(20, 50), rng.randint(7, 35)) if rng.random() < 0.7 else 0
    if rng.random() < 0.3:  # on hold on as_of
        s.add(rng.randint(10, 30), "systemic_paused", reason="toxicity")
        s.open_tail = True
        return
    remaining = max(183 - preop, 30) + post_held
    s.add(max(post_start + remaining - s.t, 7), "systemic_stopped", reason="completed")
    if margin == "R1":
        s.tags.add("r1")
    _follow_up(s, target)


def _two_stage(s: _Story, p: _Profile, target: int) -> None:
    """Bilobar disease converted, then a two-stage liver operation with portal vein embolisation
    and sometimes interval therapy (contract §7.6); now and then awaiting the second stage on
    as_of, or progressing between the stages."""
    rng = s.rng
    p.count, p.size, p.ras = rng.randint(6, 12), rng.randint(30, 80), "mutant"
    s.add(rng.randint(7, 21), "mdt_review", resectable=False, plan="conversion")
    _preop_course(s, "FOLFOXIRI", "bevacizumab", rng.randint(2, 4), resectable_at_end=True,
                  allow_cr=False)
    s.add(rng.randint(7, 21), "systemic_stopped", reason="surgery")
    preop = s.t - s.preop_start
    first_stage = s.t + rng.randint(14, 30)
    s.add(first_stage - s.t, "surgery", procedure="liver_resection", stage=1, margin="R0")
    s.add(rng.randint(5, 14), "surgery", procedure="portal_vein_embolisation")
    s.tags.add("two_stage")
    roll = rng.random()
    if roll < 0.25:  # awaiting the second stage
        s.add(rng.randint(7, 14), "systemic_started", regimen="FOLFIRI")
        s.open_tail = True
        return
    if roll < 0.4:  # progression between the stages: no second stage
        s.add(rng.randint(30, 50), "reassessment", response="PD", resectable=False)
        s.add(rng.randint(7, 21), "mdt_review", resectable=False, plan="salvage")
        _salvage_lines(s, target)
        return
    if rng.random() < 0.5:  # interval therapy, stopped for the second stage
        s.add(rng.randint(7, 14), "systemic_started", regimen="FOLFIRI")
        s.add(rng.randint(21, 35), "systemic_stopped", reason="surgery")
    margin = "R1" if rng.random() < 0.15 else "R0"
    s.add(max(first_stage + rng.randint(42, 70) - s.t, 5), "surgery", procedure="liver_resection", stage=2,
          margin=margin)
    _adjuvant(s, preop, margin)
    _follow_up(s, target)


def _returned(s: _Story, p: _Profile, target: int) -> None:
    """Transferred during pre-operative therapy and back months later (contract §7.9): the new
    episode starts again, the days before the transfer count for nothing."""
    rng = s.rng
    p.count, p.size = rng.randint(2, 4), rng.randint(15, 60)
    s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="perioperative")
    s.add(rng.randint(7, 21), "systemic_started", regimen="FOLFOX")
    s.add(rng.randint(20, 50), "transfer")
    s.add(rng.randint(90, 300), "returned")
    s.tags.add("returned")
    s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="perioperative")
    _preop_course(s, "FOLFOX", None, rng.choice((1, 1, 2)))
    s.add(rng.randint(14, 30), "systemic_stopped", reason="surgery")
    preop = s.t - s.preop_start
    margin = _liver_surgery(s, rng.randint(14, 35))
    _adjuvant(s, preop, margin)
    _follow_up(s, target, may_recur=False)


def _r2(s: _Story, p: _Profile, target: int) -> None:
    """A liver operation that left disease (R2, contract §7.7): the MDT decides, then salvage."""
    rng = s.rng
    p.count, p.size = rng.randint(3, 8), rng.randint(25, 70)
    s.add(rng.randint(7, 21), "mdt_review", resectable=True, plan="perioperative")
    _preop_course(s, "FOLFOX", None, rng.choice((1, 2)))
    s.add(rng.randint(14, 30), "systemic_stopped", reason="surgery")
    s.add(rng.randint(14, 35), "surgery", procedure="liver_resection", margin="R2")
    s.tags.add("r2")
    s.add(rng.randint(7, 40), "mdt_review", resectable=False, plan="salvage")
    _salvage_lines(s, target)


_BRANCH_FUNCS: dict[str, Callable[[_Story, _Profile, int], None]] = {
    "held_therapy": _held,
    "two_stage": _two_stage,
    "returned": _returned,
    "r2_resection": _r2,
    "perioperative": _perioperative,
    "upfront_surgery": _upfront,
    "conversion_left": lambda s, p, t: _conversion(s, p, t, "left"),
    "conversion_right": lambda s, p, t: _conversion(s, p, t, "right"),
    "conversion_mutant": lambda s, p, t: _conversion(s, p, t, "mutant"),
    "dmmr_immunotherapy": _dmmr,
    "sync_primary_first": _sync_primary_first,
    "sync_liver_first": _sync_liver_first,
    "sync_simultaneous": _sync_simultaneous,
    "rectal_pelvic_rt": _rectal,
    "progression_salvage": _progression,
    "recurrence": _recurrence_branch,
}

_SYNCHRONOUS = {"sync_primary_first", "sync_liver_first", "sync_simultaneous", "rectal_pelvic_rt"}


def _draw_profile(rng: random.Random, branch: str) -> _Profile:
    synchronous = branch in _SYNCHRONOUS or (branch.startswith("conversion") and rng.random() < 0.5)
    if branch == "conversion_right":
        site = rng.choice(RIGHT_SITES)
    elif branch == "conversion_left":
        site = rng.choice(LEFT_SITES)
    else:
        site = rng.choice(LEFT_SITES + RIGHT_SITES)
    p = _Profile(site=site, synchronous=synchronous, ecog=rng.choice((0, 0, 1, 1, 2)))
    if branch == "conversion_mutant":
        p.ras, p.braf = ("mutant", "wild_type") if rng.random() < 0.85 else ("wild_type", "mutant")
    elif branch in ("conversion_left", "conversion_right"):
        p.ras, p.braf = "wild_type", "wild_type"
    else:
        p.ras = "mutant" if rng.random() < 0.45 else "wild_type"
        p.braf = "mutant" if rng.random() < 0.08 else "wild_type"
    if branch == "sync_simultaneous":
        p.ecog = rng.choice((0, 1))
    if not synchronous and rng.random() < 0.5:
        p.oxaliplatin_failure = rng.random() < 0.3
    return p


def _place(rng: random.Random, index: int, branch: str, p: _Profile, s: _Story,
           as_of: date) -> Synthetic:
    """Put the story on the calendar: open journeys end shortly before as_of, finished ones
    some time earlier."""
    slack = rng.randint(0, 120) if s.open_tail else rng.randint(7, 900)
    day0 = as_of - timedelta(days=s.t + slack)
    patient: dict[str, Any] = {"ref": f"SYN-{index:07d}", "ecog": p.ecog}
    if p.synchronous:
        diagnosed, resected = day0, None
    else:
        lag = rng.randint(300, 1400)
        if p.oxaliplatin_failure is not None:
            lag = rng.randint(260, 500) if p.oxaliplatin_failure else rng.randint(650, 1400)
        diagnosed = day0 - timedelta(days=lag)
        resected = diagnosed + timedelta(days=rng.randint(14, 45))
        if p.oxaliplatin_failure is not None:
            last_dose = resected + timedelta(days=rng.randint(150, 200))
            if p.oxaliplatin_failure and day0 > add_months(last_dose, 12):
                last_dose = day0 - timedelta(days=200)
            patient["prior_oxaliplatin"] = {"last_dose_on": last_dose.isoformat(),
                                            "relapsed_on": day0.isoformat()}
    patient["primary"] = {
        "site": p.site, "diagnosed_on": diagnosed.isoformat(), "symptoms": list(p.symptoms),
        "t_stage": rng.choice(("T2", "T3", "T3", "T4")), "n_stage": rng.choice(("N0", "N1", "N2")),
        "resected_on": resected.isoformat() if resected else None}
    patient["metastases"] = {"detected_on": day0.isoformat(), "count": p.count,
                             "max_size_mm": p.size, "extrahepatic": p.extrahepatic}
    patient["biomarkers"] = {"mmr": p.mmr, "ras": p.ras, "braf": p.braf}
    events = [{"date": (day0 + timedelta(days=offset)).isoformat(), **entry}
              for offset, entry in s.entries]
    tags = set(s.tags) | {"open" if s.open_tail else "finished"}
    if p.synchronous:
        tags.add("synchronous")
    return Synthetic(index, branch, patient, events, tags)


def generate_one(seed: int, index: int, as_of: date) -> Synthetic:
    """Patient ``index`` of the cohort of ``seed``: the same whatever else is generated."""
    real = random.Random(f"crlm:{seed}:{index}:real-course")
    if real.random() < sum(REAL_COURSE_WEIGHTS.values()):
        rng = real
        branch = rng.choices(list(REAL_COURSE_WEIGHTS), weights=list(REAL_COURSE_WEIGHTS.values()))[0]
    else:  # drawn as before contract 1.1: the same patient for the same seed
        rng = random.Random(f"crlm:{seed}:{index}")
        branch = rng.choices(tuple(BRANCH_WEIGHTS), weights=list(BRANCH_WEIGHTS.values()))[0]
    target = rng.randint(MIN_EVENTS, MAX_EVENTS - 3)
    for _ in range(20):
        story = _Story(rng)
        profile = _draw_profile(rng, branch)
        _BRANCH_FUNCS[branch](story, profile, target)
        if MIN_EVENTS <= len(story) <= MAX_EVENTS:
            return _place(rng, index, branch, profile, story, as_of)
    raise AssertionError(f"{branch} gave no journey of {MIN_EVENTS}-{MAX_EVENTS} entries")  # pragma: no cover


def generate_cohort(patients: int, seed: int, as_of: date, start: int = 0) -> Iterator[Synthetic]:
    for index in range(start, start + patients):
        yield generate_one(seed, index, as_of)
