"""The pathway machine, row by row: for every (phase, event) the destination or the refusal, the
override path, the impossible entries no override makes true, and the timed transition."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

import pytest

from journey.course import follow_journey
from journey.events import ClinicalEvent, EventType
from journey.pathway import (
    ACTIVE,
    PATHWAY,
    REASSESSMENT_FALLS_DUE,
    Journey,
    Phase,
    Step,
    take_step,
)
from journey.scenario import read_scenario
from journey.treatment import Course, Hold, Intent, LineEnd, LiverOperation, RegimenChange, TherapyLine
from tests.conftest import PERIOP_START, as_seen, ev, follow, scenario

P = Phase
E = EventType
D = date(2025, 3, 1)
REFUSED = None  # no transition from this phase


# ---------------------------------------------------------------------------------------------
# Courses: what the guards can see


def _course(line: Intent | None = None, liver: int | str | None = "none", ever: bool = False,
            held: bool = False, back: bool = False, closed_with: str | None = None) -> Course:
    """A course as the fold leaves it: a running line of ``line`` intent (held or not), the
    episode's liver operation (``None``: a single one; 1: a first stage), earlier liver surgery."""
    course = Course(liver_treated_ever=ever, back_after_closure=back, closed_with=closed_with)
    day = date(2025, 1, 1)
    if liver != "none":
        course.episode.liver_operations.append(
            LiverOperation(1, day, "liver_resection", liver if isinstance(liver, int) else None, "R0"))
    if line is not None:
        therapy = TherapyLine(2, day, line, 0, [RegimenChange(day, "FOLFOX", None, 2)])
        if held:
            therapy.holds.append(Hold(day, "toxicity", 3))
        course.episode.lines.append(therapy)
        course.line = therapy
    return course


COURSES = {
    "fresh": lambda: _course(),
    "on_preop": lambda: _course(Intent.PREOP),
    "held": lambda: _course(Intent.PREOP, held=True),
    "on_postop": lambda: _course(Intent.POSTOP, liver=None, ever=True),
    "on_salvage": lambda: _course(Intent.SALVAGE),
    "liver_operated": lambda: _course(liver=None, ever=True),
    "liver_operated_before": lambda: _course(ever=True),
    "between_stages": lambda: _course(liver=1),
    "between_stages_before": lambda: _course(liver=1, ever=True),
    "on_interval": lambda: _course(Intent.INTERVAL, liver=1),
    "back_after_liver_surgery": lambda: _course(ever=True, back=True),
    "transferred": lambda: _course(closed_with="transfer"),
    "lost": lambda: _course(closed_with="lost_to_follow_up"),
    "died": lambda: _course(closed_with="death"),
    "postop_stopped_today": lambda: _postop_stopped(D),
    "postop_stopped_before": lambda: _postop_stopped(D - timedelta(days=1)),
}


def _postop_stopped(on: date) -> Course:
    """After the liver operation, a post-operative line stopped (for toxicity) on ``on``."""
    course = _course(Intent.POSTOP, liver=None, ever=True)
    line = course.episode.lines[-1]
    line.ended_on, line.ending, line.stop_reason, line.ended_by = on, LineEnd.STOPPED, "toxicity", 3
    course.line = None
    return course


def event(type_: EventType, **fields: object) -> ClinicalEvent:
    return ClinicalEvent(type=type_, date=D, fields=fields)


MDT_SALVAGE = event(E.MDT_REVIEW, resectable=False, plan="salvage")
MDT_SURVEILLANCE = event(E.MDT_REVIEW, resectable=True, plan="surveillance")
MDT_LIVER_FIRST = event(E.MDT_REVIEW, resectable=True, plan="liver_first")
MDT_UPFRONT_UNRESECTABLE = event(E.MDT_REVIEW, resectable=False, plan="upfront_surgery")
MDT_PRIMARY_FIRST_UNRESECTABLE = event(E.MDT_REVIEW, resectable=False, plan="primary_first")
MDT_PERIOP = event(E.MDT_REVIEW, resectable=True, plan="perioperative")
MDT_UNRESECTABLE = event(E.MDT_REVIEW, resectable=False, plan="conversion")
MDT_NO_PLAN_RESECTABLE = event(E.MDT_REVIEW, resectable=True)
STARTED = event(E.SYSTEMIC_STARTED, regimen="FOLFOX")
STOPPED = {reason: event(E.SYSTEMIC_STOPPED, reason=reason)
           for reason in ("completed", "surgery", "progression", "toxicity", "patient_choice", "other")}
