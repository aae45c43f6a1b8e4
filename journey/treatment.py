"""What the patient's treatment has been, as the fold records it: episodes, lines of systemic
therapy (with their regimens and holds) and liver operations.

This module holds the one definition of the notions the reminders, the recommendations and the
audit all read (contract §3, §4, §7.2-§7.7), so they cannot disagree:

* **pre-operative therapy**: a line of systemic therapy started before the episode's first liver
  operation; it ends at that operation (a ``primary_resection`` does not end it), at a stop, at
  progression, at an MDT decision for surveillance or salvage, at a recurrence or closure;
* **the episode's liver operation**: the first one ends pre-operative therapy; the one that
  *completes* the liver surgery (a single operation, or the second stage) starts post-operative
  therapy, and its margin is the one the R1/R2 rules read;
* **therapy days**: the days a line ran, from its start to its end, less the days it was held
  (date differences, end day not counted); chemotherapy days leave out immunotherapy.

Every value here is plain and mutable only by the fold (``journey.course``); everyone else reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from journey.events import IMMUNOTHERAPY, LIVER_RESECTIONS


class Intent(StrEnum):
    """Why a line of therapy is given, judged by the course when it starts (contract §7.10)."""

    PREOP = "pre-operative"
    POSTOP = "post-operative"
    #: between the two stages of a two-stage liver operation (§7.6): neither pre- nor post-operative
    INTERVAL = "interval"
    SALVAGE = "salvage"


class LineEnd(StrEnum):
    """What ended a line of therapy."""

    STOPPED = "stopped"  # systemic_stopped (its reason is kept beside)
    LIVER_OPERATION = "liver operation"
    PROGRESSION = "progression"
    DECISION = "MDT decision"  # mdt_review with plan surveillance or salvage (§7.3)
    RECURRENCE = "recurrence"
    CLOSURE = "closure"
    NEW_LINE = "new line"
    RETURN = "return"


class EpisodeStart(StrEnum):
    FIRST = "first presentation"
    RECURRENCE = "recurrence"
    RETURN = "return to this centre"


@dataclass(frozen=True)
class RegimenChange:
    """A regimen given from ``on``: the line's start, a switch, or a change on resumption."""

    on: date
    regimen: str
    biologic: str | None
    seq: int  # the entry that set it (systemic_started or systemic_resumed)

    @property
    def chemotherapy(self) -> bool:
        return self.regimen != IMMUNOTHERAPY


@dataclass
class Hold:
    """The line was held from ``paused_on`` (the pause entry ``opened_by``) until ``resumed_on``."""

    paused_on: date
    reason: str
    opened_by: int
    resumed_on: date | None = None

    def days_within(self, start: date, end: date) -> int:
        """Held days inside [start, end): date differences, as the line's own days are."""
        until = min(self.resumed_on or end, end)
        return max((until - max(self.paused_on, start)).days, 0)


@dataclass
class TherapyLine:
    """A line of systemic therapy, from the ``systemic_started`` entry ``opened_by``."""

    opened_by: int
    started_on: date
    intent: Intent
    episode: int
    regimens: list[RegimenChange]
    holds: list[Hold] = field(default_factory=list)
    ended_on: date | None = None
    ending: LineEnd | None = None
    #: the entry that ended it, and the reason given with a stop (completed, toxicity...)
    ended_by: int | None = None
    stop_reason: str | None = None
    #: started by the clinical course, not an entry: the drug goes on as salvage after
    #: progression ended pre- or post-operative therapy (``opened_by`` is the progression's)
    continued: bool = False

    @property
    def running(self) -> bool:
        return self.ended_on is None

    @property
    def held(self) -> bool:
        return bool(self.holds) and self.holds[-1].resumed_on is None

    @property
    def regimen(self) -> str:
        return self.regimens[-1].regimen

    @property
    def biologic(self) -> str | None:
        return self.regimens[-1].biologic

    @property
    def chemotherapy(self) -> bool:
        """Any of its regimens is chemotherapy (it counts toward the 6-month total)."""
        return any(r.chemotherapy for r in self.regimens)

    def end_on(self, until: date) -> date:
        """The last day counted: its end, or ``until`` while it runs."""
        return self.ended_on if self.ended_on is not None and self.ended_on <= until else until

    def held_days(self, until: date) -> int:
        end = self.end_on(until)
        return sum(h.days_within(self.started_on, end) for h in self.holds)

    def therapy_days(self, until: date, chemotherapy_only: bool = False) -> int:
        """Days on therapy up to ``until`` (or the end), less the days held; with
        ``chemotherapy_only``, only the days under a chemotherapy regimen (§7.5)."""
        end = self.end_on(until)
        total = 0
        for i, change in enumerate(self.regimens):
            if chemotherapy_only and not change.chemotherapy:
                continue
            start = max(change.on, self.started_on)
            stop = min(self.regimens[i + 1].on, end) if i + 1 < len(self.regimens) else end
            if stop <= start:
                continue
            total += (stop - start).days - sum(h.days_within(start, stop) for h in self.holds)
        return max(total, 0)


