"""What the guideline says and where the journey left the pathway, for one outcome: the domain's
recommendations (journey.guideline) and deviations (journey.adherence), side by side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from journey import adherence, guideline
from journey.adherence import Deviation, ReminderDismissal
from journey.course import JourneyOutcome
from journey.guideline import ContextNote, Recommendation


@dataclass
class Findings:
    recommendations: list[Recommendation] = field(default_factory=list)
    #: seed statements shown as context where they apply, never as advice
    context: list[ContextNote] = field(default_factory=list)
    #: the unknown facts that would decide between rules, as sentences
    missing: list[str] = field(default_factory=list)
    deviations: list[Deviation] = field(default_factory=list)
    eligible: frozenset[str] = frozenset()
    ruleset: str | None = None


def judge_journey(outcome: JourneyOutcome, dismissals: Sequence[ReminderDismissal] = ()) -> Findings:
    advice = guideline.advise(outcome)
    judged = adherence.judge(outcome, dismissals)
    return Findings(recommendations=list(advice.recommendations), context=list(advice.context),
                    missing=list(advice.missing), deviations=list(judged.deviations),
                    eligible=frozenset(judged.eligible), ruleset=guideline.RULESET_VERSION)
