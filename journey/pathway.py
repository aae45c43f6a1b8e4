"""The phases of the liver-metastases pathway and the transitions between them (contract §2).

The transition table is declared once, as data (``PATHWAY``), and one module-level
``transitions.Machine`` is built from it for every patient: no machine is attached to a patient
object (a machine per patient costs heavily at scale, see design/LIBRARIES.md); each step
triggers ``MACHINE.events[name].trigger(journey, event=...)`` on a small plain adapter.

Guards read the adapter's :class:`Course` (what is running, what has been done) and the event,
and have no side effects: a refused step leaves the adapter as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from transitions import EventData, Machine

from journey.events import (
    EMBOLISATION,
    REOPENABLE_CLOSINGS,
    SURGICAL_PLANS,
    ClinicalEvent,
    EventType,
)
from journey.treatment import Course, Intent, LineEnd


class Phase(StrEnum):
    ASSESSMENT = "assessment"
    NEOADJUVANT = "neoadjuvant"
    REASSESSMENT = "reassessment"
    RESECTION = "resection"
    ADJUVANT = "adjuvant"
    SURVEILLANCE = "surveillance"
    RECURRENCE = "recurrence"
    SALVAGE = "salvage"
    CLOSED = "closed"


PHASE_MEANING: dict[Phase, str] = {
    Phase.ASSESSMENT: "registered, awaiting a plan",
    Phase.NEOADJUVANT: "on pre-operative systemic therapy",
    Phase.REASSESSMENT: "a resectability reassessment has fallen due",
    Phase.RESECTION: "cleared for or recovering from surgery",
    Phase.ADJUVANT: "on post-operative systemic therapy",
    Phase.SURVEILLANCE: "treatment finished, in follow-up",
    Phase.RECURRENCE: "recurrence found, awaiting a decision",
    Phase.SALVAGE: "progression or no curative option: best salvage or palliative therapy",
    Phase.CLOSED: "journey closed (death, transfer or lost to follow-up)",
}

ACTIVE = tuple(p for p in Phase if p is not Phase.CLOSED)
_PHASE_OF = {p.value: p for p in Phase}

#: the trigger of the timed transition raised by the clock, not by a recorded event
REASSESSMENT_FALLS_DUE = "reassessment_falls_due"


class Journey:
    """The plain object the shared machine moves: a phase and the course behind it."""

    def __init__(self, state: Phase | str = Phase.ASSESSMENT, course: Course | None = None):
        self.state = str(state)
        self.course = course or Course()

    @property
    def phase(self) -> Phase:
        return _PHASE_OF[self.state]


# -------------------------------------------------------------------------------------------
# Guards: pure predicates of (journey, event). Those that read the course are what lets an
# override be routed by the course (contract §7.10): under an override the source phase is
# ignored and the first row whose guards hold decides, so every row that means "before the
# liver operation" or "after it" says so in a guard, not only in its source phases.

Guard = Callable[[Journey, ClinicalEvent], bool]


def _plan(plan: str) -> Guard:
    def guard(j: Journey, e: ClinicalEvent) -> bool:
        return bool(e.get("plan") == plan)
    guard.__name__ = f"plan_is_{plan}"
    return guard


def surgical_plan(j: Journey, e: ClinicalEvent) -> bool:
    """The MDT cleared the patient for an operation now."""
    plan = e.get("plan")
    return plan in SURGICAL_PLANS and (bool(e.get("resectable")) or plan == "primary_first")


def judged_resectable(j: Journey, e: ClinicalEvent) -> bool:
    return bool(e.get("resectable"))


def progressed(j: Journey, e: ClinicalEvent) -> bool:
    return bool(e.get("response") == "PD" or e.get("reason") == "progression")


def on_preop_therapy(j: Journey, e: ClinicalEvent) -> bool:
    return j.course.on_preop_therapy


def on_postop_therapy(j: Journey, e: ClinicalEvent) -> bool:
    return j.course.on_postop_therapy


def on_interval_therapy(j: Journey, e: ClinicalEvent) -> bool:
    return j.course.on_interval_therapy


def postop_line_stopped_today(j: Journey, e: ClinicalEvent) -> bool:
    """The episode's last line was post-operative and was stopped on this entry's date: a line
    started the same day replaces it (a change of regimen, contract §7.1: each entry counts)."""
    lines = j.course.episode.lines
    last = lines[-1] if lines else None
    return (last is not None and last.intent is Intent.POSTOP and last.ending is LineEnd.STOPPED
            and last.ended_on == e.date)


def line_running_unheld(j: Journey, e: ClinicalEvent) -> bool:
    return j.course.on_therapy and not j.course.line_held


def line_held(j: Journey, e: ClinicalEvent) -> bool:
    return j.course.line_held


def liver_treated_in_episode(j: Journey, e: ClinicalEvent) -> bool:
    """The episode's liver surgery has begun (a single operation or a first stage)."""
    return j.course.episode.liver_surgery_started


