"""FHIR R4 and mCODE STU4 in and out (issue 14, docs/fhir.md): the use cases over the repositories.

- **Export.** A patient as the log holds it (the profile and the entries), what the fold derives
  from it (the intent of each line and operation, how each line ended, whether the last one
  runs, the open reminders) and what people did with the reminders (snoozes, dismissals) are
  handed to the pure mapping (``tracker.fhir.export``) as plain values: one patient as an mCODE
  bundle, or the cohort as FHIR Bulk Data NDJSON, a batch of patients at a time.
- **Import.** The resources are mapped to scenarios in the contract's format
  (``tracker.fhir.imports``) and each patient is recorded by the same use case as every scenario
  file (``patients.import_scenario``): one transaction per patient, recorded whole or not at all.
  Input that contradicts the record is refused, with both values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from db.patients import StoredJourney
from db.records import ReminderAction, ReminderActionRecord
from db.reminders import implied_key, stored_key
from db.unit_of_work import UnitOfWork
from journey.course import JourneyOutcome, PathwayStep, follow_journey
from journey.errors import Conflict, EntryRefused, InvalidScenario
from journey.pathway import Phase
from journey.profile import profile_to_dict
from journey.reminders import OPEN_STATUSES, REMINDER_MEANING
from journey.scenario import Scenario, read_scenario
from journey.treatment import Course, Intent, LineEnd
from tracker.application.context import Context
from tracker.application.files import load_scenario
from tracker.application.patients import ImportReport, import_scenario
from tracker.fhir import export as mapping
from tracker.fhir.example import EXAMPLE_SCENARIO
from tracker.fhir.export import Entry, JourneyRecord, LineEnding, OpenReminder
from tracker.fhir.imports import PatientImport, Unmapped, read_resources
from tracker.reports.exports import pseudonym


class FhirRefused(EntryRefused):
    """Nothing of the FHIR input could be recorded; the message says why, resource by resource."""

    code = "fhir-refused"


class FhirContradicts(Conflict):
    """The FHIR input contradicts what is recorded for the patient; both values are shown."""

    code = "fhir-contradicts-record"


@dataclass
class PatientOutcome:
    """What became of one Patient of the input (``read``: how it was read, with what was not
    mapped)."""

    read: PatientImport
    status: str = "refused"  # imported | refused | contradicts
    message: str = ""
    report: ImportReport | None = None
    #: entries the pathway refused, each named by the resource it came from
    refused_entries: list[str] = field(default_factory=list)


@dataclass
class FhirImportReport:
    patients: list[PatientOutcome]
    unmapped: list[Unmapped]

    @property
    def imported(self) -> list[PatientOutcome]:
        return [p for p in self.patients if p.status == "imported"]

    def raise_if_nothing_recorded(self) -> None:
        """When no patient of the input could be imported: the one error, in words."""
        if self.imported:
            return
        if not self.patients:
            raise FhirRefused(" ".join(["The input holds no Patient resource; nothing was recorded."]
                                       + [u.sentence() + "." for u in self.unmapped[:20]]))
        lines = " ".join(p.message for p in self.patients)
        if all(p.status == "contradicts" for p in self.patients):
            raise FhirContradicts(lines)
        raise FhirRefused(lines + " Nothing was recorded.")


# -- export -------------------------------------------------------------------------------------------

def patient_resources(ctx: Context, ref: str, pseudonymous: bool = False,
                      as_of: date | None = None) -> list[dict[str, Any]]:
    """The patient's resources, each checked by its R4B model."""
    day = as_of or ctx.clock.today()
    with ctx.unit_of_work() as uow:
        stored = uow.patients.load_journey(ref)
        return mapping.journey_resources(_record(ctx, uow, stored, day), pseudonymous)


def patient_bundle(ctx: Context, ref: str, pseudonymous: bool = False,
                   as_of: date | None = None) -> dict[str, Any]:
    """The patient's mCODE bundle (type collection). ``pseudonymous``: the auditor's, with the
    keyed pseudonym instead of the reference and no free text."""
    resources = patient_resources(ctx, ref, pseudonymous, as_of)
    return mapping.patient_bundle(resources, ctx.clock.now().isoformat(timespec="seconds"))


def cohort_resources(ctx: Context, pseudonymous: bool = False,
                     as_of: date | None = None) -> Iterator[list[dict[str, Any]]]:
    """Each patient's resources in turn, read a batch of patients at a time."""
    day = as_of or ctx.clock.today()
    with ctx.unit_of_work() as uow:
        for stored in uow.patients.stream():
            yield mapping.journey_resources(_record(ctx, uow, stored, day), pseudonymous)


