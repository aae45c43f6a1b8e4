"""Following a patient's journey: the event history, applied in clinical-date order, moves the
pathway machine, records the treatment (``journey.treatment``), opens and closes reminders, and
fires the timed transitions on their own dates.

:func:`follow_journey` is the one fold. ``journey replay``, recording an event, the scheduler's
sweep and ``journey verify`` all call it, so a backdated entry gives the same result as one
entered on time, and the stored phase can always be proved against the log.

Each entry has a ``seq`` (its place in the file, or its recording order): it orders entries of one
date, and it names the entry that opened or closed a reminder (contract §7.1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from journey.errors import ImpossibleEntry, OffPathway
from journey.events import (
    CLOSING_EVENTS,
    EMBOLISATION,
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
    REASSESSMENT_FALLS_DUE,
    Journey,
    Phase,
    take_step,
)
from journey.profile import PatientProfile
from journey.reminders import (
    Reminder,
    ReminderKind,
    ReminderStatus,
    hold_review,
    mdt_after_r2,
    next_reassessment,
    r1_postop_therapy,
    recurrence_mdt,
    second_stage_due,
    status_on,
    total_chemo_check,
)
from journey.settings import DEFAULT_SETTINGS, PathwaySettings
from journey.treatment import (
    Course,
    Episode,
    EpisodeStart,
    Hold,
    Intent,
    LineEnd,
    LiverOperation,
    Progression,
    RegimenChange,
    TherapyLine,
    recalled,
    remembered,
)

K = ReminderKind

#: the version of the fold's rules (pathway, treatment record, reminder policy). Stored with each
#: patient's derived phase and reminders: a patient derived under another version is re-derived
#: from the log (the log itself never changes).
PATHWAY_VERSION = "2026.12-2"


@dataclass(frozen=True)
class PathwayStep:
    """One entry of the history: a recorded event, or the clock (``event`` is None)."""

    date: date
    trigger: str
    from_phase: Phase
    to_phase: Phase
    event: ClinicalEvent | None = None
    overridden: bool = False
    #: for systemic_started: the intent of the line it began or joined
    therapy_intent: Intent | None = None
    #: the episode the step belongs to (a recurrence or a return begins a new one)
    episode: int = 0

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
    #: the fold's memory after the last entry (``follow_journey(..., remember=True)``)
    memory: dict[str, Any] | None = None

    @property
    def course(self) -> Course:
        return self.journey.course

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

    def resectable_before(self, index: int) -> bool | None:
        """Resectable or unresectable before step ``index`` (contract §4): the latest
        resectability judgement recorded (``mdt_review`` or ``reassessment``), None before any.
        A recurrence starts over (a judgement before it was about other disease); a return does
        not (§7.9: the history is kept, and the next plan starts the new episode)."""
        began_by = {e.index: e.began_by for e in self.course.episodes}
        end = min(index, len(self.steps))
        later = self.steps[end].episode if end < len(self.steps) else None
        for step in reversed(self.steps[:end]):
            if later is not None and step.episode != later and began_by.get(later) is not EpisodeStart.RETURN:
                return None  # across the start of an episode that a recurrence began
            if step.event is not None and step.event.type in (EventType.MDT_REVIEW, EventType.REASSESSMENT) \
                    and step.event.get("resectable") is not None:
                return bool(step.event.get("resectable"))
            later = step.episode
        return None


class _Fold:
    def __init__(self, profile: PatientProfile, as_of: date, settings: PathwaySettings) -> None:
        self.profile = profile
        self.as_of = as_of
        self.settings = settings
        self.journey = Journey()
        self.course = self.journey.course
        self.course.primary_removed = profile.primary.resected_on is not None
        self.steps: list[PathwayStep] = []
        self.refusals: list[Refusal] = []
        #: every reminder ever opened, by its identity (kind, opening entry)
        self.reminders: dict[tuple[str, int], Reminder] = {}
        #: the open reminder of each kind (at most one of each is awaited at a time)
        self.open: dict[ReminderKind, tuple[str, int]] = {}
        #: the last accepted entry: its date, and the highest seq accepted
        self.last_entry_on: date | None = None
        self.max_seq = 0
        #: the day of the last step before a recalled memory (:meth:`recall`)
        self.recalled_step_on: date | None = None
        self.handlers: dict[EventType, Callable[[ClinicalEvent, Phase], Intent | None]] = {
            EventType.MDT_REVIEW: self.mdt_review,
            EventType.SYSTEMIC_STARTED: self.systemic_started,
            EventType.SYSTEMIC_STOPPED: self.systemic_stopped,
            EventType.SYSTEMIC_PAUSED: self.systemic_paused,
            EventType.SYSTEMIC_RESUMED: self.systemic_resumed,
            EventType.REASSESSMENT: self.reassessment,
            EventType.SURGERY: self.surgery,
            EventType.PROGRESSION: self.progression,
            EventType.RECURRENCE: self.recurrence,
            EventType.RETURNED: self.returned,
            **{kind: self.closure for kind in CLOSING_EVENTS},
        }

    @property
    def episode(self) -> Episode:
        return self.course.episode

    @property
    def last_step_on(self) -> date | None:
        return self.steps[-1].date if self.steps else self.recalled_step_on

    # -- what the fold remembers between entries (issue 17) ----------------------------------------
    def memory(self) -> dict[str, Any]:
        """The fold's memory after the last accepted entry, before the clock moved on: JSON-ready,
        enough for :func:`follow_entry` to apply an entry dated on or after it. Steps the clock
        took since that entry (the reassessment falling due, on the way to a later entry that was
        refused, or to ``as_of``) are left out: the clock only moves the phase and adds a step,
        and takes them again when the next entry comes."""
        last = next((i for i in range(len(self.steps) - 1, -1, -1) if not self.steps[i].by_clock), -1)
        since = self.steps[last + 1:]
        phase = since[0].from_phase.value if since else self.journey.state
        step_on = self.steps[last].date if last >= 0 else self.recalled_step_on
        return {"version": PATHWAY_VERSION, "phase": phase, "course": remembered(self.course),
                "open": [_reminder_to_list(self.reminders[key]) for key in self.open.values()],
                "last_step_on": _iso(step_on), "last_entry_on": _iso(self.last_entry_on),
                "max_seq": self.max_seq}

    @classmethod
    def recall(cls, profile: PatientProfile, memory: dict[str, Any], as_of: date,
               settings: PathwaySettings) -> _Fold:
        fold = cls(profile, as_of, settings)
        fold.journey = Journey(memory["phase"], recalled(memory["course"]))
        fold.course = fold.journey.course
        for values in memory["open"]:
            reminder = _reminder_of_list(values)
            fold.reminders[reminder.key] = reminder
            fold.open[reminder.kind] = reminder.key
        fold.recalled_step_on = _date_or_none(memory["last_step_on"])
        fold.last_entry_on = _date_or_none(memory["last_entry_on"])
        fold.max_seq = memory["max_seq"]
        return fold

    # -- the clock ---------------------------------------------------------------------------
    def clock_until(self, day: date) -> None:
        """Fire the timed transition when a reassessment falls due during pre-operative therapy.

        The patient is in ``reassessment`` from the due date until a reassessment is recorded
        (contract §2): one who left neoadjuvant meanwhile (cleared for surgery, then judged
        unresectable again) returns to reassessment, since the reminder is still open."""
        key = self.open.get(K.REASSESSMENT_DUE)
        if key is None:
            return
        reminder = self.reminders[key]
        if reminder.due_on > day or self.journey.phase is not Phase.NEOADJUVANT:
            return
        when = max(reminder.due_on, self.last_step_on) if self.last_step_on else reminder.due_on
        before = self.journey.phase
        if take_step(self.journey, REASSESSMENT_FALLS_DUE):
            self.steps.append(PathwayStep(when, REASSESSMENT_FALLS_DUE, before, self.journey.phase,
                                          episode=self.episode.index))

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
        intent = self.handlers.get(event.type, self.nothing)(event, before)
        self.after_phase(event)
        self.steps.append(PathwayStep(event.date, event.type.value, before, self.journey.phase,
                                      event, overridden, intent, self.episode.index))
        self.last_entry_on = event.date
        self.max_seq = max(self.max_seq, event.seq)

    def check_possible(self, event: ClinicalEvent) -> None:
        course = self.course
        if event.date > self.as_of:
            raise ImpossibleEntry(f"The {EVENT_SPECS[event.type].label} is dated "
                                  f"{event.date.isoformat()}, after {self.as_of.isoformat()} "
                                  f"(today for this record): entries cannot be in the future.")
        if event.date < self.profile.primary.diagnosed_on:
            raise ImpossibleEntry(
                f"The {EVENT_SPECS[event.type].label} is dated {event.date.isoformat()}, before the "
                f"primary tumour was diagnosed ({self.profile.primary.diagnosed_on.isoformat()}); "
                f"check the date.")
        if course.died_on is not None:
            raise ImpossibleEntry(f"The patient died on {course.died_on.isoformat()}; nothing can "
                                  f"be recorded after death.")
        closed = self.journey.phase is Phase.CLOSED
        if closed and event.type is not EventType.RETURNED:
            closing = EVENT_SPECS[EventType(course.closed_with)].label if course.closed_with else "closed"
            raise ImpossibleEntry(
                f"The journey was closed ({closing}): nothing more can be recorded, with or "
                f"without an override. If the patient is back in this centre's care, record "
                f"their return first.")
        if event.type is EventType.RETURNED and not closed:
            raise ImpossibleEntry(
                f"The patient is in this centre's care ({self.journey.phase.value}): a return is "
                f"recorded only after a transfer or a loss to follow-up.")
        if (event.type is EventType.SYSTEMIC_STOPPED and course.line is None
                and not course.awaiting_stop):
            raise ImpossibleEntry("No systemic therapy is running to stop; record when it started "
                                  "first.")
        if event.type is EventType.SURGERY:
            self.check_operation(event)

    def check_operation(self, event: ClinicalEvent) -> None:
        procedure = event.get("procedure")
        if procedure in PRIMARY_PROCEDURES and self.course.primary_removed:
            raise ImpossibleEntry("The primary tumour has already been removed; record a liver "
                                  "operation instead, or check the procedure.")
        if event.get("stage") is not None and procedure not in LIVER_PROCEDURES:
            raise ImpossibleEntry(
                f"Only a liver operation has stages; a {procedure.replace('_', ' ')} is recorded "
                f"without one.")
        if procedure == EMBOLISATION and event.get("margin") is not None:
            raise ImpossibleEntry("A portal vein embolisation removes no tissue and has no margin; "
                                  "record it without one.")

    def off_pathway_reason(self, event: ClinicalEvent) -> str:
        label = EVENT_SPECS[event.type].label
        phase = self.journey.phase
        where = f"the patient is in {phase.value} ({PHASE_MEANING[phase]})"
        if event.type is EventType.SURGERY and event.get("stage") == 2:
            text = (f"A second-stage liver operation cannot be recorded while {where}: no first "
                    f"stage is recorded in this episode. Record the first stage first.")
        else:
            text = f"{with_article(label)} cannot be recorded while {where}."
            hint = OFF_PATHWAY_HINTS.get(event.type.value, "")
            if hint:
                text += " " + hint
        return text + " If the team decided this on purpose, record it with an override reason."

    # -- reminders ---------------------------------------------------------------------------
    def open_reminder(self, reminder: Reminder) -> None:
        """Await ``reminder``; one still open of the same kind is moot and cancelled."""
        self.close(reminder.kind, reminder.anchor_on, resolved=False, by=reminder.opened_by)
        self.reminders[reminder.key] = reminder
        self.open[reminder.kind] = reminder.key

    def close(self, kind: ReminderKind, day: date, resolved: bool, by: int | None) -> None:
        key = self.open.pop(kind, None)
        if key is None:
            return
        reminder = self.settle_hold(self.reminders[key], day)
        self.reminders[key] = reminder.resolve(day, by) if resolved and by is not None \
            else reminder.cancel(day, by)

    def settle_hold(self, reminder: Reminder, day: date) -> Reminder:
        """The held days up to ``day`` become part of the due date; it stands still again."""
        if reminder.held_since is None:
            return reminder
        return replace(reminder, due_on=reminder.due_on_at(day), held_since=None)

    def hold_total_check(self, day: date) -> None:
        key = self.open.get(K.TOTAL_CHEMO_CHECK)
        if key is not None and self.reminders[key].due_on > day:
            self.reminders[key] = replace(self.reminders[key], held_since=day)

    def release_total_check(self, day: date) -> None:
        key = self.open.get(K.TOTAL_CHEMO_CHECK)
        if key is not None:
            self.reminders[key] = self.settle_hold(self.reminders[key], day)

    # -- lines of therapy --------------------------------------------------------------------
    def intent_of_new_line(self) -> Intent:
        """Judged by the course, never by the first row that matched (contract §7.10)."""
        if self.journey.phase is Phase.SALVAGE:
            return Intent.SALVAGE
        if self.episode.between_stages:
            return Intent.INTERVAL
        if self.episode.liver_surgery_complete:
            return Intent.POSTOP
        return Intent.PREOP

    def begin_line(self, event: ClinicalEvent, intent: Intent, continued: bool = False,
                   regimen: str | None = None, biologic: str | None = None) -> TherapyLine:
        change = RegimenChange(event.date, regimen or event.get("regimen"),
                               biologic if continued else event.get("biologic"), event.seq)
        line = TherapyLine(event.seq, event.date, intent, self.episode.index, [change],
                           continued=continued)
        self.episode.lines.append(line)
        self.course.line = line
        self.course.awaiting_stop = False
        self.episode.awaiting_liver_operation = False
        if intent is Intent.PREOP:
            self.open_reminder(next_reassessment(event.seq, event.date, self.settings))
        elif intent is Intent.POSTOP and line.chemotherapy and self.episode.curative_by_resection:
            given = self.episode.chemotherapy_days_before(line, event.date)
            self.open_reminder(total_chemo_check(event.seq, event.date, given, self.settings))
        return line

    def end_line(self, day: date, ending: LineEnd, by: int | None, stop_reason: str | None = None,
                 hold_resolved: bool = False) -> TherapyLine | None:
        """The running line ends: its days stop counting, and what it alone awaited closes."""
        line = self.course.line
        if line is None:
            return None
        self.end_hold(line, day, resolved=hold_resolved, by=by)
        line.ended_on, line.ending, line.ended_by, line.stop_reason = day, ending, by, stop_reason
        self.course.line = None
        self.course.awaiting_stop = ending is not LineEnd.STOPPED
        if line.intent is Intent.PREOP:
            self.close(K.REASSESSMENT_DUE, day, resolved=False, by=by)
        if line.intent is Intent.POSTOP:
            # the awaited event of the check is the therapy stopping (contract §3); ended any
            # other way (a decision, progression, closure) it is cancelled (§7.3)
            self.close(K.TOTAL_CHEMO_CHECK, day, resolved=ending is LineEnd.STOPPED, by=by)
        return line

    def end_hold(self, line: TherapyLine, day: date, resolved: bool, by: int | None) -> None:
        if not line.held:
            return
        line.holds[-1].resumed_on = day
        self.release_total_check(day)
        self.close(K.HOLD_REVIEW, day, resolved=resolved, by=by)

    def change_regimen(self, line: TherapyLine, event: ClinicalEvent) -> None:
        regimen = event.get("regimen")
        if regimen is None:
            return
        biologic = event.get("biologic") if event.type is EventType.SYSTEMIC_STARTED else line.biologic
        line.regimens.append(RegimenChange(event.date, regimen, biologic, event.seq))

    def end_preop_period(self, day: date, ending: LineEnd, by: int | None) -> None:
        """Pre-operative therapy ends (the liver operation, progression, a decision, closure):
        its days stop, its reassessment is no longer awaited."""
        if self.course.on_preop_therapy:
            self.end_line(day, ending, by)
        self.episode.awaiting_liver_operation = False
        self.close(K.REASSESSMENT_DUE, day, resolved=False, by=by)

    # -- what each entry means for the course ------------------------------------------------
    def nothing(self, event: ClinicalEvent, before: Phase) -> Intent | None:
        return None

    def mdt_review(self, event: ClinicalEvent, before: Phase) -> Intent | None:
        for kind in (K.HOLD_REVIEW, K.MDT_AFTER_R2, K.RECURRENCE_MDT):
            self.close(kind, event.date, resolved=True, by=event.seq)
        if event.get("plan") in ("surveillance", "salvage"):
            # a decision ends the running line on its date (contract §7.3)
            self.end_line(event.date, LineEnd.DECISION, event.seq, hold_resolved=True)
            self.end_preop_period(event.date, LineEnd.DECISION, event.seq)
        return None

    def systemic_started(self, event: ClinicalEvent, before: Phase) -> Intent | None:
        self.close(K.R1_POSTOP_THERAPY, event.date, resolved=True, by=event.seq)
        self.course.back_after_closure = False
        intent = self.intent_of_new_line()
        line = self.course.line
        if line is not None and line.intent is intent:
            # a change of regimen within the line (no stop): the line and its clock go on; a
            # held line resumes with the new regimen
            self.end_hold(line, event.date, resolved=True, by=event.seq)
            self.change_regimen(line, event)
            return intent
        self.end_line(event.date, LineEnd.NEW_LINE, event.seq)
        self.begin_line(event, intent)
        return intent

    def systemic_stopped(self, event: ClinicalEvent, before: Phase) -> Intent | None:
        if event.get("reason") == "progression" and self.course.in_preop_period:
            self.episode.progressions.append(Progression(event.seq, event.date))
        line = self.end_line(event.date, LineEnd.STOPPED, event.seq, event.get("reason"),
                             hold_resolved=True)
        self.course.awaiting_stop = False
        if line is not None and line.intent is Intent.PREOP and event.get("reason") in (
                "surgery", "completed"):
            self.episode.awaiting_liver_operation = True
        return None

    def systemic_paused(self, event: ClinicalEvent, before: Phase) -> Intent | None:
        line = self.course.line
        if line is None or line.held:
            return None  # recorded by override: nothing runs to hold
        line.holds.append(Hold(event.date, str(event.get("reason")), event.seq))
        self.open_reminder(hold_review(event.seq, event.date, self.settings))
        if line.intent is Intent.POSTOP:
            self.hold_total_check(event.date)
        return None

    def systemic_resumed(self, event: ClinicalEvent, before: Phase) -> Intent | None:
        line = self.course.line
        if line is None:
            return None  # recorded by override: no line to resume
        self.end_hold(line, event.date, resolved=True, by=event.seq)
        self.change_regimen(line, event)
        return None

    def reassessment(self, event: ClinicalEvent, before: Phase) -> Intent | None:
        self.close(K.REASSESSMENT_DUE, event.date, resolved=True, by=event.seq)
        if event.get("response") == "PD":
            self.progression(event, before)
        elif self.course.on_preop_therapy:
            self.open_reminder(next_reassessment(event.seq, event.date, self.settings))
        return None

    def progression(self, event: ClinicalEvent, before: Phase) -> Intent | None:
        if self.course.in_preop_period:
            self.episode.progressions.append(Progression(event.seq, event.date))
        line = self.course.line
        if line is not None and line.intent in (Intent.PREOP, Intent.POSTOP, Intent.INTERVAL):
            # the curative line ends; in salvage its drug may go on, as salvage therapy
            self.end_line(event.date, LineEnd.PROGRESSION, event.seq)
            if self.journey.phase is Phase.SALVAGE:
                self.begin_line(event, Intent.SALVAGE, continued=True, regimen=line.regimen,
                                biologic=line.biologic)
        self.end_preop_period(event.date, LineEnd.PROGRESSION, event.seq)
        return None

    def surgery(self, event: ClinicalEvent, before: Phase) -> Intent | None:
        procedure = event.get("procedure")
        if procedure in PRIMARY_PROCEDURES:
            self.course.primary_removed = True
        if procedure not in LIVER_PROCEDURES:
            return None  # a primary resection or an embolisation: pre-operative therapy goes on
        episode = self.episode
        first = not episode.liver_surgery_started
        completing_stage = episode.between_stages and event.get("stage") != 1
        operation = LiverOperation(event.seq, event.date, procedure, event.get("stage"),
                                   event.get("margin"))
        episode.liver_operations.append(operation)
        if first:  # the episode's (first) liver operation ends pre-operative therapy (§7.2)
            self.end_preop_period(event.date, LineEnd.LIVER_OPERATION, event.seq)
        if self.course.on_interval_therapy and episode.liver_surgery_complete:
            self.end_line(event.date, LineEnd.LIVER_OPERATION, event.seq)
        if completing_stage:
            self.close(K.SECOND_STAGE_DUE, event.date, resolved=True, by=event.seq)
        if operation.stage == 1 and first:
            self.open_reminder(second_stage_due(event.seq, event.date, self.settings))
        if operation.stage != 1:
            self.course.liver_treated_ever = True
            if operation.margin == "R2":
                self.open_reminder(mdt_after_r2(event.seq, event.date, self.settings))
            elif operation.margin == "R1" and operation.resection and not self.course.on_therapy:
                self.open_reminder(r1_postop_therapy(event.seq, event.date, self.settings))
        return None

    def recurrence(self, event: ClinicalEvent, before: Phase) -> Intent | None:
        self.end_line(event.date, LineEnd.RECURRENCE, event.seq)
        self.new_episode(event, EpisodeStart.RECURRENCE)
        self.open_reminder(recurrence_mdt(event.seq, event.date, self.settings))
        return None

    def closure(self, event: ClinicalEvent, before: Phase) -> Intent | None:
        self.end_line(event.date, LineEnd.CLOSURE, event.seq)
        self.episode.awaiting_liver_operation = False
        for kind in list(self.open):
            self.close(kind, event.date, resolved=False, by=event.seq)
        self.course.closed_with = event.type.value
        if event.type is EventType.DEATH:
            self.course.died_on = event.date
        return None

    def returned(self, event: ClinicalEvent, before: Phase) -> Intent | None:
        self.course.closed_with = None
        self.course.awaiting_stop = False
        self.new_episode(event, EpisodeStart.RETURN)
        self.course.back_after_closure = True
        return None

    def new_episode(self, event: ClinicalEvent, began_by: EpisodeStart) -> None:
        self.course.episodes.append(Episode(self.episode.index + 1, began_by, event.date))

    def after_phase(self, event: ClinicalEvent) -> None:
        """What entering a phase ends, whichever entry led there."""
        after, day, by = self.journey.phase, event.date, event.seq
        if after in (Phase.SALVAGE, Phase.CLOSED, Phase.RECURRENCE, Phase.SURVEILLANCE):
            self.end_preop_period(day, LineEnd.DECISION, by)
        if after in (Phase.SALVAGE, Phase.CLOSED, Phase.RECURRENCE):
            for kind in (K.TOTAL_CHEMO_CHECK, K.R1_POSTOP_THERAPY, K.SECOND_STAGE_DUE):
                self.close(kind, day, resolved=False, by=by)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _date_or_none(text: str | None) -> date | None:
    return date.fromisoformat(text) if text is not None else None


def _reminder_to_list(r: Reminder) -> list[Any]:
    return [r.kind.value, r.opened_by, r.anchor_on.isoformat(), r.due_on.isoformat(), _iso(r.resolved_on),
            _iso(r.cancelled_on), r.closed_by, _iso(r.held_since)]


def _reminder_of_list(values: list[Any]) -> Reminder:
    kind, opened_by, anchor_on, due_on, resolved_on, cancelled_on, closed_by, held_since = values
    return Reminder(ReminderKind(kind), opened_by, date.fromisoformat(anchor_on), date.fromisoformat(due_on),
                    _date_or_none(resolved_on), _date_or_none(cancelled_on), closed_by,
                    _date_or_none(held_since))


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
                   settings: PathwaySettings = DEFAULT_SETTINGS,
                   remember: bool = False) -> JourneyOutcome:
    """Apply ``events`` in date order (``seq`` within a date) and the clock up to ``as_of``. With
    ``remember``, the outcome keeps the fold's memory after the last entry (``memory``)."""
    fold = _Fold(profile, as_of, settings)
    for event in sorted(events, key=lambda e: e.sort_key):
        if event.date <= as_of:
            fold.clock_until(event.date)
        fold.apply(event)
    memory = fold.memory() if remember else None
    fold.clock_until(as_of)
    return JourneyOutcome(profile=profile, as_of=as_of, settings=settings,
                          phase=fold.journey.phase, steps=fold.steps, refusals=fold.refusals,
                          reminders=list(fold.reminders.values()), journey=fold.journey, memory=memory)