def liver_surgery_complete(j: Journey, e: ClinicalEvent) -> bool:
    return j.course.episode.liver_surgery_complete


def between_stages(j: Journey, e: ClinicalEvent) -> bool:
    return j.course.episode.between_stages


def liver_treated_ever(j: Journey, e: ClinicalEvent) -> bool:
    return j.course.liver_treated_ever


def back_after_closure(j: Journey, e: ClinicalEvent) -> bool:
    return j.course.back_after_closure


def ready_for_surgery(j: Journey, e: ClinicalEvent) -> bool:
    return e.get("reason") in ("surgery", "completed")


def primary_operation(j: Journey, e: ClinicalEvent) -> bool:
    return bool(e.get("procedure") == "primary_resection")


def embolisation(j: Journey, e: ClinicalEvent) -> bool:
    return bool(e.get("procedure") == EMBOLISATION)


def second_stage(j: Journey, e: ClinicalEvent) -> bool:
    return bool(e.get("stage") == 2)


def repeated_first_stage(j: Journey, e: ClinicalEvent) -> bool:
    """A first stage after the episode's liver surgery began."""
    return e.get("stage") == 1 and j.course.episode.liver_surgery_started


def closed_by_transfer_or_loss(j: Journey, e: ClinicalEvent) -> bool:
    return j.course.closed_with in REOPENABLE_CLOSINGS


# -------------------------------------------------------------------------------------------
# The transition table


@dataclass(frozen=True)
class Step:
    """One row of the table: on ``trigger`` from any of ``sources`` to ``dest`` (None = stay),
    when every guard in ``when`` holds and none in ``unless`` does. Rows are tried in order.
    A row ``by_override`` exists only on the override path: what an override records when the
    course gives the event no other meaning (the phase stays)."""

    trigger: str
    sources: tuple[Phase, ...]
    dest: Phase | None
    when: tuple[Guard, ...] = ()
    unless: tuple[Guard, ...] = ()
    why: str = ""
    by_override: bool = False


def _row(trigger: EventType | str, sources: Sequence[Phase] | Phase, dest: Phase | None,
         when: Sequence[Guard] = (), unless: Sequence[Guard] = (), why: str = "",
         by_override: bool = False) -> Step:
    srcs = (sources,) if isinstance(sources, Phase) else tuple(sources)
    return Step(str(trigger), srcs, dest, tuple(when), tuple(unless), why, by_override)


P = Phase
E = EventType
PREOP_PHASES = (P.NEOADJUVANT, P.REASSESSMENT)
OPERABLE = tuple(p for p in ACTIVE if p is not P.SURVEILLANCE)