REASSESS_PD = event(E.REASSESSMENT, response="PD", resectable=False)
REASSESS_PR_RESECTABLE = event(E.REASSESSMENT, response="PR", resectable=True)
REASSESS_SD = event(E.REASSESSMENT, response="SD", resectable=False)
RT = event(E.RADIOTHERAPY, target="pelvis", status="started")
LIVER_SURGERY = event(E.SURGERY, procedure="liver_resection", margin="R0")
ABLATION = event(E.SURGERY, procedure="ablation")
PRIMARY_SURGERY = event(E.SURGERY, procedure="primary_resection")
SIMULTANEOUS = event(E.SURGERY, procedure="simultaneous_resection")
RECURRENCE = event(E.RECURRENCE, site="liver_only")
PROGRESSION = event(E.PROGRESSION)
DEATH, TRANSFER, LOST = event(E.DEATH), event(E.TRANSFER), event(E.LOST_TO_FOLLOW_UP)
PAUSED = event(E.SYSTEMIC_PAUSED, reason="toxicity")
RESUMED = event(E.SYSTEMIC_RESUMED)
RETURNED = event(E.RETURNED)
EMBOLISATION = event(E.SURGERY, procedure="portal_vein_embolisation")
STAGE_1 = event(E.SURGERY, procedure="liver_resection", stage=1, margin="R0")
STAGE_2 = event(E.SURGERY, procedure="liver_resection", stage=2, margin="R0")


@dataclass(frozen=True)
class Case:
    phase: Phase
    course: str
    event: ClinicalEvent | None  # None: the clock (REASSESSMENT_FALLS_DUE)
    expected: Phase | None  # REFUSED (None) when the pathway has no step

    @property
    def trigger(self) -> str:
        return REASSESSMENT_FALLS_DUE if self.event is None else self.event.type.value

    def __str__(self) -> str:
        what = self.trigger if self.event is None else f"{self.trigger}{dict(self.event.fields)}"
        to = "REFUSED" if self.expected is None else self.expected.value
        return f"{self.phase.value}[{self.course}]--{what}->{to}"


def cases(phases, course, evt, expected) -> list[Case]:
    phases = (phases,) if isinstance(phases, Phase) else tuple(phases)
    events = evt if isinstance(evt, tuple) else (evt,)
    return [Case(p, course, e, p if expected == "stay" else expected) for p in phases for e in events]


def all_but(*excluded: Phase) -> tuple[Phase, ...]:
    return tuple(p for p in ACTIVE if p not in excluded)


PREOP_PHASES = (P.NEOADJUVANT, P.REASSESSMENT)

