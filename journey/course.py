"""Following a patient's journey: the event history, applied in clinical-date order, moves the
pathway machine, opens and closes reminders, and fires the timed transitions on their own dates.

:func:`follow_journey` is the one fold. ``journey replay``, recording an event, the scheduler's
sweep and ``journey verify`` all call it, so a backdated entry gives the same result as one
entered on time, and the stored phase can always be proved against the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from journey.errors import ImpossibleEntry, OffPathway
from journey.events import (
    EVENT_SPECS,
    LIVER_PROCEDURES,
    PRIMARY_PROCEDURES,
    ClinicalEvent,
    EventType,
    with_article,
)
from journey.pathway import (
    OFF_PATHWAY_HINTS,
    PHASE_MEANING,
    POSTOP,
    PREOP,
    REASSESSMENT_FALLS_DUE,
    SALVAGE_INTENT,
    Journey,
    Phase,
    Therapy,
    take_step,
)
from journey.profile import PatientProfile
from journey.reminders import (
    Reminder,
    ReminderKind,
    ReminderStatus,
    next_reassessment,
    r1_postop_therapy,
    recurrence_mdt,
    status_on,
    total_chemo_check,
)
from journey.settings import DEFAULT_SETTINGS, PathwaySettings

#: phases that end pre-operative therapy when entered (contract §4: progression, closure)
ENDS_PREOP = (Phase.SALVAGE, Phase.CLOSED, Phase.RECURRENCE, Phase.SURVEILLANCE)


@dataclass(frozen=True)
class PathwayStep:
    """One entry of the history: a recorded event, or the clock (``event`` is None)."""

    date: date
    trigger: str
    from_phase: Phase
    to_phase: Phase
    event: ClinicalEvent | None = None
    overridden: bool = False
    therapy_intent: str | None = None  # for systemic_started: pre-operative, post-operative...

    @property
    def by_clock(self) -> bool:
        return self.event is None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"date": self.date.isoformat(), "event": self.trigger,
                                  "from": self.from_phase.value, "to": self.to_phase.value}
        if self.by_clock:
            out["by_clock"] = True
        if self.event is not None and self.event.override:
            out["override"] = self.event.override
        return out


@dataclass(frozen=True)
class Refusal:
    """An entry that was refused, with the reason in a nurse's words."""

    seq: int
    type: str | None
    reason: str
    impossible: bool  # True: cannot be true; False: no pathway step (an override would record it)

    def to_dict(self) -> dict[str, object]:
        return {"index": self.seq, "type": self.type, "reason": self.reason}


@dataclass
class JourneyOutcome:
    """Where the history leaves the patient on ``as_of``."""

    profile: PatientProfile
    as_of: date
    settings: PathwaySettings
    phase: Phase
    steps: list[PathwayStep]
    refusals: list[Refusal]
    reminders: list[Reminder]
    journey: Journey

    @property
    def events(self) -> list[ClinicalEvent]:
        """The accepted events, in the order they were applied."""
        return [s.event for s in self.steps if s.event is not None]

    def step_for(self, event: ClinicalEvent) -> PathwayStep:
        return next(s for s in self.steps if s.event is event)

    def status(self, reminder: Reminder) -> ReminderStatus:
        return status_on(reminder, self.as_of, self.settings)

    def reminders_with_status(self) -> list[tuple[Reminder, ReminderStatus]]:
        return [(r, self.status(r)) for r in self.reminders]


@dataclass
class _Episode:
    """Pre-operative time of the current curative episode."""

    preop_days: int = 0
    preop_since: date | None = None
    open_reassessment: tuple[str, date] | None = None
    open_total_check: tuple[str, date] | None = None


