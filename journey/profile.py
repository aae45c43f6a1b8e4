"""The patient profile of the contract (§1), validated, with derived timing and sidedness."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from journey.dates import add_months, parse_clinical_date, safe_str, shown
from journey.errors import ImpossibleEntry, InvalidScenario

RIGHT_SIDED_SITES = ("cecum", "ascending", "hepatic_flexure", "transverse")
LEFT_SIDED_SITES = ("splenic_flexure", "descending", "sigmoid", "rectosigmoid", "rectum")
PRIMARY_SITES = RIGHT_SIDED_SITES + LEFT_SIDED_SITES
SYMPTOMS = ("bleeding", "obstruction", "perforation")
MMR_SYNONYMS = {"pmmr": "pMMR", "mss": "pMMR", "dmmr": "dMMR", "msi-h": "dMMR", "msi_h": "dMMR",
                "msih": "dMMR", "unknown": "unknown"}
MUTATION_STATUSES = ("wild_type", "mutant", "unknown")
#: the largest liver metastasis ever described is far below this; larger values are typing errors
MAX_METASTASIS_MM = 300
MAX_METASTASIS_COUNT = 200
#: besides letters and digits, the characters a patient reference may hold (hospital numbers,
#: pseudonyms): no spaces, quotes or semicolons, nothing a spreadsheet reads as a formula
REF_PUNCTUATION = "-_./:#"
#: no patient alive was diagnosed before this year; earlier dates are typing errors
EARLIEST_YEAR = 1900


class Timing(StrEnum):
    SYNCHRONOUS = "synchronous"
    METACHRONOUS = "metachronous"


class Sidedness(StrEnum):
    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True)
class Primary:
    site: str
    diagnosed_on: date
    symptoms: tuple[str, ...] = ()
    t_stage: str | None = None
    n_stage: str | None = None
    resected_on: date | None = None

    @property
    def sidedness(self) -> Sidedness:
        return Sidedness.RIGHT if self.site in RIGHT_SIDED_SITES else Sidedness.LEFT

    @property
    def symptomatic(self) -> bool:
        return bool(self.symptoms)


@dataclass(frozen=True)
class Metastases:
    detected_on: date
    count: int
    max_size_mm: float
    extrahepatic: bool = False


@dataclass(frozen=True)
class Biomarkers:
    mmr: str = "unknown"  # pMMR | dMMR | unknown
    ras: str = "unknown"  # wild_type | mutant | unknown
    braf: str = "unknown"


@dataclass(frozen=True)
class PriorOxaliplatin:
    last_dose_on: date | None = None
    relapsed_on: date | None = None


@dataclass(frozen=True)
class PatientProfile:
    ref: str
    primary: Primary
    metastases: Metastases
    biomarkers: Biomarkers = field(default_factory=Biomarkers)
    ecog: int | None = None
    prior_oxaliplatin: PriorOxaliplatin | None = None

    @property
    def sidedness(self) -> Sidedness:
        return self.primary.sidedness

    def timing(self, synchronous_window_days: int = 0) -> Timing:
        """Synchronous when the metastases were found on or before the primary's diagnosis, or
        within the window after it (contract §1)."""
        limit = self.primary.diagnosed_on + timedelta(days=synchronous_window_days)
        return Timing.SYNCHRONOUS if self.metastases.detected_on <= limit else Timing.METACHRONOUS

    @property
    def rectal(self) -> bool:
        return self.primary.site == "rectum"

    @property
    def oxaliplatin_relapse_on(self) -> date | None:
        """The relapse after adjuvant oxaliplatin: as recorded, or else the day the liver
        metastases were found (contract §7.8; the recorded value is never rewritten)."""
        if self.prior_oxaliplatin is None:
            return None
        return self.prior_oxaliplatin.relapsed_on or self.metastases.detected_on

    @property
    def oxaliplatin_failure_within_12_months(self) -> bool | None:
        """True when the relapse came at most 12 calendar months after the last adjuvant
        oxaliplatin dose (seed:34); None when the last dose's date is missing."""
        prior, relapsed = self.prior_oxaliplatin, self.oxaliplatin_relapse_on
        if prior is None:
            return False
        if prior.last_dose_on is None or relapsed is None:
            return None
        return relapsed <= add_months(prior.last_dose_on, 12)

    @property
    def good_performance_status(self) -> bool | None:
        return None if self.ecog is None else self.ecog <= 1


# ---------------------------------------------------------------------------------------------
# Reading a profile from a scenario mapping


def _value_kind(value: object) -> str:
    """What a reader made of an unquoted value: a number, a date, a yes/no..."""
    if isinstance(value, bool):
        return "yes/no value"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, date | datetime):
        return "date"
    return "list or set of fields" if isinstance(value, list | dict) else "value"


