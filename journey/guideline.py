"""The guideline recommendations of the contract (§4), as data: every statement of the seed
(``../shared/seed/guideline-summary.txt``, cited as ``seed:N``) is a :class:`Rule`, a context
note, or an explicit "not encoded, because ..." entry.

:func:`advise` reads a :class:`~journey.course.JourneyOutcome` and answers for the situation at
``as_of`` only, never for the whole history:

* **treatment-choice statements** (seed:5-8, 10-12, 17-20, 34) apply while the first curative
  episode's treatment is being chosen or given before the liver is operated on (phases
  ``assessment``, ``neoadjuvant``, ``reassessment``, ``resection`` before liver surgery);
* **post-operative statements** (seed:14, 35, and seed:8's 6 months after upfront surgery) apply
  after the liver operation of the episode (``resection`` after surgery, ``adjuvant``);
* **process statements** (seed:13, 32, 33) follow the therapy actually running;
* **recurrent disease** gets seed:37 instead of first-line statements written for the first
  presentation (the profile describes those metastases, not the recurrence).

Conditions are three-valued: a rule holds, does not hold, or cannot be decided because a fact is
unknown (:class:`Unknown`). An undecided rule is never shown; the unknown fact becomes a sentence
in :attr:`Advice.missing` naming what it would decide. ``G-OUTSIDE-GUIDELINE`` is shown when
nothing else applies, or after an R2 liver operation (contract §7.7), and says that the MDT
decides. Statements that apply together and advise against each other name each other in
``conflicts_with`` (:data:`CONFLICTS`, contract §7.8).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from journey.course import JourneyOutcome
from journey.events import LIVER_PROCEDURES, ClinicalEvent, EventType
from journey.pathway import Phase
from journey.profile import Sidedness, Timing
from journey.treatment import Episode, EpisodeStart, Intent

#: the version of the rules below; recorded with every recommendation shown
RULESET_VERSION = "2026.12-2"

RECOMMENDATION, WARNING = "recommendation", "warning"

OUTSIDE_GUIDELINE = "G-OUTSIDE-GUIDELINE"

#: phases in which the treatment of an episode is chosen or given before the liver operation
CHOICE_PHASES = (Phase.ASSESSMENT, Phase.NEOADJUVANT, Phase.REASSESSMENT, Phase.RESECTION)
#: phases after the liver operation of an episode in which post-operative therapy is due or given
POSTOP_PHASES = (Phase.RESECTION, Phase.ADJUVANT)
#: liver operations with a resection margin
SINGLE_METASTASIS_LIMIT_MM = 20  # seed:8 "<2 cm": 19 mm qualifies, 20 mm does not
PERIOP_MAX_METASTASES = 4  # seed:5 "up to 4 liver metastases"


# ---------------------------------------------------------------------------------------------
# Three-valued conditions


@dataclass(frozen=True)
class Unknown:
    """A condition that cannot be decided: ``facts`` (keys of :data:`MISSING_FACTS`) are unknown."""

    facts: frozenset[str]


Truth = bool | Unknown

#: what each unknown fact is, and how to find it out
MISSING_FACTS: dict[str, str] = {
    "resectability": "Resectability has not been judged yet (no MDT review or reassessment "
                     "records it)",
    "mmr": "The MMR/MSI status is unknown (test the tumour for mismatch-repair proteins or MSI)",
    "ras": "The RAS status is unknown (test the tumour for KRAS/NRAS mutations)",
    "braf": "The BRAF status is unknown (test the tumour for a BRAF mutation)",
    "ecog": "The ECOG performance status is not recorded",
    "oxaliplatin": "The date of the last adjuvant oxaliplatin dose is missing, so failure within "
                   "12 months cannot be judged (the relapse, when not recorded, is taken as the day "
                   "the liver metastases were found)",
    "simultaneous_feasible": "No MDT review has recorded whether simultaneous resection of the "
                             "primary and the liver metastases is feasible",
    "margin": "The margin (R0/R1/R2) of the last liver resection is not recorded",
}


def unknown(*facts: str) -> Unknown:
    return Unknown(frozenset(facts))


def all_of(*terms: Truth) -> Truth:
    """Three-valued AND: False if any term is False, else Unknown if any is, else True."""
    if any(t is False for t in terms):
        return False
    facts = frozenset().union(*(t.facts for t in terms if isinstance(t, Unknown)))
    return Unknown(facts) if facts else True


def any_of(*terms: Truth) -> Truth:
    """Three-valued OR: True if any term is True, else Unknown if any is, else False."""
    if any(t is True for t in terms):
        return True
    facts = frozenset().union(*(t.facts for t in terms if isinstance(t, Unknown)))
    return Unknown(facts) if facts else False


def negate(term: Truth) -> Truth:
    return term if isinstance(term, Unknown) else not term


def known(value: bool | None, fact: str) -> Truth:
    return unknown(fact) if value is None else value


# ---------------------------------------------------------------------------------------------
# Derived facts of a journey (shared by the rules; small and named so the audit can reuse them)


def current_episode_events(outcome: JourneyOutcome) -> list[ClinicalEvent]:
    """The accepted events of the current episode (since the last recurrence or return; all of
    them when there was none)."""
    current = outcome.course.episode.index
    return [s.event for s in outcome.steps if s.event is not None and s.episode == current]


def latest_resectability(outcome: JourneyOutcome) -> bool | None:
    """Resectable or not now (JourneyOutcome.resectable_before, one definition with the audit)."""
    return outcome.resectable_before(len(outcome.steps))


def simultaneous_feasible(outcome: JourneyOutcome) -> bool | None:
    """What the latest MDT review of the episode recorded about simultaneous resection."""
    for event in reversed(current_episode_events(outcome)):
        if event.type is EventType.MDT_REVIEW and event.get("simultaneous_feasible") is not None:
            return bool(event.get("simultaneous_feasible"))
    return None


def after_recurrence(outcome: JourneyOutcome) -> bool:
    return any(e.began_by is EpisodeStart.RECURRENCE for e in outcome.course.episodes)


def liver_treated_before_last_recurrence(outcome: JourneyOutcome) -> bool:
    """A liver operation was completed (a single operation or the second stage) in an episode
    before the last recurrence: the recurrence rules start from it (contract §7.6)."""
    episodes = outcome.course.episodes
    last = max((e.index for e in episodes if e.began_by is EpisodeStart.RECURRENCE), default=None)
    return last is not None and any(e.liver_surgery_complete for e in episodes[:last])


def last_liver_resection_margin(episode: Episode) -> tuple[bool, str | None]:
    """(was the episode's liver surgery completed by a resection, the margin of the last such
    resection or None when not recorded). A first stage's margin is not read (§7.6)."""
    resections = [op for op in episode.liver_operations
                  if op.stage != 1 and op.resection]
    return (True, resections[-1].margin) if resections else (False, None)


