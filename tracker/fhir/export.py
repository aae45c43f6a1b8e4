"""A patient's journey as mCODE STU4 resources (pure: scenario-format values in, JSON out).

The input is what the tracker holds: the profile and the recorded entries in the scenario format
(contract §1), each with its position in the patient's log, plus what the pathway derived (the
intent of each line and operation, whether the last line still runs, the open reminders). The
mapping is docs/fhir.md's table; each resource is checked by its R4B model on the way out.

Resource ids are stable: the patient's keyed pseudonym (never the reference) and what the
resource stands for (``-primary``, ``-entry-7`` for the 7th entry of the log), so an export run
twice gives the same ids and an auditor's bundle the same resources less the free text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from journey.treatment import LineEnd
from tracker.fhir import codes as c
from tracker.fhir.elements import (
    complex_extension,
    concept,
    extension,
    reference,
    validated,
)

CLOSING = ("death", "transfer", "lost_to_follow_up")
LINE_EVENTS = ("systemic_stopped", "systemic_paused", "systemic_resumed")
LIVER_SITE_PROCEDURES = ("liver_resection", "ablation", "portal_vein_embolisation")


@dataclass(frozen=True)
class LineEnding:
    """How the line of therapy (or the regimen) a ``systemic_started`` entry began came to an end
    when no stop was recorded for it, as the domain's record of the treatment says
    (``journey.treatment.LineEnd``; None: its regimen was changed within the same line), with the
    type of the entry that ended it (death, transfer...)."""

    how: LineEnd | None
    by_type: str | None = None


@dataclass(frozen=True)
class Entry:
    """One recorded entry: its 1-based position in the patient's log and the entry itself in the
    scenario format (date, type, fields, note, override). ``intent`` is the treatment intent the
    pathway gave a line of therapy or an operation: ``curative`` or ``palliative``. ``ended``:
    for a ``systemic_started`` entry whose line ended without a recorded stop, how it ended."""

    order: int
    raw: Mapping[str, Any]
    intent: str | None = None
    ended: LineEnding | None = None

    @property
    def type(self) -> str:
        return str(self.raw["type"])

    @property
    def date(self) -> str:
        return str(self.raw["date"])

    def get(self, name: str) -> Any:
        return self.raw.get(name)


@dataclass(frozen=True)
class OpenReminder:
    """A reminder not yet resolved or cancelled, as of the export day: its kind and ``opened_by``,
    the position in the log of the entry that opened it (what names a reminder, contract §7.1),
    and its due date as it stands on that day (later by the days a line was held)."""

    kind: str
    opened_by: int
    meaning: str
    anchor_on: date
    due_on: date
    status: str  # scheduled | due | overdue
    snoozed_until: date | None = None
    snooze_reason: str | None = None
    snooze_text: str | None = None
    dismissed_on: date | None = None
    dismiss_reason: str | None = None
    dismiss_text: str | None = None


@dataclass(frozen=True)
class JourneyRecord:
    """Everything the export needs of one patient."""

    key: str  # the keyed pseudonym of the reference: the stem of every resource id
    profile: Mapping[str, Any]  # the profile in the scenario format
    entries: Sequence[Entry]  # in log order
    as_of: date
    line_running: bool = False  # the latest line of therapy still runs on as_of
    closed: bool = False  # the journey is closed on as_of
    reminders: Sequence[OpenReminder] = field(default_factory=tuple)


def journey_resources(record: JourneyRecord, pseudonymous: bool = False) -> list[dict[str, Any]]:
    """The patient's resources, each validated: the Patient first, then the conditions and the
    profile's observations, the episodes of care, the entries in log order, the open reminders.
    ``pseudonymous``: no reference (the pseudonym instead), no notes, no override reasons, no
    reminder free text."""
    return [validated(r) for r in _Writer(record, pseudonymous).resources()]


def patient_bundle(resources: Sequence[Mapping[str, Any]], timestamp: str) -> dict[str, Any]:
    """An mCODE patient bundle (type collection) of one patient's resources."""
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    bundle = {
        "resourceType": "Bundle", "id": f"{patient['id']}-bundle",
        "meta": {"profile": [c.PROFILE["bundle"]]}, "type": "collection", "timestamp": timestamp,
        "entry": [{"fullUrl": full_url(r), "resource": r} for r in resources],
    }
    return validated(bundle)