#: The expected pathway, written out by hand from contract §2 and docs/decisions.md.
CASES: list[Case] = [
    # -- MDT review -------------------------------------------------------------------------
    *cases(ACTIVE, "fresh", MDT_SALVAGE, P.SALVAGE),
    *cases(ACTIVE, "fresh", MDT_SURVEILLANCE, P.SURVEILLANCE),
    *cases((P.ASSESSMENT, P.RECURRENCE, P.SALVAGE), "fresh", MDT_LIVER_FIRST, P.RESECTION),
    *cases(PREOP_PHASES, "on_preop", MDT_LIVER_FIRST, P.RESECTION),
    *cases((P.ADJUVANT, P.SURVEILLANCE, P.RESECTION), "liver_operated", MDT_LIVER_FIRST, "stay"),
    Case(P.ASSESSMENT, "fresh", MDT_PRIMARY_FIRST_UNRESECTABLE, P.RESECTION),
    Case(P.ASSESSMENT, "fresh", MDT_UPFRONT_UNRESECTABLE, P.ASSESSMENT),
    Case(P.ASSESSMENT, "fresh", MDT_PERIOP, P.ASSESSMENT),
    Case(P.ASSESSMENT, "fresh", MDT_UNRESECTABLE, P.ASSESSMENT),
    Case(P.NEOADJUVANT, "on_preop", MDT_PERIOP, P.RESECTION),
    Case(P.NEOADJUVANT, "on_preop", MDT_NO_PLAN_RESECTABLE, P.RESECTION),
    Case(P.NEOADJUVANT, "on_preop", MDT_UNRESECTABLE, P.NEOADJUVANT),
    # in reassessment the phase waits for the reassessment itself (contract §2)
    Case(P.REASSESSMENT, "on_preop", MDT_PERIOP, P.REASSESSMENT),
    Case(P.RESECTION, "on_preop", MDT_UNRESECTABLE, P.NEOADJUVANT),
    Case(P.RESECTION, "on_preop", MDT_PERIOP, P.RESECTION),
    Case(P.RESECTION, "fresh", MDT_UNRESECTABLE, P.RESECTION),
    Case(P.RESECTION, "liver_operated", MDT_UNRESECTABLE, P.RESECTION),
    *cases((P.ADJUVANT, P.SURVEILLANCE, P.RECURRENCE, P.SALVAGE), "fresh", MDT_PERIOP, "stay"),
    *cases(P.CLOSED, "fresh", MDT_SALVAGE, REFUSED),
    *cases(P.CLOSED, "fresh", MDT_PERIOP, REFUSED),
    # -- systemic therapy started ---------------------------------------------------------------
    *cases((P.ASSESSMENT, P.RECURRENCE), "fresh", STARTED, P.NEOADJUVANT),
    Case(P.RESECTION, "liver_operated", STARTED, P.ADJUVANT),
    Case(P.RESECTION, "fresh", STARTED, P.NEOADJUVANT),
    # between the two stages of a liver operation: interval therapy, the patient stays (§7.6)
    Case(P.RESECTION, "between_stages", STARTED, P.RESECTION),
    *cases(PREOP_PHASES, "on_preop", STARTED, "stay"),
    Case(P.ADJUVANT, "on_postop", STARTED, P.ADJUVANT),
    Case(P.SALVAGE, "on_salvage", STARTED, P.SALVAGE),
    Case(P.SALVAGE, "fresh", STARTED, P.SALVAGE),
    *cases((P.SURVEILLANCE, P.CLOSED), "liver_operated", STARTED, REFUSED),
    # a post-operative line stopped and another started the same day: a change of regimen (§7.1)
    Case(P.SURVEILLANCE, "postop_stopped_today", STARTED, P.ADJUVANT),
    Case(P.SURVEILLANCE, "postop_stopped_before", STARTED, REFUSED),
    # -- systemic therapy stopped ---------------------------------------------------------------
    *cases(ACTIVE, "on_preop", STOPPED["progression"], P.SALVAGE),
    *cases(PREOP_PHASES, "on_preop", STOPPED["surgery"], P.RESECTION),
    *cases(PREOP_PHASES, "on_preop", STOPPED["completed"], P.RESECTION),
    *cases(PREOP_PHASES, "on_preop", STOPPED["toxicity"], P.ASSESSMENT),
    *cases(PREOP_PHASES, "on_preop", STOPPED["patient_choice"], P.ASSESSMENT),
    *cases(PREOP_PHASES, "on_preop", STOPPED["other"], P.ASSESSMENT),
    Case(P.ADJUVANT, "on_postop", STOPPED["completed"], P.SURVEILLANCE),
    Case(P.ADJUVANT, "on_postop", STOPPED["toxicity"], P.SURVEILLANCE),
    Case(P.RESECTION, "on_preop", STOPPED["surgery"], P.RESECTION),
    Case(P.RESECTION, "on_preop", STOPPED["toxicity"], P.RESECTION),
    # interval therapy stopped for the second stage: the patient stays in resection (§7.6)
    Case(P.RESECTION, "on_interval", STOPPED["surgery"], P.RESECTION),
    # post-operative therapy interrupted by an operation (e.g. the primary after the liver)
    Case(P.RESECTION, "on_postop", STOPPED["completed"], P.SURVEILLANCE),
    *cases((P.ASSESSMENT, P.SURVEILLANCE, P.RECURRENCE), "fresh", STOPPED["other"], "stay"),
    Case(P.SALVAGE, "on_salvage", STOPPED["toxicity"], P.SALVAGE),
    Case(P.CLOSED, "fresh", STOPPED["completed"], REFUSED),
    Case(P.CLOSED, "fresh", STOPPED["progression"], REFUSED),
    # -- therapy held and resumed (contract §7.4): the phase stays -------------------------------
    *cases(ACTIVE, "on_preop", PAUSED, "stay"),
    *cases(ACTIVE, "fresh", PAUSED, REFUSED),
    *cases(ACTIVE, "held", PAUSED, REFUSED),
    *cases(ACTIVE, "held", RESUMED, "stay"),
    *cases(ACTIVE, "on_preop", RESUMED, REFUSED),
    *cases(P.CLOSED, "held", (PAUSED, RESUMED), REFUSED),
    # -- reassessment (seed:13) ------------------------------------------------------------------
    Case(P.RESECTION, "between_stages", REASSESS_PD, P.SALVAGE),
    Case(P.RESECTION, "between_stages", REASSESS_SD, P.RESECTION),
    *cases((*PREOP_PHASES, P.RESECTION, P.SALVAGE), "on_preop", REASSESS_PD, P.SALVAGE),
    *cases((*PREOP_PHASES, P.RESECTION, P.SALVAGE), "on_preop", REASSESS_PR_RESECTABLE, P.RESECTION),
    *cases((*PREOP_PHASES, P.RESECTION), "on_preop", REASSESS_SD, P.NEOADJUVANT),
    Case(P.RESECTION, "fresh", REASSESS_SD, P.ASSESSMENT),
    Case(P.SALVAGE, "on_salvage", REASSESS_SD, P.SALVAGE),
    Case(P.SALVAGE, "liver_operated", REASSESS_PD, P.SALVAGE),
    *cases((P.RESECTION, P.ADJUVANT), "liver_operated", REASSESS_SD, REFUSED),
    *cases((P.ASSESSMENT, P.ADJUVANT, P.SURVEILLANCE, P.RECURRENCE, P.CLOSED), "fresh",
           REASSESS_PR_RESECTABLE, REFUSED),
    # -- pelvic radiotherapy: never moves the phase -------------------------------------------
    *cases(ACTIVE, "fresh", RT, "stay"),
    Case(P.CLOSED, "fresh", RT, REFUSED),
    # -- operations -------------------------------------------------------------------------------
    *cases(all_but(P.SURVEILLANCE), "fresh", LIVER_SURGERY, P.RESECTION),
    *cases(all_but(P.SURVEILLANCE), "fresh", PRIMARY_SURGERY, P.RESECTION),
    # the primary removed during pre-operative therapy: the therapy, and the phase, go on (§7.2)
    *cases(PREOP_PHASES, "on_preop", PRIMARY_SURGERY, "stay"),
    Case(P.RESECTION, "on_preop", PRIMARY_SURGERY, P.RESECTION),
    Case(P.NEOADJUVANT, "on_preop", ABLATION, P.RESECTION),
    Case(P.ASSESSMENT, "fresh", SIMULTANEOUS, P.RESECTION),
    Case(P.SURVEILLANCE, "liver_operated", PRIMARY_SURGERY, P.RESECTION),
    Case(P.SURVEILLANCE, "liver_operated", LIVER_SURGERY, REFUSED),
    Case(P.SURVEILLANCE, "liver_operated", ABLATION, REFUSED),
    Case(P.SURVEILLANCE, "liver_operated", SIMULTANEOUS, REFUSED),
    Case(P.CLOSED, "fresh", LIVER_SURGERY, REFUSED),
    # two-stage liver surgery; portal vein embolisation is not a liver operation (§7.6)
    *cases(all_but(P.SURVEILLANCE), "fresh", EMBOLISATION, "stay"),
    Case(P.SURVEILLANCE, "liver_operated", EMBOLISATION, REFUSED),
    Case(P.NEOADJUVANT, "on_preop", STAGE_1, P.RESECTION),
    Case(P.RESECTION, "between_stages", STAGE_1, REFUSED),
    Case(P.RESECTION, "between_stages", STAGE_2, P.RESECTION),
    Case(P.RESECTION, "on_interval", STAGE_2, P.RESECTION),
    *cases(all_but(P.SURVEILLANCE), "fresh", STAGE_2, REFUSED),
    # -- recurrence and progression -------------------------------------------------------------
    Case(P.SURVEILLANCE, "liver_operated", RECURRENCE, P.RECURRENCE),
    Case(P.ADJUVANT, "on_postop", RECURRENCE, P.RECURRENCE),
    Case(P.RESECTION, "liver_operated", RECURRENCE, P.RECURRENCE),
    Case(P.RESECTION, "liver_operated_before", RECURRENCE, P.RECURRENCE),
    Case(P.RESECTION, "fresh", RECURRENCE, REFUSED),
    # between the stages the liver surgery is not complete: growing disease is progression
    Case(P.RESECTION, "between_stages_before", RECURRENCE, REFUSED),
    # back after a transfer, the recurrence found meanwhile (§7.9)
    Case(P.ASSESSMENT, "back_after_liver_surgery", RECURRENCE, P.RECURRENCE),
    Case(P.ADJUVANT, "fresh", RECURRENCE, REFUSED),
    *cases((P.ASSESSMENT, P.NEOADJUVANT, P.REASSESSMENT, P.RECURRENCE, P.SALVAGE, P.CLOSED),
           "liver_operated_before", RECURRENCE, REFUSED),
    Case(P.ASSESSMENT, "liver_operated_before", RECURRENCE, REFUSED),
    *cases(all_but(P.SURVEILLANCE), "fresh", PROGRESSION, P.SALVAGE),
    *cases((P.SURVEILLANCE, P.CLOSED), "liver_operated", PROGRESSION, REFUSED),
    # -- closure ----------------------------------------------------------------------------------
    *[c for closing in (DEATH, TRANSFER, LOST) for c in cases(ACTIVE, "fresh", closing, P.CLOSED)],
    *[Case(P.CLOSED, "fresh", closing, REFUSED) for closing in (DEATH, TRANSFER, LOST)],
    # coming back after a transfer or a loss to follow-up, never after death (§7.9)
    Case(P.CLOSED, "transferred", RETURNED, P.ASSESSMENT),
    Case(P.CLOSED, "lost", RETURNED, P.ASSESSMENT),
    Case(P.CLOSED, "died", RETURNED, REFUSED),
    *cases(ACTIVE, "fresh", RETURNED, REFUSED),
    # -- the clock: a reassessment falls due, only from neoadjuvant ---------------------------
    Case(P.NEOADJUVANT, "on_preop", None, P.REASSESSMENT),
    *cases((*all_but(P.NEOADJUVANT), P.CLOSED), "on_preop", None, REFUSED),
]


