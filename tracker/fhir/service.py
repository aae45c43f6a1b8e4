"""The FHIR use cases over the Tracker: export one patient (an mCODE bundle) or the cohort (Bulk
Data NDJSON, streaming), and import resources through the same reading and the same service as
every other entry (``read_scenario``, ``Tracker.import_scenario``): one transaction per patient,
so a patient is recorded whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from sqlmodel import col, select

from db.repository import StoredJourney, UnitOfWork
from db.tables import ReminderActionRow, ReminderRow
from journey.course import JourneyOutcome
from journey.errors import Conflict, EntryRefused, InvalidScenario, NotFound
from journey.pathway import Phase
from journey.profile import profile_to_dict
from journey.reminders import OPEN_STATUSES, REMINDER_MEANING
from journey.scenario import read_scenario
from tracker.fhir.export import Entry, JourneyRecord, OpenReminder, journey_resources, patient_bundle
from tracker.fhir.imports import PatientImport, Unmapped, read_resources
from tracker.files import read_text
from tracker.services import ImportReport, Tracker
from tracker.users import pseudonym

#: a FHIR file given to ``journey fhir import`` is at most this big (an NDJSON file of a cohort
#: export can be large: 200 MB holds some 100,000 patients' resources)
MAX_FHIR_FILE_BYTES = 200 * 1024 * 1024


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


class FhirExchange:
    """FHIR in and out of one Tracker."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker

    # -- export -------------------------------------------------------------------------------
    def key(self, ref: str) -> str:
        return pseudonym(ref, self.tracker.settings.pseudonym_key)

    def patient_resources(self, ref: str, pseudonymous: bool = False,
                          as_of: date | None = None) -> list[dict[str, Any]]:
        day = as_of or self.tracker.clock.today()
        with UnitOfWork(self.tracker.engine) as repo:
            stored = repo.load_journey(ref)
            return journey_resources(self._record(repo, stored, day), pseudonymous)

    def patient_bundle(self, ref: str, pseudonymous: bool = False,
                       as_of: date | None = None) -> dict[str, Any]:
        """The patient's mCODE bundle (type collection)."""
        resources = self.patient_resources(ref, pseudonymous, as_of)
        return patient_bundle(resources, self.tracker.clock.now().isoformat(timespec="seconds"))

    def patient_count(self) -> int:
        with UnitOfWork(self.tracker.engine) as repo:
            return repo.patient_count()

    def cohort_resources(self, pseudonymous: bool = False, as_of: date | None = None,
                         ) -> Iterator[list[dict[str, Any]]]:
        """Each patient's resources in turn, read a batch of patients at a time."""
        day = as_of or self.tracker.clock.today()
        with UnitOfWork(self.tracker.engine) as repo:
            for stored in repo.stream_patients():
                yield journey_resources(self._record(repo, stored, day), pseudonymous)

    def export_ndjson(self, folder: Path, pseudonymous: bool = False, as_of: date | None = None,
                      advance: Callable[[int], None] = lambda n: None) -> dict[str, int]:
        """The cohort as FHIR Bulk Data: one ``<Type>.ndjson`` file per resource type, one
        resource a line, written as each patient is read. Returns how many of each type."""
        folder.mkdir(parents=True, exist_ok=True)
        files: dict[str, IO[str]] = {}
        counts: dict[str, int] = {}
        try:
            for resources in self.cohort_resources(pseudonymous, as_of):
                for resource in resources:
                    kind = resource["resourceType"]
                    if kind not in files:
                        files[kind] = (folder / f"{kind}.ndjson").open("w", encoding="utf-8")
                    files[kind].write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False) + "\n")
                    counts[kind] = counts.get(kind, 0) + 1
                advance(1)
        finally:
            for handle in files.values():
                handle.close()
        return dict(sorted(counts.items()))

    def _record(self, repo: Any, stored: StoredJourney, day: date) -> JourneyRecord:
        outcome = self.tracker.follow(stored, day)
        steps = {s.event.seq: s for s in outcome.steps if s.event is not None}
        entries = []
        order_of = {e.seq: n for n, e in enumerate(sorted(stored.events, key=lambda e: e.seq), start=1)}
        for order, event in enumerate(sorted(stored.events, key=lambda e: e.seq), start=1):
            step = steps.get(event.seq)
            # a line given as salvage, an operation in salvage: palliative intent; else curative
            palliative = step is not None and (str(step.therapy_intent) == "salvage"
                                               or (event.type.value == "surgery"
                                                   and step.from_phase is Phase.SALVAGE))
            entries.append(Entry(order, event.to_dict(), "palliative" if palliative else "curative"))
        return JourneyRecord(
            key=self.key(stored.row.ref), profile=profile_to_dict(stored.profile), entries=entries,
            as_of=day, line_running=outcome.journey.course.on_therapy,
            closed=outcome.phase is Phase.CLOSED,
            reminders=self._open_reminders(repo, stored.row.id or 0, outcome, order_of))

    def _open_reminders(self, repo: Any, patient_id: int, outcome: JourneyOutcome,
                        order_of: dict[int, int]) -> list[OpenReminder]:
        rows = {_identity(r): r for r in repo.reminder_rows(patient_id)}
        actions: dict[tuple[int, str], ReminderActionRow] = {}
        ids = [r.id for r in rows.values() if r.snoozed_until or r.dismissed_on]
        if ids:
            for action in repo.session.exec(select(ReminderActionRow)
                                            .where(col(ReminderActionRow.reminder_id).in_(ids))
                                            .order_by(col(ReminderActionRow.id))):
                actions[(action.reminder_id, action.action)] = action  # the latest of each kind
        out = []
        for reminder, status in outcome.reminders_with_status():
            if status not in OPEN_STATUSES:
                continue
            row: ReminderRow | None = rows.get(_identity(reminder))
            # issue 12: a reminder is named by the entry that opened it, and a hold moves its due date
            opener = getattr(reminder, "opened_by", None)
            due = reminder.due_on_at(outcome.as_of) if hasattr(reminder, "due_on_at") else reminder.due_on
            snooze = actions.get((row.id or 0, "snooze")) if row else None
            dismissal = actions.get((row.id or 0, "dismiss")) if row else None
            out.append(OpenReminder(
                kind=reminder.kind.value, meaning=REMINDER_MEANING.get(reminder.kind, reminder.kind.value),
                anchor_on=reminder.anchor_on, due_on=due, status=status.value,
                opened_by=order_of.get(opener) if opener is not None else None,
                snoozed_until=row.snoozed_until if row else None,
                snooze_reason=snooze.reason if snooze else None, snooze_text=snooze.text if snooze else None,
                dismissed_on=row.dismissed_on if row else None,
                dismiss_reason=dismissal.reason if dismissal else None,
                dismiss_text=dismissal.text if dismissal else None))
        return out

    # -- import -------------------------------------------------------------------------------
    def import_documents(self, documents: Iterable[Any], actor: str,
                         source: str = "fhir") -> FhirImportReport:
        """Map the resources to scenarios and record each patient whole, or list why not."""
        read = read_resources(documents)
        outcomes = [self._import_patient(p, actor, source) for p in read.patients]
        return FhirImportReport(outcomes, read.unmapped)

    def _import_patient(self, p: PatientImport, actor: str, source: str) -> PatientOutcome:
        outcome = PatientOutcome(p)
        if p.refused or p.scenario is None:
            outcome.message = p.refused or f"{p.resource} could not be read."
            return outcome
        try:
            scenario = read_scenario(p.scenario)
        except InvalidScenario as e:
            outcome.message = f"Patient {p.resource} ({p.ref}): {e.message}"
            return outcome
        differences = self._differences(scenario, p)
        if differences:
            outcome.status = "contradicts"
            outcome.message = (f"Patient {p.resource} contradicts what is recorded for "
                               f"{scenario.profile.ref}; nothing was changed: "
                               + "; ".join(differences) + ".")
            return outcome
        try:
            report = self.tracker.import_scenario(scenario, actor, source)
        except (InvalidScenario, EntryRefused) as e:
            outcome.message = f"Patient {p.resource} ({scenario.profile.ref}): {e.message}"
            return outcome
        outcome.status, outcome.report = "imported", report
        outcome.message = report.sentence()
        outcome.refused_entries = [f"{p.sources[r.seq]} ({r.type}): {r.reason}" if r.seq < len(p.sources)
                                   else f"entry {r.seq} ({r.type}): {r.reason}" for r in report.refused]
        return outcome

    def _differences(self, scenario: Any, p: PatientImport) -> list[str]:
        """What the input says against what is recorded: the profile field by field, and each
        entry at its position in the log it was exported from."""
        try:
            view = self.tracker.patient_view(scenario.profile.ref)
        except NotFound:
            return []
        recorded, given = profile_to_dict(view.profile), profile_to_dict(scenario.profile)
        out = [f"{name}: recorded {_shown(a)}, in the input {_shown(b)}"
               for name, a, b in _compare(recorded, given)]
        log = [row.payload for row in sorted(view.event_rows, key=lambda r: r.seq)]
        for event in scenario.events:
            order = p.orders[event.seq] if event.seq < len(p.orders) else None
            if order is not None and order <= len(log) and log[order - 1] != event.to_dict():
                out.append(f"entry {order} of the log: recorded {_entry(log[order - 1])}, in the input "
                           f"{_entry(event.to_dict())}")
        return out


