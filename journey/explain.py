"""Why is this patient not moving? The journey on a day, explained in words: what the pathway is
waiting for (the next expected entry, and since when), which reminders are open and which entries
would clear them, which guideline statements apply now (quoted, with their place in the
guideline) and where two of them advise against each other.

Everything here reads a folded :class:`~journey.course.JourneyOutcome` and the guideline's
recommendations for it; nothing is decided here that the fold, the reminder policy or the rules
have not decided already. The words are for the coordinator who opens the patient: the first
thing the patient page shows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from journey.adherence import ReminderDismissal
from journey.course import JourneyOutcome
from journey.dates import days_in_words, in_words
from journey.events import EVENT_SPECS, PLANS, SURGICAL_PLANS, ClinicalEvent, EventType
from journey.guideline import CONFLICTS, Recommendation
from journey.guideline_source import Citation, cite
from journey.pathway import PHASE_MEANING, Phase
from journey.reminders import (
    OPEN_STATUSES,
    REMINDER_MEANING,
    RESOLVED_BY,
    Reminder,
    ReminderKind,
    ReminderStatus,
    overdue_from,
)
from journey.settings import PathwaySettings
from journey.treatment import Intent, TherapyLine

K = ReminderKind
E = EventType

#: what each reminder awaits, in a few words (a worklist line; REMINDER_MEANING says it in full)
REMINDER_LABEL: dict[ReminderKind, str] = {
    K.REASSESSMENT_DUE: "resectability reassessment",
    K.TOTAL_CHEMO_CHECK: "6-month chemotherapy check",
    K.HOLD_REVIEW: "review of a held line",
    K.SECOND_STAGE_DUE: "second-stage liver operation",
    K.MDT_AFTER_R2: "MDT decision after R2",
    K.RECURRENCE_MDT: "MDT review of recurrence",
    K.R1_POSTOP_THERAPY: "therapy after R1 resection",
}

#: what the form that clears a reminder starts with, where the reminder says it: the entry's
#: fields as they would be typed (a person may change them before recording)
CLEARING_PREFILL: dict[tuple[ReminderKind, EventType], dict[str, str]] = {
    (K.TOTAL_CHEMO_CHECK, E.SYSTEMIC_STOPPED): {"reason": "completed"},
    (K.SECOND_STAGE_DUE, E.SURGERY): {"procedure": "liver_resection", "stage": "2"},
}

#: the words of a plan decided at an MDT review
PLAN_WORDS = {plan: plan.replace("_", " ") for plan in PLANS}


def clearing_entries(kind: ReminderKind | str) -> tuple[EventType, ...]:
    """The entry types that resolve a reminder of this kind (journey.reminders.RESOLVED_BY)."""
    return tuple(EventType(t) for t in RESOLVED_BY[ReminderKind(kind)])


def clearing_prefill(kind: ReminderKind | str, entry: EventType | str) -> dict[str, str]:
    return dict(CLEARING_PREFILL.get((ReminderKind(kind), EventType(entry)), {}))


def readable_references(text: str) -> str:
    """A rule's or a reminder's words with its "seed:13" references as a reader writes them:
    "guideline line 13", "guideline lines 37 and 39", "guideline lines 5 to 8". The full citation
    stands beside it."""
    def lines(match: re.Match[str]) -> str:
        parts = [p.replace("-", " to ").replace("–", " to ")
                 for p in re.findall(r"\d+(?:[-–]\d+)?", match.group(0))]
        plural = len(parts) > 1 or " to " in parts[0]
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"guideline line{'s' if plural else ''} {listed}"
    return _SEED_REFERENCES.sub(lines, text)


_SEED_REFERENCES = re.compile(r"seed:\d+(?:[-–]\d+)?(?:,\s*seed:\d+(?:[-–]\d+)?)*")


def entry_label(entry: EventType | str) -> str:
    return EVENT_SPECS[EventType(entry)].label


def entries_in_words(entries: Sequence[EventType]) -> str:
    """'resectability reassessment', 'systemic therapy resumed, ... or MDT review'."""
    labels = [entry_label(e) for e in entries]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


def due_in_words(due_on: date, status: ReminderStatus | str, day: date,
                 settings: PathwaySettings) -> str:
    """How a reminder stands on ``day``, without ambiguity: 'due in 4 days', 'due today',
    '3 days past due, overdue in 12 days', '61 days overdue'."""
    status = ReminderStatus(status)
    days = (day - due_on).days
    if status is ReminderStatus.RESOLVED:
        return "done"
    if status is ReminderStatus.CANCELLED:
        return "no longer needed"
    if days < 0:
        return f"due in {days_in_words(-days)}"
    if days == 0:
        return "due today"
    if status is ReminderStatus.OVERDUE:
        late = (day - overdue_from(due_on, settings)).days + 1
        return f"{days_in_words(late)} overdue"
    return (f"{days_in_words(days)} past due, overdue "
            + ("tomorrow" if (until := (overdue_from(due_on, settings) - day).days) == 1
               else f"in {days_in_words(until)}"))


# ---------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class OpenReminder:
    """A reminder awaited on the day, and the entries that would clear it."""

    kind: ReminderKind
    opened_by: int
    anchor_on: date
    due_on: date
    status: ReminderStatus
    timing: str
    cleared_by: tuple[EventType, ...]
    dismissed: ReminderDismissal | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind.value, self.opened_by)

    @property
    def label(self) -> str:
        return REMINDER_LABEL[self.kind]

    @property
    def meaning(self) -> str:
        return readable_references(REMINDER_MEANING[self.kind])

    @property
    def cleared_in_words(self) -> str:
        return entries_in_words(self.cleared_by)


@dataclass(frozen=True)
class Awaited:
    """What the pathway is waiting for: the next expected entry, since when, and why."""

    what: str
    since: date
    why: str
    entries: tuple[EventType, ...]


@dataclass(frozen=True)
class Statement:
    """A guideline statement that applies now, with its citation and the statements it conflicts
    with (their ids and why, in words)."""

    id: str
    kind: str
    text: str
    citation: Citation | None
    conflicts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Explanation:
    as_of: date
    phase: Phase
    phase_since: date | None
    awaited: tuple[Awaited, ...]
    reminders: tuple[OpenReminder, ...]
    statements: tuple[Statement, ...]
    missing: tuple[str, ...]
    last_entry: ClinicalEvent | None
    closed_with: str | None = None

    @property
    def phase_meaning(self) -> str:
        return PHASE_MEANING[self.phase]

    @property
    def overdue(self) -> tuple[OpenReminder, ...]:
        return tuple(r for r in self.reminders if r.status is ReminderStatus.OVERDUE and not r.dismissed)

    @property
    def days_since_last_entry(self) -> int | None:
        return None if self.last_entry is None else (self.as_of - self.last_entry.date).days

    @property
    def conflicts(self) -> tuple[tuple[str, str, str], ...]:
        """Each pair of statements that advise against each other, once: (one, other, why)."""
        seen: set[frozenset[str]] = set()
        out = []
        for statement in self.statements:
            for other, why in statement.conflicts:
                pair = frozenset({statement.id, other})
                if pair not in seen:
                    seen.add(pair)
                    out.append((statement.id, other, why))
        return tuple(out)

    @property
    def headline(self) -> str:
        """The whole answer in one sentence."""
        if self.phase is Phase.CLOSED:
            how = (self.closed_with or "closure").replace("_", " ")
            return (f"Nothing is awaited: the journey was closed ({how})"
                    + (f" on {in_words(self.phase_since)}." if self.phase_since else "."))
        if not self.awaited:
            since = f" since {in_words(self.phase_since)}" if self.phase_since else ""
            text = f"Nothing is awaited by the pathway: {self.phase.value}{since} ({self.phase_meaning})."
        else:
            first = self.awaited[0]
            waited = (self.as_of - first.since).days
            text = (f"Waiting for {first.what} since {in_words(first.since)}"
                    + (f" ({days_in_words(waited)})." if waited > 0 else "."))
        if self.overdue:
            text += (f" {len(self.overdue)} reminder{'s are' if len(self.overdue) > 1 else ' is'} "
                     f"overdue.")
        return text


# ---------------------------------------------------------------------------------------------
# Explaining one journey


def explain(outcome: JourneyOutcome, recommendations: Sequence[Recommendation] = (),
            missing: Sequence[str] = (),
            dismissals: Sequence[ReminderDismissal] = ()) -> Explanation:
    """Why the patient is where they are on ``outcome.as_of``, and what would move them on."""
    reminders = tuple(_open_reminders(outcome, dismissals))
    return Explanation(
        as_of=outcome.as_of, phase=outcome.phase, phase_since=phase_since(outcome),
        awaited=tuple(_awaited(outcome)), reminders=reminders,
        statements=tuple(statement_of(r) for r in recommendations), missing=tuple(missing),
        last_entry=outcome.events[-1] if outcome.events else None,
        closed_with=outcome.course.closed_with)


def statement_of(recommendation: Recommendation) -> Statement:
    conflicts = tuple((other, CONFLICTS[frozenset({recommendation.id, other})])
                      for other in recommendation.conflicts_with
                      if frozenset({recommendation.id, other}) in CONFLICTS)
    return Statement(recommendation.id, recommendation.kind, readable_references(recommendation.text),
                     cite(recommendation.seed_lines), conflicts)


def phase_since(outcome: JourneyOutcome) -> date | None:
    """The day the patient entered the phase they are in; None when they have been in it from
    the start (assessment, before any entry moved them)."""
    current, since = Phase.ASSESSMENT, None
    for step in outcome.steps:
        if step.to_phase is not current:
            current, since = step.to_phase, step.date
    return since


def _open_reminders(outcome: JourneyOutcome,
                    dismissals: Sequence[ReminderDismissal]) -> list[OpenReminder]:
    out = []
    for reminder, status in outcome.reminders_with_status():
        if status not in OPEN_STATUSES:
            continue
        due = reminder.due_on_at(outcome.as_of)
        dismissed = next((d for d in dismissals if d.kind == reminder.kind.value
                          and d.due_on == reminder.due_on and d.dismissed_on <= outcome.as_of), None)
        out.append(OpenReminder(reminder.kind, reminder.opened_by, reminder.anchor_on, due, status,
                                due_in_words(due, status, outcome.as_of, outcome.settings),
                                clearing_entries(reminder.kind), dismissed))
    out.sort(key=lambda r: r.due_on)
    return out


def _open(outcome: JourneyOutcome, kind: ReminderKind) -> Reminder | None:
    return next((r for r, status in outcome.reminders_with_status()
                 if r.kind is kind and status in OPEN_STATUSES), None)


def _episode_events(outcome: JourneyOutcome) -> list[ClinicalEvent]:
    current = outcome.course.episode.index
    return [s.event for s in outcome.steps if s.event is not None and s.episode == current]


def _held(line: TherapyLine) -> Awaited:
    hold = line.holds[-1]
    return Awaited("a decision on the held line of therapy (resume it, stop it, or an MDT review)",
                   hold.paused_on, f"{line.regimen} has been on hold since {in_words(hold.paused_on)} "
                   f"({hold.reason.replace('_', ' ')})",
                   (E.SYSTEMIC_RESUMED, E.SYSTEMIC_STOPPED, E.MDT_REVIEW))


def _awaited(outcome: JourneyOutcome) -> list[Awaited]:
    """The next expected entry for the phase and the course, with since when."""
    phase, course = outcome.phase, outcome.course
    episode = course.episode
    since = phase_since(outcome) or outcome.profile.metastases.detected_on
    line = course.line
    if phase is Phase.ASSESSMENT:
        return [_assessment(outcome, since)]
    if phase in (Phase.NEOADJUVANT, Phase.REASSESSMENT):
        awaited = []
        if line is not None and line.held:
            awaited.append(_held(line))
        due = _open(outcome, K.REASSESSMENT_DUE)
        if due is not None:
            fell_due = due.due_on <= outcome.as_of
            awaited.insert(0 if fell_due else len(awaited), Awaited(
                "a resectability reassessment", due.due_on if fell_due else due.anchor_on,
                f"the 2-monthly reassessment on pre-operative therapy (guideline line 13) "
                f"{'fell' if fell_due else 'falls'} due on {in_words(due.due_on)}",
                (E.REASSESSMENT,)))
        return awaited
    if phase is Phase.RESECTION:
        if episode.between_stages:
            first = episode.liver_operations[0]
            return [Awaited("the second stage of the liver operation", first.on,
                            f"the first stage was on {in_words(first.on)}", (E.SURGERY,))]
        done = episode.completing_operation
        if done is not None:
            if episode.residual_disease:
                return [Awaited("an MDT decision after the R2 liver operation", done.on,
                                f"the operation of {in_words(done.on)} left disease behind (R2)",
                                (E.MDT_REVIEW,))]
            return [Awaited("post-operative therapy, or an MDT decision for surveillance", done.on,
                            f"the liver operation was on {in_words(done.on)}",
                            (E.SYSTEMIC_STARTED, E.MDT_REVIEW))]
        awaited = [Awaited("the liver operation", since,
                           f"cleared for surgery on {in_words(since)}", (E.SURGERY,))]
        if line is not None and line.intent is Intent.PREOP and line.held:
            awaited.append(_held(line))
        return awaited
    if phase is Phase.ADJUVANT:
        if line is not None and line.held:
            return [_held(line)]
        check = _open(outcome, K.TOTAL_CHEMO_CHECK)
        started = line.started_on if line is not None else since
        why = (f"the 6-month perioperative total is reached on {in_words(check.due_on_at(outcome.as_of))}"
               if check is not None else "post-operative therapy is running")
        return [Awaited("the end of post-operative therapy", started, why, (E.SYSTEMIC_STOPPED,))]
    if phase is Phase.RECURRENCE:
        return [Awaited("an MDT review of the recurrence", since,
                        f"a recurrence was recorded on {in_words(since)} (guideline line 37)",
                        (E.MDT_REVIEW,))]
    return []  # surveillance, salvage, closed: the pathway awaits no step


def _assessment(outcome: JourneyOutcome, since: date) -> Awaited:
    """In assessment: a plan, or the therapy a plan decided, or a new plan after a stop."""
    events = _episode_events(outcome)
    last_mdt = next((e for e in reversed(events) if e.type is E.MDT_REVIEW), None)
    last_stop = next((e for e in reversed(events) if e.type is E.SYSTEMIC_STOPPED), None)
    if last_stop is not None and (last_mdt is None or last_mdt.sort_key < last_stop.sort_key):
        reason = str(last_stop.get("reason", "")).replace("_", " ")
        return Awaited("a new plan (an MDT review)", last_stop.date,
                       f"systemic therapy was stopped ({reason}) on {in_words(last_stop.date)}",
                       (E.MDT_REVIEW,))
    plan = last_mdt.get("plan") if last_mdt is not None else None
    if last_mdt is not None and plan and plan not in SURGICAL_PLANS:
        return Awaited(f"the start of {PLAN_WORDS.get(plan, plan)} therapy", last_mdt.date,
                       f"the MDT review of {in_words(last_mdt.date)} decided it",
                       (E.SYSTEMIC_STARTED,))
    if last_mdt is not None:
        return Awaited("a plan: the MDT review recorded no treatment plan", last_mdt.date,
                       f"the MDT review of {in_words(last_mdt.date)} recorded no plan",
                       (E.MDT_REVIEW,))
    return Awaited("an MDT review to decide the plan", since,
                   f"the liver metastases were found on {in_words(since)}"
                   if since == outcome.profile.metastases.detected_on
                   else f"the episode began on {in_words(since)}", (E.MDT_REVIEW,))


__all__ = ["CLEARING_PREFILL", "REMINDER_LABEL", "Awaited", "Explanation", "OpenReminder", "Statement",
           "clearing_entries", "clearing_prefill", "due_in_words", "entries_in_words", "explain",
           "readable_references"]