def journey_in(case: Case) -> Journey:
    return Journey(case.phase, COURSES[case.course]())


def row_taken(journey: Journey, trigger: str, evt: ClinicalEvent | None) -> Step | None:
    """The table's own reading: the first row for the trigger from the phase whose guards hold
    (the rows only an override takes are not on the ordinary path)."""
    for row in PATHWAY:
        if row.trigger != trigger or journey.phase not in row.sources or row.by_override:
            continue
        if all(g(journey, evt) for g in row.when) and not any(g(journey, evt) for g in row.unless):
            return row
    return None


@pytest.mark.parametrize("case", CASES, ids=str)
def test_each_phase_and_event_leads_where_the_pathway_says(case: Case) -> None:
    journey = journey_in(case)
    moved = take_step(journey, case.trigger, case.event)
    if case.expected is REFUSED:
        assert not moved
        assert journey.phase is case.phase
    else:
        assert moved
        assert journey.phase is case.expected


def test_the_shared_machine_follows_the_table_exactly() -> None:
    """The transitions machine and a plain reading of PATHWAY agree on every case."""
    for case in CASES:
        journey = journey_in(case)
        row = row_taken(journey, case.trigger, case.event)
        moved = take_step(journey, case.trigger, case.event)
        assert moved == (row is not None), case
        if row is not None:
            assert journey.phase is (row.dest or case.phase), case