class _Fold:
    def __init__(self, profile: PatientProfile, as_of: date, settings: PathwaySettings) -> None:
        self.profile = profile
        self.as_of = as_of
        self.settings = settings
        self.journey = Journey()
        self.journey.course.primary_removed = profile.primary.resected_on is not None
        self.steps: list[PathwayStep] = []
        self.refusals: list[Refusal] = []
        self.reminders: dict[tuple[str, date], Reminder] = {}
        self.episode = _Episode()
        self.line_awaiting_stop = False
        #: reminders for what the audit also checks, awaited across episodes: kind -> key
        self.follow_ups: dict[ReminderKind, tuple[str, date]] = {}

    # -- the clock ---------------------------------------------------------------------------
    def clock_until(self, day: date) -> None:
        """Fire the timed transition when a reassessment falls due during pre-operative therapy.

        The patient is in ``reassessment`` from the due date until a reassessment is recorded
        (contract §2): one who left neoadjuvant meanwhile (cleared for surgery, then judged
        unresectable again) returns to reassessment, since the reminder is still open."""
        key = self.episode.open_reassessment
        if key is None:
            return
        reminder = self.reminders[key]
        if reminder.due_on > day or self.journey.phase is not Phase.NEOADJUVANT:
            return
        last = self.steps[-1].date if self.steps else reminder.due_on
        when = max(reminder.due_on, last)
        before = self.journey.phase
        if take_step(self.journey, REASSESSMENT_FALLS_DUE):
            self.steps.append(PathwayStep(when, REASSESSMENT_FALLS_DUE, before, self.journey.phase))

    # -- one entry ---------------------------------------------------------------------------
    def apply(self, event: ClinicalEvent) -> None:
        try:
            self.check_possible(event)
            before = self.journey.phase
            overridden = False
            if not take_step(self.journey, event.type.value, event):
                if not event.override:
                    raise OffPathway(self.off_pathway_reason(event))
                if not take_step(self.journey, event.type.value, event, override=True):
                    raise OffPathway(self.off_pathway_reason(event))
                overridden = True
        except (ImpossibleEntry, OffPathway) as refusal:
            self.refusals.append(Refusal(event.seq, event.type.value, refusal.message,
                                         isinstance(refusal, ImpossibleEntry)))
            return
        intent = self.follow_course(event, before)
        self.steps.append(PathwayStep(event.date, event.type.value, before, self.journey.phase,
                                      event, overridden, intent))

    def check_possible(self, event: ClinicalEvent) -> None:
        label = EVENT_SPECS[event.type].label
        course = self.journey.course
        day = event.date.isoformat()
        if event.date > self.as_of:
            raise ImpossibleEntry(f"The {label} is dated {day}, after {self.as_of.isoformat()} "
                                  f"(today for this record): entries cannot be in the future.")
        if event.date < self.profile.primary.diagnosed_on:
            raise ImpossibleEntry(
                f"The {label} is dated {day}, before the primary tumour was diagnosed "
                f"({self.profile.primary.diagnosed_on.isoformat()}); check the date.")
        if course.died_on is not None:
            raise ImpossibleEntry(f"The patient died on {course.died_on.isoformat()}; nothing can "
                                  f"be recorded after death.")
        if (event.type is EventType.SYSTEMIC_STOPPED and course.therapy is None
                and not self.line_awaiting_stop):
            raise ImpossibleEntry("No systemic therapy is running to stop; record when it started "
                                  "first.")
        if (event.type is EventType.SURGERY and event.get("procedure") in PRIMARY_PROCEDURES
                and course.primary_removed):
            raise ImpossibleEntry("The primary tumour has already been removed; record a liver "
                                  "operation instead, or check the procedure.")

    def off_pathway_reason(self, event: ClinicalEvent) -> str:
        label = EVENT_SPECS[event.type].label
        phase = self.journey.phase
        course = self.journey.course
        if phase is Phase.CLOSED:
            where = f"the journey was closed ({course.closed_by})"
        else:
            where = f"the patient is in {phase.value} ({PHASE_MEANING[phase]})"
        # the hints advise what to record instead in follow-up; after closure they would send the
        # nurse to an entry that is refused as well
        hint = "" if phase is Phase.CLOSED else OFF_PATHWAY_HINTS.get(event.type.value, "")
        text = f"{with_article(label)} cannot be recorded while {where}."
        if hint:
            text += " " + hint
        return text + " If the team decided this on purpose, record it with an override reason."

    # -- what the step means for the course and the reminders --------------------------------
    def follow_course(self, event: ClinicalEvent, before: Phase) -> str | None:
        course, ep, after = self.journey.course, self.episode, self.journey.phase
        day = event.date
        intent: str | None = None
        kind = event.type
        if kind is EventType.SYSTEMIC_STARTED:
            intent = self.therapy_intent(before, after)
            running = course.therapy
            if running is not None and running.intent == intent:
                course.therapy = Therapy(event.get("regimen"), event.get("biologic"),
                                         running.started_on, intent)
            else:
                self.end_therapy(day, stopped=True)
                course.therapy = Therapy(event.get("regimen"), event.get("biologic"), day, intent)
                if intent == PREOP:
                    ep.preop_since = day
                    if ep.open_reassessment is None:
                        self.open(next_reassessment(day, self.settings), "reassessment")
                elif intent == POSTOP and ep.open_total_check is None:
                    self.open(total_chemo_check(day, ep.preop_days, self.settings), "total")
            self.line_awaiting_stop = False
        elif kind is EventType.SYSTEMIC_STOPPED:
            self.end_therapy(day, stopped=True)
            self.line_awaiting_stop = False
        elif kind is EventType.REASSESSMENT:
            if ep.open_reassessment is not None:
                self.close(ep.open_reassessment, day, resolved=True)
                ep.open_reassessment = None
            if event.get("response") == "PD":
                self.end_preop(day)
            elif course.on_preop_therapy:
                self.open(next_reassessment(day, self.settings), "reassessment")
        elif kind is EventType.SURGERY:
            procedure = event.get("procedure")
            if procedure in LIVER_PROCEDURES:
                # the episode's liver operation ends pre-operative therapy (contract §4); removing
                # the primary during conversion therapy pauses it but the reassessments go on
                self.end_preop(day)
                course.liver_treated_in_episode = True
                course.liver_treated_ever = True
            if procedure in PRIMARY_PROCEDURES:
                course.primary_removed = True
        elif kind is EventType.PROGRESSION:
            self.end_preop(day)
        elif kind is EventType.RECURRENCE:
            self.end_therapy(day, stopped=False)
            self.episode = _Episode()
            course.liver_treated_in_episode = False
        elif kind in (EventType.DEATH, EventType.TRANSFER, EventType.LOST_TO_FOLLOW_UP):
            self.end_therapy(day, stopped=False)
            course.closed_by = EVENT_SPECS[kind].label
            if kind is EventType.DEATH:
                course.died_on = day
        self.follow_up(event, after)
        if after in ENDS_PREOP:
            self.end_preop(day)
        if after in (Phase.CLOSED, Phase.RECURRENCE, Phase.SALVAGE) and ep.open_total_check:
            self.close(ep.open_total_check, day, resolved=False)
            ep.open_total_check = None
        return intent

    def follow_up(self, event: ClinicalEvent, after: Phase) -> None:
        """Reminders beyond the contract's two: the MDT after a recurrence (seed:37) and
        post-operative therapy after an R1 liver resection (seed:35)."""
        day, kind = event.date, event.type
        awaited = {EventType.MDT_REVIEW: ReminderKind.RECURRENCE_MDT,
                   EventType.SYSTEMIC_STARTED: ReminderKind.R1_POSTOP_THERAPY}
        if kind in awaited and awaited[kind] in self.follow_ups:
            self.close(self.follow_ups.pop(awaited[kind]), day, resolved=True)
        ends_r1 = after in (Phase.CLOSED, Phase.RECURRENCE, Phase.SALVAGE)
        if ends_r1 and ReminderKind.R1_POSTOP_THERAPY in self.follow_ups:
            self.close(self.follow_ups.pop(ReminderKind.R1_POSTOP_THERAPY), day, resolved=False)
        if after is Phase.CLOSED and ReminderKind.RECURRENCE_MDT in self.follow_ups:
            self.close(self.follow_ups.pop(ReminderKind.RECURRENCE_MDT), day, resolved=False)
        if kind is EventType.RECURRENCE:
            self.open_follow_up(recurrence_mdt(day, self.settings))
        if (kind is EventType.SURGERY and event.get("procedure") in LIVER_PROCEDURES
                and event.get("margin") == "R1" and not self.journey.course.on_therapy):
            self.open_follow_up(r1_postop_therapy(day, self.settings))

    def open_follow_up(self, reminder: Reminder) -> None:
        if reminder.kind in self.follow_ups:  # a second one replaces the first, which is moot
            self.close(self.follow_ups.pop(reminder.kind), reminder.anchor_on, resolved=False)
        self.reminders.setdefault(reminder.key, reminder)
        self.follow_ups[reminder.kind] = reminder.key

    @staticmethod
    def therapy_intent(before: Phase, after: Phase) -> str:
        if after is Phase.ADJUVANT:
            return POSTOP
        if after is Phase.SALVAGE or before is Phase.SALVAGE:
            return SALVAGE_INTENT
        return PREOP

    def open(self, reminder: Reminder, slot: str) -> None:
        self.reminders.setdefault(reminder.key, reminder)
        if slot == "reassessment":
            self.episode.open_reassessment = reminder.key
        else:
            self.episode.open_total_check = reminder.key

    def close(self, key: tuple[str, date], day: date, resolved: bool) -> None:
        reminder = self.reminders[key]
        self.reminders[key] = reminder.resolve(day) if resolved else reminder.cancel(day)

    def end_preop(self, day: date) -> None:
        """Pre-operative therapy ends (surgery, progression, salvage, closure): its days count,
        the reassessment reminder is no longer relevant. A running line that was not stopped
        explicitly may still be stopped later."""
        course, ep = self.journey.course, self.episode
        if ep.preop_since is not None:
            ep.preop_days += (day - ep.preop_since).days
            ep.preop_since = None
        if ep.open_reassessment is not None:
            self.close(ep.open_reassessment, day, resolved=False)
            ep.open_reassessment = None
        if course.therapy is not None and course.therapy.intent == PREOP:
            course.therapy = replace(course.therapy, intent=SALVAGE_INTENT) \
                if self.journey.phase is Phase.SALVAGE else None
            self.line_awaiting_stop = course.therapy is None

    def end_therapy(self, day: date, stopped: bool) -> None:
        course, ep = self.journey.course, self.episode
        therapy = course.therapy
        if therapy is None:
            return
        if therapy.intent == PREOP:
            self.end_preop(day)
        elif therapy.intent == POSTOP and ep.open_total_check is not None:
            self.close(ep.open_total_check, day, resolved=stopped)
            ep.open_total_check = None
        course.therapy = None
        self.line_awaiting_stop = not stopped


