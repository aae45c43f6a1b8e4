"""FHIR resources back into what the tracker records (pure): for each Patient, a scenario in the
contract's format (contract §1: the profile and the entries) and, resource by resource, what
could not be mapped and why, in words.

The scenario then goes through the same reading and the same service as every other entry
(``journey.scenario.read_scenario``, ``Tracker.import_scenario``). Nothing here guesses: a
resource that does not say what the tracker needs (how many liver metastases, whether they are
resectable...) is listed with what is missing, and a patient whose primary is not a colorectal
cancer is refused whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tracker.fhir import codes as c
from tracker.fhir.elements import (
    NotFhir,
    codings,
    date_part,
    extension_value,
    extensions,
    has,
    label,
    lookup,
    parts,
    reference_key,
    validated,
    words,
)

ENTRY_KEYS = ("order", "type", "date", "note", "override")
#: cancers named by the words of their codes, for a refusal a nurse understands
CANCER_WORDS = (("breast", "a breast cancer"), ("lung", "a lung cancer"), ("prostat", "a prostate cancer"),
                ("leuk", "a leukaemia"), ("lymphom", "a lymphoma"), ("melanom", "a melanoma"),
                ("pancrea", "a pancreatic cancer"), ("ovar", "an ovarian cancer"),
                ("bladder", "a bladder cancer"), ("kidney", "a kidney cancer"), ("renal", "a kidney cancer"),
                ("stomach", "a stomach cancer"), ("gastric", "a stomach cancer"),
                ("appendix", "an appendix cancer"), ("hepatocellular", "a primary liver cancer"),
                ("brain", "a brain tumour"), ("myeloma", "a myeloma"), ("sarcoma", "a sarcoma"))
NOT_OURS = "this tracker follows colorectal liver metastases"


@dataclass(frozen=True)
class Unmapped:
    """A resource the tracker could not use, and why."""

    resource: str
    reason: str

    def sentence(self) -> str:
        return f"{self.resource}: {self.reason}"


@dataclass
class PatientImport:
    """One Patient of the input: its scenario, or why it is refused whole."""

    resource: str
    ref: str | None = None
    scenario: dict[str, Any] | None = None
    #: each event's position in the log it was exported from (None when the source had none)
    orders: list[int | None] = field(default_factory=list)
    #: the resource each event came from (``MedicationRequest/x``), for messages
    sources: list[str] = field(default_factory=list)
    refused: str | None = None
    unmapped: list[Unmapped] = field(default_factory=list)
    #: resources the tracker derives itself (reminders as Tasks): read, not recorded
    derived: list[str] = field(default_factory=list)


@dataclass
class ReadResult:
    patients: list[PatientImport]
    #: resources that belong to no patient of the input, or are not FHIR R4 at all
    unmapped: list[Unmapped]


#: Bundles inside Bundles are opened this deep, no deeper
MAX_BUNDLE_DEPTH = 4


def flatten(documents: Iterable[Any], depth: int = 0) -> list[Any]:
    """Resources of the input: Bundles opened (their entries, a few levels deep), everything else
    kept as it is (what is not a resource is listed as such later)."""
    out: list[Any] = []
    for doc in documents:
        bundle = isinstance(doc, Mapping) and doc.get("resourceType") == "Bundle"
        entries = doc.get("entry") if bundle else None
        if isinstance(entries, list) and depth < MAX_BUNDLE_DEPTH:
            out += flatten((e.get("resource") for e in entries if isinstance(e, Mapping)), depth + 1)
        else:
            out.append(doc)
    return out


def read_resources(documents: Iterable[Any]) -> ReadResult:
    """Map FHIR R4 resources (Bundles are opened) to one scenario per Patient."""
    unmapped: list[Unmapped] = []
    resources: list[dict[str, Any]] = []
    for position, doc in enumerate(flatten(documents), start=1):
        if not isinstance(doc, Mapping):
            unmapped.append(Unmapped(f"item #{position}", "it is not a FHIR resource (a JSON object)"))
            continue
        try:
            resources.append(validated(doc))
        except NotFhir as e:
            unmapped.append(Unmapped(label(doc, position), str(e)))
    patients = {label(r): r for r in resources if r["resourceType"] == "Patient"}
    belongs: dict[str, list[dict[str, Any]]] = {key: [] for key in patients}
    for r in resources:
        if r["resourceType"] == "Patient":
            continue
        owner = reference_key(r.get("subject") or r.get("patient") or r.get("for"))
        if owner in belongs:
            belongs[owner].append(r)
        elif owner is None:
            unmapped.append(Unmapped(label(r), "it is not about a patient; the tracker records "
                                               "patients' journeys only"))
        else:
            unmapped.append(Unmapped(label(r), f"its patient ({owner}) is not in the input"))
    return ReadResult([_PatientReader(patients[key], belongs[key]).read() for key in patients], unmapped)


class Refused(Exception):
    """The patient cannot be imported at all (message in words)."""


class _PatientReader:
    def __init__(self, patient: dict[str, Any], resources: list[dict[str, Any]]) -> None:
        self.patient = patient
        self.resources = resources
        self.by_key = {label(r): r for r in resources}
        self.result = PatientImport(label(patient))
        self.events: list[tuple[tuple[Any, ...], dict[str, Any], int | None, str]] = []
        self.used: set[str] = set()
        self.margins: dict[str, dict[str, Any]] = {}

    def skip(self, resource: Mapping[str, Any], reason: str) -> None:
        self.result.unmapped.append(Unmapped(label(resource), reason))

    def read(self) -> PatientImport:
        try:
            ref = self.reference()
            self.result.ref = ref
            profile = self.profile(ref)
            self.margins = {}
            for r in self.resources:
                if _is_margin(r):
                    operation = next((reference_key(p) for p in r.get("partOf") or []
                                      if reference_key(p) in self.by_key), None)
                    if operation is not None:
                        self.margins[operation] = r
                        self.use(r)
            for position, r in enumerate(self.resources):
                if label(r) not in self.used:
                    self.entry(r, position)
            self.death_from_patient()
        except Refused as e:
            self.result.refused = str(e)
            self.result.scenario = None
            return self.result
        self.events.sort(key=lambda item: item[0])
        self.result.scenario = {"patient": profile, "events": [e for _, e, _, _ in self.events]}
        self.result.orders = [order for _, _, order, _ in self.events]
        self.result.sources = [source for _, _, _, source in self.events]
        return self.result

    # -- the profile --------------------------------------------------------------------------
    def reference(self) -> str:
        identifiers = [i for i in self.patient.get("identifier") or [] if i.get("value")]
        if any(i.get("system") == c.PSEUDONYM_SYSTEM for i in identifiers):
            raise Refused(f"Patient {self.result.resource} is pseudonymised (an auditor's export): it "
                          f"has no patient reference to record it under.")
        ours = [i for i in identifiers if i.get("system") == c.REF_SYSTEM]
        chosen = (ours or identifiers or [None])[0]
        if chosen is None:
            raise Refused(f"Patient {self.result.resource} has no identifier to use as the tracker's "
                          f"patient reference.")
        return str(chosen["value"])

    def profile(self, ref: str) -> dict[str, Any]:
        primary, secondary = self.cancer_conditions()
        site = self.site(primary)
        diagnosed = date_part(primary.get("onsetDateTime") or primary.get("recordedDate")
                              or (primary.get("onsetPeriod") or {}).get("start"))
        if diagnosed is None:
            raise Refused(f"Condition {label(primary)} does not say the day the primary was diagnosed "
                          f"(onsetDateTime).")
        liver = [s for s in secondary if _is_liver(s)]
        if not liver:
            raise Refused(f"Patient {self.result.resource} has no liver metastases (no secondary cancer "
                          f"condition of the liver): {NOT_OURS}.")
        mets = min(liver, key=lambda s: date_part(s.get("onsetDateTime")) or "9999")
        self.use(primary, mets)
        for other in liver:
            if other is not mets:
                self.use(other)
                self.skip(other, f"a second liver metastases condition; the tracker keeps the first "
                                 f"({label(mets)})")
        extrahepatic = [s for s in secondary if not _is_liver(s)]
        self.use(*extrahepatic)
        detected = date_part(mets.get("onsetDateTime"))
        if detected is None:
            raise Refused(f"Condition {label(mets)} does not say the day the liver metastases were "
                          f"found (onsetDateTime).")
        count = extension_value(mets, c.EXT["count"])
        if count is None:
            raise Refused(f"Condition {label(mets)} does not say how many liver metastases there are "
                          f"(the tracker needs the number; the extension {c.EXT['count']}).")
        out: dict[str, Any] = {
            "ref": ref, "ecog": self.ecog(),
            "primary": {"site": site, "diagnosed_on": diagnosed,
                        "symptoms": self.symptoms(primary),
                        "t_stage": extension_value(primary, c.EXT["t_stage"]),
                        "n_stage": extension_value(primary, c.EXT["n_stage"]),
                        "resected_on": self.primary_resection()},
            "metastases": {"detected_on": detected, "count": count, "max_size_mm": self.largest(mets),
                           "extrahepatic": bool(extrahepatic)},
            "biomarkers": self.biomarkers(),
        }
        prior = self.prior_oxaliplatin()
        if prior is not None:
            out["prior_oxaliplatin"] = prior
        return out

    def symptoms(self, primary: Mapping[str, Any]) -> list[str]:
        found = [lookup(e.get("valueCodeableConcept"), c.SYMPTOMS)
                 for e in extensions(primary, c.EXT["symptom"])]
        return [s for s in found if s]

    def use(self, *resources: Mapping[str, Any]) -> None:
        self.used.update(label(r) for r in resources)

    def cancer_conditions(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        primaries, secondary = [], []
        for r in self.resources:
            if r["resourceType"] != "Condition" or has(r.get("clinicalStatus"), c.RECURRENCE):
                continue
            profiles = (r.get("meta") or {}).get("profile") or []
            icd = [code for system, code in codings(r.get("code")) if system == c.ICD10CM]
            if c.PROFILE["secondary"] in profiles or any(code[:3] in ("C77", "C78", "C79") for code in icd):
                secondary.append(r)
            elif c.PROFILE["primary"] in profiles or any(code[:3] in ("C18", "C19", "C20") for code in icd):
                primaries.append(r)
        colorectal = [p for p in primaries if _colorectal(p)]
        if not colorectal:
            if primaries:
                first = primaries[0]
                raise Refused(f"Condition {label(first)} is {_what_cancer(first)}: {NOT_OURS}.")
            raise Refused(f"Patient {self.result.resource} has no primary cancer condition: {NOT_OURS}, "
                          f"and needs the colorectal primary (mcode-primary-cancer-condition).")
        if len(colorectal) > 1:
            raise Refused(f"Patient {self.result.resource} has {len(colorectal)} colorectal primary cancers "
                          f"({', '.join(label(p) for p in colorectal)}); the tracker follows one.")
        for other in primaries:
            if other is not colorectal[0]:
                self.use(other)
                self.skip(other, f"it is {_what_cancer(other)}, a second primary; the tracker follows "
                                 f"the colorectal one ({label(colorectal[0])})")
        return colorectal[0], secondary

    def site(self, primary: Mapping[str, Any]) -> str:
        found = set()
        for key, site in c.SITES.items():
            if has(primary.get("code"), site.disorder):
                found.add(key)
            for body in primary.get("bodySite") or []:
                if any(code is not None and has(body, code) for code in (site.topography, site.structure)):
                    found.add(key)
        if len(found) > 1:
            raise Refused(f"Condition {label(primary)} names more than one site "
                          f"({', '.join(sorted(found))}); the tracker needs the one primary site.")
        if not found:
            unsited = next((w for code, w in c.COLORECTAL_UNSITED.items()
                            if (c.ICD10CM, code) in codings(primary.get("code"))), "no site it knows")
            raise Refused(f"Condition {label(primary)} gives {unsited}; the tracker needs the primary's "
                          f"site (cecum ... rectum) to know its side.")
        return found.pop()

    def observations(self, code: c.Code) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["resourceType"] == "Observation" and has(r.get("code"), code)]

    def ecog(self) -> int | None:
        found = sorted(self.observations(c.ECOG), key=lambda r: str(r.get("effectiveDateTime") or ""))
        self.use(*found)
        for earlier in found[:-1]:
            self.skip(earlier, f"an earlier ECOG; the tracker keeps one, the latest ({label(found[-1])})")
        return found[-1].get("valueInteger") if found else None

    def largest(self, mets: Mapping[str, Any]) -> float:
        sizes = []
        for r in self.observations(c.TUMOR_SIZE):
            self.use(r)
            if not any(reference_key(f) == label(mets) for f in r.get("focus") or []):
                self.skip(r, f"it does not measure the liver metastases ({label(mets)})")
                continue
            for comp in r.get("component") or []:
                quantity = comp.get("valueQuantity") or {}
                if has(comp.get("code"), c.LONGEST_DIMENSION) and quantity.get("value") is not None:
                    unit = quantity.get("code") or quantity.get("unit")
                    factor = {"mm": 1, "cm": 10}.get(str(unit))
                    if factor is None:
                        self.skip(r, f"its size is in {unit!r}; the tracker reads mm or cm")
                        continue
                    sizes.append(float(quantity["value"]) * factor)
        if not sizes:
            raise Refused(f"Patient {self.result.resource} has no size of the largest liver metastasis "
                          f"(an mcode-tumor-size observation of {label(mets)} in mm or cm).")
        return max(sizes)

    def biomarkers(self) -> dict[str, str]:
        found: dict[str, tuple[str, str]] = {}  # marker -> (status, the resource that said it)

        def note(marker: str, status: str, r: Mapping[str, Any]) -> None:
            if marker in found and found[marker][0] != status:
                self.skip(r, f"{marker.upper()} {status.replace('_', ' ')} contradicts {found[marker][1]} "
                             f"({found[marker][0].replace('_', ' ')}); the first is kept")
                return
            found.setdefault(marker, (status, label(r)))

        for r in self.observations(c.VARIANT):
            self.use(r)
            genes = {g for g, code in c.GENES.items()
                     if any(has(comp.get("valueCodeableConcept"), code) for comp in r.get("component") or [])}
            value = r.get("valueCodeableConcept")
            present = has(value, c.PRESENT)
            if not genes or not (present or has(value, c.ABSENT)):
                self.skip(r, "it is not a KRAS, NRAS or BRAF result the tracker uses (present or absent)")
                continue
            if "BRAF" in genes:
                note("braf", "mutant" if present else "wild_type", r)
            ras = genes & set(c.RAS_GENES)
            if present and ras:
                note("ras", "mutant", r)
            elif ras == set(c.RAS_GENES):
                note("ras", "wild_type", r)
            elif ras:
                self.skip(r, f"{' and '.join(sorted(ras))} without the other RAS gene: RAS wild type needs "
                             f"both KRAS and NRAS")
        for r in self.observations(c.MSI):
            self.use(r)
            value = r.get("valueCodeableConcept")
            if has(value, c.MSI_HIGH):
                note("mmr", "dMMR", r)
            elif has(value, c.MSI_STABLE) or has(value, c.MSI_LOW):
                note("mmr", "pMMR", r)  # MSI-L behaves as MSS (pMMR)
            else:
                self.skip(r, f"MSI result {words(value)!r} is not one the tracker reads "
                             f"(MSI-H, MSI-L, stable)")
        return {"mmr": found.get("mmr", ("unknown",))[0], "ras": found.get("ras", ("unknown",))[0],
                "braf": found.get("braf", ("unknown",))[0]}

    def prior_oxaliplatin(self) -> dict[str, Any] | None:
        for r in self.resources:
            ext = next(iter(extensions(r, c.EXT["prior_oxaliplatin"])), None)
            if r["resourceType"] == "MedicationRequest" and ext is not None:
                self.use(r)
                given = parts(ext)
                return {"last_dose_on": given.get("lastDose"), "relapsed_on": given.get("relapse")}
        return None

    def primary_resection(self) -> str | None:
        """The primary's resection before the journey: a primary resection that is not an entry."""
        for r in self.resources:
            if (r["resourceType"] == "Procedure" and not extensions(r, c.EXT["entry"])
                    and lookup(r.get("code"), c.PROCEDURES) == "primary_resection"):
                self.use(r)
                return date_part(r.get("performedDateTime"))
        return None

    # -- the entries --------------------------------------------------------------------------
    def add(self, raw: dict[str, Any], meta: Mapping[str, Any] | None, resource: Mapping[str, Any],
            position: int, sub: int = 0) -> None:
        meta = meta or {}
        order = meta.get("order")
        if meta.get("override"):
            raw["override"] = meta["override"]
        # an entry carried inside another resource has its note in its extension
        note = meta.get("note") if sub else _note(resource)
        if note:
            raw["note"] = note
        key = (0, order, 0, 0) if isinstance(order, int) else (1, raw.get("date") or "", position, sub)
        self.events.append((key, raw, order if isinstance(order, int) else None, label(resource)))

    def entry(self, r: dict[str, Any], position: int) -> None:
        kind = r["resourceType"]
        reader = {"CarePlan": self.mdt_review, "MedicationRequest": self.line,
                  "Observation": self.observation, "Procedure": self.procedure,
                  "Condition": self.condition, "EpisodeOfCare": self.episode,
                  "Basic": self.basic, "Task": self.task}.get(kind)
        if reader is None:
            self.skip(r, f"a {kind} is not something the tracker records")
            return
        reader(r, position)

    def meta(self, r: Mapping[str, Any]) -> dict[str, Any] | None:
        """The journey-entry extension of a resource that is one entry (its first without a type)."""
        for ext in extensions(r, c.EXT["entry"]):
            given = parts(ext)
            if "type" not in given:
                return given
        return None

    def mdt_review(self, r: dict[str, Any], position: int) -> None:
        resectable = extension_value(r, c.EXT["resectable"])
        day = date_part(r.get("created") or (r.get("period") or {}).get("start"))
        if resectable is None or day is None:
            self.skip(r, "a care plan that does not say the day and whether the liver metastases are "
                         "resectable is not an MDT review the tracker can record")
            return
        raw: dict[str, Any] = {"date": day, "type": "mdt_review", "resectable": resectable}
        plans = [lookup(cat, c.PLANS) for cat in r.get("category") or []]
        if any(plans):
            raw["plan"] = next(p for p in plans if p)
        for key, name in (("simultaneous", "simultaneous_feasible"), ("pelvic_rt", "pelvic_rt_indicated")):
            value = extension_value(r, c.EXT[key])
            if value is not None:
                raw[name] = value
        self.add(raw, self.meta(r), r, position)

    def line(self, r: dict[str, Any], position: int) -> None:
        regimen = lookup(r.get("medicationCodeableConcept"), c.REGIMENS)
        day = date_part(r.get("authoredOn"))
        if regimen is None or day is None:
            self.skip(r, f"{words(r.get('medicationCodeableConcept')) or 'this medication'} is not a regimen "
                         f"the tracker records ({', '.join(c.REGIMENS)}); record the line by hand")
            return
        raw: dict[str, Any] = {"date": day, "type": "systemic_started", "regimen": regimen}
        biologic = lookup(extension_value(r, c.EXT["biologic"]), c.BIOLOGICS)
        if biologic:
            raw["biologic"] = biologic
        self.add(raw, self.meta(r), r, position)
        subs = [parts(e) for e in extensions(r, c.EXT["entry"]) if "type" in parts(e)]
        for n, given in enumerate(subs, start=1):
            self.add(_whole_entry(given), given, r, position, sub=n)
        if not subs and r.get("status") in ("stopped", "completed") and not extensions(r, c.EXT["entry"]):
            timing = ((r.get("dosageInstruction") or [{}])[0].get("timing") or {}).get("repeat") or {}
            end = date_part((timing.get("boundsPeriod") or {}).get("end"))
            if end:
                reason = "completed" if r["status"] == "completed" else (
                    lookup(r.get("statusReason"), c.TERMINATION) or "other")
                self.add({"date": end, "type": "systemic_stopped", "reason": reason}, None, r, position,
                         sub=1)

    def observation(self, r: dict[str, Any], position: int) -> None:
        if _is_margin(r):
            self.skip(r, "a resection margin whose operation is not in the input")
            return
        if not has(r.get("code"), c.DISEASE_STATUS):
            self.skip(r, f"{words(r.get('code')) or 'this observation'} is not something the tracker records")
            return
        day = date_part(r.get("effectiveDateTime"))
        components = {lookup(comp.get("code"), c.OBSERVATIONS): comp for comp in r.get("component") or []}
        response = lookup((components.get("recist-response") or {}).get("valueCodeableConcept"), c.RECIST)
        resectable = (components.get("liver-resectable") or {}).get("valueBoolean")
        if day and response and resectable is not None:
            raw = {"date": day, "type": "reassessment", "response": response, "resectable": resectable}
        elif day and not components and has(r.get("valueCodeableConcept"), c.WORSENED):
            raw = {"date": day, "type": "progression"}
        else:
            self.skip(r, "a disease status without a RECIST response and a resectability judgement is "
                         "not a reassessment, and the disease did not worsen (progression)")
            return
        self.add(raw, self.meta(r), r, position)

    def procedure(self, r: dict[str, Any], position: int) -> None:
        procedure = lookup(r.get("code"), c.PROCEDURES)
        day = date_part(r.get("performedDateTime") or (r.get("performedPeriod") or {}).get("start"))
        if procedure is None or day is None:
            self.skip(r, f"{words(r.get('code')) or 'this procedure'} is not an operation the tracker "
                         f"records (it reads its own procedure codes: {', '.join(c.PROCEDURES)})")
            return
        if procedure == "pelvic_radiotherapy":
            status = {"in-progress": "started", "completed": "completed"}.get(r.get("status", ""))
            if status is None:
                self.skip(r, f"radiotherapy with status {r.get('status')!r}: the tracker records it started "
                             f"(in-progress) or completed")
                return
            self.add({"date": day, "type": "radiotherapy", "target": "pelvis", "status": status},
                     self.meta(r), r, position)
            return
        raw: dict[str, Any] = {"date": day, "type": "surgery", "procedure": procedure}
        if label(r) in self.margins:
            margin = lookup(self.margins[label(r)].get("valueCodeableConcept"), c.MARGINS)
            if margin:
                raw["margin"] = margin
        stage = extension_value(r, c.EXT["stage"])
        if stage is not None:
            raw["stage"] = stage
        self.add(raw, self.meta(r), r, position)

    def condition(self, r: dict[str, Any], position: int) -> None:
        day = date_part(r.get("onsetDateTime"))
        if not has(r.get("clinicalStatus"), c.RECURRENCE) or day is None:
            self.skip(r, f"{words(r.get('code')) or 'this condition'} is not a cancer the tracker follows "
                         f"(other conditions are not recorded)")
            return
        site = lookup(extension_value(r, c.EXT["recurrence_site"]), c.RECURRENCE_SITES)
        if site is None:
            site = "liver_only" if _is_liver(r) else "extrahepatic"
        self.add({"date": day, "type": "recurrence", "site": site}, self.meta(r), r, position)

    def episode(self, r: dict[str, Any], position: int) -> None:
        subs = [parts(e) for e in extensions(r, c.EXT["entry"])]
        for n, given in enumerate(subs, start=1):
            self.add(_whole_entry(given), given, r, position, sub=n)
        period = r.get("period") or {}
        if not subs and r.get("status") == "finished" and date_part(period.get("end")):
            self.skip(r, "an episode of care that ended without saying why (death, transfer, lost to "
                         "follow-up): record the closure by hand")

    def basic(self, r: dict[str, Any], position: int) -> None:
        subs = [parts(e) for e in extensions(r, c.EXT["entry"])]
        if not subs:
            self.skip(r, "a Basic resource is not something the tracker records")
        for n, given in enumerate(subs, start=1):
            self.add(_whole_entry(given), given, r, position, sub=n)

    def task(self, r: dict[str, Any], position: int) -> None:
        self.result.derived.append(label(r))

    def death_from_patient(self) -> None:
        """Death from Patient.deceasedDateTime when no entry carries it."""
        if any(e.get("type") == "death" for _, e, _, _ in self.events):
            return
        day = date_part(self.patient.get("deceasedDateTime"))
        if day:
            self.add({"date": day, "type": "death"}, None, self.patient, -1)
        elif self.patient.get("deceasedBoolean"):
            self.result.unmapped.append(Unmapped(self.result.resource, "the patient died, but the day is not "
                                                                       "given; record the death by hand"))