def latest_response_on_preop_therapy(outcome: JourneyOutcome) -> str | None:
    """The RECIST response of the latest reassessment since the running pre-operative therapy
    began; None when off pre-operative therapy or not yet reassessed."""
    line = outcome.course.line
    if line is None or line.intent is not Intent.PREOP:
        return None
    for event in reversed(current_episode_events(outcome)):
        if event.type is EventType.REASSESSMENT and event.date >= line.started_on:
            return str(event.get("response"))
    return None


def progression_during_preop_unresolved(outcome: JourneyOutcome) -> date | None:
    """The day the disease progressed during pre-operative therapy in this episode (seed:33; as
    the fold recorded it, contract §7.2), unless the liver has been operated on since or a later
    reassessment found it resectable again without progression. None when there is none."""
    episode = outcome.course.episode
    progressions = {p.seq for p in episode.progressions}
    progressed_on: date | None = None
    for step in outcome.steps:
        event = step.event
        if event is None or step.episode != episode.index:
            continue
        if event.seq in progressions:
            progressed_on = event.date
        elif (event.type is EventType.REASSESSMENT and event.get("resectable")
              and event.get("response") != "PD"):
            progressed_on = None
        if event.type is EventType.SURGERY and event.get("procedure") in LIVER_PROCEDURES:
            progressed_on = None
    return progressed_on


def radiotherapy_completed(outcome: JourneyOutcome) -> bool:
    return any(e.type is EventType.RADIOTHERAPY and e.get("status") == "completed"
               for e in outcome.events)


