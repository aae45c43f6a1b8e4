"""Pathway adherence: the audit checks of the contract (§5), declared once as data.

Each :class:`Check` names the seed statement it enforces, who is eligible (the denominator), when
a deviation occurs (the numerator) and the settings it reads. :func:`judge` runs every check over
one :class:`~journey.course.JourneyOutcome`; the same call feeds the replay JSON, the patient view
and the cohort audit, so the live and the retrospective judgement cannot disagree.

Rules every check follows:

* Only the history up to ``as_of`` counts, and a deviation whose deadline has not passed at
  ``as_of`` is never counted (a patient still inside a window is not yet judged, and is not in the
  denominator for that window either).
* A deviation is *justified* when the event it rests on was recorded with an ``override`` reason,
  when a coded :class:`ReminderDismissal` of the matching reminder exists, or (A-TOTAL-6M only)
  when the therapy was stopped with a coded reason that explains it (toxicity, patient choice).
  Otherwise it is *unexplained*. Justified deviations are still deviations: the rate counts both.
* A patient with a deviation for a check is always eligible for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from journey.course import JourneyOutcome, PathwayStep
from journey.events import (
    CLOSING_EVENTS,
    LIVER_PROCEDURES,
    LIVER_RESECTIONS,
    OXALIPLATIN_REGIMENS,
    PRIMARY_PROCEDURES,
    TRIPLET_REGIMENS,
    ClinicalEvent,
    EventType,
)
from journey.guideline import RULESET_VERSION
from journey.pathway import Phase
from journey.reminders import ReminderKind, overdue_from
from journey.treatment import Episode, Intent, LineEnd, RegimenChange, TherapyLine

#: coded reasons a person may give when dismissing a reminder
DISMISSAL_REASONS = ("patient_choice", "toxicity", "mdt_decision", "progression", "other")

#: stop reasons that explain a short perioperative total (A-TOTAL-6M) on their own
EXPLAINING_STOP_REASONS = ("toxicity", "patient_choice")

# ---------------------------------------------------------------------------------------------
# Values


@dataclass(frozen=True)
class ReminderDismissal:
    """A person dismissed a reminder with a coded reason: the matching deviation is justified."""

    kind: str  # a reminder kind: reassessment_due, total_chemo_check, ...
    due_on: date
    dismissed_on: date
    reason: str  # one of DISMISSAL_REASONS
    text: str | None = None

    def __post_init__(self) -> None:
        if self.reason not in DISMISSAL_REASONS:
            raise ValueError(f"A reminder is dismissed with one of {', '.join(DISMISSAL_REASONS)}, "
                             f"not {self.reason!r}.")

    @property
    def justification(self) -> str:
        coded = self.reason.replace("_", " ")
        return f"reminder dismissed ({coded}): {self.text}" if self.text else \
            f"reminder dismissed ({coded})"


@dataclass(frozen=True)
class Deviation:
    """One departure from the pathway, for one patient."""

    check: str
    date: date
    detail: str
    justified: bool = False
    justification: str | None = None
    ruleset_version: str = RULESET_VERSION
    seed: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {"check": self.check, "date": self.date.isoformat(), "detail": self.detail,
                "justified": self.justified, "justification": self.justification}


@dataclass
class PatientAdherence:
    """The checks a patient is in the denominator of, and their deviations in date order."""

    eligible: frozenset[str]
    deviations: list[Deviation] = field(default_factory=list)

    def deviations_for(self, check_id: str) -> list[Deviation]:
        return [d for d in self.deviations if d.check == check_id]

    @property
    def flags(self) -> tuple[tuple[str, bool], ...]:
        """Per deviation, its check and whether it was justified: what the cohort counts."""
        return tuple((d.check, d.justified) for d in self.deviations)


Day = date  # for annotations inside classes with a field called ``date``


@dataclass(frozen=True)
class Finding:
    """What a check found before justification is applied."""

    date: date
    detail: str
    event: ClinicalEvent | None = None  # the event the deviation rests on, if any
    due_on: Day | None = None  # the awaited date, to match a reminder dismissal
    explained_by: str | None = None  # a coded reason recorded with the care itself


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Check:
    """One audit check, as data."""

    id: str
    seed: int | None
    title: str
    eligibility: str  # the denominator, in words
    deviation: str  # the numerator, in words
    settings: tuple[str, ...]  # PathwaySettings fields it reads
    run: Callable[[Reading], Verdict]
    reminder_kind: str | None = None  # a dismissal of this kind of reminder can justify it
    dates_as: str = ""  # which day a deviation is dated


# ---------------------------------------------------------------------------------------------
# Reading a journey once, for all checks


def _first(item: tuple[int, PathwayStep, ClinicalEvent]) -> int:
    return item[0]


class Reading:
    """Facts about one journey that several checks need, read once from its steps and from the
    treatment the fold recorded (``journey.treatment``: lines, holds, liver operations): the
    checks never re-derive what pre-operative therapy or therapy days are."""

    def __init__(self, outcome: JourneyOutcome) -> None:
        self.outcome = outcome
        self.profile = outcome.profile
        self.settings = outcome.settings
        self.as_of = outcome.as_of
        self.episodes: list[Episode] = outcome.course.episodes
        self.steps: list[PathwayStep] = [s for s in outcome.steps if s.date <= outcome.as_of]
        self.timing = self.profile.timing(self.settings.synchronous_window_days)
        self.episode_of: list[int] = [s.episode for s in self.steps]
        #: each accepted entry's place among the steps, by its seq; the entries of each type
        #: (the log is read once here: no check reads it again)
        self.index_of: dict[int, int] = {}
        self._by_type: dict[EventType, list[tuple[int, PathwayStep, ClinicalEvent]]] = {}
        for i, step in enumerate(self.steps):
            if step.event is not None:
                self.index_of[step.event.seq] = i
                self._by_type.setdefault(step.event.type, []).append((i, step, step.event))

    # -- lookups ---------------------------------------------------------------------------
    def events(self, *types: EventType) -> list[tuple[int, PathwayStep, ClinicalEvent]]:
        """The accepted entries of these types (all of them when none is named), in order."""
        if not types:
            return [item for entries in self._by_type.values() for item in entries] \
                if len(self._by_type) <= 1 else sorted(
                    (item for entries in self._by_type.values() for item in entries), key=_first)
        if len(types) == 1:
            return self._by_type.get(types[0], [])
        return sorted((item for t in types for item in self._by_type.get(t, ())), key=_first)

    def event(self, seq: int | None) -> ClinicalEvent | None:
        index = self.index_of.get(seq) if seq is not None else None
        return self.steps[index].event if index is not None else None

    def resectable_before(self, index: int) -> bool | None:
        """Resectable or not before step ``index`` (JourneyOutcome.resectable_before)."""
        return self.outcome.resectable_before(index)

    def liver_surgeries(self) -> list[tuple[int, PathwayStep, ClinicalEvent]]:
        return [(i, s, e) for i, s, e in self.events(EventType.SURGERY)
                if e.get("procedure") in LIVER_PROCEDURES]

    def closed_on(self) -> date | None:
        closing = self.events(*CLOSING_EVENTS)
        return closing[0][2].date if closing else None

    def lines(self, *intents: Intent) -> list[TherapyLine]:
        return [line for episode in self.episodes for line in episode.lines
                if line.intent in intents and not line.continued]

    def regimens_given(self, *intents: Intent) -> list[tuple[int, RegimenChange, TherapyLine]]:
        """Every regimen begun (a line's start, a switch, a change on resumption) in lines of
        these intents, with its step index."""
        return [(self.index_of[change.seq], change, line) for line in self.lines(*intents)
                for change in line.regimens if change.seq in self.index_of]


# ---------------------------------------------------------------------------------------------
# The checks


def _day(d: date) -> str:
    return d.isoformat()


def reassess_interval(r: Reading) -> Verdict:
    """Every reassessment_due reminder: late, missing at as_of, or missing when therapy ended."""
    findings: list[Finding] = []
    eligible = False
    grace = r.settings.reminder_grace_days
    for reminder in r.outcome.reminders:
        if reminder.kind is not ReminderKind.REASSESSMENT_DUE:
            continue
        late_from = overdue_from(reminder.due_on, r.settings)
        if reminder.resolved_on is not None and reminder.resolved_on <= r.as_of:
            eligible = True
            if reminder.resolved_on >= late_from:
                days = (reminder.resolved_on - reminder.due_on).days
                findings.append(Finding(
                    reminder.resolved_on,
                    f"The resectability reassessment due {_day(reminder.due_on)} came on "
                    f"{_day(reminder.resolved_on)}, {days} days after it was due (grace {grace} days).",
                    r.event(reminder.closed_by), reminder.due_on))
            continue
        ended = reminder.cancelled_on is not None and reminder.cancelled_on <= r.as_of
        until = reminder.cancelled_on if ended and reminder.cancelled_on else r.as_of
        if until < late_from:
            continue  # not yet overdue at as_of, or therapy ended before it was
        eligible = True
        if not ended:
            text = (f"The resectability reassessment due {_day(reminder.due_on)} has not been recorded; "
                    f"overdue since {_day(late_from)} (grace {grace} days).")
        else:
            text = (f"Pre-operative therapy went on past the reassessment due {_day(reminder.due_on)} "
                    f"without one (overdue from {_day(late_from)}, therapy ended {_day(until)}).")
        findings.append(Finding(late_from, text, None, reminder.due_on))
    return Verdict(eligible, tuple(findings))


def perioperative_end(r: Reading, episode: Episode) -> tuple[date, ClinicalEvent | None, str | None,
                                                              TherapyLine | None] | None:
    """When the episode's perioperative chemotherapy ended, if it is judged at all: (the day, the
    entry that ended it, why, the last post-operative line). Judged: a curative episode (its liver
    surgery complete, not R2, contract §7.7) with chemotherapy before or after the operation,
    once its last post-operative chemotherapy line ended by a stop (other than for progression)
    or an MDT decision (§7.3), whatever the phase; or, with no post-operative chemotherapy, when
    the patient entered surveillance after the operation. Ended by disease, a recurrence or
    closure, it is not judged."""
    if not episode.curative_by_resection:
        return None
    postop = [line for line in episode.lines_of(Intent.POSTOP) if line.chemotherapy]
    if postop:
        last = postop[-1]
        if last.ended_on is None or last.ended_on > r.as_of:
            return None  # still on post-operative therapy
        if last.ending is LineEnd.DECISION:
            return last.ended_on, r.event(last.ended_by), "an MDT decision", last
        if last.ending is LineEnd.STOPPED and last.stop_reason != "progression":
            return last.ended_on, r.event(last.ended_by), last.stop_reason, last
        return None
    operation = episode.completing_operation
    if not episode.preop_chemotherapy or operation is None:
        return None  # no perioperative chemotherapy (immunotherapy then surgery, seed:7)
    after = r.index_of.get(operation.seq, len(r.steps))
    for step in r.steps[after + 1:]:
        if step.episode != episode.index:
            break
        if step.to_phase is Phase.SURVEILLANCE:
            return step.date, step.event, None, None
    return None


def total_six_months(r: Reading) -> Verdict:
    """Per curative episode, once its perioperative chemotherapy has ended: the same day counts
    (``Episode.perioperative_chemotherapy_days``) as the ``total_chemo_check`` reminder's."""
    s = r.settings
    target, tolerance = s.total_chemo_target_days, s.total_chemo_tolerance_days
    findings: list[Finding] = []
    eligible = False
    for episode in r.episodes:
        ended = perioperative_end(r, episode)
        if ended is None:
            continue
        eligible = True
        day, event, why, line = ended
        total = episode.perioperative_chemotherapy_days(day)
        if abs(total - target) <= tolerance:
            continue
        preop = episode.preop_chemotherapy_days(day)
        reminder = next((m for m in r.outcome.reminders if line is not None
                         and m.key == (ReminderKind.TOTAL_CHEMO_CHECK.value, line.opened_by)), None)
        how = "short of" if total < target else "beyond"
        ending = (f", ended by {why}" if why == "an MDT decision" else
                  f", stopped for {why.replace('_', ' ')}" if why else ", no post-operative therapy")
        explained = (f"therapy stopped for {why.replace('_', ' ')}" if why in EXPLAINING_STOP_REASONS
                     else "therapy ended by an MDT decision" if why == "an MDT decision" else None)
        findings.append(Finding(
            day,
            f"Perioperative chemotherapy totalled {total} days ({preop} pre-operative + "
            f"{total - preop} post-operative{ending}), {abs(total - target)} days {how} the "
            f"{target}-day target (tolerance {tolerance} days).",
            event, reminder.due_on_at(day) if reminder else None, explained))
    return Verdict(eligible, tuple(findings))