def test_every_row_of_the_transition_table_is_exercised() -> None:
    used = {id(row_taken(journey_in(c), c.trigger, c.event)) for c in CASES}
    unused = [f"{row.trigger} {[s.value for s in row.sources]} -> {row.dest}: {row.why}"
              for row in PATHWAY if id(row) not in used and not row.by_override]
    assert not unused, "rows no case reaches: " + "; ".join(unused)


def test_every_event_type_is_tried_from_every_phase() -> None:
    tried = {(c.phase, c.trigger) for c in CASES}
    missing = [(p.value, t.value) for p in Phase for t in EventType if (p, t.value) not in tried]
    assert not missing


@pytest.mark.parametrize("case", [c for c in CASES if c.expected is REFUSED], ids=str)
def test_a_refused_step_leaves_the_patient_as_they_were(case: Case) -> None:
    journey = journey_in(case)
    course_before = replace(journey.course)
    assert not take_step(journey, case.trigger, case.event)
    assert journey.state == case.phase.value
    assert journey.course == course_before


def test_one_machine_serves_every_patient() -> None:
    from journey.pathway import MACHINE

    first, second = Journey(), Journey()
    assert take_step(first, "systemic_started", STARTED)
    assert (first.phase, second.phase) == (P.NEOADJUVANT, P.ASSESSMENT)
    assert first not in MACHINE.models and second not in MACHINE.models
    # nothing was attached to the patient object: no trigger methods, no state helpers
    assert not hasattr(first, "systemic_started") and not hasattr(first, "is_neoadjuvant")


# ---------------------------------------------------------------------------------------------
# Refusals and overrides through the fold

SURGERY_DONE = (*PERIOP_START,
                ev("systemic_stopped", "2025-03-20", reason="surgery"),
                ev("surgery", "2025-04-10", procedure="liver_resection", margin="R0"),
                ev("systemic_started", "2025-05-12", regimen="FOLFOX"),
                ev("systemic_stopped", "2025-08-01", reason="completed"))

#: (history so far, off-pathway entry, phase it reaches with an override)
OFF_PATHWAY = {
    "progression in follow-up": (SURGERY_DONE, ev("progression", "2025-09-01"), P.SALVAGE),
    # routed by the course (§7.10): after the episode's liver operation it is post-operative
    "therapy started in follow-up": (SURGERY_DONE, ev("systemic_started", "2025-09-01",
                                                      regimen="FOLFIRI"), P.ADJUVANT),
    "liver operation in follow-up": (SURGERY_DONE, ev("surgery", "2025-09-01",
                                                      procedure="liver_resection"), P.RESECTION),
    "reassessment before any therapy": ((ev("mdt_review", "2025-01-06", resectable=True,
                                            plan="perioperative"),),
                                        ev("reassessment", "2025-02-01", response="SD",
                                           resectable=True), P.RESECTION),
    "recurrence before liver treatment": (PERIOP_START, ev("recurrence", "2025-02-01",
                                                           site="liver_only"), P.RECURRENCE),
    "therapy held with none running": (SURGERY_DONE, ev("systemic_paused", "2025-09-01",
                                                        reason="toxicity"), P.SURVEILLANCE),
    "therapy resumed without a hold": (PERIOP_START, ev("systemic_resumed", "2025-02-01"),
                                       P.NEOADJUVANT),
    "second stage without a first": (PERIOP_START, ev("surgery", "2025-02-20",
                                                      procedure="liver_resection", stage=2),
                                     P.RESECTION),
}


@pytest.mark.parametrize("name", OFF_PATHWAY)
def test_an_off_pathway_step_is_refused_with_a_sentence_naming_the_phase(name: str) -> None:
    history, entry, _ = OFF_PATHWAY[name]
    plain = follow(scenario(*history, as_of=entry["date"]))
    outcome = follow(scenario(*history, entry, as_of=entry["date"]))
    [refusal] = outcome.refusals
    assert not refusal.impossible
    assert refusal.seq == len(history) and refusal.type == entry["type"]
    assert plain.phase.value in refusal.reason
    assert "override" in refusal.reason
    assert outcome.phase is plain.phase
    assert [s.to_dict() for s in outcome.steps] == [s.to_dict() for s in plain.steps]
    assert outcome.reminders == plain.reminders