def clock_phase(phase: Phase) -> Phase:
    """Where the clock moves a patient in ``phase`` whose open reassessment has fallen due: what
    :meth:`_Fold.clock_until` does to a journey whose stored state is otherwise up to date. The
    machine's row decides (``neoadjuvant`` -> ``reassessment``); any other phase stays.

    It holds because an open ``reassessment_due`` reminder is exactly the episode's open
    reassessment (opened by pre-operative therapy, closed by whatever ends it), which
    tests/integration/test_sweep_equals_fold.py checks over generated cohorts."""
    if phase is not Phase.NEOADJUVANT:
        return phase
    journey = Journey(phase)
    take_step(journey, REASSESSMENT_FALLS_DUE)
    return journey.phase


def follow_journey(profile: PatientProfile, events: Iterable[ClinicalEvent], as_of: date,
                   settings: PathwaySettings = DEFAULT_SETTINGS) -> JourneyOutcome:
    """Apply ``events`` in date order (``seq`` within a date) and the clock up to ``as_of``."""
    fold = _Fold(profile, as_of, settings)
    for event in sorted(events, key=lambda e: e.sort_key):
        if event.date <= as_of:
            fold.clock_until(event.date)
        fold.apply(event)
    fold.clock_until(as_of)
    return JourneyOutcome(profile=profile, as_of=as_of, settings=settings,
                          phase=fold.journey.phase, steps=fold.steps, refusals=fold.refusals,
                          reminders=list(fold.reminders.values()), journey=fold.journey)
