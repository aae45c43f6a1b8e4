"""The patient record: registering, recording what happened, importing scenarios, reading a
patient (the worklist is ``tracker.application.worklist``). One use case, one transaction: an
entry's row, the new phase and the reminder changes are written together, guarded by the
patient's version."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from db.conflicts import changed_meanwhile
from db.patients import WritableJourney, content_hash, entry_values, patient_values, profile_of
from db.records import EntryRecord, PatientRecord, ReminderRecord
from db.reminders import reminder_of
from db.unit_of_work import UnitOfWork
from journey.adherence import ReminderDismissal
from journey.course import JourneyOutcome, Refusal, follow_entry, follow_journey, follows_in_order
from journey.errors import Conflict, ImpossibleEntry, InvalidScenario, OffPathway
from journey.events import ClinicalEvent, read_event
from journey.explain import Explanation, explain
from journey.profile import PatientProfile, dates_after, profile_to_dict, read_profile
from journey.reminders import ReminderStatus, status_on
from journey.scenario import Scenario
from tracker.application.context import Context
from tracker.application.findings import Findings, judge_journey
from tracker.reports.exports import pseudonym


@dataclass
class PatientView:
    """One patient on a day: the record as stored, the journey folded on the day, what the
    guideline says, and the stored log and reminders."""

    row: PatientRecord
    profile: PatientProfile
    outcome: JourneyOutcome
    findings: Findings
    event_rows: list[EntryRecord]
    reminder_rows: list[ReminderRecord]
    #: each stored reminder's status on the day looked from (by reminder id)
    reminder_status: dict[int, ReminderStatus]
    #: each stored reminder's due date on that day: later by the days a line was held (§7.4)
    reminder_due: dict[int, date]
    #: the reminders dismissed by that day, with their coded justification
    dismissals: list[ReminderDismissal] = field(default_factory=list)

    def explanation(self) -> Explanation:
        """Why the patient is where they are, in words (journey.explain): the panel the patient
        page opens with."""
        return explain(self.outcome, self.findings.recommendations, self.findings.missing,
                       self.dismissals)


@dataclass
class RecordResult:
    event: ClinicalEvent
    row: EntryRecord
    phase_before: str
    phase_after: str
    phase_now: str
    #: the patient's version after this write (send it back as If-Match)
    version: int


@dataclass
class ImportReport:
    ref: str
    created: bool
    added: int
    already_recorded: int
    refused: list[Refusal]
    profile_differs: bool = False
    source: str = ""

    def sentence(self) -> str:
        parts = [f"{self.ref}: " + ("registered" if self.created else "already registered")]
        parts.append(f"{self.added} event(s) added")
        if self.already_recorded:
            parts.append(f"{self.already_recorded} already recorded (left as they were)")
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        if self.profile_differs:
            parts.append("the patient details in the file differ from those recorded; the recorded "
                         "details were kept")
        return ", ".join(parts) + "."


# -- reading ----------------------------------------------------------------------------------------

def patient_view(ctx: Context, ref: str, as_of: date | None = None) -> PatientView:
    with ctx.reading() as uow:
        stored = uow.patients.load_journey(ref)
        outcome = follow_journey(stored.profile, stored.events, as_of or ctx.clock.today(), ctx.pathway)
        reminders = uow.reminders.of_patient(stored.row.id)
        dismissals = uow.reminder_actions.dismissals_of([stored.row.id], outcome.as_of)[stored.row.id]
    domain = {r.id: reminder_of(r) for r in reminders}
    statuses = {i: status_on(r, outcome.as_of, ctx.pathway) for i, r in domain.items()}
    due = {i: r.due_on_at(outcome.as_of) for i, r in domain.items()}
    return PatientView(stored.row, stored.profile, outcome, judge_journey(outcome, dismissals),
                       stored.event_rows, reminders, statuses, due, dismissals)


def patients(ctx: Context, phase: str | None = None, team: str | None = None, limit: int = 100,
             offset: int = 0) -> list[PatientRecord]:
    with ctx.reading() as uow:
        return uow.patients.listing(phase, team, limit, offset)


def care_teams(ctx: Context) -> list[str]:
    with ctx.reading() as uow:
        return uow.patients.care_teams()


def patient_count(ctx: Context) -> int:
    with ctx.reading() as uow:
        return uow.patients.count()


def ref_of_pseudonym(ctx: Context, given: str) -> str | None:
    """The reference whose keyed pseudonym is ``given`` (auditors see only pseudonyms): found by
    hashing every reference, fine for cohorts of thousands."""
    key = ctx.settings.pseudonym_key
    with ctx.reading() as uow:
        return next((ref for ref in uow.patients.refs() if pseudonym(ref, key) == given), None)


# -- writing ----------------------------------------------------------------------------------------

def register_patient(ctx: Context, raw_profile: Mapping[str, Any], care_team: str = "liver") -> PatientRecord:
    profile = read_profile(raw_profile)
    with ctx.unit_of_work() as uow:
        if uow.patients.find(profile.ref) is not None:
            raise Conflict(f"A patient with reference {profile.ref!r} is already registered.")
        record = _new_patient(ctx, uow, profile, care_team)
        uow.commit()
    return record


def _new_patient(ctx: Context, uow: UnitOfWork, profile: PatientProfile, care_team: str) -> PatientRecord:
    today = ctx.clock.today()
    if future := dates_after(profile, today):
        raise InvalidScenario("The patient description has problems: " + " ".join(future))
    return uow.patients.register(patient_values(
        profile, care_team=care_team, synchronous_window_days=ctx.pathway.synchronous_window_days,
        phase="assessment", phase_on=today, now=ctx.clock.now()))


def record_event(ctx: Context, ref: str, raw_event: Mapping[str, Any], actor: str,
                 expected_version: int | None = None, source: str = "") -> RecordResult:
    """Record one entry: validated, applied to the pathway, written with the new phase and
    reminders in one transaction. A refusal raises and writes nothing."""
    with ctx.unit_of_work() as uow:
        patient = uow.patients.lock(uow.patients.get(ref))
        if expected_version is not None and patient.version != expected_version:
            raise changed_meanwhile(f"Patient {ref}", f"since you opened it (version {patient.version}, "
                                                      f"you saw {expected_version})")
        memory = uow.patients.memory_of(patient)
        event = read_event(raw_event, seq=(memory["max_seq"] if memory else -1) + 1)
        if memory is not None and follows_in_order(memory, event):
            row, phase_now = _write_in_order(ctx, uow, patient, memory, event, actor, source)
        else:  # backdated, or no memory of the current rules: replay the whole log
            stored = uow.patients.writable_journey(patient)
            event = replace(event, seq=stored.last_seq + 1)
            rows, outcome = _write_events(ctx, uow, stored, [event], actor, source)
            row, phase_now = rows[event.seq], outcome.phase.value
        uow.commit()
    return RecordResult(event, row, row.phase_before, row.phase_after, phase_now, patient.version + 1)


def _write_in_order(ctx: Context, uow: UnitOfWork, patient: PatientRecord, memory: dict[str, Any],
                    event: ClinicalEvent, actor: str, source: str) -> tuple[EntryRecord, str]:
    """Record an entry dated on or after the last one: one step from the fold's memory, without
    reading the log (the cost of an entry does not grow with the journey, issue 17). Writes what
    the replay would write: the entry, the reminders it opened or changed, the phase, the memory."""
    today, now = ctx.clock.today(), ctx.clock.now()
    outcome = follow_entry(profile_of(patient), memory, event, today, ctx.pathway)
    if outcome.refusal is not None or outcome.step is None:
        refusal = outcome.refusal
        assert refusal is not None
        raise (ImpossibleEntry if refusal.impossible else OffPathway)(refusal.reason)
    rows, last_chain = entry_values(patient.id, [outcome.step], [event], recorded_at=now, actor=actor,
                                    source=source, previous_chain=patient.log_head)
    uow.patients.append_entries(rows)
    uow.reminders.save_changed(patient.id, outcome.changed, now)
    length = patient.log_length + 1
    head = (last_chain or patient.log_head, length)
    uow.patients.bump_version(patient, outcome.phase.value, today, now, head)
    uow.patients.keep_memory(patient.id, length, outcome.memory)
    return EntryRecord(id=None, **rows[0]), outcome.phase.value


def _write_events(ctx: Context, uow: UnitOfWork, stored: WritableJourney, new: list[ClinicalEvent],
                  actor: str, source: str,
                  refuse: bool = True) -> tuple[dict[int, EntryRecord], JourneyOutcome]:
    """Apply ``new`` after the stored log; write those accepted, the phase and the reminders.
    With ``refuse`` the first refusal raises (nothing written); otherwise refusals are left out,
    and the caller reads them from the returned outcome."""
    today, now = ctx.clock.today(), ctx.clock.now()
    outcome = follow_journey(stored.profile, [*stored.events, *new], today, ctx.pathway, remember=True)
    new_seqs = {e.seq for e in new}
    already_refused: set[int] | None = None  # the stored log's own refusals, read when needed
    for refusal in outcome.refusals:
        if refusal.seq in new_seqs:
            if refuse:
                cls = ImpossibleEntry if refusal.impossible else OffPathway
                raise cls(refusal.reason)
            continue
        if already_refused is None:
            before = follow_journey(stored.profile, stored.events, today, ctx.pathway)
            already_refused = {r.seq for r in before.refusals}
        if refusal.seq not in already_refused:
            broken = next(e for e in stored.events if e.seq == refusal.seq)
            raise ImpossibleEntry(
                f"This entry would make the {broken.type.value} recorded for "
                f"{broken.date.isoformat()} impossible ({refusal.reason}). Check the date; "
                f"if the earlier record is wrong, correct it first.")
    refused = {r.seq for r in outcome.refusals}
    accepted = [e for e in new if e.seq not in refused]
    rows, last_chain = entry_values(stored.row.id, outcome.steps, accepted, recorded_at=now, actor=actor,
                                    source=source, previous_chain=stored.last_chain)
    uow.patients.append_entries(rows)
    uow.reminders.save(stored.row.id, outcome.reminders_with_status(), today, now)
    head = (last_chain, stored.length + len(rows)) if last_chain is not None else None
    uow.patients.bump_version(stored.row, outcome.phase.value, today, now, head)
    assert outcome.memory is not None
    uow.patients.keep_memory(stored.row.id, stored.length + len(rows), outcome.memory)
    written = {row["seq"]: EntryRecord(id=None, **row) for row in rows}
    return written, outcome


def rederive_stale(ctx: Context, progress: Callable[[int, int], None] | None = None,
                   batch: int = 500) -> int:
    """Re-derive (phase and reminders, from the unchanged log) every patient derived under other
    rules than the current ones: after an upgrade the stored state is what the new rules imply
    (migration 0004). Batch by batch, each its own transaction, so an interrupted run resumes;
    how many patients were re-derived."""
    done = 0
    while True:
        with ctx.unit_of_work() as uow:
            total = done + uow.patients.count_derived_otherwise()
            rows = uow.patients.derived_otherwise(batch)
            for row in rows:
                _write_events(ctx, uow, uow.patients.writable_journey(row), [], "rederive", "",
                              refuse=False)
            uow.commit()
        done += len(rows)
        if progress is not None and rows:
            progress(done, total)
        if len(rows) < batch:
            return done


def import_scenario(ctx: Context, scenario: Scenario, actor: str, source: str = "") -> ImportReport:
    """Register the patient if new and add the entries not yet recorded, in one transaction.
    Importing the same file twice changes nothing."""
    with ctx.unit_of_work() as uow:
        row = uow.patients.find(scenario.profile.ref)
        created = row is None
        if row is None:
            row = _new_patient(ctx, uow, scenario.profile, "liver")
        stored = uow.patients.writable_journey(row)
        differs = not created and stored.row.profile != profile_to_dict(scenario.profile)
        recorded = Counter(stored.content_hashes)
        base = stored.last_seq + 1
        new: list[ClinicalEvent] = []
        index_of: dict[int, int] = {}
        already = 0
        for event in scenario.events:
            digest = content_hash(event.to_dict())
            if recorded[digest] > 0:
                recorded[digest] -= 1
                already += 1
                continue
            renumbered = replace(event, seq=base + event.seq)
            index_of[renumbered.seq] = event.seq
            new.append(renumbered)
        if not new:  # everything in the file is already recorded: nothing to write but a new patient
            uow.commit()
            return ImportReport(scenario.profile.ref, created, 0, already, list(scenario.unreadable),
                                differs, source)
        _, outcome = _write_events(ctx, uow, stored, new, actor, source, refuse=False)
        uow.commit()
    late = [r for r in outcome.refusals if r.seq in index_of]
    refused = list(scenario.unreadable) + [replace(r, seq=index_of[r.seq]) for r in late]
    refused.sort(key=lambda r: r.seq)
    return ImportReport(scenario.profile.ref, created, len(new) - len(late), already, refused, differs,
                        source)


def replay_document(view: PatientView, refused: list[Refusal], window_days: int) -> dict[str, Any]:
    """The JSON of ``journey replay --json`` (contract §6)."""
    outcome, findings = view.outcome, view.findings
    return {
        "patient": view.profile.ref,
        "as_of": outcome.as_of.isoformat(),
        "timing": view.profile.timing(window_days).value,
        "sidedness": view.profile.sidedness.value,
        "state": outcome.phase.value,
        "history": [s.to_dict() for s in outcome.steps],
        "recommendations": [r.to_dict() for r in findings.recommendations],
        "context": [c.to_dict() for c in findings.context],
        "missing": list(findings.missing),
        "reminders": [
            {"kind": r.kind.value, "due_on": r.due_on_at(outcome.as_of).isoformat(), "status": status.value,
             "resolved_on": r.resolved_on.isoformat() if r.resolved_on else None,
             "cancelled_on": r.cancelled_on.isoformat() if r.cancelled_on else None,
             "anchor_on": r.anchor_on.isoformat()}
            for r, status in outcome.reminders_with_status()],
        "deviations": [d.to_dict() for d in findings.deviations],
        "rejected": [r.to_dict() for r in refused],
        "ruleset": findings.ruleset,
    }