def _mutant(r: Reading) -> bool:
    b = r.profile.biomarkers
    return b.ras == "mutant" or b.braf == "mutant"


def _wild_type(r: Reading) -> bool:
    b = r.profile.biomarkers
    return b.ras == "wild_type" and b.braf == "wild_type"


def conversion_regimen(r: Reading) -> Verdict:
    """Conversion therapy (pre-operative therapy while judged unresectable) for pMMR disease that
    is RAS/BRAF mutant (seed:12) or wild type and right-sided (seed:11)."""
    if r.profile.biomarkers.mmr != "pMMR":
        return Verdict(False)
    mutant, right = _mutant(r), r.profile.sidedness.value == "right"
    if not (mutant or (right and _wild_type(r))):
        return Verdict(False)
    findings: list[Finding] = []
    eligible = False
    for i, change, _ in r.regimens_given(Intent.PREOP):
        if r.resectable_before(i) is not False:
            continue
        eligible = True
        regimen, biologic = change.regimen, change.biologic or "none"
        given = f"{regimen}" + (f" + {biologic.replace('_', '-')}" if biologic != "none" else "")
        problems = []
        if biologic == "anti_egfr":
            problems.append("anti-EGFR with RAS/BRAF mutant disease" if mutant
                            else "anti-EGFR for a right-sided primary (bevacizumab preferred, seed:11)")
        if mutant and not (regimen in TRIPLET_REGIMENS and biologic == "bevacizumab"):
            problems.append("RAS/BRAF mutant disease calls for triplet chemotherapy plus bevacizumab "
                            "(seed:12)")
        elif not mutant and regimen not in TRIPLET_REGIMENS:
            problems.append("right-sided wild-type disease calls for triplet chemotherapy (seed:11)")
        if problems:
            findings.append(Finding(change.on, f"Conversion therapy {given}: " + "; ".join(problems)
                                    + ".", r.event(change.seq)))
    return Verdict(eligible, tuple(findings))


