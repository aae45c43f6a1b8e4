"""The services: one use case, one transaction. The CLI, the web app, the API and the scheduler
call these and nothing below them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from db.repository import (
    GENESIS,
    Repository,
    StoredJourney,
    UnitOfWork,
    WritableJourney,
    chain_hash,
    content_hash,
    reminder_of,
)
from db.tables import EventRow, PatientRow, ReminderRow
from journey.course import PATHWAY_VERSION, JourneyOutcome, Refusal, follow_journey
from journey.errors import ConcurrentUpdate, ImpossibleEntry, InvalidScenario, OffPathway
from journey.events import ClinicalEvent, read_event
from journey.profile import PatientProfile, dates_after, profile_to_dict, read_profile
from journey.reminders import Reminder, ReminderStatus, status_on
from journey.scenario import Scenario
from journey.settings import PathwaySettings
from tracker.clock import Clock
from tracker.reminder_actions import dismissals_for
from tracker.settings import Settings


@dataclass
class Findings:
    """What the guideline says and where the journey left the pathway, for one outcome."""

    recommendations: list[Any] = field(default_factory=list)
    context: list[Any] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    deviations: list[Any] = field(default_factory=list)
    eligible: frozenset[str] = frozenset()
    ruleset: str | None = None


def judge_journey(outcome: JourneyOutcome, dismissals: tuple[Any, ...] = ()) -> Findings:
    """Recommendations (journey.guideline) and deviations (journey.adherence) for an outcome."""
    findings = Findings()
    try:
        from journey import guideline
    except ImportError:  # pragma: no cover - while the guideline module is being written
        guideline = None  # type: ignore[assignment]
    try:
        from journey import adherence
    except ImportError:  # pragma: no cover
        adherence = None  # type: ignore[assignment]
    if guideline is not None:
        advice = guideline.advise(outcome)
        findings.recommendations = list(advice.recommendations)
        findings.context = list(advice.context)
        findings.missing = list(advice.missing)
        findings.ruleset = guideline.RULESET_VERSION
    if adherence is not None:
        result = adherence.judge(outcome, dismissals)
        findings.deviations = list(result.deviations)
        findings.eligible = frozenset(result.eligible)
    return findings


@dataclass
class PatientView:
    row: PatientRow
    profile: PatientProfile
    outcome: JourneyOutcome
    findings: Findings
    event_rows: list[EventRow]
    reminder_rows: list[ReminderRow]


@dataclass
class RecordResult:
    event: ClinicalEvent
    row: EventRow
    phase_before: str
    phase_after: str
    phase_now: str
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


@dataclass
class WorklistItem:
    reminder_id: int
    ref: str
    care_team: str
    phase: str
    kind: str
    due_on: date
    status: ReminderStatus
    days_late: int


def _event_payload(event: ClinicalEvent) -> dict[str, Any]:
    return event.to_dict()


class Tracker:
    """The application: services over one database, one clock and one set of settings."""

    def __init__(self, engine: Engine, clock: Clock, settings: Settings | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings or Settings()
        self.pathway: PathwaySettings = self.settings.pathway()

    # -- reading ------------------------------------------------------------------------------
    def follow(self, stored: StoredJourney, as_of: date | None = None) -> JourneyOutcome:
        return follow_journey(stored.profile, stored.events, as_of or self.clock.today(), self.pathway)

    def patient_view(self, ref: str, as_of: date | None = None) -> PatientView:
        with UnitOfWork(self.engine) as repo:
            stored = repo.load_journey(ref)
            outcome = self.follow(stored, as_of)
            reminders = repo.reminder_rows(stored.row.id or 0)
            dismissals = tuple(dismissals_for(repo.session, stored.row.id or 0, outcome.as_of))
            return PatientView(stored.row, stored.profile, outcome, judge_journey(outcome, dismissals),
                               stored.event_rows, reminders)

    def worklist(self, as_of: date | None = None, limit: int | None = 50, kind: str | None = None,
                 team: str | None = None) -> list[WorklistItem]:
        """Every due and overdue reminder across patients, most urgent (longest waiting) first."""
        day = as_of or self.clock.today()
        with UnitOfWork(self.engine) as repo:
            rows = repo.open_reminders_due(day, limit=limit, kind=kind, team=team)
        items = []
        for reminder_row, patient in rows:
            reminder = reminder_of(reminder_row)
            items.append(WorklistItem(reminder_row.id or 0, patient.ref, patient.care_team,
                                      patient.phase, reminder_row.kind, reminder.due_on,
                                      status_on(reminder, day, self.pathway),
                                      (day - reminder.due_on).days))
        return items

    # -- writing ------------------------------------------------------------------------------
    def register_patient(self, raw_profile: Mapping[str, Any], care_team: str = "liver") -> PatientRow:
        profile = read_profile(raw_profile)
        with UnitOfWork(self.engine) as repo:
            if repo.find_patient(profile.ref) is not None:
                from journey.errors import Conflict

                raise Conflict(f"A patient with reference {profile.ref!r} is already registered.")
            return self._new_patient(repo, profile, care_team)

    def _new_patient(self, repo: Repository, profile: PatientProfile, care_team: str) -> PatientRow:
        now, today = self.clock.now(), self.clock.today()
        if future := dates_after(profile, today):
            raise InvalidScenario("The patient description has problems: " + " ".join(future))
        row = PatientRow(ref=profile.ref, care_team=care_team, profile=profile_to_dict(profile),
                         timing=profile.timing(self.pathway.synchronous_window_days).value,
                         sidedness=profile.sidedness.value, phase="assessment", phase_on=today,
                         version=1, derived_with=PATHWAY_VERSION, created_at=now, updated_at=now)
        return repo.add_patient(row)

    def record_event(self, ref: str, raw_event: Mapping[str, Any], actor: str,
                     expected_version: int | None = None, source: str = "") -> RecordResult:
        """Record one entry: validated, applied to the pathway, written with the new phase and
        reminders in one transaction. A refusal raises and writes nothing."""
        try:
            with UnitOfWork(self.engine) as repo:
                stored = repo.writable_journey(repo.get_patient(ref))
                if expected_version is not None and stored.row.version != expected_version:
                    raise ConcurrentUpdate(
                        f"Patient {ref} was changed by someone else since you opened it (version "
                        f"{stored.row.version}, you saw {expected_version}). Nothing was saved; "
                        f"open the patient again and check before recording.")
                seq = stored.last_seq + 1
                seen = stored.row.version  # the write makes it seen + 1 (the row is re-read after)
                event = read_event(raw_event, seq=seq)
                rows, outcome = self._write_events(repo, stored, [event], actor, source)
                row = rows[event.seq]
                return RecordResult(event, row, row.phase_before, row.phase_after,
                                    outcome.phase.value, seen + 1)
        except IntegrityError as e:
            raise ConcurrentUpdate(
                f"Someone else recorded something for patient {ref} at the same time. Nothing of "
                f"yours was saved; open the patient again and record it once more.") from e

    def _write_events(self, repo: Repository, stored: WritableJourney, new: list[ClinicalEvent],
                      actor: str, source: str, refuse: bool = True,
                      ) -> tuple[dict[int, EventRow], JourneyOutcome]:
        """Apply ``new`` after the stored log; write those accepted, the phase and the reminders.
        With ``refuse`` the first refusal raises (nothing written); otherwise refusals are left
        out; the caller reads them from the returned outcome."""
        today, now = self.clock.today(), self.clock.now()
        outcome = follow_journey(stored.profile, [*stored.events, *new], today, self.pathway)
        new_seqs = {e.seq for e in new}
        already_refused: set[int] | None = None  # the stored log's own refusals, read when needed
        for refusal in outcome.refusals:
            if refusal.seq in new_seqs:
                if refuse:
                    cls = ImpossibleEntry if refusal.impossible else OffPathway
                    raise cls(refusal.reason)
                continue
            if already_refused is None:
                before = follow_journey(stored.profile, stored.events, today, self.pathway)
                already_refused = {r.seq for r in before.refusals}
            if refusal.seq not in already_refused:
                broken = next(e for e in stored.events if e.seq == refusal.seq)
                raise ImpossibleEntry(
                    f"This entry would make the {broken.type.value} recorded for "
                    f"{broken.date.isoformat()} impossible ({refusal.reason}). Check the date; "
                    f"if the earlier record is wrong, correct it first.")
        refused = {r.seq for r in outcome.refusals}
        accepted = [e for e in new if e.seq not in refused]
        written: dict[int, EventRow] = {}
        for event in accepted:
            step = outcome.step_for(event)
            payload = _event_payload(event)
            written[event.seq] = EventRow(
                patient_id=stored.row.id or 0, seq=event.seq, type=event.type.value, date=event.date,
                recorded_at=now, actor=actor, source=source, payload=payload,
                phase_before=step.from_phase.value, phase_after=step.to_phase.value,
                override_reason=event.override, content_hash=content_hash(payload), chain_hash="")
        last_chain = repo.append_events(list(written.values()), stored.last_chain)
        repo.save_reminders(stored.row.id or 0, outcome.reminders_with_status(), today, now)
        head = (last_chain, stored.length + len(written)) if last_chain is not None else None
        repo.bump_version(stored.row, stored.row.version, outcome.phase.value, today, now, head,
                          PATHWAY_VERSION)
        return written, outcome

    def import_scenario(self, scenario: Scenario, actor: str, source: str = "") -> ImportReport:
        """Register the patient if new and add the entries not yet recorded, in one transaction.
        Importing the same file twice changes nothing."""
        with UnitOfWork(self.engine) as repo:
            row = repo.find_patient(scenario.profile.ref)
            created = row is None
            if row is None:
                row = self._new_patient(repo, scenario.profile, "liver")
            stored = repo.writable_journey(row)
            differs = not created and stored.row.profile != profile_to_dict(scenario.profile)
            recorded = Counter(stored.content_hashes)
            base = stored.last_seq + 1
            new: list[ClinicalEvent] = []
            index_of: dict[int, int] = {}
            already = 0
            for event in scenario.events:
                digest = content_hash(_event_payload(event))
                if recorded[digest] > 0:
                    recorded[digest] -= 1
                    already += 1
                    continue
                stored_event = replace(event, seq=base + event.seq)
                index_of[stored_event.seq] = event.seq
                new.append(stored_event)
            if not new:  # everything in the file is already recorded: write nothing at all
                return ImportReport(scenario.profile.ref, created, 0, already, list(scenario.unreadable),
                                    differs, source)
            _, outcome = self._write_events(repo, stored, new, actor, source, refuse=False)
            late = [r for r in outcome.refusals if r.seq in index_of]
            refused = list(scenario.unreadable) + [replace(r, seq=index_of[r.seq]) for r in late]
            refused.sort(key=lambda r: r.seq)
            added = len(new) - len(late)
            return ImportReport(scenario.profile.ref, created, added, already, refused, differs, source)

    def rederive_stale(self, progress: Callable[[int, int], None] | None = None,
                       batch: int = 500) -> int:
        """Re-derive (phase and reminders, from the unchanged log) every patient derived under
        another version of the pathway's rules: after an upgrade, the stored state is what the
        new rules imply (migration 0004). Batch by batch, so an interrupted run resumes."""
        done = 0
        while True:
            with UnitOfWork(self.engine) as repo:
                total = done + repo.count_derived_otherwise(PATHWAY_VERSION)
                rows = repo.patients_derived_otherwise(PATHWAY_VERSION, batch)
                for row in rows:
                    stored = repo.writable_journey(row)
                    self._write_events(repo, stored, [], "rederive", "", refuse=False)
            done += len(rows)
            if progress is not None and rows:
                progress(done, total)
            if len(rows) < batch:
                return done

    # -- proving the stored state ---------------------------------------------------------------
    def verify(self) -> Iterator[str]:
        """Differences between what is stored and what the event log implies (none when sound):
        phase, reminders, refused entries in the log, and broken hash links."""
        with UnitOfWork(self.engine) as repo:
            for stored in repo.stream_patients(keep_unreadable=True):
                yield from self._verify_one(repo, stored)

    def _verify_one(self, repo: Repository, stored: StoredJourney) -> Iterator[str]:
        ref, row = stored.row.ref, stored.row
        for problem in stored.unreadable:
            yield f"{ref}: {problem}"
        previous = GENESIS
        for position, event_row in enumerate(stored.event_rows, start=1):
            if chain_hash(previous, event_row) != event_row.chain_hash:
                yield (f"{ref}: event {position} ({event_row.type} of {event_row.date}) does not "
                       f"match its hash link: it was edited, or an event before it was removed or "
                       f"reordered.")
                break
            if content_hash(event_row.payload) != event_row.content_hash:
                yield f"{ref}: event {position} ({event_row.type}) content was altered."
            previous = event_row.chain_hash
        else:
            if (previous, len(stored.event_rows)) != (row.log_head, row.log_length):
                yield (f"{ref}: the log ends at event {len(stored.event_rows)} but {row.log_length} "
                       f"were recorded: an event at the end was removed or its link replaced.")
        outcome = follow_journey(stored.profile, stored.events, row.phase_on, self.pathway)
        for refusal in outcome.refusals:
            yield f"{ref}: the recorded entry {refusal.seq} is refused on replay: {refusal.reason}"
        if outcome.phase.value != row.phase:
            yield (f"{ref}: stored phase {row.phase!r} but the log implies {outcome.phase.value!r} "
                   f"on {row.phase_on}.")
        if row.derived_with != PATHWAY_VERSION:
            yield (f"{ref}: derived under other rules ({row.derived_with or 'before 2026.12'}); "
                   f"start the tracker once to re-derive it from the log.")
        implied = {r.key: r for r in outcome.reminders}
        for reminder_row in repo.reminder_rows(row.id or 0):
            stored_reminder = reminder_of(reminder_row)
            want = implied.pop(stored_reminder.key, None)
            name = f"{reminder_row.kind} of {reminder_row.anchor_on}"
            if want is None:
                if not reminder_row.closed:
                    yield f"{ref}: the open reminder {name} is not implied by the log."
                continue
            if stored_reminder != want:
                yield (f"{ref}: reminder {name} is stored as {_dates(stored_reminder, row.phase_on)}; "
                       f"the log implies {_dates(want, row.phase_on)}.")
        for key, want in implied.items():
            yield f"{ref}: reminder {key[0]} of {want.anchor_on} is implied by the log but not stored."


def _dates(reminder: Reminder, day: date) -> str:
    closed = (f", resolved {reminder.resolved_on}" if reminder.resolved_on else "") + \
        (f", cancelled {reminder.cancelled_on}" if reminder.cancelled_on else "")
    return f"due {reminder.due_on_at(day)}{closed or ', open'}"


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
