"""Scenario files (contract §1): a patient, events in any order, and the day to replay to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from journey.course import Refusal
from journey.dates import parse_clinical_date
from journey.errors import ImpossibleEntry, InvalidScenario
from journey.events import ClinicalEvent, read_event
from journey.profile import PatientProfile, read_profile


@dataclass(frozen=True)
class Scenario:
    profile: PatientProfile
    events: list[ClinicalEvent]
    #: entries refused before they reach the pathway (unknown type or value, unreadable date)
    unreadable: list[Refusal]
    as_of: date | None


def read_scenario(raw: object) -> Scenario:
    """Check the shape of a scenario. A file that does not match raises InvalidScenario; single
    entries that cannot be read are kept as refusals with their index in the file."""
    if not isinstance(raw, Mapping):
        raise InvalidScenario("A scenario must have a 'patient' and a list of 'events'.")
    if "scenario" in raw and "patient" not in raw and isinstance(raw["scenario"], Mapping):
        raw = raw["scenario"]  # a contract example file with its expectations beside it
    if "patient" not in raw:
        raise InvalidScenario("The scenario has no 'patient' section.")
    unknown = sorted(str(k) for k in raw if k not in ("patient", "events", "as_of", "expect"))
    if unknown:
        raise InvalidScenario(f"The scenario has sections the tracker does not know: "
                              f"{', '.join(unknown)} (known: patient, events, as_of).")
    profile = read_profile(raw["patient"])
    entries = raw.get("events") or []
    if not isinstance(entries, list):
        raise InvalidScenario("'events' must be a list of entries.")
    as_of = None
    if raw.get("as_of") is not None:
        try:
            as_of = parse_clinical_date(raw["as_of"], "The scenario's as_of")
        except ImpossibleEntry as e:
            raise InvalidScenario(e.message) from None
    events: list[ClinicalEvent] = []
    unreadable: list[Refusal] = []
    for index, entry in enumerate(entries):
        try:
            events.append(read_event(entry, seq=index))
        except ImpossibleEntry as e:
            kind = entry.get("type") if isinstance(entry, Mapping) else None
            unreadable.append(Refusal(index, str(kind) if kind is not None else None, e.message,
                                      impossible=True))
    return Scenario(profile, events, unreadable, as_of)