def folfox_after_failure(r: Reading) -> Verdict:
    if r.profile.oxaliplatin_failure_within_12_months is not True:
        return Verdict(False)
    # seed:34 speaks of the perioperative course (before, between the stages of, and after the
    # liver operation): salvage lines (oxaliplatin reintroduction after progression) are the
    # MDT's call and are not counted; nor is a later recurrence, far from the adjuvant oxaliplatin
    starts = [(change, line) for _, change, line
              in r.regimens_given(Intent.PREOP, Intent.INTERVAL, Intent.POSTOP) if line.episode == 0]
    findings = tuple(
        Finding(change.on, f"{change.regimen} given as {line.intent} therapy although adjuvant "
                           f"oxaliplatin failed within 12 months; FOLFIRI is advised instead "
                           f"(seed:34).", r.event(change.seq))
        for change, line in starts if change.regimen in OXALIPLATIN_REGIMENS)
    return Verdict(bool(starts), findings)


def dmmr_immunotherapy(r: Reading) -> Verdict:
    if r.profile.biomarkers.mmr != "dMMR":
        return Verdict(False)
    starts = [change for i, change, _ in r.regimens_given(Intent.PREOP)
              if r.resectable_before(i) is True]
    findings = tuple(
        Finding(change.on, f"Resectable dMMR disease: pre-operative {change.regimen} given instead "
                           f"of immunotherapy (seed:7).", r.event(change.seq))
        for change in starts if change.chemotherapy)
    return Verdict(bool(starts), findings)