PATHWAY: tuple[Step, ...] = (
    # MDT decisions: the plan decides where the patient goes next
    _row(E.MDT_REVIEW, ACTIVE, P.SALVAGE, [_plan("salvage")], why="MDT chose salvage therapy"),
    _row(E.MDT_REVIEW, ACTIVE, P.SURVEILLANCE, [_plan("surveillance")],
         why="MDT chose surveillance"),
    _row(E.MDT_REVIEW, (P.ASSESSMENT, P.RECURRENCE, P.SALVAGE, *PREOP_PHASES), P.RESECTION,
         [surgical_plan], why="MDT cleared the patient for an operation"),
    _row(E.MDT_REVIEW, P.NEOADJUVANT, P.RESECTION, [judged_resectable],
         why="MDT judged the disease resectable during pre-operative therapy"),
    _row(E.MDT_REVIEW, P.RESECTION, P.NEOADJUVANT, [on_preop_therapy],
         [judged_resectable, liver_treated_in_episode],
         why="MDT judged the disease no longer resectable; pre-operative therapy goes on"),
    _row(E.MDT_REVIEW, ACTIVE, None, why="MDT review recorded; the phase stays"),

    # Systemic therapy: where a line leads is judged by the course (before or after the liver)
    _row(E.SYSTEMIC_STARTED, (P.ASSESSMENT, P.RECURRENCE), P.NEOADJUVANT,
         unless=[liver_treated_in_episode], why="pre-operative therapy begins"),
    _row(E.SYSTEMIC_STARTED, P.RESECTION, P.ADJUVANT, [liver_surgery_complete],
         why="post-operative therapy begins"),
    _row(E.SYSTEMIC_STARTED, P.RESECTION, None, [between_stages],
         why="interval therapy between the two stages of the liver operation"),
    _row(E.SYSTEMIC_STARTED, P.RESECTION, P.NEOADJUVANT, unless=[liver_treated_in_episode],
         why="therapy before the liver operation"),
    _row(E.SYSTEMIC_STARTED, P.SURVEILLANCE, P.ADJUVANT, [postop_line_stopped_today],
         why="post-operative therapy changed: one line stopped and another started the same day"),
    _row(E.SYSTEMIC_STARTED, (*PREOP_PHASES, P.ADJUVANT, P.SALVAGE), None,
         why="a new line of the same therapy"),

    _row(E.SYSTEMIC_STOPPED, ACTIVE, P.SALVAGE, [progressed], why="therapy stopped for progression"),
    _row(E.SYSTEMIC_STOPPED, P.RESECTION, None, [on_interval_therapy],
         why="interval therapy stopped; the second stage is next"),
    _row(E.SYSTEMIC_STOPPED, PREOP_PHASES, P.RESECTION, [ready_for_surgery],
         why="pre-operative therapy finished; surgery next"),
    _row(E.SYSTEMIC_STOPPED, PREOP_PHASES, P.ASSESSMENT,
         why="pre-operative therapy stopped early; awaiting a new plan"),
    _row(E.SYSTEMIC_STOPPED, P.ADJUVANT, P.SURVEILLANCE, why="post-operative therapy finished"),
    _row(E.SYSTEMIC_STOPPED, P.RESECTION, P.SURVEILLANCE, [on_postop_therapy],
         why="post-operative therapy (interrupted by an operation) finished"),
    _row(E.SYSTEMIC_STOPPED, ACTIVE, None, why="therapy stopped"),

    # Therapy held and resumed (contract §7.4): the phase and the line stay
    _row(E.SYSTEMIC_PAUSED, ACTIVE, None, [line_running_unheld], why="the running line is held"),
    _row(E.SYSTEMIC_RESUMED, ACTIVE, None, [line_held], why="the held line goes on"),

    # Resectability reassessment on pre-operative therapy (seed:13)
    _row(E.REASSESSMENT, P.RESECTION, P.SALVAGE, [progressed, between_stages],
         why="progression between the two stages of the liver operation"),
    _row(E.REASSESSMENT, P.RESECTION, None, [between_stages],
         why="imaging between the two stages of the liver operation"),
    _row(E.REASSESSMENT, (*PREOP_PHASES, P.RESECTION, P.SALVAGE), P.SALVAGE, [progressed],
         unless=[liver_treated_in_episode], why="progression at reassessment"),
    _row(E.REASSESSMENT, (*PREOP_PHASES, P.RESECTION, P.SALVAGE), P.RESECTION,
         [judged_resectable], unless=[liver_treated_in_episode],
         why="resectable at reassessment"),
    _row(E.REASSESSMENT, (*PREOP_PHASES, P.RESECTION), P.NEOADJUVANT, [on_preop_therapy],
         unless=[liver_treated_in_episode], why="not yet resectable; therapy goes on"),
    _row(E.REASSESSMENT, P.RESECTION, P.ASSESSMENT, unless=[liver_treated_in_episode],
         why="no longer resectable and off therapy; awaiting a new plan"),
    _row(E.REASSESSMENT, P.SALVAGE, None, why="reassessment during salvage therapy"),

    _row(E.RADIOTHERAPY, ACTIVE, None, why="pelvic radiotherapy does not change the phase"),

    # Operations (contract §7.6: portal vein embolisation is not a liver operation; stage 2
    # completes the liver surgery that stage 1 began)
    _row(E.SURGERY, OPERABLE, None, [embolisation],
         why="portal vein embolisation prepares the liver; the phase stays"),
    _row(E.SURGERY, PREOP_PHASES, None, [primary_operation, on_preop_therapy],
         why="the primary removed while pre-operative therapy goes on (contract §7.2)"),
    _row(E.SURGERY, OPERABLE, P.RESECTION, [second_stage, between_stages],
         why="second stage of the liver operation"),
    _row(E.SURGERY, OPERABLE, P.RESECTION, unless=[embolisation, second_stage, repeated_first_stage],
         why="operation"),
    _row(E.SURGERY, P.SURVEILLANCE, P.RESECTION, [primary_operation],
         why="primary removed after the liver (liver-first approach)"),
    _row(E.SURGERY, OPERABLE, P.RESECTION, [second_stage], by_override=True,
         why="second stage recorded without a first stage in this episode"),

    # Recurrence and progression
    _row(E.RECURRENCE, P.SURVEILLANCE, P.RECURRENCE, why="recurrence during follow-up"),
    _row(E.RECURRENCE, (P.ADJUVANT, P.RESECTION), P.RECURRENCE, [liver_treated_ever],
         unless=[between_stages], why="recurrence after liver surgery"),
    _row(E.RECURRENCE, P.ASSESSMENT, P.RECURRENCE, [back_after_closure, liver_treated_ever],
         why="recurrence found when the patient came back after liver surgery"),
    _row(E.PROGRESSION, OPERABLE, P.SALVAGE, why="progression"),

    # Closure, and coming back (contract §7.9)
    _row(E.DEATH, ACTIVE, P.CLOSED, why="death"),
    _row(E.TRANSFER, ACTIVE, P.CLOSED, why="transferred to another centre"),
    _row(E.LOST_TO_FOLLOW_UP, ACTIVE, P.CLOSED, why="lost to follow-up"),
    _row(E.RETURNED, P.CLOSED, P.ASSESSMENT, [closed_by_transfer_or_loss],
         why="back in this centre's care after a transfer or loss to follow-up"),

    # Time: a reassessment falls due during pre-operative therapy (contract §2)
    _row(REASSESSMENT_FALLS_DUE, P.NEOADJUVANT, P.REASSESSMENT,
         why="2-monthly reassessment fell due"),

    # What an override records when nothing above gives the event a meaning the course allows:
    # the entry is kept and the phase stays (never a phase the course contradicts, §7.10)
    *(_row(trigger, ACTIVE, None, by_override=True, why="recorded by override; the phase stays")
      for trigger in (E.SYSTEMIC_PAUSED, E.SYSTEMIC_RESUMED, E.SURGERY)),
)

