"""The profile checks of what the tracker emits (pure), written from the mCODE STU4 profiles: the
required elements, fixed codes and invariants of each profile the export claims in
``meta.profile``, and the membership of every code it emits in the code tables it was drawn from.

Two layers, because they answer different questions:

- :func:`profile_problems`: is this an instance of the profiles it claims? It applies to anyone's
  resources: the mCODE package's own examples pass it (tests/fhir/test_mcode_package.py), and so
  must ours.
- :func:`terminology_problems`: are the codes ours, from the tables in ``tracker.fhir.codes``
  (SNOMED CT, LOINC, HGNC, ICD-10-CM, ICD-O-3 as mCODE binds them; the project's own code systems)?

What is not checked here (no terminology server, no FHIRPath engine): membership of codes in
value sets defined by SNOMED CT hierarchy filters, and invariants not listed in
:data:`INVARIANTS`. ``tracker.fhir.ig`` checks the snapshot of each profile of the mCODE package
(cardinality, fixed and pattern values, required bindings to value sets it can enumerate).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tracker.fhir import codes as c
from tracker.fhir.elements import codings, extensions, has

Resource = Mapping[str, Any]

#: the SNOMED CT codes the mCODE termination-reason invariants name
TERMINATION_CODES = ("182992009", "266721009", "407563006", "160932005", "105480006", "184081006",
                     "309846006", "399307001", "419620001", "7058009", "443729008", "77386006")
REQUEST_INTENTS = ("order", "original-order", "reflex-order", "filler-order", "instance-order")


def _exists(resource: Resource, name: str) -> bool:
    """An element is there: a value, or (for a primitive) only its extensions (``_name``)."""
    value = resource.get(name)
    return value not in (None, [], {}, "") or bool(resource.get(f"_{name}"))


def _choice(resource: Resource, stem: str) -> list[str]:
    return [k for k in resource if k.startswith(stem) and k[len(stem):][:1].isupper()]


def _termination_coded(r: Resource) -> bool:
    return any(system == c.SNOMED and code in TERMINATION_CODES
               for system, code in codings(r.get("statusReason")))


def _name_ok(r: Resource) -> bool:
    for name in r.get("name") or []:
        named = bool(name.get("family") or name.get("given"))
        absent = bool(extensions(name, c.EXT["absent"]))
        if named == absent:
            return False
    return True


#: FHIRPath invariants of the mCODE and US Core profiles, as Python predicates (by constraint key)
INVARIANTS: dict[str, Callable[[Resource], bool]] = {
    "mcode-reason-required": lambda r: _exists(r, "reasonCode") or _exists(r, "reasonReference"),
    "us-core-7": lambda r: r.get("status") not in ("completed", "in-progress") or bool(
        _choice(r, "performed")),
    "us-core-21": lambda r: r.get("intent") not in REQUEST_INTENTS or _exists(r, "requester"),
    "termination-reason-code-invariant": lambda r: not (
        r.get("status") == "stopped" and codings(r.get("statusReason"))) or _termination_coded(r),
    "termination-reason-invariant": lambda r: not _termination_coded(r) or r.get("status") == "stopped",
    "must-have-focus-or-specimen-invariant": lambda r: _exists(r, "focus") != _exists(r, "specimen"),
    "us-core-6": _name_ok,
    "us-core-1": lambda r: not isinstance(r.get("effectiveDateTime"), str) or len(
        r["effectiveDateTime"]) >= 10,
    "us-core-2": lambda r: _exists(r, "component") or _exists(r, "hasMember") or _exists(
        r, "dataAbsentReason") or bool(_choice(r, "value")),
    "us-core-3": lambda r: not isinstance(r.get("valueQuantity"), Mapping) or r["valueQuantity"].get(
        "system") in (None, c.UCUM),
}


def _required(*names: str) -> Callable[[Resource], list[str]]:
    def check(r: Resource) -> list[str]:
        missing = []
        for name in names:
            alternatives = name.split("|")
            if not any(_choice(r, a[:-3]) if a.endswith("[x]") else _exists(r, a) for a in alternatives):
                missing.append(f"{' or '.join(alternatives)} is required")
        return missing
    return check


def _code(expected: c.Code) -> Callable[[Resource], list[str]]:
    def check(r: Resource) -> list[str]:
        return [] if has(r.get("code"), expected) else [f"code must be {expected.system}#{expected.code}"]
    return check


def _invariants(*keys: str) -> Callable[[Resource], list[str]]:
    def check(r: Resource) -> list[str]:
        return [f"invariant {key} fails" for key in keys if not INVARIANTS[key](r)]
    return check


def _category(*expected: c.Code) -> Callable[[Resource], list[str]]:
    def check(r: Resource) -> list[str]:
        if any(has(cat, code) for cat in r.get("category") or [] for code in expected):
            return []
        return [f"category must include {' or '.join(code.code for code in expected)}"]
    return check


def _identifiers(r: Resource) -> list[str]:
    return [] if all(i.get("system") and i.get("value") for i in r.get("identifier") or []) \
        else ["every identifier needs a system and a value"]


def _longest_dimension(r: Resource) -> list[str]:
    for comp in r.get("component") or []:
        quantity = comp.get("valueQuantity") or {}
        if has(comp.get("code"), c.LONGEST_DIMENSION):
            ok = quantity.get("system") == c.UCUM and quantity.get("code") in ("mm", "cm")
            return [] if ok else ["the longest dimension must be a UCUM quantity in mm or cm"]
    return ["a tumor size needs its longest dimension (33728-7)"]


def _related_primary(r: Resource) -> list[str]:
    return [f"{c.EXT['related']} needs a valueReference" for e in extensions(r, c.EXT["related"])
            if not e.get("valueReference")]


def _genes_have_values(r: Resource) -> list[str]:
    return ["every gene studied (48018-6) needs its gene" for comp in r.get("component") or []
            if has(comp.get("code"), c.GENE_STUDIED) and not _choice(comp, "value")]


def _one_cancer_patient(r: Resource) -> list[str]:
    patients = [e.get("resource") or {} for e in r.get("entry") or []
                if (e.get("resource") or {}).get("resourceType") == "Patient"]
    if len(patients) != 1:
        return [f"an mCODE patient bundle holds exactly one Patient, not {len(patients)}"]
    profiles = (patients[0].get("meta") or {}).get("profile") or []
    return [] if c.PROFILE["patient"] in profiles else ["its Patient must claim mcode-cancer-patient"]


_CONDITION = [_required("clinicalStatus", "verificationStatus", "category", "code", "subject"),
              _category(c.PROBLEM_LIST_ITEM, c.Code(c.CONDITION_CATEGORY, "health-concern", ""))]

#: each profile the export claims, and what an instance of it must have
PROFILE_CHECKS: dict[str, list[Callable[[Resource], list[str]]]] = {
    c.PROFILE["patient"]: [_required("identifier", "name", "gender"), _identifiers, _invariants("us-core-6")],
    c.PROFILE["primary"]: _CONDITION,
    c.PROFILE["secondary"]: [*_CONDITION, _related_primary],
    c.PROFILE["ecog"]: [_required("status", "category", "code", "subject"), _code(c.ECOG),
                        _invariants("us-core-1", "us-core-2", "us-core-3")],
    c.PROFILE["tumor_size"]: [_required("status", "code", "subject", "component"), _code(c.TUMOR_SIZE),
                              _longest_dimension, _invariants("must-have-focus-or-specimen-invariant")],
    c.PROFILE["variant"]: [_required("status", "category", "code", "subject"), _code(c.VARIANT),
                           _category(c.LABORATORY), _genes_have_values],
    c.PROFILE["msi"]: [_required("status", "code", "subject"), _code(c.MSI)],
    c.PROFILE["disease_status"]: [_required("status", "code", "subject"), _code(c.DISEASE_STATUS)],
    c.PROFILE["surgery"]: [_required("status", "code", "subject"),
                           _invariants("mcode-reason-required", "us-core-7")],
    c.PROFILE["medication"]: [_required("status", "intent", "medication[x]", "subject"), _invariants(
        "mcode-reason-required", "us-core-21", "termination-reason-code-invariant",
        "termination-reason-invariant")],
    c.PROFILE["bundle"]: [_required("type", "entry"), _one_cancer_patient,
                          lambda r: [] if r.get("type") == "collection" else ["type must be collection"]],
}


def extension_problems(value: Any, where: str = "") -> list[str]:
    """FHIR's ext-1 everywhere in a resource: an extension has a value or extensions, not both."""
    out: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("extension", "modifierExtension") and isinstance(item, list):
                for ext in (e for e in item if isinstance(e, Mapping)):
                    if bool(_choice(ext, "value")) == bool(ext.get("extension")):
                        out.append(f"ext-1: the extension {ext.get('url')} at {where or 'the resource'} "
                                   f"needs a value or extensions, not both")
            out += extension_problems(item, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for item in value:
            out += extension_problems(item, where)
    return out


def profile_problems(resource: Resource) -> list[str]:
    """What keeps ``resource`` from being an instance of the profiles it claims (the ones this
    module knows), and any extension without a value (ext-1); empty when it is."""
    out = extension_problems(resource) if resource.get("resourceType") != "Bundle" else []
    for profile in (resource.get("meta") or {}).get("profile") or []:
        for check in PROFILE_CHECKS.get(profile, []):
            out += [f"{profile.rsplit('/', 1)[-1]}: {problem}" for problem in check(resource)]
    if resource.get("resourceType") == "Bundle":
        for entry in resource.get("entry") or []:
            out += profile_problems(entry.get("resource") or {})
    return out


def _known_codes() -> set[tuple[str, str]]:
    known: set[tuple[str, str]] = set()
    for value in vars(c).values():
        items = value.values() if isinstance(value, dict) else [value]
        for item in items:
            if isinstance(item, c.Code):
                known.add((item.system, item.code))
            elif isinstance(item, c.Site):
                known |= {(x.system, x.code) for x in (item.disorder, item.topography, item.structure) if x}
            elif isinstance(item, dict):
                known |= {(x.system, x.code) for x in item.values() if isinstance(x, c.Code)}
    return known


KNOWN = _known_codes()
#: the project's code systems whose codes are the domain's own names, open to new kinds
OPEN_LOCAL = (f"{c.LOCAL_CS}/reminder-kind", f"{c.LOCAL_CS}/entry-type")
STRUCTURAL = (c.CONDITION_CLINICAL, c.CONDITION_VERIFICATION, c.CONDITION_CATEGORY, c.OBSERVATION_CATEGORY)


def terminology_problems(resource: Any) -> list[str]:
    """Codes in ``resource`` (anywhere) that the export's tables do not hold."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            system, code = value.get("system"), value.get("code")
            if isinstance(system, str) and isinstance(code, str) and "value" not in value and (
                    system not in STRUCTURAL and system != c.UCUM and not system.startswith(OPEN_LOCAL)
                    and (system, code) not in KNOWN):
                out.append(f"{system}#{code} is not a code of the export's tables")
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(resource)
    return out