def resection_after_progression(r: Reading) -> Verdict:
    """Liver surgery after progression during pre-operative therapy (as the fold recorded it,
    contract §7.2: a primary resection does not end that therapy), in the same episode, without
    a resectable reassessment recorded in between (contract §5; an MDT review is a decision, not
    the imaging that shows the disease resectable again, as G-PROGRESSION-SALVAGE reads it too)."""
    findings: list[Finding] = []
    eligible = False
    for episode in r.episodes:
        progressed_at = sorted(r.index_of[p.seq] for p in episode.progressions if p.seq in r.index_of)
        if not progressed_at:
            continue
        eligible = True
        operation = next(((i, e) for i, _, e in r.liver_surgeries()
                          if i > progressed_at[0] and r.episode_of[i] == episode.index), None)
        if operation is None:
            continue
        i, e = operation
        last = max(p for p in progressed_at if p < i)
        cleared = any(s.event is not None and s.event.type is EventType.REASSESSMENT
                      and s.event.get("resectable") is True for s in r.steps[last + 1:i])
        if not cleared:
            findings.append(Finding(
                e.date, f"Liver surgery on {_day(e.date)} after progression on pre-operative "
                        f"therapy ({_day(r.steps[last].date)}) with no resectable reassessment "
                        f"in between (seed:33).", e))
    return Verdict(eligible, tuple(findings))