def read_profile(raw: object) -> PatientProfile:
    """Validate the ``patient`` block of a scenario. Raises InvalidScenario with every problem."""
    reader = _Reader()
    profile = reader.profile(raw)
    if reader.problems:
        raise InvalidScenario("The patient description has problems: " + " ".join(reader.problems))
    assert profile is not None
    return profile


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def mapping(self, raw: object, what: str) -> Mapping[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, Mapping):
            self.fail(f"{what} must be a set of named fields.")
            return {}
        return raw

    def date(self, raw: Mapping[str, Any], key: str, what: str, required: bool) -> date | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.fail(f"{what} is missing.")
            return None
        try:
            day = parse_clinical_date(value, what, key)
        except ImpossibleEntry as e:
            self.fail(e.message)
            return None
        if day.year < EARLIEST_YEAR:
            self.fail(f"{what} is {day.isoformat()}; a date before {EARLIEST_YEAR} is a typing error.")
            return None
        return day

    def choice(self, value: object, what: str, allowed: tuple[str, ...]) -> str | None:
        if value not in allowed:
            if value is None:
                self.fail(f"{what} is missing (one of {', '.join(allowed)}).")
            else:
                self.fail(f"{what} must be one of {', '.join(allowed)}, not {shown(value)}.")
            return None
        return str(value)

    def short_text(self, value: object, what: str) -> str | None:
        if value is None:
            return None
        text = safe_str(value).strip()
        if not text or len(text) > 12 or not text.isprintable():
            self.fail(f"{what} must be a short code such as T3 or N1, not {shown(value)}.")
            return None
        return text

    def whole_number(self, value: object, what: str, low: int, high: int) -> int | None:
        if value is None:
            self.fail(f"{what} is missing.")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"{what} must be a whole number, not {shown(value)}.")
            return None
        if not low <= value <= high:
            self.fail(f"{what} must be between {low} and {high}, not {shown(value)}.")
            return None
        return value

    def profile(self, raw: object) -> PatientProfile | None:
        patient = self.mapping(raw, "The patient")
        ref = patient.get("ref")
        if ref is None or (isinstance(ref, str) and not ref.strip()):
            self.fail("The patient reference (ref) is missing.")
            ref = ""
        elif not isinstance(ref, str):
            # never stored rewritten (contract §7.11): 012345 read as a number loses its zero
            self.fail(f"The patient reference (ref) must be written as text, in quotes (for "
                      f"example ref: \"H012345\"); the file gives {shown(ref)}, which was read "
                      f"as a {_value_kind(ref)}, not as the reference that was typed.")
            ref = ""
        ref = ref.strip()
        if ref and (len(ref) > 64 or not ref[0].isalnum()
                    or not all(ch.isalnum() or ch in REF_PUNCTUATION for ch in ref)):
            self.fail(f"The patient reference must be at most 64 letters, digits and {REF_PUNCTUATION} "
                      f"characters, starting with a letter or digit, not {shown(ref)}.")
        ecog = None
        if patient.get("ecog") is not None:
            ecog = self.whole_number(patient.get("ecog"), "ECOG performance status", 0, 4)
        primary = self.primary(self.mapping(patient.get("primary"), "The primary tumour"))
        metastases = self.metastases(self.mapping(patient.get("metastases"), "The liver metastases"))
        biomarkers = self.biomarkers(self.mapping(patient.get("biomarkers"), "The biomarkers"))
        prior = self.prior(patient.get("prior_oxaliplatin"))
        if primary and metastases and metastases.detected_on < primary.diagnosed_on - timedelta(days=366):
            # A liver metastasis found long before the primary is a typing error, not a pathway.
            self.fail("The metastases were found more than a year before the primary was diagnosed; "
                      "check both dates.")
        if primary is None or metastases is None or self.problems:
            return None
        return PatientProfile(ref=ref, primary=primary, metastases=metastases,
                              biomarkers=biomarkers, ecog=ecog, prior_oxaliplatin=prior)

    def primary(self, raw: Mapping[str, Any]) -> Primary | None:
        site = self.choice(raw.get("site"), "The primary tumour site", PRIMARY_SITES)
        diagnosed = self.date(raw, "diagnosed_on", "The date the primary was diagnosed", True)
        resected = self.date(raw, "resected_on", "The date the primary was removed", False)
        symptoms_raw = raw.get("symptoms") or []
        if isinstance(symptoms_raw, str):
            symptoms_raw = [symptoms_raw]
        if not isinstance(symptoms_raw, list):
            self.fail("The primary's symptoms must be a list (empty when it causes no symptoms).")
            symptoms_raw = []
        symptoms = tuple(s for s in symptoms_raw
                         if self.choice(s, "A primary tumour symptom", SYMPTOMS) is not None)
        t_stage = raw.get("t_stage")
        n_stage = raw.get("n_stage")
        t_stage = self.short_text(t_stage, "The T stage")
        n_stage = self.short_text(n_stage, "The N stage")
        if diagnosed and resected and resected < diagnosed:
            self.fail("The primary cannot have been removed before it was diagnosed.")
        if site is None or diagnosed is None:
            return None
        return Primary(site=site, diagnosed_on=diagnosed, symptoms=tuple(dict.fromkeys(symptoms)),
                       t_stage=t_stage, n_stage=n_stage, resected_on=resected)

    def metastases(self, raw: Mapping[str, Any]) -> Metastases | None:
        detected = self.date(raw, "detected_on", "The date the liver metastases were found", True)
        count = self.whole_number(raw.get("count"), "The number of liver metastases", 1,
                                  MAX_METASTASIS_COUNT)
        size_raw = raw.get("max_size_mm")
        size: float | None = None
        if size_raw is None:
            self.fail("The size of the largest metastasis (mm) is missing.")
        elif isinstance(size_raw, bool) or not isinstance(size_raw, int | float):
            self.fail(f"The size of the largest metastasis (mm) must be a number, not {shown(size_raw)}.")
        elif not 0 < size_raw <= MAX_METASTASIS_MM:
            self.fail(f"The size of the largest metastasis must be between 1 and "
                      f"{MAX_METASTASIS_MM} mm, not {shown(size_raw)}.")
        else:
            size = float(size_raw)
        extrahepatic = raw.get("extrahepatic", False)
        if not isinstance(extrahepatic, bool):
            self.fail("Extrahepatic disease must be true or false.")
            extrahepatic = False
        if detected is None or count is None or size is None:
            return None
        return Metastases(detected_on=detected, count=count, max_size_mm=size,
                          extrahepatic=extrahepatic)

    def biomarkers(self, raw: Mapping[str, Any]) -> Biomarkers:
        mmr_raw = raw.get("mmr", "unknown")
        mmr = MMR_SYNONYMS.get(safe_str(mmr_raw).strip().lower()) if mmr_raw is not None else "unknown"
        if mmr is None:
            self.fail(f"MMR status must be pMMR (MSS), dMMR (MSI-H) or unknown, not {shown(mmr_raw)}.")
            mmr = "unknown"
        ras = self.choice(raw.get("ras") or "unknown", "RAS status", MUTATION_STATUSES) or "unknown"
        braf = self.choice(raw.get("braf") or "unknown", "BRAF status", MUTATION_STATUSES) or "unknown"
        return Biomarkers(mmr=mmr, ras=ras, braf=braf)

    def prior(self, raw: object) -> PriorOxaliplatin | None:
        if raw is None:
            return None
        prior = self.mapping(raw, "Prior oxaliplatin")
        last = self.date(prior, "last_dose_on", "The date of the last oxaliplatin dose", False)
        relapsed = self.date(prior, "relapsed_on", "The date of relapse after oxaliplatin", False)
        if last and relapsed and relapsed < last:
            self.fail("The relapse after oxaliplatin cannot come before its last dose.")
        return PriorOxaliplatin(last_dose_on=last, relapsed_on=relapsed)