def export_ndjson(ctx: Context, folder: Path, pseudonymous: bool = False, as_of: date | None = None,
                  progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """The cohort as FHIR Bulk Data: one ``<Type>.ndjson`` file per resource type, one resource a
    line, written as each patient is read (``progress``: the patients written so far). Returns how
    many resources of each type."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, IO[str]] = {}
    counts: dict[str, int] = {}
    try:
        for done, resources in enumerate(cohort_resources(ctx, pseudonymous, as_of), start=1):
            for resource in resources:
                kind = resource["resourceType"]
                if kind not in files:
                    files[kind] = (folder / f"{kind}.ndjson").open("w", encoding="utf-8")
                files[kind].write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n")
                counts[kind] = counts.get(kind, 0) + 1
            if progress is not None:
                progress(done)
    finally:
        for handle in files.values():
            handle.close()
    return dict(sorted(counts.items()))


def example_bundle(ctx: Context) -> dict[str, Any]:
    """docs/fhir.md's worked example (tracker.fhir.example): its scenario recorded into ``ctx``'s
    database (an empty one, on the example's day, with the example's site key) and exported."""
    scenario = load_scenario(EXAMPLE_SCENARIO)
    import_scenario(ctx, scenario, actor="example")
    return patient_bundle(ctx, scenario.profile.ref)


def _record(ctx: Context, uow: UnitOfWork, stored: StoredJourney, day: date) -> JourneyRecord:
    """What the mapping needs of one patient, from the log, the fold and the stored reminders."""
    outcome = follow_journey(stored.profile, stored.events, day, ctx.pathway)
    log = sorted(stored.events, key=lambda e: e.seq)
    order_of = {e.seq: n for n, e in enumerate(log, start=1)}
    steps = {s.event.seq: s for s in outcome.steps if s.event is not None}
    ended = line_endings(outcome.course, {e.seq: e.type.value for e in log})
    entries = [Entry(order_of[e.seq], e.to_dict(), _intent(steps.get(e.seq)), ended.get(e.seq)) for e in log]
    return JourneyRecord(
        key=pseudonym(stored.row.ref, ctx.settings.pseudonym_key), profile=profile_to_dict(stored.profile),
        entries=entries, as_of=day, line_running=outcome.course.on_therapy,
        closed=outcome.phase is Phase.CLOSED,
        reminders=_open_reminders(uow, stored.row.id, outcome, order_of))


def _intent(step: PathwayStep | None) -> str:
    """A line given as salvage, or an operation in salvage: palliative; anything else curative."""
    palliative = step is not None and (step.therapy_intent is Intent.SALVAGE or (
        step.trigger == "surgery" and step.from_phase is Phase.SALVAGE))
    return "palliative" if palliative else "curative"


def line_endings(course: Course, types: Mapping[int, str]) -> dict[int, LineEnding]:
    """How each ``systemic_started`` entry's line ended when no stop was recorded for it, from the
    record of the treatment (journey.treatment): by the entry's ``seq``. The export gives each
    start its own MedicationRequest, so a start followed by another within the same line ended by
    a change of regimen; a line that progression ended but whose drug went on as salvage therapy
    (a continued line) ended when that did."""
    out: dict[int, LineEnding] = {}
    lines = course.lines
    carried: list[int] = []  # the start whose drug goes on in the next, continued, line
    for index, line in enumerate(lines):
        starts = (carried if line.continued else []) + [
            change.seq for change in line.regimens if types.get(change.seq) == "systemic_started"]
        carried = []
        for start in starts[:-1]:
            out[start] = LineEnding(None)
        if not starts or line.ending is None:
            continue
        following = lines[index + 1] if index + 1 < len(lines) else None
        if following is not None and following.continued and following.opened_by == line.ended_by:
            carried = starts[-1:]
        elif line.ending is not LineEnd.STOPPED:
            by = None if line.ended_by is None else types.get(line.ended_by)
            out[starts[-1]] = LineEnding(line.ending, by)
    return out


def _open_reminders(uow: UnitOfWork, patient_id: int, outcome: JourneyOutcome,
                    order_of: Mapping[int, int]) -> list[OpenReminder]:
    """The reminders open on the day, each with its due date on that day and the latest snooze
    or dismissal a person recorded on it."""
    rows = {stored_key(r): r for r in uow.reminders.of_patient(patient_id)}
    acted = [r.id for r in rows.values() if r.snoozed_until or r.dismissed_on]
    latest: dict[tuple[int, str], ReminderActionRecord] = {
        (a.reminder_id, a.action): a for a in (uow.reminder_actions.of_reminders(acted) if acted else [])}
    out = []
    for reminder, status in outcome.reminders_with_status():
        if status not in OPEN_STATUSES:
            continue
        row = rows.get(implied_key(reminder))
        snooze = latest.get((row.id, ReminderAction.SNOOZE)) if row else None
        dismissal = latest.get((row.id, ReminderAction.DISMISS)) if row else None
        out.append(OpenReminder(
            kind=reminder.kind.value, opened_by=order_of[reminder.opened_by],
            meaning=REMINDER_MEANING[reminder.kind], anchor_on=reminder.anchor_on,
            due_on=reminder.due_on_at(outcome.as_of), status=status.value,
            snoozed_until=row.snoozed_until if row else None,
            snooze_reason=snooze.reason if snooze else None, snooze_text=snooze.text if snooze else None,
            dismissed_on=row.dismissed_on if row else None,
            dismiss_reason=dismissal.reason if dismissal else None,
            dismiss_text=dismissal.text if dismissal else None))
    return out


# -- import -------------------------------------------------------------------------------------------

def import_documents(ctx: Context, documents: Iterable[Any], actor: str,
                     source: str = "fhir") -> FhirImportReport:
    """Map the resources to scenarios and record each patient whole, or list why not."""
    read = read_resources(documents)
    return FhirImportReport([_import_patient(ctx, p, actor, source) for p in read.patients], read.unmapped)


def _import_patient(ctx: Context, p: PatientImport, actor: str, source: str) -> PatientOutcome:
    outcome = PatientOutcome(p)
    if p.refused or p.scenario is None:
        outcome.message = p.refused or f"{p.resource} could not be read."
        return outcome
    try:
        scenario = read_scenario(p.scenario)
    except InvalidScenario as e:
        outcome.message = f"Patient {p.resource} ({p.ref}): {e.message}"
        return outcome
    differences = _differences(ctx, scenario, p)
    if differences:
        outcome.status = "contradicts"
        outcome.message = (f"Patient {p.resource} contradicts what is recorded for {scenario.profile.ref}; "
                           f"nothing was changed: " + "; ".join(differences) + ".")
        return outcome
    try:
        report = import_scenario(ctx, scenario, actor, source)
    except (InvalidScenario, EntryRefused) as e:
        outcome.message = f"Patient {p.resource} ({scenario.profile.ref}): {e.message}"
        return outcome
    outcome.status, outcome.report, outcome.message = "imported", report, report.sentence()
    outcome.refused_entries = [f"{p.sources[r.seq]} ({r.type}): {r.reason}" if r.seq < len(p.sources)
                               else f"entry {r.seq} ({r.type}): {r.reason}" for r in report.refused]
    return outcome


def _differences(ctx: Context, scenario: Scenario, p: PatientImport) -> list[str]:
    """What the input says against what is recorded: the profile field by field, and each entry at
    its position in the log it was exported from."""
    with ctx.unit_of_work() as uow:
        row = uow.patients.find(scenario.profile.ref)
        if row is None:
            return []
        stored = uow.patients.journey_of(row)
    out = [f"{name}: recorded {_shown(a)}, in the input {_shown(b)}"
           for name, a, b in _compare(profile_to_dict(stored.profile), profile_to_dict(scenario.profile))]
    log: Sequence[Mapping[str, Any]] = [e.payload for e in stored.event_rows]  # in log order
    for event in scenario.events:
        order = p.orders[event.seq] if event.seq < len(p.orders) else None
        if order is not None and order <= len(log) and log[order - 1] != event.to_dict():
            out.append(f"entry {order} of the log: recorded {_entry(log[order - 1])}, in the input "
                       f"{_entry(event.to_dict())}")
    return out


def _compare(a: Any, b: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in dict.fromkeys([*a, *b]):
            yield from _compare(a.get(key), b.get(key), f"{path}.{key}" if path else str(key))
    elif a != b:
        yield path, a, b


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)


def _entry(payload: Mapping[str, Any]) -> str:
    fields = ", ".join(f"{k} {_shown(v)}" for k, v in payload.items() if k not in ("date", "type"))
    return f"{payload.get('type')} of {payload.get('date')}" + (f" ({fields})" if fields else "")