@dataclass(frozen=True)
class LiverOperation:
    seq: int
    on: date
    procedure: str
    stage: int | None
    margin: str | None

    @property
    def resection(self) -> bool:
        """A resection, whose margin is what the R1 rules read (an ablation is not one)."""
        return self.procedure in LIVER_RESECTIONS


@dataclass(frozen=True)
class Progression:
    """Progression found during pre-operative therapy (§7.2): on it, or after it was stopped for
    surgery but before the liver operation."""

    seq: int
    on: date


@dataclass
class Episode:
    """One curative episode: the first presentation, or what follows a recurrence or a return."""

    index: int
    began_by: EpisodeStart
    began_on: date | None
    lines: list[TherapyLine] = field(default_factory=list)
    liver_operations: list[LiverOperation] = field(default_factory=list)
    progressions: list[Progression] = field(default_factory=list)
    #: pre-operative therapy stopped for surgery (or completed): the pre-operative period goes on
    #: until the liver operation, and progression meanwhile still counts as during it (§7.2)
    awaiting_liver_operation: bool = False

    @property
    def liver_surgery_started(self) -> bool:
        return bool(self.liver_operations)

    @property
    def completing_operation(self) -> LiverOperation | None:
        """The operation that completed the liver surgery: the first one that is not a first
        stage. None before it, and between the two stages."""
        return next((op for op in self.liver_operations if op.stage != 1), None)

    @property
    def liver_surgery_complete(self) -> bool:
        return self.completing_operation is not None

    @property
    def between_stages(self) -> bool:
        return self.liver_surgery_started and not self.liver_surgery_complete

    @property
    def residual_disease(self) -> bool:
        """The completing operation left macroscopic disease (R2, §7.7)."""
        op = self.completing_operation
        return op is not None and op.margin == "R2"

    @property
    def curative_by_resection(self) -> bool:
        return self.liver_surgery_complete and not self.residual_disease

    def lines_of(self, intent: Intent) -> list[TherapyLine]:
        return [line for line in self.lines if line.intent is intent]

    def preop_chemotherapy_days(self, until: date) -> int:
        """Pre-operative chemotherapy days of the episode (immunotherapy and holds left out)."""
        return sum(line.therapy_days(until, chemotherapy_only=True)
                   for line in self.lines_of(Intent.PREOP))

    def chemotherapy_days_before(self, line: TherapyLine, until: date) -> int:
        """Perioperative chemotherapy days given in the episode before ``line`` started: all the
        pre-operative days, and the post-operative lines before it."""
        position = next(i for i, other in enumerate(self.lines) if other is line)
        earlier = [other for other in self.lines[:position] if other.intent is Intent.POSTOP]
        return self.preop_chemotherapy_days(until) + sum(
            other.therapy_days(until, chemotherapy_only=True) for other in earlier)

    def perioperative_chemotherapy_days(self, until: date) -> int:
        """Pre- plus post-operative chemotherapy days up to ``until``: the 6-month total."""
        return self.preop_chemotherapy_days(until) + sum(
            line.therapy_days(until, chemotherapy_only=True) for line in self.lines_of(Intent.POSTOP))

    @property
    def preop_chemotherapy(self) -> bool:
        return any(line.chemotherapy for line in self.lines_of(Intent.PREOP))

    @property
    def preop_therapy(self) -> bool:
        return bool(self.lines_of(Intent.PREOP))