@dataclass(frozen=True)
class Situation:
    """Everything the rules read, derived once from a journey at ``as_of``."""

    phase: Phase
    synchronous: bool
    sidedness: Sidedness
    rectal: bool
    symptomatic: bool
    primary_in_place: bool
    metastasis_count: int
    max_size_mm: float
    extrahepatic: bool
    mmr: str
    ras: str
    braf: str
    ecog: int | None
    oxaliplatin_failure: bool | None
    resectable: bool | None
    simultaneous_feasible: bool | None
    after_recurrence: bool
    liver_treated_before_recurrence: bool
    liver_treated_in_episode: bool
    liver_surgery_complete: bool
    residual_disease: bool
    liver_treated_ever: bool
    on_preop_therapy: bool
    preop_in_episode: bool
    preop_chemotherapy_in_episode: bool
    latest_response: str | None
    progression_on_preop: date | None
    liver_resected_in_episode: bool
    last_margin: str | None
    radiotherapy_completed: bool

    @classmethod
    def of(cls, outcome: JourneyOutcome) -> Situation:
        profile, course = outcome.profile, outcome.course
        episode = course.episode
        resected, margin = last_liver_resection_margin(episode)
        timing = profile.timing(outcome.settings.synchronous_window_days)
        return cls(
            phase=outcome.phase,
            synchronous=timing is Timing.SYNCHRONOUS,
            sidedness=profile.sidedness,
            rectal=profile.rectal,
            symptomatic=profile.primary.symptomatic,
            primary_in_place=not course.primary_removed,
            metastasis_count=profile.metastases.count,
            max_size_mm=profile.metastases.max_size_mm,
            extrahepatic=profile.metastases.extrahepatic,
            mmr=profile.biomarkers.mmr,
            ras=profile.biomarkers.ras,
            braf=profile.biomarkers.braf,
            ecog=profile.ecog,
            oxaliplatin_failure=profile.oxaliplatin_failure_within_12_months,
            resectable=latest_resectability(outcome),
            simultaneous_feasible=simultaneous_feasible(outcome),
            after_recurrence=after_recurrence(outcome),
            liver_treated_before_recurrence=liver_treated_before_last_recurrence(outcome),
            liver_treated_in_episode=episode.liver_surgery_started,
            liver_surgery_complete=episode.liver_surgery_complete,
            residual_disease=episode.residual_disease,
            liver_treated_ever=course.liver_treated_ever,
            on_preop_therapy=course.on_preop_therapy,
            preop_in_episode=episode.preop_therapy,
            preop_chemotherapy_in_episode=episode.preop_chemotherapy,
            latest_response=latest_response_on_preop_therapy(outcome),
            progression_on_preop=progression_during_preop_unresolved(outcome),
            liver_resected_in_episode=resected,
            last_margin=margin,
            radiotherapy_completed=radiotherapy_completed(outcome),
        )

    # -- the scopes: when a kind of statement is about the present ------------------------------
    @property
    def choosing_first_treatment(self) -> bool:
        """The first presentation's treatment is being chosen or given, before liver surgery."""
        return (self.phase in CHOICE_PHASES and not self.liver_treated_in_episode
                and not self.after_recurrence)

    @property
    def choosing_after_recurrence(self) -> bool:
        return self.after_recurrence and (
            self.phase is Phase.RECURRENCE
            or (self.phase in CHOICE_PHASES and not self.liver_treated_in_episode))

    @property
    def after_liver_surgery(self) -> bool:
        """Post-operative part of the episode: recovering from, or on therapy after, the
        operation that completed its liver surgery (the second stage of two, contract §7.6)."""
        return self.phase in POSTOP_PHASES and self.liver_surgery_complete

    @property
    def after_curative_liver_surgery(self) -> bool:
        """After liver surgery that left no macroscopic disease: an R2 operation is not a
        curative resection (contract §7.7)."""
        return self.after_liver_surgery and not self.residual_disease

    @property
    def residual_disease_after_surgery(self) -> bool:
        """After an R2 liver operation: no statement covers it, the MDT decides (§7.7)."""
        return self.after_liver_surgery and self.residual_disease

    # -- clinical facts, three-valued -------------------------------------------------------------
    def is_resectable(self) -> Truth:
        return known(self.resectable, "resectability")

    def is_unresectable(self) -> Truth:
        return negate(self.is_resectable())

    def mmr_is(self, status: str) -> Truth:
        return unknown("mmr") if self.mmr == "unknown" else self.mmr == status

    def gene_is(self, gene: str, status: str) -> Truth:
        value = self.ras if gene == "ras" else self.braf
        return unknown(gene) if value == "unknown" else value == status

    def ras_braf_wild_type(self) -> Truth:
        return all_of(self.gene_is("ras", "wild_type"), self.gene_is("braf", "wild_type"))

    def ras_or_braf_mutant(self) -> Truth:
        return any_of(self.gene_is("ras", "mutant"), self.gene_is("braf", "mutant"))

    def oxaliplatin_failed(self) -> Truth:
        return known(self.oxaliplatin_failure, "oxaliplatin")

    def single_small_metastasis(self) -> bool:
        return self.metastasis_count == 1 and self.max_size_mm < SINGLE_METASTASIS_LIMIT_MM

    def simultaneous_possible(self) -> Truth:
        """Simultaneous resection feasible (MDT) in a patient with good performance status
        (seed:18). Poor performance status makes it not feasible (seed:17), whatever was
        recorded."""
        if self.ecog is not None and self.ecog >= 2:
            return False
        if self.simultaneous_feasible is False:
            return False
        good_ps = unknown("ecog") if self.ecog is None else True
        return all_of(known(self.simultaneous_feasible, "simultaneous_feasible"), good_ps)

    def primary_timing_open(self) -> bool:
        """Synchronous primary still in place, first presentation, before liver surgery."""
        return self.synchronous and self.primary_in_place and self.choosing_first_treatment


# ---------------------------------------------------------------------------------------------
# The rules

Condition = Callable[[Situation], Truth]