def complete_response(r: Reading) -> Verdict:
    """A CR at reassessment while the liver is not yet treated in the episode (seed:32)."""
    if not r.lines(Intent.PREOP):
        return Verdict(False)
    treated: set[int] = set()
    findings: list[Finding] = []
    for i, step in enumerate(r.steps):
        e = step.event
        if e is None:
            continue
        if e.type is EventType.SURGERY and e.get("procedure") in LIVER_PROCEDURES:
            treated.add(r.episode_of[i])
        elif e.type is EventType.REASSESSMENT and e.get("response") == "CR" \
                and r.episode_of[i] not in treated:
            findings.append(Finding(e.date, "Complete radiological response recorded before liver "
                                            "surgery: lesions may no longer be found at operation "
                                            "(seed:32).", e))
    return Verdict(True, tuple(findings))


def small_not_upfront(r: Reading) -> Verdict:
    """Single metastasis < 20 mm judged resectable before any treatment, in the first episode
    (the profile describes the metastases found at detection, not a later recurrence)."""
    m = r.profile.metastases
    if m.count != 1 or m.max_size_mm >= 20:
        return Verdict(False)
    first = [i for i, ep in enumerate(r.episode_of) if ep == 0]
    findings: list[Finding] = []
    eligible = False
    for i in first:
        step, e = r.steps[i], r.steps[i].event
        if e is None:
            continue
        treats = (e.type is EventType.SYSTEMIC_STARTED
                  or (e.type is EventType.SURGERY and e.get("procedure") in LIVER_PROCEDURES))
        if not treats:
            continue
        if r.resectable_before(i) is True:
            eligible = True
            if e.type is EventType.SYSTEMIC_STARTED and step.therapy_intent is Intent.PREOP:
                findings.append(Finding(e.date, f"Single resectable metastasis of {m.max_size_mm:g} mm: "
                                                f"pre-operative {e.get('regimen')} instead of upfront "
                                                f"surgery; it may disappear on chemotherapy (seed:8).",
                                        e))
        break  # only the first treatment decides
    else:
        eligible = any(r.resectable_before(i + 1) is True for i in first)
    return Verdict(eligible, tuple(findings))


def primary_not_first(r: Reading) -> Verdict:
    if r.timing.value != "synchronous" or not r.profile.primary.symptomatic:
        return Verdict(False)
    removed_on = r.profile.primary.resected_on
    for _, _, e in r.events(EventType.SURGERY):
        procedure = e.get("procedure")
        if procedure in PRIMARY_PROCEDURES:
            return Verdict(True)
        if procedure in LIVER_PROCEDURES and (removed_on is None or removed_on > e.date):
            symptoms = ", ".join(r.profile.primary.symptoms)
            return Verdict(True, (Finding(
                e.date, f"Liver {procedure.replace('_', ' ')} before the symptomatic primary "
                        f"({symptoms}) was removed; the primary should come first (seed:19).", e),))
    return Verdict(True)