#: what to tell the nurse when a step has no transition from the current phase
OFF_PATHWAY_HINTS: dict[str, str] = {
    E.MDT_REVIEW: "",
    E.SYSTEMIC_STARTED: "In follow-up, record the recurrence or an MDT decision first.",
    E.SYSTEMIC_STOPPED: "",
    E.REASSESSMENT: "A resectability reassessment belongs to pre-operative therapy; for scans in "
                    "follow-up record a recurrence, for growing disease record progression.",
    E.SURGERY: "In follow-up, record the recurrence (and the MDT decision) before the operation.",
    E.RECURRENCE: "A recurrence follows curative-intent liver treatment; for disease growing "
                  "before or during treatment, record progression instead.",
    E.PROGRESSION: "In follow-up after treatment, new disease is recorded as a recurrence.",
    E.SYSTEMIC_PAUSED: "Only a running line of therapy can be held; record when it started first "
                       "(or, if it is already held, record when it resumed).",
    E.SYSTEMIC_RESUMED: "Only a line on hold can resume; record the hold first, or record a new "
                        "start if a new line begins.",
}


def override_trigger(trigger: str) -> str:
    return f"override:{trigger}"


def _build_machine() -> Machine:
    machine = Machine(model=None, states=[p.value for p in Phase], initial=Phase.ASSESSMENT.value,
                      auto_transitions=False, send_event=True, ignore_invalid_triggers=True)
    for row in PATHWAY:
        conditions: list[str | Callable[..., bool | None]] = [_as_condition(g) for g in row.when]
        unless: list[str | Callable[..., bool | None]] = [_as_condition(g) for g in row.unless]
        dest = row.dest.value if row.dest is not None else None
        if not row.by_override:
            machine.add_transition(row.trigger, [s.value for s in row.sources], dest,
                                   conditions=conditions, unless=unless)
        # The override path: the same step recorded from any phase, its guards still deciding
        # where it leads. Registered from the same rows, so the table stays the one truth.
        machine.add_transition(override_trigger(row.trigger), "*", dest,
                               conditions=conditions, unless=unless)
    return machine