@dataclass(frozen=True)
class Rule:
    """One guideline statement: what it says, where it stands in the seed, and when it applies."""

    id: str
    seed_lines: tuple[int, ...]
    kind: str  # RECOMMENDATION | WARNING
    text: str
    applies_when: str  # the condition, in words (contract §4 and the scope used here)
    condition: Condition = field(compare=False, repr=False)

    @property
    def seed(self) -> int | None:
        return self.seed_lines[0] if self.seed_lines else None

    @property
    def seed_label(self) -> str:
        if not self.seed_lines:
            return "-"
        lines = self.seed_lines
        if len(lines) > 1 and lines == tuple(range(lines[0], lines[-1] + 1)):
            return f"{lines[0]}-{lines[-1]}"
        return ", ".join(str(n) for n in lines)


def _periop_folfox(s: Situation) -> Truth:
    return all_of(s.choosing_first_treatment, s.is_resectable(),
                  s.metastasis_count <= PERIOP_MAX_METASTASES, not s.extrahepatic,
                  negate(s.oxaliplatin_failed()), s.mmr_is("pMMR"))


def _pmmr_chemo_first(s: Situation) -> Truth:
    return all_of(s.choosing_first_treatment, s.is_resectable(), s.mmr_is("pMMR"))


def _dmmr_immuno(s: Situation) -> Truth:
    return all_of(s.choosing_first_treatment, s.is_resectable(), s.mmr_is("dMMR"))


def _small_upfront(s: Situation) -> Truth:
    if not s.single_small_metastasis() or s.after_recurrence:
        return False
    if s.after_liver_surgery:  # upfront surgery done: 6 months of post-operative FOLFOX follow
        return s.after_curative_liver_surgery and not s.preop_in_episode
    return all_of(s.choosing_first_treatment, s.is_resectable())


def _oxaliplatin_failure(s: Situation) -> Truth:
    in_scope = s.choosing_first_treatment or (s.after_curative_liver_surgery
                                              and not s.after_recurrence)
    return all_of(in_scope, s.oxaliplatin_failed())


def _conversion(side: Sidedness) -> Condition:
    def condition(s: Situation) -> Truth:
        return all_of(s.choosing_first_treatment, s.is_unresectable(), s.mmr_is("pMMR"),
                      s.ras_braf_wild_type(), s.sidedness is side)
    return condition


def _conversion_mutant(s: Situation) -> Truth:
    return all_of(s.choosing_first_treatment, s.is_unresectable(), s.mmr_is("pMMR"),
                  s.ras_or_braf_mutant())


def _reassess(s: Situation) -> Truth:
    return s.on_preop_therapy


def _complete_six_months(s: Situation) -> Truth:
    # chemotherapy before the operation (immunotherapy is not counted, contract §7.5)
    return s.after_curative_liver_surgery and s.preop_chemotherapy_in_episode


def _sync_primary_first(s: Situation) -> Truth:
    return s.primary_timing_open() and s.symptomatic


def _sync_liver_first(s: Situation) -> Truth:
    return all_of(s.primary_timing_open(), not s.symptomatic, s.is_resectable(),
                  negate(s.simultaneous_possible()))


def _sync_simultaneous(s: Situation) -> Truth:
    return all_of(s.primary_timing_open(), not s.symptomatic, s.is_resectable(),
                  s.simultaneous_possible())


def _sync_rectal_rt(s: Situation) -> Truth:
    # liver-first in a rectal primary: the pelvic radiotherapy question stays open after the
    # liver operation as long as the primary is in place (seed:20, seed:23)
    open_now = s.choosing_first_treatment or (
        s.after_liver_surgery and s.primary_in_place and not s.after_recurrence)
    return s.synchronous and s.rectal and open_now and not s.radiotherapy_completed


def _avoid_complete_response(s: Situation) -> Truth:
    return all_of(s.on_preop_therapy, s.latest_response == "PR", s.is_resectable())


def _progression_salvage(s: Situation) -> Truth:
    return s.progression_on_preop is not None and s.phase not in (
        Phase.SURVEILLANCE, Phase.RECURRENCE, Phase.CLOSED)


def _r1_continue(s: Situation) -> Truth:
    if not (s.after_curative_liver_surgery and s.liver_resected_in_episode):
        return False
    return unknown("margin") if s.last_margin is None else s.last_margin == "R1"


def _recurrence_mdt(s: Situation) -> Truth:
    return s.choosing_after_recurrence and s.liver_treated_before_recurrence


def _never(s: Situation) -> Truth:
    return False  # G-OUTSIDE-GUIDELINE is decided by advise(): nothing else applies, or R2