@dataclass
class EntryOutcome:
    """One entry applied to the fold's memory (:func:`follow_entry`): its step or its refusal, the
    memory after it, the phase on ``as_of``, and the reminders it opened or changed."""

    step: PathwayStep | None
    refusal: Refusal | None
    memory: dict[str, Any]
    phase: Phase
    changed: list[tuple[Reminder, ReminderStatus]]


def follows_in_order(memory: dict[str, Any] | None, event: ClinicalEvent) -> bool:
    """Whether ``event`` comes after everything ``memory`` has seen (its date on or after the
    last entry's, its seq above every seq), so one step from the memory equals a replay of the
    whole log; a backdated entry, or a memory of other rules, needs the replay."""
    if memory is None or memory.get("version") != PATHWAY_VERSION:
        return False
    last = memory["last_entry_on"]
    return event.seq > memory["max_seq"] and (last is None or event.date.isoformat() >= last)


def follow_entry(profile: PatientProfile, memory: dict[str, Any], event: ClinicalEvent, as_of: date,
                 settings: PathwaySettings = DEFAULT_SETTINGS) -> EntryOutcome:
    """Apply one entry to the fold's memory (see :func:`follows_in_order`): what recording it
    changes, without reading the log. tests/unit/test_fold_memory.py holds it equal to a replay."""
    fold = _Fold.recall(profile, memory, as_of, settings)
    before = dict(fold.reminders)
    if event.date <= as_of:
        fold.clock_until(event.date)
    fold.apply(event)
    refusal = fold.refusals[0] if fold.refusals else None
    step = fold.steps[-1] if refusal is None else None
    after = fold.memory()
    fold.clock_until(as_of)
    changed = [(r, status_on(r, as_of, settings)) for key, r in fold.reminders.items()
               if before.get(key) != r]
    return EntryOutcome(step, refusal, after, fold.journey.phase, changed)