@pytest.mark.parametrize("name", OFF_PATHWAY)
def test_an_off_pathway_step_with_an_override_is_recorded_and_marked_overridden(name: str) -> None:
    history, entry, reached = OFF_PATHWAY[name]
    entry = {**entry, "override": "MDT decided this on purpose"}
    outcome = follow(scenario(*history, entry, as_of=entry["date"]))
    assert outcome.refusals == []
    step = outcome.steps[-1]
    assert step.trigger == entry["type"]
    assert step.overridden is True
    assert step.to_phase is reached
    assert step.to_dict()["override"] == "MDT decided this on purpose"
    assert outcome.phase is reached
    assert not any(s.overridden for s in outcome.steps[:-1])


@pytest.mark.parametrize("entry", [
    ev("surgery", "2025-02-10", procedure="liver_resection"),
    ev("systemic_started", "2025-02-10", regimen="FOLFOX"),
    ev("reassessment", "2025-02-10", response="SD", resectable=False),
    ev("progression", "2025-02-10"),
    ev("recurrence", "2025-02-10", site="liver_only"),
])
@pytest.mark.parametrize("override", [None, "the team insists"])
def test_after_closure_an_entry_is_refused_and_no_override_reopens_the_journey(
        entry: dict, override: str | None) -> None:
    """Contract §7.9: only a return reopens a journey closed by transfer or loss to follow-up."""
    if override:
        entry = {**entry, "override": override}
    outcome = follow(scenario(*PERIOP_START, ev("transfer", "2025-02-01"), entry, as_of="2025-03-01"))
    [refusal] = outcome.refusals
    assert refusal.impossible
    assert "closed (transfer to another centre)" in refusal.reason
    assert "return" in refusal.reason
    assert "follow-up" not in refusal.reason and "record progression" not in refusal.reason
    assert outcome.phase is P.CLOSED


def test_an_override_on_a_step_the_pathway_allows_is_not_marked_overridden() -> None:
    outcome = follow(scenario(ev("systemic_started", "2025-01-10", regimen="FOLFOX",
                                 override="started before the MDT met"), as_of="2025-02-01"))
    [step] = outcome.steps
    assert step.to_phase is P.NEOADJUVANT and step.overridden is False
    assert step.to_dict()["override"] == "started before the MDT met"


#: (history so far, entry that cannot be true, a word the reason must contain)
IMPOSSIBLE = {
    "a date in the future": (PERIOP_START, ev("reassessment", "2025-03-02", response="PR",
                                               resectable=True), "future"),
    "before the primary was diagnosed": ((), ev("mdt_review", "2024-01-09", resectable=True),
                                         "before the primary tumour was diagnosed"),
    "after death": ((*PERIOP_START, ev("death", "2025-02-01")),
                    ev("systemic_stopped", "2025-02-10", reason="other"), "died"),
    "after death, on the same day": ((*PERIOP_START, ev("death", "2025-02-01")),
                                     ev("transfer", "2025-02-01"), "died"),
    "stopping therapy that is not running": ((ev("mdt_review", "2025-01-06", resectable=True),),
                                             ev("systemic_stopped", "2025-01-20", reason="toxicity"),
                                             "No systemic therapy is running"),
    "stopping therapy twice": ((*PERIOP_START, ev("systemic_stopped", "2025-02-01", reason="toxicity")),
                               ev("systemic_stopped", "2025-02-02", reason="other"),
                               "No systemic therapy is running"),
    "removing a primary removed before the journey": (
        (), ev("surgery", "2025-01-20", procedure="primary_resection"), "already been removed"),
    "removing a primary twice": (
        (ev("surgery", "2025-01-20", procedure="simultaneous_resection"),),
        ev("surgery", "2025-02-20", procedure="primary_resection"), "already been removed"),
}


def _primary_for(name: str) -> dict:
    return {"resected_on": None} if name == "removing a primary twice" else {}


@pytest.mark.parametrize("name", IMPOSSIBLE)
@pytest.mark.parametrize("override", [None, "the team insists"])
def test_an_impossible_entry_is_refused_and_no_override_makes_it_true(name: str,
                                                                      override: str | None) -> None:
    history, entry, words = IMPOSSIBLE[name]
    if override:
        entry = {**entry, "override": override}
    primary = _primary_for(name)
    plain = follow(scenario(*history, as_of="2025-03-01", primary=primary))
    outcome = follow(scenario(*history, entry, as_of="2025-03-01", primary=primary))
    [refusal] = outcome.refusals
    assert refusal.impossible
    assert refusal.seq == len(history)
    assert words in refusal.reason
    assert "override" not in refusal.reason
    assert outcome.phase is plain.phase
    assert [s.to_dict() for s in outcome.steps] == [s.to_dict() for s in plain.steps]


def test_the_primary_can_be_removed_once_during_the_journey() -> None:
    outcome = follow(scenario(ev("surgery", "2025-01-20", procedure="primary_resection"),
                              as_of="2025-03-01", primary={"resected_on": None}))
    assert outcome.refusals == [] and outcome.phase is P.RESECTION