RULES: tuple[Rule, ...] = (
    Rule("G-PERIOP-FOLFOX", (5,), RECOMMENDATION,
         "Perioperative FOLFOX: 3 months before surgery, resection, then 3 months after (6 months "
         "in total), because the disease is resectable with at most 4 liver metastases, no "
         "extrahepatic disease, pMMR/MSS and no oxaliplatin failure within 12 months (seed:5).",
         "resectable, <= 4 liver metastases, no extrahepatic disease, no oxaliplatin failure within "
         "12 months, pMMR; first presentation, before liver surgery",
         _periop_folfox),
    Rule("G-PMMR-CHEMO-FIRST", (6,), RECOMMENDATION,
         "Chemotherapy first, then surgery or ablation, is the preferred treatment, because the "
         "tumour is pMMR/MSS and the disease is resectable (seed:6).",
         "resectable, pMMR; first presentation, before liver surgery",
         _pmmr_chemo_first),
    Rule("G-DMMR-IMMUNO", (7,), RECOMMENDATION,
         "Immunotherapy first, then surgery or ablation, because the tumour is dMMR/MSI-H and the "
         "disease is resectable (seed:7).",
         "resectable, dMMR; first presentation, before liver surgery",
         _dmmr_immuno),
    Rule("G-SMALL-UPFRONT", (8,), RECOMMENDATION,
         "Upfront surgery may be chosen, followed by 6 months of post-operative FOLFOX, because a "
         "single metastasis under 2 cm may disappear during chemotherapy and become undetectable "
         "at operation (seed:8).",
         "resectable, a single metastasis < 20 mm; before liver surgery, or after an upfront "
         "liver operation (no pre-operative therapy) while post-operative therapy is due or given",
         _small_upfront),
    Rule("G-OXALIPLATIN-FAILURE", (34,), WARNING,
         "Do not use FOLFOX (or other oxaliplatin) perioperatively; use FOLFIRI instead, because "
         "the disease relapsed within 12 months of adjuvant oxaliplatin (seed:34).",
         "relapse <= 12 calendar months after the last adjuvant oxaliplatin dose; first "
         "presentation, before or after liver surgery while perioperative therapy is chosen or given",
         _oxaliplatin_failure),
    Rule("G-CONVERSION-LEFT", (10,), RECOMMENDATION,
         "Conversion therapy: doublet chemotherapy (FOLFOX or FOLFIRI) plus an anti-EGFR antibody, "
         "doublet preferred over triplet, because the disease is unresectable and the tumour is "
         "pMMR/MSS, RAS and BRAF wild type and left-sided (seed:10).",
         "unresectable, pMMR, RAS and BRAF wild type, left-sided; first presentation, before "
         "liver surgery",
         _conversion(Sidedness.LEFT)),
    Rule("G-CONVERSION-RIGHT", (11,), RECOMMENDATION,
         "Conversion therapy: triplet chemotherapy (FOLFOXIRI or FOLFIRINOX), with bevacizumab "
         "preferred over anti-EGFR, because the disease is unresectable and the tumour is "
         "pMMR/MSS, RAS and BRAF wild type and right-sided (seed:11).",
         "unresectable, pMMR, RAS and BRAF wild type, right-sided; first presentation, before "
         "liver surgery",
         _conversion(Sidedness.RIGHT)),
    Rule("G-CONVERSION-MUTANT", (12,), RECOMMENDATION,
         "Conversion therapy: triplet chemotherapy (FOLFOXIRI or FOLFIRINOX) plus bevacizumab, no "
         "anti-EGFR, because the disease is unresectable and the tumour is pMMR/MSS with a RAS or "
         "BRAF mutation (seed:12).",
         "unresectable, pMMR, RAS or BRAF mutant; first presentation, before liver surgery",
         _conversion_mutant),
    Rule("G-REASSESS-2M", (13,), RECOMMENDATION,
         "Reassess resectability every 2 months (imaging and MDT) while on pre-operative "
         "chemotherapy (seed:13).",
         "on pre-operative systemic therapy",
         _reassess),
    Rule("G-COMPLETE-6M", (14,), RECOMMENDATION,
         "After the resection, continue the same chemotherapy post-operatively to complete 6 "
         "months of perioperative treatment in total, counting the pre-operative months (seed:14).",
         "after the liver operation that completed a curative episode's surgery (the second "
         "stage of two; not R2), when the episode included pre-operative chemotherapy "
         "(immunotherapy alone does not count), while post-operative therapy is due or given",
         _complete_six_months),
    Rule("G-SYNC-PRIMARY-FIRST", (19,), RECOMMENDATION,
         "Resect the primary tumour first, before addressing the liver metastases, because the "
         "synchronous primary causes symptoms (bleeding, obstruction or perforation) (seed:19).",
         "synchronous, symptomatic primary still in place; before liver surgery",
         _sync_primary_first),
    Rule("G-SYNC-LIVER-FIRST", (17,), RECOMMENDATION,
         "Resect the liver metastases first, then the primary tumour, because the synchronous "
         "primary is asymptomatic, the metastases are resectable and simultaneous resection is "
         "not feasible (poor performance status or major surgery needed) (seed:17).",
         "synchronous, asymptomatic primary still in place, resectable, simultaneous resection "
         "not feasible (recorded by the MDT, or ECOG >= 2); before liver surgery",
         _sync_liver_first),
    Rule("G-SYNC-SIMULTANEOUS", (18,), RECOMMENDATION,
         "Simultaneous resection of the primary and the liver metastases can be considered, "
         "because the synchronous primary is asymptomatic, the metastases are resectable and "
         "small and accessible enough (MDT) and performance status is good (ECOG 0-1) (seed:18).",
         "synchronous, asymptomatic primary still in place, resectable, ECOG 0-1, simultaneous "
         "resection feasible (MDT); before liver surgery",
         _sync_simultaneous),
    Rule("G-SYNC-RECTAL-RT", (20,), RECOMMENDATION,
         "Give pelvic radiotherapy if the primary tumour's stage indicates it, to reduce the risk "
         "of local recurrence, because the synchronous primary is in the rectum (seed:20).",
         "synchronous, primary in the rectum, pelvic radiotherapy not completed; before liver "
         "surgery, or after a liver-first operation while the primary is in place",
         _sync_rectal_rt),
    Rule("G-AVOID-COMPLETE-RESPONSE", (32,), WARNING,
         "Operate before the metastases disappear: avoid a complete radiological response, because "
         "vanished lesions may be undetectable at operation; the disease is resectable and "
         "responding (seed:32).",
         "on pre-operative therapy for resectable disease, latest reassessment PR",
         _avoid_complete_response),
    Rule("G-PROGRESSION-SALVAGE", (33,), WARNING,
         "Consider best salvage treatment rather than proceeding directly to resection, because "
         "the disease progressed during pre-operative chemotherapy, a sign of aggressive biology "
         "(seed:33).",
         "progression during pre-operative therapy (progression event, PD reassessment, or therapy "
         "stopped for progression), with no liver operation and no resectable non-PD reassessment "
         "since; not in surveillance, recurrence or closed",
         _progression_salvage),
    Rule("G-R1-CONTINUE", (35,), WARNING,
         "Continue post-operative systemic chemotherapy as planned, because the last liver "
         "resection had positive margins (R1) (seed:35).",
         "last liver resection of the episode had margin R1 (of two stages, the second's), while "
         "post-operative therapy is due or given",
         _r1_continue),
    Rule("G-RECURRENCE-MDT", (37, 38, 39), RECOMMENDATION,
         "No single treatment of choice exists for recurrent liver metastases after curative-intent "
         "liver surgery: decide on the patient's characteristics, local expertise and the MDT's "
         "view; re-resection, where possible, improves survival (seed:37, seed:39).",
         "recurrence after curative-intent liver surgery (resection or ablation), while the "
         "recurrent disease's treatment is being decided, before it is operated on",
         _recurrence_mdt),
    Rule(OUTSIDE_GUIDELINE, (), RECOMMENDATION,
         "No statement of the guideline covers the situation as recorded: the MDT decides. The "
         "tracker does not guess (see the missing facts, if any).",
         "no other statement applies, or the liver operation that completed the episode's "
         "surgery left macroscopic disease (R2, contract §7.7); the journey is not closed",
         _never),
)

RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


# ---------------------------------------------------------------------------------------------
# Context (seed statements shown where they apply, never as recommendations)


@dataclass(frozen=True)
class ContextNote:
    id: str
    seed: int
    text: str
    applies: Callable[[Situation], bool] = field(compare=False, repr=False, default=lambda s: True)
    applies_when: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "seed": self.seed, "text": self.text}


def _sync_timing_open(s: Situation) -> bool:
    return s.primary_timing_open()


def _sync_rectal_timing_open(s: Situation) -> bool:
    return s.primary_timing_open() and s.rectal


def _sync_open_journey(s: Situation) -> bool:
    return s.synchronous and s.phase is not Phase.CLOSED


def _after_liver_surgery_ever(s: Situation) -> bool:
    return s.liver_treated_ever and s.phase is not Phase.CLOSED


CONTEXT_NOTES: tuple[ContextNote, ...] = (
    ContextNote("C-TIMING-OPTIONS", 22,
                "Three approaches to a synchronous primary exist: conventional (primary first), "
                "liver-first, or simultaneous resection (seed:22).",
                _sync_timing_open, "synchronous primary in place, before liver surgery"),
    ContextNote("C-LIVER-FIRST-RECTAL", 23,
                "The liver-first approach is increasingly used for rectal primaries with high "
                "metastatic burden, particularly after pre-operative chemotherapy (seed:23).",
                _sync_rectal_timing_open, "synchronous rectal primary in place, before liver surgery"),
    ContextNote("C-SIMULTANEOUS-OUTCOMES", 24,
                "Simultaneous resection shows morbidity and mortality comparable to staged "
                "approaches, with shorter hospital stays and earlier chemotherapy (seed:24).",
                _sync_timing_open, "synchronous primary in place, before liver surgery"),
    ContextNote("C-DELAYED-LIVER", 25,
                "Delayed liver resection after the primary shows no survival difference compared "
                "with immediate combined resection (seed:25).",
                _sync_timing_open, "synchronous primary in place, before liver surgery"),
    ContextNote("C-SYNC-BIOLOGY", 28,
                "Synchronous metastases indicate more aggressive biology: more T3/T4 and "
                "node-positive primaries, multiple and bilobar metastases (seed:28).",
                _sync_open_journey, "synchronous, journey open"),
    ContextNote("C-SYNC-DFI", 29,
                "Synchronous disease has shorter disease-free intervals (median 6 vs 10 months) and "
                "more disseminated recurrence (95% vs 42%) than metachronous disease (seed:29).",
                _sync_open_journey, "synchronous, journey open"),
    ContextNote("C-SYNC-SURVIVAL", 30,
                "After curative resection, 5-year overall survival is comparable for synchronous and "
                "metachronous disease (about 20-38%), probably because synchronous patients receive "
                "more neoadjuvant chemotherapy (seed:30).",
                _sync_open_journey, "synchronous, journey open"),
    ContextNote("C-RECURRENCE-RATE", 38,
                "About 60% of patients develop recurrence after hepatic resection; about 20% have a "
                "liver-only recurrence amenable to re-resection (seed:38).",
                _after_liver_surgery_ever, "after a liver operation, journey open"),
)