def dates_after(profile: PatientProfile, today: date) -> list[str]:
    """The profile's dates that lie after ``today``, as sentences (none for a sound profile)."""
    p, m, po = profile.primary, profile.metastases, profile.prior_oxaliplatin
    named = [("the primary was diagnosed", p.diagnosed_on), ("the primary was removed", p.resected_on),
             ("the liver metastases were found", m.detected_on),
             ("the last oxaliplatin dose", po.last_dose_on if po else None),
             ("the relapse after oxaliplatin", po.relapsed_on if po else None)]
    return [f"The date {what} ({day.isoformat()}) is after today ({today.isoformat()})."
            for what, day in named if day is not None and day > today]


def profile_to_dict(profile: PatientProfile) -> dict[str, Any]:
    """The profile in the scenario format (dates as ISO strings), for storage and export."""
    p, m, b = profile.primary, profile.metastases, profile.biomarkers
    out: dict[str, Any] = {
        "ref": profile.ref,
        "ecog": profile.ecog,
        "primary": {"site": p.site, "diagnosed_on": p.diagnosed_on.isoformat(),
                    "symptoms": list(p.symptoms), "t_stage": p.t_stage, "n_stage": p.n_stage,
                    "resected_on": p.resected_on.isoformat() if p.resected_on else None},
        "metastases": {"detected_on": m.detected_on.isoformat(), "count": m.count,
                       "max_size_mm": m.max_size_mm, "extrahepatic": m.extrahepatic},
        "biomarkers": {"mmr": b.mmr, "ras": b.ras, "braf": b.braf},
    }
    if profile.prior_oxaliplatin is not None:
        po = profile.prior_oxaliplatin
        out["prior_oxaliplatin"] = {
            "last_dose_on": po.last_dose_on.isoformat() if po.last_dose_on else None,
            "relapsed_on": po.relapsed_on.isoformat() if po.relapsed_on else None}
    return out
