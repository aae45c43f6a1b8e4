"""The event vocabulary of the contract (§1): what can be recorded about a patient, and how each
entry is checked before the pathway sees it. Refusals are sentences a nurse understands."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from journey.dates import parse_clinical_date, safe_str, shown
from journey.errors import ImpossibleEntry

MAX_TEXT = 500
#: ``date`` under another name, for annotations inside classes with a field called ``date``
Day = date


class EventType(StrEnum):
    MDT_REVIEW = "mdt_review"
    SYSTEMIC_STARTED = "systemic_started"
    SYSTEMIC_STOPPED = "systemic_stopped"
    SYSTEMIC_PAUSED = "systemic_paused"
    SYSTEMIC_RESUMED = "systemic_resumed"
    REASSESSMENT = "reassessment"
    RADIOTHERAPY = "radiotherapy"
    SURGERY = "surgery"
    RECURRENCE = "recurrence"
    PROGRESSION = "progression"
    DEATH = "death"
    TRANSFER = "transfer"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up"
    RETURNED = "returned"


CLOSING_EVENTS = (EventType.DEATH, EventType.TRANSFER, EventType.LOST_TO_FOLLOW_UP)
#: closures a patient can come back from (contract §7.9): not death
REOPENABLE_CLOSINGS = (EventType.TRANSFER, EventType.LOST_TO_FOLLOW_UP)

PLANS = ("perioperative", "upfront_surgery", "conversion", "immunotherapy", "primary_first",
         "liver_first", "simultaneous", "salvage", "surveillance")
SURGICAL_PLANS = ("upfront_surgery", "primary_first", "liver_first", "simultaneous")
REGIMENS = ("FOLFOX", "CAPOX", "FOLFIRI", "FOLFOXIRI", "FOLFIRINOX", "IMMUNOTHERAPY", "OTHER")
#: a line of this regimen is systemic therapy but not chemotherapy (contract §7.5)
IMMUNOTHERAPY = "IMMUNOTHERAPY"
OXALIPLATIN_REGIMENS = ("FOLFOX", "CAPOX")
TRIPLET_REGIMENS = ("FOLFOXIRI", "FOLFIRINOX")
BIOLOGICS = ("anti_egfr", "bevacizumab", "none")
STOP_REASONS = ("completed", "surgery", "progression", "toxicity", "patient_choice", "other")
PAUSE_REASONS = ("toxicity", "patient_choice", "intercurrent_illness", "other")
RESPONSES = ("CR", "PR", "SD", "PD")
PROCEDURES = ("liver_resection", "ablation", "primary_resection", "simultaneous_resection",
              "portal_vein_embolisation")
#: the operations on the liver metastases; portal vein embolisation prepares one and is not one
LIVER_PROCEDURES = ("liver_resection", "ablation", "simultaneous_resection")
#: the liver operations that resect (contract §4 "last liver resection", §5 "R1 liver resection"):
#: an ablation treats the liver too, but an R1 margin there is not an R1 resection
LIVER_RESECTIONS = ("liver_resection", "simultaneous_resection")
PRIMARY_PROCEDURES = ("primary_resection", "simultaneous_resection")
EMBOLISATION = "portal_vein_embolisation"
MARGINS = ("R0", "R1", "R2")
#: the two stages of a two-stage liver operation (contract §7.6)
STAGES = (1, 2)
RECURRENCE_SITES = ("liver_only", "extrahepatic", "both")
RT_TARGETS = ("pelvis",)
RT_STATUSES = ("started", "completed")

#: the coded reasons for an override (an off-pathway step taken on purpose), as pathway programmes
#: code them, with the words shown for each; free text may go with any of them, and an override
#: in free text alone is "another reason" (``override_code`` absent)
OVERRIDE_REASONS: dict[str, str] = {
    "toxicity_or_comorbidity": "toxicity or comorbidity",
    "prior_treatment": "prior treatment",
    "new_indication": "new indication",
    "continued_from_elsewhere": "treatment continued from elsewhere",
    "mdt_rationale": "MDT rationale",
    "patient_preference": "patient preference",
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str  # how a nurse calls it
    kind: str  # "choice" | "bool" | "number" (one of ``choices``, whole numbers written as text)
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class EventSpec:
    type: EventType
    label: str
    fields: tuple[FieldSpec, ...] = ()

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


def _choice(name: str, label: str, choices: tuple[str, ...], required: bool = False) -> FieldSpec:
    return FieldSpec(name, label, "choice", choices, required)


def _flag(name: str, label: str, required: bool = False) -> FieldSpec:
    return FieldSpec(name, label, "bool", (), required)


def _number(name: str, label: str, choices: tuple[int, ...]) -> FieldSpec:
    return FieldSpec(name, label, "number", tuple(str(c) for c in choices))


#: The vocabulary, declared once: the CLI, the web form and the validator all read it.
EVENT_SPECS: dict[EventType, EventSpec] = {spec.type: spec for spec in (
    EventSpec(EventType.MDT_REVIEW, "MDT review", (
        _flag("resectable", "resectable", required=True),
        _choice("plan", "plan", PLANS),
        _flag("simultaneous_feasible", "simultaneous resection feasible"),
        _flag("pelvic_rt_indicated", "pelvic radiotherapy indicated"))),
    EventSpec(EventType.SYSTEMIC_STARTED, "systemic therapy started", (
        _choice("regimen", "regimen", REGIMENS, required=True),
        _choice("biologic", "biologic", BIOLOGICS))),
    EventSpec(EventType.SYSTEMIC_STOPPED, "systemic therapy stopped", (
        _choice("reason", "reason", STOP_REASONS, required=True),)),
    EventSpec(EventType.SYSTEMIC_PAUSED, "systemic therapy held", (
        _choice("reason", "reason", PAUSE_REASONS, required=True),)),
    EventSpec(EventType.SYSTEMIC_RESUMED, "systemic therapy resumed", (
        _choice("regimen", "regimen (when it changed)", REGIMENS),)),
    EventSpec(EventType.REASSESSMENT, "resectability reassessment", (
        _choice("response", "response (RECIST)", RESPONSES, required=True),
        _flag("resectable", "resectable", required=True))),
    EventSpec(EventType.RADIOTHERAPY, "pelvic radiotherapy", (
        _choice("target", "target", RT_TARGETS, required=True),
        _choice("status", "status", RT_STATUSES, required=True))),
    EventSpec(EventType.SURGERY, "operation", (
        _choice("procedure", "procedure", PROCEDURES, required=True),
        _choice("margin", "margin", MARGINS),
        _number("stage", "stage of a two-stage liver operation", STAGES))),
    EventSpec(EventType.RECURRENCE, "recurrence", (
        _choice("site", "site", RECURRENCE_SITES, required=True),)),
    EventSpec(EventType.PROGRESSION, "progression"),
    EventSpec(EventType.DEATH, "death"),
    EventSpec(EventType.TRANSFER, "transfer to another centre"),
    EventSpec(EventType.LOST_TO_FOLLOW_UP, "lost to follow-up"),
    EventSpec(EventType.RETURNED, "return to this centre's care"),
)}

#: keys every entry may carry besides its own fields
COMMON_KEYS = ("date", "type", "override", "override_code", "note")

#: how a recorded value reads in words, where its code alone does not say it (RECIST responses)
VALUE_WORDS: dict[str, str] = {
    "CR": "CR (complete response)", "PR": "PR (partial response)", "SD": "SD (stable disease)",
    "PD": "PD (progressive disease)", "R0": "R0 (clear margins)", "R1": "R1 (microscopic disease at "
    "the margin)", "R2": "R2 (disease left behind)", "pMMR": "pMMR (mismatch-repair proficient)",
    "dMMR": "dMMR (mismatch-repair deficient)",
}


@dataclass(frozen=True)
class ClinicalEvent:
    """One validated entry. ``seq`` orders entries of the same date (file or recording order)."""

    type: EventType
    date: date
    fields: Mapping[str, Any] = field(default_factory=dict)
    override: str | None = None
    note: str | None = None
    seq: int = 0
    #: the coded reason of the override (one of OVERRIDE_REASONS); None for free text alone
    override_code: str | None = None

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    @property
    def sort_key(self) -> tuple[Day, int]:
        return (self.date, self.seq)

    def to_dict(self) -> dict[str, Any]:
        """The entry in the scenario format."""
        out: dict[str, Any] = {"date": self.date.isoformat(), "type": self.type.value}
        out.update(self.fields)
        if self.override:
            out["override"] = self.override
        if self.override_code:
            out["override_code"] = self.override_code
        if self.note:
            out["note"] = self.note
        return out

    @property
    def override_words(self) -> str | None:
        """The override as a reader reads it: its coded reason and what was typed with it."""
        if not self.override:
            return None
        coded = OVERRIDE_REASONS.get(self.override_code or "")
        if coded is None or self.override == coded:
            return coded or self.override
        return f"{coded}: {self.override}"

    def fields_in_words(self) -> list[tuple[str, str]]:
        """(label, value) of each recorded field, as a nurse reads them: "resectable: yes",
        "response (RECIST): PR (partial response)", "procedure: liver resection"."""
        spec = EVENT_SPECS[self.type]
        out = []
        for name, value in self.fields.items():
            f = spec.field(name)
            out.append((f.label if f is not None else name.replace("_", " "), value_in_words(value)))
        return out


def value_in_words(value: object) -> str:
    """A recorded value in words: yes/no for flags, codes spelled out, underscores as spaces."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return VALUE_WORDS.get(text, text.replace("_", " "))