def simultaneous_unfit(r: Reading) -> Verdict:
    ecog = r.profile.ecog
    operations = [e for _, _, e in r.events(EventType.SURGERY)
                  if e.get("procedure") == "simultaneous_resection"]
    if not operations or ecog is None:
        return Verdict(False)
    findings = tuple(Finding(e.date, f"Simultaneous resection of primary and liver with ECOG {ecog}; "
                                     f"it is for patients with good performance status, ECOG 0-1 "
                                     f"(seed:18).", e)
                     for e in operations if ecog >= 2)
    return Verdict(True, findings)


def _window_check(r: Reading, anchor: ClinicalEvent, anchor_index: int, days: int,
                  awaited: Callable[[ClinicalEvent], bool]) -> tuple[bool, date | None, ClinicalEvent | None]:
    """(judgeable, late day or None, the late event). The awaited event must come on or before
    ``anchor + days``. Not judgeable while the window is open, or when the journey closed inside
    it without the awaited event."""
    deadline = anchor.date + timedelta(days=days)
    for step in r.steps[anchor_index + 1:]:
        e = step.event
        if e is not None and awaited(e):
            return True, (e.date if e.date > deadline else None), e
    if r.as_of <= deadline:
        return False, None, None
    closed = r.closed_on()
    if closed is not None and anchor.date <= closed <= deadline:
        return False, None, None
    return True, deadline + timedelta(days=1), None


def r1_no_chemo(r: Reading) -> Verdict:
    weeks = r.settings.r1_chemo_window_weeks
    findings: list[Finding] = []
    eligible = False
    for i, _, e in r.liver_surgeries():
        if e.get("margin") != "R1" or e.get("stage") == 1 or e.get("procedure") not in LIVER_RESECTIONS:
            continue  # of two stages, the second's margin counts (contract §7.6); not an ablation's
        judgeable, late, started = _window_check(
            r, e, i, weeks * 7, lambda x: x.type is EventType.SYSTEMIC_STARTED)
        eligible = eligible or judgeable
        if late is None:
            continue
        if started is not None:
            text = (f"After the R1 liver resection of {_day(e.date)}, post-operative therapy started only "
                    f"on {_day(late)}, later than {weeks} weeks (seed:35).")
        else:
            text = (f"No post-operative systemic therapy within {weeks} weeks of the R1 liver resection "
                    f"of {_day(e.date)} (seed:35).")
        findings.append(Finding(late, text, started, e.date + timedelta(days=weeks * 7)))
    return Verdict(eligible, tuple(findings))


def recurrence_no_mdt(r: Reading) -> Verdict:
    window = r.settings.recurrence_mdt_days
    findings: list[Finding] = []
    eligible = False
    for i, _, e in r.events(EventType.RECURRENCE):
        # an MDT review the same day, recorded just before the recurrence, counts too
        same_day = [s.event for s in r.steps[:i] if s.event is not None and s.date == e.date
                    and s.event.type is EventType.MDT_REVIEW]
        if same_day:
            eligible = True
            continue
        judgeable, late, mdt = _window_check(r, e, i, window,
                                             lambda x: x.type is EventType.MDT_REVIEW)
        eligible = eligible or judgeable
        if late is None:
            continue
        site = str(e.get("site")).replace("_", " ")
        if mdt is not None:
            text = (f"The MDT reviewed the {site} recurrence of {_day(e.date)} only on {_day(late)}, "
                    f"later than {window} days (seed:37).")
        else:
            text = (f"No MDT review within {window} days of the {site} recurrence of {_day(e.date)} "
                    f"(seed:37).")
        findings.append(Finding(late, text, mdt, e.date + timedelta(days=window)))
    return Verdict(eligible, tuple(findings))