def full_url(resource: Mapping[str, Any]) -> str:
    return f"{c.PROJECT}/{resource['resourceType']}/{resource['id']}"


class _Writer:
    def __init__(self, record: JourneyRecord, pseudonymous: bool) -> None:
        self.record = record
        self.pseudonymous = pseudonymous
        self.key = record.key
        self.subject = reference("Patient", self.key)
        self.primary = reference("Condition", f"{self.key}-primary")
        self.liver = reference("Condition", f"{self.key}-liver-metastases")
        self.in_order = sorted(record.entries, key=lambda e: (e.date, e.order))
        self.lines = self.therapy_lines()
        self.carriers = self.carrier_ids()
        starts = [e.order for e in self.in_order if e.type == "systemic_started"]
        self.latest_line = starts[-1] if starts else None

    def id(self, suffix: str) -> str:
        return f"{self.key}-{suffix}"

    def resources(self) -> list[dict[str, Any]]:
        out = [self.patient(), *self.conditions(), *self.profile_observations()]
        out += self.prior_treatment()
        out += self.episodes()
        lines = self.lines
        latest_mdt = next((e for e in reversed(self.in_order) if e.type == "mdt_review"), None)
        writers: dict[str, Callable[[Entry], list[dict[str, Any]]]] = {
            "mdt_review": lambda e: [self.care_plan(e, e is latest_mdt)],
            "systemic_started": lambda e: [self.medication_request(e, lines[e.order])],
            "reassessment": lambda e: [self.disease_status(e)],
            "progression": lambda e: [self.disease_status(e)],
            "radiotherapy": lambda e: [self.radiotherapy(e)],
            "surgery": self.surgery,
            "recurrence": lambda e: [self.recurrence(e)],
        }
        attached = {sub.order for subs in lines.values() for sub in subs}
        for entry in self.record.entries:
            if entry.type in CLOSING or entry.type == "returned" or entry.order in attached:
                continue  # carried by the episodes of care and the lines of therapy
            write = writers.get(entry.type)
            out += write(entry) if write else [self.basic(entry)]
        out += [self.task(r) for r in self.record.reminders]
        return out

    # -- shared pieces ------------------------------------------------------------------------
    def entry_extension(self, entry: Entry, whole: bool = False) -> dict[str, Any]:
        """The journey-entry extension: the entry's position in the log (and its override reason),
        which FHIR has no element for. ``whole``: also its type, date and fields, and its note,
        for entries carried inside another resource (holds and stops of a line, closures)."""
        parts: list[tuple[str, str, Any]] = [("order", "Integer", entry.order)]
        if whole:
            parts += [("type", "Code", entry.type), ("date", "Date", entry.date)]
            parts += [(name, _value_type(value), value) for name, value in entry.raw.items()
                      if name not in ("date", "type", "note", "override")]
            if not self.pseudonymous:
                parts.append(("note", "String", entry.get("note")))
        if not self.pseudonymous:
            parts.append(("override", "String", entry.get("override")))
        return complex_extension(c.EXT["entry"], parts)

    def note(self, text: Any) -> list[dict[str, str]] | None:
        return [{"text": str(text)}] if text and not self.pseudonymous else None

    def intent(self, entry: Entry) -> dict[str, Any]:
        code = c.PALLIATIVE if entry.intent == "palliative" else c.CURATIVE
        return extension(c.EXT["intent"], "CodeableConcept", concept(code))

    # -- the patient and the disease ----------------------------------------------------------
    def patient(self) -> dict[str, Any]:
        ref = self.record.profile["ref"]
        identifier = ({"system": c.PSEUDONYM_SYSTEM, "value": self.key} if self.pseudonymous
                      else {"system": c.REF_SYSTEM, "value": ref})
        # the tracker holds no names and no sex on purpose: US Core wants both elements, so they
        # say why they are absent (data-absent-reason)
        absent = {"extension": [extension(c.EXT["absent"], "Code", "unsupported")]}
        out: dict[str, Any] = {
            "resourceType": "Patient", "id": self.key, "meta": {"profile": [c.PROFILE["patient"]]},
            "identifier": [identifier], "name": [absent], "_gender": absent,
        }
        died = next((e for e in self.in_order if e.type == "death"), None)
        if died is not None:
            out["deceasedDateTime"] = died.date
        return out

    def condition(self, id_: str, profile: str, code: dict[str, Any], onset: str,
                  body_sites: list[dict[str, Any]], status: c.Code = c.ACTIVE,
                  extensions: list[dict[str, Any]] | None = None, note: Any = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "Condition", "id": id_, "meta": {"profile": [profile]},
            "clinicalStatus": concept(status), "verificationStatus": concept(c.CONFIRMED),
            "category": [concept(c.PROBLEM_LIST_ITEM)], "code": code, "subject": self.subject,
            "onsetDateTime": onset, "note": self.note(note)}
        if body_sites:
            out["bodySite"] = body_sites
        if extensions:
            out["extension"] = extensions
        return out

    def conditions(self) -> list[dict[str, Any]]:
        p = self.record.profile
        primary, mets = p["primary"], p["metastases"]
        site = c.SITES[primary["site"]]
        extras = [extension(c.EXT["symptom"], "CodeableConcept", concept(c.SYMPTOMS[s]))
                  for s in primary.get("symptoms") or []]
        extras += [extension(c.EXT[k], "String", primary[k]) for k in ("t_stage", "n_stage")
                   if primary.get(k)]
        related = extension(c.EXT["related"], "Reference", self.primary)
        out = [
            self.condition(self.id("primary"), c.PROFILE["primary"], concept(site.disorder),
                           primary["diagnosed_on"], [_site_concept(site)], extensions=extras),
            self.condition(self.id("liver-metastases"), c.PROFILE["secondary"],
                           concept(c.LIVER_METASTASES), mets["detected_on"], [_liver_concept()],
                           extensions=[related, extension(c.EXT["count"], "Integer", mets["count"])]),
        ]
        if mets.get("extrahepatic"):
            out.append(self.condition(self.id("extrahepatic-metastases"), c.PROFILE["secondary"],
                                      concept(c.OTHER_METASTASES), mets["detected_on"], [],
                                      extensions=[related]))
        return out

    def observation(self, id_: str, profile: str | None, code: c.Code, **elements: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"resourceType": "Observation", "id": id_}
        if profile:
            out["meta"] = {"profile": [profile]}
        out.update({"status": "final", "code": concept(code), "subject": self.subject})
        out.update({k: v for k, v in elements.items() if v is not None})
        return out

    def profile_observations(self) -> list[dict[str, Any]]:
        p = self.record.profile
        mets, markers = p["metastases"], p.get("biomarkers") or {}
        size = {"value": mets["max_size_mm"], "unit": "mm", "system": c.UCUM, "code": "mm"}
        out = [self.observation(
            self.id("largest-metastasis"), c.PROFILE["tumor_size"], c.TUMOR_SIZE,
            focus=[self.liver], effectiveDateTime=mets["detected_on"],
            component=[{"code": concept(c.LONGEST_DIMENSION), "valueQuantity": size}])]
        if p.get("ecog") is not None:
            # ECOG is recorded once, at registration: dated the day the metastases were found
            out.append(self.observation(
                self.id("ecog"), c.PROFILE["ecog"], c.ECOG, category=[concept(c.SURVEY)],
                effectiveDateTime=mets["detected_on"], valueInteger=p["ecog"]))
        for name, genes in (("ras", c.RAS_GENES), ("braf", ("BRAF",))):
            status = markers.get(name, "unknown")
            if status in ("wild_type", "mutant"):
                out.append(self.observation(
                    self.id(name), c.PROFILE["variant"], c.VARIANT, category=[concept(c.LABORATORY)],
                    valueCodeableConcept=concept(c.PRESENT if status == "mutant" else c.ABSENT),
                    component=[{"code": concept(c.GENE_STUDIED), "valueCodeableConcept": concept(c.GENES[g])}
                               for g in genes]))
        mmr = markers.get("mmr", "unknown")
        if mmr in ("pMMR", "dMMR"):
            out.append(self.observation(
                self.id("msi"), c.PROFILE["msi"], c.MSI, category=[concept(c.LABORATORY)],
                valueCodeableConcept=concept(c.MSI_HIGH if mmr == "dMMR" else c.MSI_STABLE)))
        return out

    def prior_treatment(self) -> list[dict[str, Any]]:
        """Adjuvant oxaliplatin for the primary, and the primary's resection, before the journey."""
        p = self.record.profile
        out = []
        prior = p.get("prior_oxaliplatin")
        if prior is not None:
            last, relapse = prior.get("last_dose_on"), prior.get("relapsed_on")
            request: dict[str, Any] = {
                "resourceType": "MedicationRequest", "id": self.id("prior-oxaliplatin"),
                "meta": {"profile": [c.PROFILE["medication"]]},
                "extension": [extension(c.EXT["intent"], "CodeableConcept", concept(c.CURATIVE)),
                              complex_extension(c.EXT["prior_oxaliplatin"], [
                                  ("lastDose", "Date", last), ("relapse", "Date", relapse),
                                  # an extension holds a value: given, with neither date known
                                  ("given", "Boolean", True if last is None and relapse is None else None)])],
                "status": "completed", "intent": "plan",
                "medicationCodeableConcept": concept(c.OXALIPLATIN,
                                                     text="Adjuvant oxaliplatin for the primary"),
                "subject": self.subject, "reasonReference": [self.primary]}
            if last:
                request["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": {"end": last}}}}]
            out.append(request)
        resected = p["primary"].get("resected_on")
        if resected:
            out.append(self.procedure(self.id("primary-resection"), "primary_resection", resected,
                                      [self.intent(Entry(0, {}))], "completed", None))
        return out

    def episodes(self) -> list[dict[str, Any]]:
        """The patient's stays in this centre's care: the first from the day the metastases were
        found, each closed by death, transfer or loss to follow-up, a new one on return."""
        start = self.record.profile["metastases"]["detected_on"]
        stays: list[dict[str, Any]] = [{"start": start, "entries": []}]
        for entry in self.in_order:
            if entry.type == "returned":
                stays.append({"start": entry.date, "entries": [entry]})
            elif entry.type in CLOSING:
                stays[-1].setdefault("end", entry.date)
                stays[-1]["entries"].append(entry)
        out = []
        for n, stay in enumerate(stays, start=1):
            period = {"start": stay["start"]} | ({"end": stay["end"]} if "end" in stay else {})
            out.append({
                "resourceType": "EpisodeOfCare", "id": self.id(f"episode-{n}"),
                "extension": [self.entry_extension(e, whole=True) for e in stay["entries"]] or None,
                "status": "finished" if "end" in stay else "active",
                "type": [{"text": "Colorectal liver metastases treatment journey"}],
                "patient": self.subject, "period": period})
        return out

    # -- the entries --------------------------------------------------------------------------
    def care_plan(self, entry: Entry, latest: bool) -> dict[str, Any]:
        """An MDT review: the plan it decided, the resectability it judged."""
        plan = entry.get("plan")
        flags = [extension(c.EXT[key], "Boolean", entry.get(name)) for key, name in (
            ("resectable", "resectable"), ("simultaneous", "simultaneous_feasible"),
            ("pelvic_rt", "pelvic_rt_indicated")) if entry.get(name) is not None]
        said = "resectable" if entry.get("resectable") else "not resectable"
        description = f"MDT review: liver metastases {said}" + (
            f"; plan: {c.PLANS[plan].display.lower()}" if plan else "; no plan recorded")
        status = ("completed" if self.record.closed else "active") if latest else "revoked"
        return {
            "resourceType": "CarePlan", "id": self.id(f"entry-{entry.order}"),
            "extension": [self.entry_extension(entry), *flags], "status": status, "intent": "plan",
            "category": [concept(c.PLANS[plan])] if plan else None, "title": "MDT review",
            "description": description, "subject": self.subject, "created": entry.date,
            "addresses": [self.primary, self.liver], "note": self.note(entry.get("note"))}

    def carrier_ids(self) -> dict[int, str]:
        """The resource that carries each entry (``Type/id``): its own, or the line of therapy its
        hold, resumption or stop belongs to, or the episode of care it closed or opened."""
        out: dict[int, str] = {}
        episode = 1
        for entry in self.in_order:
            if entry.type == "returned":
                episode += 1
            kind = {"mdt_review": "CarePlan", "systemic_started": "MedicationRequest",
                    "reassessment": "Observation", "progression": "Observation", "radiotherapy": "Procedure",
                    "surgery": "Procedure", "recurrence": "Condition"}.get(entry.type, "Basic")
            out[entry.order] = f"{kind}/{self.id(f'entry-{entry.order}')}"
            if entry.type in CLOSING or entry.type == "returned":
                out[entry.order] = f"EpisodeOfCare/{self.id(f'episode-{episode}')}"
        for start, events in self.lines.items():
            for sub in events:
                out[sub.order] = out[start]
        return out

    def therapy_lines(self) -> dict[int, list[Entry]]:
        """Each line of therapy (by the order of its start) and the holds, resumptions and stop
        recorded after it, before the next line starts."""
        lines: dict[int, list[Entry]] = {}
        current: int | None = None
        for entry in self.in_order:
            if entry.type == "systemic_started":
                current = entry.order
                lines[current] = []
            elif entry.type in LINE_EVENTS and current is not None:
                lines[current].append(entry)
        return lines

    def medication_request(self, start: Entry, events: list[Entry]) -> dict[str, Any]:
        regimen, biologic = start.get("regimen"), start.get("biologic")
        stop = next((e for e in reversed(events) if e.type == "systemic_stopped"), None)
        held = [e for e in events if e.type in ("systemic_paused", "systemic_resumed")]
        latest = self.latest_line == start.order
        status_reason: dict[str, Any] | None = None
        if stop is not None:
            reason = stop.get("reason")
            status = "completed" if reason == "completed" else "stopped"
            termination = c.TERMINATION.get(reason)
            status_reason = (concept(termination) if termination
                             else {"text": c.STOP_REASONS[reason].display})
        elif latest and self.record.line_running:
            paused = bool(held) and held[-1].type == "systemic_paused"
            status = "on-hold" if paused else "active"
            if paused:
                status_reason = concept(c.PAUSE_REASONS.get(held[-1].get("reason"), c.PAUSE_REASONS["other"]))
        else:
            status, status_reason = "stopped", _line_end_reason(start.ended)
        bounds = {"start": start.date} | ({"end": stop.date} if stop else {})
        exts = [self.intent(start), self.entry_extension(start)]
        if biologic:
            exts.append(extension(c.EXT["biologic"], "CodeableConcept", concept(c.BIOLOGICS[biologic])))
        exts += [self.entry_extension(e, whole=True) for e in events]
        return {
            "resourceType": "MedicationRequest", "id": self.id(f"entry-{start.order}"),
            "meta": {"profile": [c.PROFILE["medication"]]}, "extension": exts, "status": status,
            "statusReason": status_reason, "intent": "plan",
            "medicationCodeableConcept": concept(c.REGIMENS[regimen]), "subject": self.subject,
            "authoredOn": start.date, "reasonReference": [self.liver], "note": self.note(start.get("note")),
            "dosageInstruction": [{"text": c.REGIMENS[regimen].display,
                                   "timing": {"repeat": {"boundsPeriod": bounds}}}]}

    def disease_status(self, entry: Entry) -> dict[str, Any]:
        """A reassessment (RECIST response and resectability as components), or progression found
        outside one (worsened, no components)."""
        exts = [self.entry_extension(entry)]
        if entry.type == "reassessment":
            response = entry.get("response")
            exts.insert(0, extension(c.EXT["evidence"], "CodeableConcept", concept(c.IMAGING)))
            value = c.TREND_OF_RESPONSE[response]
            components = [
                {"code": concept(c.OBSERVATIONS["recist-response"]),
                 "valueCodeableConcept": concept(c.RECIST[response])},
                {"code": concept(c.OBSERVATIONS["liver-resectable"]),
                 "valueBoolean": bool(entry.get("resectable"))}]
        else:
            value, components = c.WORSENED, None
        return self.observation(self.id(f"entry-{entry.order}"), c.PROFILE["disease_status"],
                                c.DISEASE_STATUS, extension=exts, focus=[self.liver],
                                effectiveDateTime=entry.date, valueCodeableConcept=concept(value),
                                note=self.note(entry.get("note")), component=components)

    def procedure(self, id_: str, procedure: str, day: str, exts: list[dict[str, Any]], status: str,
                  entry: Entry | None, profile: bool = True) -> dict[str, Any]:
        primary_site = c.SITES[self.record.profile["primary"]["site"]]
        if procedure == "pelvic_radiotherapy":
            sites, reasons = [concept(c.PELVIS_TOPOGRAPHY)], [self.primary]
        elif procedure in LIVER_SITE_PROCEDURES:
            sites, reasons = [_liver_concept()], [self.liver]
        elif procedure == "primary_resection":
            sites, reasons = [_site_concept(primary_site)], [self.primary]
        else:  # simultaneous resection
            sites, reasons = [_site_concept(primary_site), _liver_concept()], [self.primary, self.liver]
        out: dict[str, Any] = {"resourceType": "Procedure", "id": id_}
        if profile:
            out["meta"] = {"profile": [c.PROFILE["surgery"]]}
        out.update({"extension": exts, "status": status, "code": concept(c.PROCEDURES[procedure]),
                    "subject": self.subject, "performedDateTime": day, "reasonReference": reasons,
                    "bodySite": sites, "note": self.note(entry.get("note")) if entry else None})
        return out

    def surgery(self, entry: Entry) -> list[dict[str, Any]]:
        exts = [self.intent(entry), self.entry_extension(entry)]
        if entry.get("stage") is not None:
            exts.append(extension(c.EXT["stage"], "Integer", int(entry.get("stage"))))
        id_ = self.id(f"entry-{entry.order}")
        out = [self.procedure(id_, entry.get("procedure"), entry.date, exts, "completed", entry)]
        margin = entry.get("margin")
        if margin:
            # mCODE has no margin element: a linked observation, part of the operation
            out.append(self.observation(
                f"{id_}-margin", None, c.OBSERVATIONS["resection-margin"],
                partOf=[reference("Procedure", id_)], effectiveDateTime=entry.date,
                valueCodeableConcept=concept(c.MARGINS[margin])))
        return out

    def radiotherapy(self, entry: Entry) -> dict[str, Any]:
        """Pelvic radiotherapy started or completed: a plain Procedure (the mCODE radiotherapy
        course summary wants modality, technique and doses the tracker does not hold)."""
        status = "in-progress" if entry.get("status") == "started" else "completed"
        return self.procedure(self.id(f"entry-{entry.order}"), "pelvic_radiotherapy", entry.date,
                              [self.entry_extension(entry)], status, entry, profile=False)

    def recurrence(self, entry: Entry) -> dict[str, Any]:
        site = entry.get("site")
        liver = site in ("liver_only", "both")
        return self.condition(
            self.id(f"entry-{entry.order}"), c.PROFILE["secondary"],
            concept(c.LIVER_METASTASES if liver else c.OTHER_METASTASES), entry.date,
            [_liver_concept()] if liver else [], status=c.RECURRENCE,
            extensions=[extension(c.EXT["related"], "Reference", self.primary), self.entry_extension(entry),
                        extension(c.EXT["recurrence_site"], "CodeableConcept",
                                  concept(c.RECURRENCE_SITES[site]))],
            note=entry.get("note"))

    def basic(self, entry: Entry) -> dict[str, Any]:
        """An entry with no natural home (a hold recorded with an override before any line):
        kept whole, never dropped."""
        code = c.ENTRY_TYPES.get(entry.type) or c.local("entry-type", entry.type, entry.type)
        return {"resourceType": "Basic", "id": self.id(f"entry-{entry.order}"),
                "extension": [self.entry_extension(entry, whole=True)], "code": concept(code),
                "subject": self.subject, "created": entry.date}

    # -- the reminders ------------------------------------------------------------------------
    def task(self, r: OpenReminder) -> dict[str, Any]:
        status, reason = "requested", None
        if r.dismissed_on is not None:
            status = "cancelled"
            reason = concept(c.DISMISS_REASONS.get(r.dismiss_reason or "other", c.DISMISS_REASONS["other"]),
                             text=None if self.pseudonymous else r.dismiss_text)
        elif r.snoozed_until is not None and r.snoozed_until > self.record.as_of:
            status = "on-hold"
            reason = concept(c.SNOOZE_REASONS.get(r.snooze_reason or "other", c.SNOOZE_REASONS["other"]),
                             text=None if self.pseudonymous else r.snooze_text)
        task_id = self.id(f"task-{r.kind.replace('_', '-')}-{r.opened_by}")
        focus = self.carriers.get(r.opened_by)
        return {
            "resourceType": "Task", "id": task_id,
            "extension": ([extension(c.EXT["snoozed_until"], "Date", r.snoozed_until.isoformat())]
                          if status == "on-hold" and r.snoozed_until else None),
            "status": status, "statusReason": reason,
            "businessStatus": concept(c.REMINDER_STATUSES[r.status]), "intent": "plan",
            "code": concept(c.reminder_kind(r.kind, r.meaning)), "description": r.meaning,
            "focus": {"reference": focus} if focus else None,
            "for": self.subject, "authoredOn": r.anchor_on.isoformat(),
            "restriction": {"period": {"start": r.anchor_on.isoformat(), "end": r.due_on.isoformat()}}}