def _as_condition(guard: Guard) -> Callable[[EventData], bool]:
    def condition(event_data: EventData) -> bool:
        journey = event_data.model
        assert isinstance(journey, Journey)
        return guard(journey, event_data.kwargs["event"])
    condition.__name__ = guard.__name__
    return condition


MACHINE = _build_machine()


def machine_step(journey: Journey, trigger: str, event: ClinicalEvent | None = None,
                 override: bool = False) -> bool:
    """Move ``journey`` by ``trigger`` through the ``transitions`` machine (the reference the
    compiled dispatch is held to); False (and nothing changed) when no row allows it."""
    name = override_trigger(trigger) if override else trigger
    machine_event = MACHINE.events.get(name)
    if machine_event is None:
        return False
    return bool(machine_event.trigger(journey, event=event))


def _compile() -> tuple[dict[tuple[str, str], tuple[Step, ...]], dict[str, tuple[Step, ...]]]:
    """The same table read the way the machine reads it: for each (phase, trigger) the rows that
    leave that phase, in table order; for each override trigger every row of the trigger (the
    override path ignores the source phase). tests/unit/test_compiled_dispatch.py holds the two
    readings equal on every row and every generated journey."""
    ordinary: dict[tuple[str, str], list[Step]] = {}
    override: dict[str, list[Step]] = {}
    for row in PATHWAY:
        override.setdefault(row.trigger, []).append(row)
        if not row.by_override:
            for source in row.sources:
                ordinary.setdefault((source.value, row.trigger), []).append(row)
    return ({k: tuple(v) for k, v in ordinary.items()}, {k: tuple(v) for k, v in override.items()})


ORDINARY_ROWS, OVERRIDE_ROWS = _compile()


def take_step(journey: Journey, trigger: str, event: ClinicalEvent | None = None,
              override: bool = False) -> bool:
    """Move ``journey`` by ``trigger``: the first row (of the compiled table) whose guards hold
    decides; False (and nothing changed) when none does. What ``machine_step`` does, without the
    machine's per-call bookkeeping (replay and the audit fold millions of entries)."""
    rows = OVERRIDE_ROWS.get(trigger, ()) if override else ORDINARY_ROWS.get((journey.state, trigger), ())
    for row in rows:
        if _allows(row, journey, event):
            if row.dest is not None:
                journey.state = row.dest.value
            return True
    return False


def _allows(row: Step, journey: Journey, event: ClinicalEvent | None) -> bool:
    if event is None:  # the clock: its rows have no guards
        return not row.when and not row.unless
    return all(g(journey, event) for g in row.when) and not any(g(journey, event) for g in row.unless)


def rows_for(trigger: str) -> list[Step]:
    return [row for row in PATHWAY if row.trigger == trigger]


def diagram_edges() -> list[tuple[str, str, str]]:
    """(source, destination, label) for every phase-changing row: the pathway picture is drawn
    from the table itself."""
    edges: dict[tuple[str, str, str], None] = {}
    for row in PATHWAY:
        if row.dest is None or row.by_override:
            continue
        for src in row.sources:
            if src is not row.dest:
                edges[(src.value, row.dest.value, row.trigger)] = None
    return list(edges)


def mermaid_diagram() -> str:
    lines = ["stateDiagram-v2", f"    [*] --> {Phase.ASSESSMENT.value}"]
    grouped: dict[tuple[str, str], list[str]] = {}
    for src, dst, label in diagram_edges():
        grouped.setdefault((src, dst), []).append(label)
    for (src, dst), labels in grouped.items():
        lines.append(f"    {src} --> {dst}: {', '.join(labels)}")
    lines.append(f"    {Phase.CLOSED.value} --> [*]")
    return "\n".join(lines)


__all__ = [
    "ACTIVE", "MACHINE", "OFF_PATHWAY_HINTS", "PATHWAY", "PHASE_MEANING", "REASSESSMENT_FALLS_DUE",
    "Journey", "Phase", "Step", "diagram_edges", "mermaid_diagram", "take_step",
]