def rectal_rt_undecided(r: Reading) -> Verdict:
    """Synchronous rectal primary: an MDT must have recorded whether pelvic radiotherapy is
    indicated (pelvic_rt_indicated) before the first liver operation (contract §5: radiotherapy
    given without that decision on record does not answer it)."""
    if r.timing.value != "synchronous" or not r.profile.rectal:
        return Verdict(False)
    surgeries = r.liver_surgeries()
    if not surgeries:
        return Verdict(True)
    i, _, e = surgeries[0]
    decided = any(s.event is not None and s.event.type is EventType.MDT_REVIEW
                  and s.event.get("pelvic_rt_indicated") is not None for s in r.steps[:i])
    if decided:
        return Verdict(True)
    return Verdict(True, (Finding(e.date, "Liver surgery for synchronous rectal cancer before an MDT "
                                          "recorded whether pelvic radiotherapy is indicated (seed:20).",
                                  e),))


def override(r: Reading) -> Verdict:
    findings = tuple(
        Finding(s.date, f"{s.trigger.replace('_', ' ').capitalize()} recorded with an override"
                        + ("" if s.overridden else " (the pathway allowed it anyway)")
                        + f": {s.event.override_words}", s.event)
        for s in r.steps if s.event is not None and s.event.override)
    return Verdict(True, findings)


GRACE, TARGET, TOLERANCE = "reminder_grace_days", "total_chemo_target_days", "total_chemo_tolerance_days"

CHECKS: tuple[Check, ...] = (
    Check("A-REASSESS-INTERVAL", 13, "Resectability reassessed every 2 months on pre-operative therapy",
          "patients with a reassessment that fell due on pre-operative therapy and was done, or whose "
          "due date plus grace has passed",
          "a reassessment came later than due + grace, or had not come when due + grace passed "
          "(still missing at as_of, or pre-operative therapy went on past that day)",
          ("reassessment_interval_months", GRACE), reassess_interval,
          reminder_kind=ReminderKind.REASSESSMENT_DUE.value,
          dates_as="the late reassessment's day; when missing, the first overdue day (due + grace + 1)"),
    Check("A-TOTAL-6M", 14, "Six months of perioperative chemotherapy in total",
          "curative episodes (liver surgery complete, not R2) with perioperative chemotherapy whose "
          "therapy has ended: the last post-operative chemotherapy line stopped other than for "
          "progression, or ended by an MDT decision, in whatever phase; or surveillance without "
          "post-operative chemotherapy after pre-operative chemotherapy",
          "pre-operative + post-operative chemotherapy days (days on hold and immunotherapy left "
          "out) differ from the target by more than the tolerance",
          (TARGET, TOLERANCE), total_six_months, reminder_kind=ReminderKind.TOTAL_CHEMO_CHECK.value,
          dates_as="the day the perioperative therapy ended"),
    Check("A-CONVERSION-REGIMEN", 12, "Conversion regimen matches tumour biology and side",
          "pMMR, judged unresectable, pre-operative therapy started; RAS or BRAF mutant, or RAS and BRAF "
          "wild type with a right-sided primary",
          "anti-EGFR with RAS/BRAF mutant or right-sided disease; no triplet + bevacizumab for mutant "
          "disease; no triplet for right-sided wild-type disease", (), conversion_regimen,
          dates_as="the day the regimen started"),
    Check("A-FOLFOX-AFTER-OXA-FAILURE", 34, "No FOLFOX after oxaliplatin failure within 12 months",
          "relapse within 12 calendar months of adjuvant oxaliplatin, perioperative (pre-operative, "
          "between two stages, or post-operative) systemic therapy started for that presentation "
          "(before any recurrence)",
          "FOLFOX or CAPOX started as perioperative therapy", (), folfox_after_failure,
          dates_as="the day it started"),
    Check("A-DMMR-NO-IMMUNO", 7, "Immunotherapy first for resectable dMMR disease",
          "dMMR, pre-operative therapy started while judged resectable",
          "that therapy was not immunotherapy", (), dmmr_immunotherapy, dates_as="the day it started"),
    Check("A-RESECTION-AFTER-PROGRESSION", 33, "No resection straight after progression on therapy",
          "progression (PD, progression event, or stop for progression) during pre-operative therapy",
          "liver surgery after it with no resectable reassessment in between",
          (), resection_after_progression, dates_as="the day of the operation"),
    Check("A-COMPLETE-RESPONSE", 32, "Operate before a complete radiological response",
          "patients who received pre-operative therapy",
          "a reassessment recorded CR before liver surgery in the episode", (), complete_response,
          dates_as="the day of the reassessment"),
    Check("A-SMALL-NOT-UPFRONT", 8, "Single small metastasis goes to upfront surgery",
          "a single metastasis < 20 mm, judged resectable before the first treatment (first episode)",
          "the first treatment was pre-operative systemic therapy", (), small_not_upfront,
          dates_as="the day the therapy started"),
    Check("A-PRIMARY-NOT-FIRST", 19, "Symptomatic synchronous primary treated first",
          "synchronous metastases with a symptomatic primary (bleeding, obstruction, perforation)",
          "a liver resection or ablation before the primary was removed", ("synchronous_window_days",),
          primary_not_first, dates_as="the day of the liver operation"),
    Check("A-SIMULTANEOUS-UNFIT", 18, "Simultaneous resection only with good performance status",
          "a simultaneous resection was done and ECOG is recorded", "ECOG >= 2", (), simultaneous_unfit,
          dates_as="the day of the operation"),
    Check("A-R1-NO-CHEMO", 35, "Post-operative therapy after an R1 liver resection",
          "R1 liver resections, not ablations (of two stages, the second) whose window has passed, or with "
          "therapy started (closure inside the window excludes)",
          "no systemic therapy started within the window after the operation",
          ("r1_chemo_window_weeks",), r1_no_chemo, reminder_kind="r1_postop_therapy",
          dates_as="the late start's day; when missing, the first day after the window"),
    Check("A-RECURRENCE-NO-MDT", 37, "MDT review after recurrence",
          "recurrences whose window has passed, or with an MDT review recorded (closure inside the "
          "window excludes)", "no MDT review within the window after the recurrence",
          ("recurrence_mdt_days",), recurrence_no_mdt, reminder_kind="recurrence_mdt",
          dates_as="the late review's day; when missing, the first day after the window"),
    Check("A-RECTAL-RT-UNDECIDED", 20, "Pelvic radiotherapy decided for synchronous rectal cancer",
          "synchronous metastases with a rectal primary",
          "first liver operation before an MDT recorded pelvic_rt_indicated",
          ("synchronous_window_days",), rectal_rt_undecided, dates_as="the day of the liver operation"),
    Check("A-OVERRIDE", None, "Entries recorded with an override", "every patient",
          "an accepted event carries an override reason (always justified by that reason)", (), override,
          dates_as="the day of the event"),
)