#: seed lines (or parts of them) deliberately not turned into a condition, and why
NOT_ENCODED: dict[int, str] = {
    2: "not encoded, because it is a principle rather than an action: every rule applies alike to "
       "synchronous and metachronous patients; only seed:17-20 and the context notes depend on "
       "timing.",
    18: "not encoded in part ('only for small, accessible metastases'), because the profile records "
        "neither accessibility nor surgical extent: the MDT records it as simultaneous_feasible, "
        "which G-SYNC-SIMULTANEOUS reads.",
    20: "not encoded in part ('if indicated by primary tumour stage'), because the indication from "
        "T/N stage is the MDT's judgement (pelvic_rt_indicated): the rule reminds the team to "
        "decide, and the audit A-RECTAL-RT-UNDECIDED checks that it did.",
    23: "not encoded as a rule, because 'high metastatic burden' is not defined in the seed and "
        "'increasingly used' is an observation, not advice: shown as context C-LIVER-FIRST-RECTAL.",
}


# ---------------------------------------------------------------------------------------------
# Advice for one journey at as_of


#: statements that can apply together and advise against each other (contract §7.8): both are
#: shown, each names the other, and the MDT decides. Why, in words, for each pair.
CONFLICTS: dict[frozenset[str], str] = {
    frozenset({"G-OXALIPLATIN-FAILURE", "G-CONVERSION-RIGHT"}):
        "the triplets advised for conversion (FOLFOXIRI, FOLFIRINOX) contain oxaliplatin, which "
        "failed within 12 months",
    frozenset({"G-OXALIPLATIN-FAILURE", "G-CONVERSION-MUTANT"}):
        "the triplets advised for conversion (FOLFOXIRI, FOLFIRINOX) contain oxaliplatin, which "
        "failed within 12 months",
}


@dataclass(frozen=True)
class Recommendation:
    id: str
    kind: str
    text: str
    seed: int | None
    seed_lines: tuple[int, ...]
    ruleset_version: str = RULESET_VERSION
    #: the statements shown beside it that advise otherwise (contract §7.8): the MDT decides
    conflicts_with: tuple[str, ...] = ()

    @classmethod
    def of(cls, rule: Rule) -> Recommendation:
        return cls(id=rule.id, kind=rule.kind, text=rule.text, seed=rule.seed,
                   seed_lines=rule.seed_lines)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "seed": self.seed, "kind": self.kind,
                "seed_lines": list(self.seed_lines), "ruleset": self.ruleset_version,
                "conflicts_with": list(self.conflicts_with)}


def with_conflicts(recommendations: list[Recommendation]) -> list[Recommendation]:
    """Each recommendation with the others shown beside it that it conflicts with."""
    shown = [r.id for r in recommendations]
    return [replace(r, conflicts_with=tuple(other for other in shown
                                            if frozenset({r.id, other}) in CONFLICTS))
            for r in recommendations]


@dataclass
class Advice:
    recommendations: list[Recommendation] = field(default_factory=list)
    context: list[ContextNote] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.recommendations]


def advise(outcome: JourneyOutcome) -> Advice:
    """What the guideline says for the patient's situation at ``outcome.as_of``."""
    situation = Situation.of(outcome)
    advice = Advice()
    undecided: dict[str, list[Rule]] = {}
    for rule in RULES:
        if rule.id == OUTSIDE_GUIDELINE:
            continue
        verdict = rule.condition(situation)
        if verdict is True:
            advice.recommendations.append(Recommendation.of(rule))
        elif isinstance(verdict, Unknown):
            for fact in sorted(verdict.facts, key=list(MISSING_FACTS).index):
                undecided.setdefault(fact, []).append(rule)
    advice.missing = [missing_sentence(fact, rules) for fact, rules in
                      sorted(undecided.items(), key=lambda item: list(MISSING_FACTS).index(item[0]))]
    outside = not advice.recommendations or situation.residual_disease_after_surgery
    if outside and situation.phase is not Phase.CLOSED:
        advice.recommendations.append(Recommendation.of(RULES_BY_ID[OUTSIDE_GUIDELINE]))
    advice.recommendations = with_conflicts(advice.recommendations)
    advice.context = [note for note in CONTEXT_NOTES if note.applies(situation)]
    return advice