def _whole_entry(given: Mapping[str, Any]) -> dict[str, Any]:
    raw = {"date": given.get("date"), "type": given.get("type")}
    raw.update({k: v for k, v in given.items() if k not in ENTRY_KEYS})
    return raw


def _note(resource: Mapping[str, Any]) -> str | None:
    notes = [str(n["text"]) for n in resource.get("note") or [] if isinstance(n, Mapping) and n.get("text")]
    return "\n".join(notes) if notes else None


def _is_margin(resource: Mapping[str, Any]) -> bool:
    return resource["resourceType"] == "Observation" and has(resource.get("code"),
                                                              c.OBSERVATIONS["resection-margin"])


def _is_liver(condition: Mapping[str, Any]) -> bool:
    return has(condition.get("code"), c.LIVER_METASTASES) or any(
        has(b, c.LIVER_STRUCTURE) or has(b, c.LIVER_TOPOGRAPHY) for b in condition.get("bodySite") or [])


def _colorectal(condition: Mapping[str, Any]) -> bool:
    pairs = set(codings(condition.get("code")))
    for body in condition.get("bodySite") or []:
        pairs |= set(codings(body))
    colorectal = {(s.disorder.system, s.disorder.code) for s in c.SITES.values()}
    colorectal |= {(s.topography.system, s.topography.code) for s in c.SITES.values()}
    colorectal |= {(s.structure.system, s.structure.code) for s in c.SITES.values() if s.structure}
    colorectal |= {(c.ICD10CM, code) for code in c.COLORECTAL_UNSITED}
    return bool(pairs & colorectal)


def _what_cancer(condition: Mapping[str, Any]) -> str:
    said = " ".join([words(condition.get("code"))] + [words(b) for b in condition.get("bodySite") or []])
    lowered = said.lower()
    if (c.ICD10CM, c.APPENDIX) in codings(condition.get("code")):
        return "an appendix cancer"
    for word, what in CANCER_WORDS:
        if word in lowered:
            return what
    code = (codings(condition.get("code")) or [("", "")])[0][1]
    return f"{words(condition.get('code')) or 'a condition'!r} ({code or 'no code'}), not a colorectal cancer"