CHECKS_BY_ID: dict[str, Check] = {c.id: c for c in CHECKS}


# ---------------------------------------------------------------------------------------------
# Judging one journey


def _justify(check: Check, finding: Finding, dismissals: Sequence[ReminderDismissal],
             as_of: date) -> tuple[bool, str | None]:
    if finding.event is not None and finding.event.override:
        return True, f"override: {finding.event.override_words}"
    if check.reminder_kind is not None and finding.due_on is not None:
        for d in dismissals:
            if str(d.kind) == check.reminder_kind and d.due_on == finding.due_on \
                    and d.dismissed_on <= as_of:
                return True, d.justification
    if finding.explained_by:
        return True, finding.explained_by
    return False, None


def judge(outcome: JourneyOutcome, dismissals: Sequence[ReminderDismissal] = ()) -> PatientAdherence:
    """Run every check over one journey on its ``as_of``."""
    reading = Reading(outcome)
    eligible: set[str] = set()
    deviations: list[Deviation] = []
    for check in CHECKS:
        verdict = check.run(reading)
        if verdict.eligible or verdict.findings:
            eligible.add(check.id)
        for finding in verdict.findings:
            if finding.date > outcome.as_of:
                continue  # a deadline still ahead is never a deviation
            if check.id == "A-OVERRIDE":
                justified, why = True, finding.event.override_words if finding.event else None
            else:
                justified, why = _justify(check, finding, dismissals, outcome.as_of)
            deviations.append(Deviation(check.id, finding.date, finding.detail, justified, why,
                                        RULESET_VERSION, check.seed))
    deviations.sort(key=lambda d: (d.date, d.check))
    return PatientAdherence(frozenset(eligible), deviations)