@dataclass
class Course:
    """The fold's memory of the course so far: what the pathway's guards and every reader of a
    journey need to know. ``episodes[-1]`` is the current episode."""

    episodes: list[Episode] = field(default_factory=lambda: [Episode(0, EpisodeStart.FIRST, None)])
    #: the line of therapy running now (held or not), if any
    line: TherapyLine | None = None
    #: a line ended by something other than a stop (surgery, progression, a decision, a
    #: recurrence): its drug may still be recorded as stopped afterwards
    awaiting_stop: bool = False
    primary_removed: bool = False
    #: a liver operation completed in any episode (the recurrence rules start from it)
    liver_treated_ever: bool = False
    died_on: date | None = None
    #: the type of the entry that closed the journey (death, transfer...), while it is closed
    closed_with: str | None = None
    #: back after a transfer or loss to follow-up, nothing treated yet (§7.9)
    back_after_closure: bool = False

    @property
    def episode(self) -> Episode:
        return self.episodes[-1]

    @property
    def lines(self) -> list[TherapyLine]:
        return [line for episode in self.episodes for line in episode.lines]

    def intent_running(self) -> Intent | None:
        return self.line.intent if self.line is not None else None

    @property
    def on_therapy(self) -> bool:
        return self.line is not None

    @property
    def on_preop_therapy(self) -> bool:
        return self.intent_running() is Intent.PREOP

    @property
    def on_postop_therapy(self) -> bool:
        return self.intent_running() is Intent.POSTOP

    @property
    def on_interval_therapy(self) -> bool:
        return self.intent_running() is Intent.INTERVAL

    @property
    def line_held(self) -> bool:
        return self.line is not None and self.line.held

    @property
    def liver_treated_in_episode(self) -> bool:
        """The episode's liver surgery has begun (a single operation or the first stage)."""
        return self.episode.liver_surgery_started

    @property
    def in_preop_period(self) -> bool:
        """On pre-operative therapy, or stopped for surgery and awaiting the liver operation:
        progression now is progression during pre-operative therapy (§7.2)."""
        return self.on_preop_therapy or self.episode.awaiting_liver_operation


# ---------------------------------------------------------------------------------------------
# The course as the next entry needs it (issue 17: the fold resumes from it instead of the log)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def _line_to_list(line: TherapyLine) -> list[Any]:
    return [line.opened_by, line.started_on.isoformat(), line.intent.value, line.episode,
            [[r.on.isoformat(), r.regimen, r.biologic, r.seq] for r in line.regimens],
            [[h.paused_on.isoformat(), h.reason, h.opened_by, _day(h.resumed_on)] for h in line.holds],
            _day(line.ended_on), line.ending.value if line.ending else None, line.ended_by,
            line.stop_reason, line.continued]


def _line_of(values: list[Any]) -> TherapyLine:
    (opened_by, started_on, intent, episode, regimens, holds, ended_on, ending, ended_by, stop_reason,
     continued) = values
    return TherapyLine(
        opened_by, date.fromisoformat(started_on), Intent(intent), episode,
        [RegimenChange(date.fromisoformat(on), regimen, biologic, seq)
         for on, regimen, biologic, seq in regimens],
        [Hold(date.fromisoformat(paused), reason, by, _date(resumed))
         for paused, reason, by, resumed in holds],
        _date(ended_on), LineEnd(ending) if ending else None, ended_by, stop_reason, continued)


def remembered(course: Course) -> dict[str, Any]:
    """The course as the next entry needs it, JSON-ready: the current episode in full and the
    facts that outlive an episode. Earlier episodes are over for good: nothing the fold does
    next reads them."""
    episode = course.episode
    line = next((i for i, other in enumerate(episode.lines) if other is course.line), None)
    return {
        "episode": [episode.index, episode.began_by.value, _day(episode.began_on),
                    [_line_to_list(other) for other in episode.lines],
                    [[op.seq, op.on.isoformat(), op.procedure, op.stage, op.margin]
                     for op in episode.liver_operations],
                    [[p.seq, p.on.isoformat()] for p in episode.progressions],
                    episode.awaiting_liver_operation],
        "line": line, "awaiting_stop": course.awaiting_stop, "primary_removed": course.primary_removed,
        "liver_treated_ever": course.liver_treated_ever, "died_on": _day(course.died_on),
        "closed_with": course.closed_with, "back_after_closure": course.back_after_closure,
    }


def recalled(memory: dict[str, Any]) -> Course:
    """The course :func:`remembered` kept."""
    index, began_by, began_on, lines, operations, progressions, awaiting = memory["episode"]
    episode = Episode(index, EpisodeStart(began_by), _date(began_on), [_line_of(v) for v in lines],
                      [LiverOperation(seq, date.fromisoformat(on), procedure, stage, margin)
                       for seq, on, procedure, stage, margin in operations],
                      [Progression(seq, date.fromisoformat(on)) for seq, on in progressions], awaiting)
    line = memory["line"]
    return Course([episode], episode.lines[line] if line is not None else None, memory["awaiting_stop"],
                  memory["primary_removed"], memory["liver_treated_ever"], _date(memory["died_on"]),
                  memory["closed_with"], memory["back_after_closure"])