def with_article(label: str) -> str:
    """'An MDT review', 'An operation', 'A reassessment'."""
    article = "An" if label[0] in "aeiou" or label.startswith("MDT") else "A"
    return f"{article} {label}"


def clean_text(value: object, what: str) -> str:
    """Free text a person typed: trimmed, printable, not too long."""
    if not isinstance(value, str):
        raise ImpossibleEntry(f"{what} must be text.")
    text = value.strip()
    if not text:
        raise ImpossibleEntry(f"{what} cannot be empty.")
    if len(text) > MAX_TEXT:
        raise ImpossibleEntry(f"{what} is too long ({len(text)} characters; at most {MAX_TEXT}).")
    if any(not (ch.isprintable() or ch in "\n\t") for ch in text):
        raise ImpossibleEntry(f"{what} contains control characters; type it again as plain text.")
    return text


def read_event(raw: object, seq: int = 0) -> ClinicalEvent:
    """Check one entry against the vocabulary. Raises ImpossibleEntry naming what is wrong."""
    if not isinstance(raw, Mapping):
        raise ImpossibleEntry("Each entry must be a set of named fields (date, type, ...).")
    type_raw = raw.get("type")
    try:
        event_type = EventType(str(type_raw))
    except ValueError:
        raise ImpossibleEntry(
            f"{shown(type_raw)} is not something the tracker can record. Known entries: "
            f"{', '.join(t.value for t in EventType)}.") from None
    spec = EVENT_SPECS[event_type]
    if "date" not in raw or raw.get("date") is None:
        raise ImpossibleEntry(f"The {spec.label} has no date; give the day it happened (YYYY-MM-DD).")
    day = parse_clinical_date(raw["date"], f"The date of the {spec.label}")
    unknown = sorted(safe_str(k) for k in raw if k not in COMMON_KEYS and spec.field(safe_str(k)) is None)
    if unknown:
        known = ", ".join(f.name for f in spec.fields) or "none"
        raise ImpossibleEntry(f"{with_article(spec.label)} has no field {', '.join(unknown)} "
                              f"(its fields: {known}).")
    fields: dict[str, Any] = {}
    for f in spec.fields:
        value = raw.get(f.name)
        if value is None:
            if f.required:
                raise ImpossibleEntry(f"The {spec.label} needs its {f.label} ({_expected(f)}).")
            continue
        fields[f.name] = _checked_value(spec, f, value)
    override_code = _override_code(raw.get("override_code"))
    override = raw.get("override")
    override = clean_text(override, "The override reason") if override is not None else None
    if override_code is not None and override is None:
        override = OVERRIDE_REASONS[override_code]  # the code's words stand as the reason
    note = raw.get("note")
    note = clean_text(note, "The note") if note is not None else None
    return ClinicalEvent(type=event_type, date=day, fields=fields, override=override,
                         override_code=override_code, note=note, seq=seq)