def _identity(reminder: Any) -> tuple[str, Any]:
    """What names a reminder: its kind and the entry that opened it (contract §7.1, issue 12), or
    its kind and anchor day before that."""
    kind = reminder.kind if isinstance(reminder.kind, str) else reminder.kind.value
    return (kind, getattr(reminder, "opened_by", reminder.anchor_on))


# -- reading files --------------------------------------------------------------------------------

def load_documents(path: Path) -> list[Any]:
    """The FHIR documents of a file (a JSON resource or Bundle, or NDJSON: one resource a line)
    or of a folder of such files (``*.json``, ``*.ndjson``)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".json", ".ndjson"))
        if not files:
            raise InvalidScenario(f"No FHIR files (.json, .ndjson) in {path}.")
        return [doc for file in files for doc in _read_file(file)]
    return _read_file(path)


def documents_of_text(text: str, name: str, ndjson: bool) -> list[Any]:
    if ndjson:
        out = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                out.append(_json(line, f"{name}, line {number}"))
        return out
    return [_json(text, name)]


def _read_file(path: Path) -> list[Any]:
    text = read_text(path, MAX_FHIR_FILE_BYTES, "a FHIR file")
    return documents_of_text(text, path.name, path.suffix.lower() == ".ndjson")


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InvalidScenario(f"{where} is not JSON (line {e.lineno}, column {e.colno}: {e.msg}).") from None
    except (RecursionError, ValueError):
        raise InvalidScenario(f"{where} cannot be read as JSON.") from None


# -- words ------------------------------------------------------------------------------------------

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


def summary_lines(report: FhirImportReport) -> list[str]:
    """The import report in sentences, for the command line."""
    lines: list[str] = []
    for p in report.patients:
        lines.append(p.message if p.status != "imported" else f"{p.read.resource}: {p.message}")
        lines += [f"   refused: {line}" for line in p.refused_entries]
        lines += [f"   not imported: {u.sentence()}" for u in p.read.unmapped]
        if p.read.derived:
            lines.append(f"   {len(p.read.derived)} reminder(s) as Task read, not imported: the tracker "
                         f"derives reminders from the entries")
    lines += [f"not imported: {u.sentence()}" for u in report.unmapped]
    return lines


def counts_sentence(counts: Mapping[str, int], folder: Path) -> str:
    parts = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    return f"Wrote {sum(counts.values())} resources to {folder}: {parts or 'none'}."