def test_therapy_ended_by_surgery_may_still_be_stopped_afterwards() -> None:
    outcome = follow(scenario(*PERIOP_START,
                              ev("surgery", "2025-03-20", procedure="liver_resection"),
                              ev("systemic_stopped", "2025-03-21", reason="surgery"),
                              as_of="2025-04-01"))
    assert outcome.refusals == []
    assert outcome.phase is P.RESECTION


# ---------------------------------------------------------------------------------------------
# Refusal messages are sentences a nurse reads

REPR_TRACES = re.compile(r"<[^>]*>|object at 0x|datetime\.|EventType\.|Phase\.|\bNone\b|"
                         r"[{}]|\[\s*'|\\n|Therapy\(|Course\(|ClinicalEvent\(")

BAD_ENTRIES = [
    {"date": "2025-02-01", "type": "scan_booked"},
    {"type": "surgery", "procedure": "liver_resection"},
    {"date": "01/02/2025", "type": "progression"},
    {"date": "2025-02-01", "type": "surgery"},
    {"date": "2025-02-01", "type": "surgery", "procedure": "liver_resction"},
    pytest.param({"date": "2025-02-01", "type": "surgery", "procedure": "liver_resection",
                  "margn": "R1"}),
    {"date": "2025-02-01", "type": "reassessment", "response": "PR", "resectable": "maybe"},
    pytest.param({"date": "2025-02-01", "type": "reassessment", "response": "PR",
                  "resectable": date(2025, 2, 1)}),
    {"date": "2025-02-01", "type": "systemic_started", "regimen": 5},
    pytest.param({"date": "2025-02-01", "type": "systemic_started", "regimen": ["FOLFOX"]},
                 ),
    pytest.param({"date": ["2025-02-01"], "type": "progression"}),
    {"date": "2025-02-01", "type": "progression", "note": "   "},
    {"date": "2025-02-01", "type": "progression", "override": "x" * 600},
]


def assert_is_a_sentence(reason: str) -> None:
    assert reason[0].isupper() or reason[0] == "'", reason
    assert reason.endswith("."), reason
    assert not REPR_TRACES.search(reason), reason
    assert not re.match(r"A (MDT|operation|[aeiou])", reason), reason
    assert len(reason) < 400


@pytest.mark.parametrize("entry", BAD_ENTRIES)
def test_an_unreadable_entry_is_refused_with_a_sentence(entry: dict) -> None:
    sc = read_scenario(scenario(entry))
    [refusal] = sc.unreadable
    assert refusal.impossible and refusal.seq == 0
    assert_is_a_sentence(refusal.reason)


@pytest.mark.parametrize("name", [*OFF_PATHWAY, *IMPOSSIBLE])
def test_a_pathway_refusal_is_a_sentence_without_program_reprs(name: str) -> None:
    history, entry, _ = OFF_PATHWAY.get(name) or IMPOSSIBLE[name]
    sc = read_scenario(scenario(*history, entry, primary=_primary_for(name)))
    outcome = follow_journey(sc.profile, sc.events, date(2025, 3, 1))
    assert outcome.refusals
    for refusal in outcome.refusals:
        assert_is_a_sentence(refusal.reason)


# ---------------------------------------------------------------------------------------------
# The timed transition into reassessment (contract §2)

def test_a_reassessment_falls_due_on_its_due_date_not_the_day_before() -> None:
    raw = scenario(*PERIOP_START)  # started 2025-01-10: due 2025-03-10
    assert follow(raw, as_of=date(2025, 3, 9)).phase is P.NEOADJUVANT
    outcome = follow(raw, as_of=date(2025, 3, 10))
    assert outcome.phase is P.REASSESSMENT
    clock = outcome.steps[-1]
    assert clock.by_clock and clock.trigger == REASSESSMENT_FALLS_DUE
    assert (clock.date, clock.from_phase, clock.to_phase) == (date(2025, 3, 10), P.NEOADJUVANT,
                                                               P.REASSESSMENT)
    assert clock.to_dict() == {"date": "2025-03-10", "event": "reassessment_falls_due",
                               "from": "neoadjuvant", "to": "reassessment", "by_clock": True}


def test_the_patient_stays_in_reassessment_until_the_reassessment_is_recorded() -> None:
    raw = scenario(*PERIOP_START)
    assert follow(raw, as_of=date(2025, 6, 30)).phase is P.REASSESSMENT
    outcome = follow(scenario(*PERIOP_START, ev("reassessment", "2025-03-20", response="SD",
                                                resectable=False)), as_of=date(2025, 4, 1))
    assert [s.to_phase for s in outcome.steps[-2:]] == [P.REASSESSMENT, P.NEOADJUVANT]
    assert outcome.phase is P.NEOADJUVANT
    # the next one falls due two calendar months after that reassessment
    assert follow(scenario(*PERIOP_START, ev("reassessment", "2025-03-20", response="SD",
                                             resectable=False)),
                  as_of=date(2025, 5, 20)).phase is P.REASSESSMENT