def _override_code(value: object) -> str | None:
    if value is None:
        return None
    code = value.strip() if isinstance(value, str) else None
    if code not in OVERRIDE_REASONS:
        raise ImpossibleEntry(f"{shown(value)} is not a coded override reason; use one of "
                              f"{', '.join(OVERRIDE_REASONS)} (or give the reason in words alone).")
    return str(code)


def stored_event(payload: Mapping[str, Any], seq: int) -> ClinicalEvent:
    """An entry as :meth:`ClinicalEvent.to_dict` stored it after :func:`read_event` accepted it:
    read back as it is, without checking its fields again. A stored entry that is not even shaped
    like one (altered outside the tracker) is read by :func:`read_event`, which says what is
    wrong in words (ImpossibleEntry)."""
    try:
        return ClinicalEvent(type=EventType(payload["type"]), date=date.fromisoformat(payload["date"]),
                             fields={k: v for k, v in payload.items() if k not in COMMON_KEYS},
                             override=payload.get("override"), override_code=payload.get("override_code"),
                             note=payload.get("note"), seq=seq)
    except (KeyError, TypeError, ValueError):
        return read_event(payload, seq=seq)


def _expected(f: FieldSpec) -> str:
    if f.kind == "bool":
        return "yes or no"
    if f.kind == "number":
        return " or ".join(f.choices)
    return "one of " + ", ".join(f.choices)


def _checked_value(spec: EventSpec, f: FieldSpec, value: object) -> Any:
    if f.kind == "number":
        text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else None
        if text in f.choices:
            return int(text)
        raise ImpossibleEntry(f"The {spec.label}'s {f.label} must be {_expected(f)}, "
                              f"not {shown(value)}.")
    if f.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "false", "no"):
            return value.strip().lower() in ("true", "yes")
        raise ImpossibleEntry(f"The {spec.label}'s {f.label} must be yes or no, not {shown(value)}.")
    if isinstance(value, str):
        match = next((c for c in f.choices if c.lower() == value.strip().lower()), None)
        if match is not None:
            return match
    raise ImpossibleEntry(f"The {spec.label}'s {f.label} must be {_expected(f)}, "
                          f"not {shown(value)}.")