#: a line that ended without a recorded stop, in words, by what ended it (journey.treatment.LineEnd)
LINE_END_WORDS = {
    LineEnd.LIVER_OPERATION: "Ended by the liver operation",
    LineEnd.PROGRESSION: "Ended by progression",
    LineEnd.DECISION: "Ended when the plan turned to surveillance or salvage",
    LineEnd.RECURRENCE: "Ended by a recurrence",
    LineEnd.CLOSURE: "Ended when the journey closed",
    LineEnd.NEW_LINE: "Ended when a line of another intent began",
    LineEnd.RETURN: "Ended by the return to this centre's care",
}
#: a line ended by the journey's closing, by the entry that closed it (death and lost to follow-up
#: are also coded: codes.LINE_END_TERMINATION)
CLOSURE_WORDS = {"death": "Ended by the patient's death",
                 "transfer": "Ended by the transfer to another centre",
                 "lost_to_follow_up": "Ended when the patient was lost to follow-up"}
UNKNOWN_END = ("Ended without a recorded stop: an operation, a decision, a new line or the end of the "
               "journey ended it")


def _line_end_reason(ended: LineEnding | None) -> dict[str, Any]:
    """The statusReason of a line that ended without a recorded stop: mCODE's termination reason
    where it has one for what ended the line (progression, death, lost to follow-up), else words.
    Without the domain's record of the line (plain values), the words say only that no stop was
    recorded."""
    if ended is None:
        return {"text": UNKNOWN_END}
    if ended.how is None:
        return {"text": "Ended by a change of regimen within the line"}
    if ended.how is LineEnd.CLOSURE and ended.by_type in CLOSURE_WORDS:
        text = CLOSURE_WORDS[ended.by_type]
        code = c.LINE_END_TERMINATION.get(ended.by_type)
    else:
        text = LINE_END_WORDS.get(ended.how, UNKNOWN_END)
        code = c.LINE_END_TERMINATION.get(ended.how.value)
    return concept(code, text=text) if code else {"text": text}


def _site_concept(site: c.Site) -> dict[str, Any]:
    return concept(site.structure, site.topography, text=site.topography.display)


def _liver_concept() -> dict[str, Any]:
    return concept(c.LIVER_STRUCTURE, c.LIVER_TOPOGRAPHY, text="Liver")


def _value_type(value: Any) -> str:
    """An entry's field: a flag, a number (the stage) or one of the vocabulary's codes."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    return "Code"