def test_a_reassessment_on_the_due_date_follows_the_clock_step_of_that_day() -> None:
    outcome = follow(scenario(*PERIOP_START, ev("reassessment", "2025-03-10", response="SD",
                                                resectable=False)), as_of=date(2025, 3, 10))
    assert [(s.trigger, s.date) for s in outcome.steps[-2:]] == [
        (REASSESSMENT_FALLS_DUE, date(2025, 3, 10)), ("reassessment", date(2025, 3, 10))]
    assert outcome.phase is P.NEOADJUVANT


def test_a_reassessment_before_the_due_date_means_the_clock_never_fires() -> None:
    outcome = follow(scenario(*PERIOP_START, ev("reassessment", "2025-03-09", response="SD",
                                                resectable=False)), as_of=date(2025, 3, 10))
    assert not any(s.by_clock for s in outcome.steps)
    assert outcome.phase is P.NEOADJUVANT


@pytest.mark.parametrize("detour,phase", [
    (ev("reassessment", "2025-02-20", response="PR", resectable=True), P.RESECTION),
    (ev("progression", "2025-02-20"), P.SALVAGE),
    (ev("systemic_stopped", "2025-02-20", reason="toxicity"), P.ASSESSMENT),
    (ev("mdt_review", "2025-02-20", resectable=False, plan="salvage"), P.SALVAGE),
])
def test_the_clock_moves_only_a_patient_in_neoadjuvant(detour: dict, phase: Phase) -> None:
    outcome = follow(scenario(*PERIOP_START, detour), as_of=date(2025, 8, 1))
    assert outcome.phase is phase
    assert not any(s.by_clock for s in outcome.steps)


def test_the_clock_fires_once_per_due_reassessment() -> None:
    outcome = follow(scenario(*PERIOP_START), as_of=date(2026, 1, 1))
    assert sum(s.by_clock for s in outcome.steps) == 1


@pytest.mark.parametrize("cleared_on", ["2025-03-01", "2025-03-15"])  # before / after the due date
def test_an_overdue_reassessment_puts_a_patient_back_on_therapy_in_reassessment(cleared_on: str) -> None:
    """Cleared for surgery before or after the reassessment fell due (2025-03-10), then judged
    unresectable again with no reassessment recorded: either way the patient is awaiting it."""
    outcome = follow(scenario(*PERIOP_START,
                              ev("mdt_review", cleared_on, resectable=True, plan="liver_first"),
                              ev("mdt_review", "2025-03-25", resectable=False)),
                     as_of=date(2025, 4, 1))
    assert outcome.phase is P.REASSESSMENT
    assert outcome.steps[-1].by_clock and outcome.steps[-1].date == date(2025, 3, 25)
    [(_, status)] = outcome.reminders_with_status()
    assert status.value == "overdue"


def test_back_in_neoadjuvant_after_the_due_date_the_clock_fires_on_the_day_of_return() -> None:
    """Cleared for surgery while on therapy, then judged unresectable again after the due date."""
    outcome = follow(scenario(*PERIOP_START,
                              ev("mdt_review", "2025-02-20", resectable=True, plan="liver_first"),
                              ev("reassessment", "2025-02-25", response="PR", resectable=True),
                              ev("mdt_review", "2025-05-05", resectable=False)),
                     as_of=date(2025, 5, 6))
    # the reassessment of 2025-02-25 opened the next one, due 2025-04-25; the patient was in
    # resection then, and returned to neoadjuvant on 2025-05-05: it falls due that day
    clock = [s for s in outcome.steps if s.by_clock]
    assert [(s.date, s.from_phase, s.to_phase) for s in clock] == [
        (date(2025, 5, 5), P.NEOADJUVANT, P.REASSESSMENT)]
    assert outcome.phase is P.REASSESSMENT


# ---------------------------------------------------------------------------------------------
# Recording order does not matter, only clinical dates do

JOURNEY = (*PERIOP_START,
           ev("reassessment", "2025-03-12", response="SD", resectable=False),
           ev("reassessment", "2025-05-06", response="PR", resectable=True),
           ev("systemic_stopped", "2025-05-20", reason="surgery"),
           ev("surgery", "2025-06-10", procedure="liver_resection", margin="R1"),
           ev("systemic_started", "2025-07-14", regimen="FOLFOX"),
           ev("systemic_stopped", "2025-10-01", reason="completed"),
           ev("recurrence", "2026-02-01", site="liver_only"))




@pytest.mark.parametrize("order", ["reversed", "rotated", "interleaved"])
def test_entries_recorded_in_any_order_give_the_same_journey(order: str) -> None:
    events = list(JOURNEY)
    reordered = {"reversed": events[::-1], "rotated": events[3:] + events[:3],
                 "interleaved": events[::2] + events[1::2]}[order]
    on_time = follow(scenario(*events, as_of="2026-03-01"))
    late = follow(scenario(*reordered, as_of="2026-03-01"))
    assert as_seen(late) == as_seen(on_time)
    assert on_time.phase is P.RECURRENCE and on_time.refusals == []