def missing_sentence(fact: str, rules: list[Rule]) -> str:
    names = [f"{r.id} (seed:{r.seed})" for r in rules]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"{MISSING_FACTS[fact]}: it would decide whether {listed} applies."


# ---------------------------------------------------------------------------------------------
# Traceability: the rule table, the seed coverage and the generated document


def rule_table() -> list[dict[str, Any]]:
    """One row per rule (id, kind, seed, text) for `journey guideline` and docs/guideline.md."""
    return [{"id": r.id, "kind": r.kind, "seed": r.seed, "seed_lines": list(r.seed_lines),
             "seed_label": r.seed_label, "text": r.text, "applies_when": r.applies_when}
            for r in RULES]


def seed_bullet_lines(seed_text: str) -> list[int]:
    """The 1-based numbers of the seed's bullet lines ("- ...")."""
    return [n for n, line in enumerate(seed_text.splitlines(), start=1) if line.startswith("- ")]


def seed_coverage() -> dict[int, str]:
    """Every seed line a rule, a context note or a not-encoded entry rests on, with the ids (or
    the not-encoded reason) that cover it. The seed-coverage test checks that every bullet line
    of the seed is a key."""
    covered: dict[int, list[str]] = {}
    for rule in RULES:
        for line in rule.seed_lines:
            covered.setdefault(line, []).append(rule.id)
    for note in CONTEXT_NOTES:
        covered.setdefault(note.seed, []).append(note.id)
    for line, reason in NOT_ENCODED.items():
        covered.setdefault(line, []).append(reason)
    return {line: "; ".join(ids) for line, ids in sorted(covered.items())}


def guideline_markdown() -> str:
    """docs/guideline.md, generated from the rules (scripts/generate_guideline_doc.py)."""
    lines = [
        "# Guideline rules",
        "",
        "Generated from `journey/guideline.py` by `python scripts/generate_guideline_doc.py`; do "
        "not edit.",
        "",
        f"Ruleset version: `{RULESET_VERSION}` (recorded with every recommendation shown).",
        "",
        "The clinical source is `../shared/seed/guideline-summary.txt`, cited by line as `seed:N`. "
        "Recommendations are for the situation on the day asked (`as_of`). A rule whose condition "
        "depends on an unknown fact (MMR, RAS, BRAF, ECOG, oxaliplatin dates, resectability, "
        "simultaneous feasibility, margin) is not shown; a *missing* sentence names the fact and "
        "what it would decide. `G-OUTSIDE-GUIDELINE` is shown when nothing else applies, or "
        "after an R2 liver operation (contract §7.7).",
        "",
        "## Rules",
        "",
        "| id | kind | seed | applies when | text |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rule in RULES:
        lines.append(f"| `{rule.id}` | {rule.kind} | {rule.seed_label} | {rule.applies_when} | "
                     f"{rule.text} |")
    lines += ["", "## Context notes", "",
              "Shown beside the recommendations where they apply, never as recommendations.", "",
              "| id | seed | shown when | text |", "| --- | --- | --- | --- |"]
    for note in CONTEXT_NOTES:
        lines.append(f"| `{note.id}` | {note.seed} | {note.applies_when} | {note.text} |")
    lines += ["", "## Conflicts", "",
              "Statements that can apply together and advise against each other: both are shown, "
              "each names the other in `conflicts_with`, and the MDT decides (contract §7.8).", "",
              "| statements | why they conflict |", "| --- | --- |"]
    lines += [f"| {' and '.join(f'`{i}`' for i in sorted(pair))} | {why} |"
              for pair, why in CONFLICTS.items()]
    lines += ["", "## Not encoded", "", "| seed | why |", "| --- | --- |"]
    lines += [f"| {line} | {reason} |" for line, reason in sorted(NOT_ENCODED.items())]
    lines += ["", "## Missing facts", "",
              "When one of these is unknown and it decides between rules, no rule it would decide "
              "is shown; instead a sentence names it.", "", "| fact | sentence |", "| --- | --- |"]
    lines += [f"| `{fact}` | {sentence}. |" for fact, sentence in MISSING_FACTS.items()]
    lines += ["", "## Seed coverage", "", "| seed line | covered by |", "| --- | --- |"]
    lines += [f"| {line} | {ids} |" for line, ids in seed_coverage().items()]
    return "\n".join(lines) + "\n"


__all__ = [
    "CONTEXT_NOTES", "NOT_ENCODED", "RULES", "RULESET_VERSION", "Advice", "ContextNote",
    "Recommendation", "Rule", "Situation", "advise", "guideline_markdown", "rule_table",
    "seed_coverage",
]
