"""Small helpers over FHIR resources as JSON dicts, and the one place that meets the model library.

Every resource the tracker writes or reads goes through :func:`validated` or :func:`parse`:
``fhir.resources``' R4B models (pydantic v2) check the structure (element names, types,
cardinality of the base resource, dates on the calendar) and give the canonical JSON back.
Never import from the top-level ``fhir.resources`` package: it is FHIR R5, and reading R4 data
with it silently drops what R5 renamed (tests/fhir/test_purity.py holds every import to R4B).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from tracker.fhir.codes import Code

if TYPE_CHECKING:
    from fhir.resources.R4B.resource import Resource


class NotFhir(ValueError):
    """A document that is not a FHIR R4 resource, with why in words."""


def validated(resource: Mapping[str, Any]) -> dict[str, Any]:
    """``resource`` checked by its R4B model (element names and types, the base resource's
    cardinality, dates on the calendar) and given back as JSON without empty values. Raises
    NotFhir with the first problems. The resource's elements come in the specification's order;
    the model's own dump would give the same, at twice the cost of the check (the cohort's Bulk
    export spends its time here), so it is not used."""
    kind = resource.get("resourceType")
    if not isinstance(kind, str) or not kind:
        raise NotFhir("it has no resourceType")
    model = _model(kind)
    if model is None:
        raise NotFhir(f"{kind[:40]!r} is not a FHIR R4 resource type")
    try:
        model.model_validate(dict(resource))
    except (TypeError, ValueError) as e:  # pydantic's ValidationError is a ValueError
        if not hasattr(e, "errors"):
            raise NotFhir(f"it is not valid FHIR R4 ({e})") from None
        problems = []
        for item in e.errors()[:3]:
            where = ".".join(str(p) for p in item.get("loc", ()))
            problems.append(f"{where or kind}: {item.get('msg', 'invalid')}")
        raise NotFhir("it is not valid FHIR R4 (" + "; ".join(problems) + ")") from None
    order = _element_order(model)
    out: dict[str, Any] = _without_empty(resource)
    return dict(sorted(out.items(), key=lambda item: order.get(item[0], -1)))


@lru_cache(maxsize=256)
def _model(kind: str) -> type[Resource] | None:
    """The R4B model of a resource type, or None when ``kind`` is not one."""
    # loaded with the first resource, not with the application: every command would pay ~40 ms
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.resource import Resource

    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError):
        return None
    if not issubclass(model, Resource) or kind in ("Resource", "DomainResource"):
        return None
    return model


@cache
def _element_order(model: type[Resource]) -> dict[str, int]:
    """A resource's elements in the order the specification lists them (resourceType first)."""
    order = {"resourceType": 0}
    for name in model.elements_sequence():
        order[name] = 2 * len(order)
        order[f"_{name}"] = order[name] + 1  # a primitive's extensions right after it
    return order


def _without_empty(value: Any) -> Any:
    if isinstance(value, Mapping):
        items = ((k, _without_empty(v)) for k, v in value.items())
        return {k: v for k, v in items if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [v for v in map(_without_empty, value) if v is not None and v != [] and v != {}]
    return value


def label(resource: Mapping[str, Any], position: int | None = None) -> str:
    """How a resource is named in messages: ``Condition/abc`` (or its position in the file)."""
    kind = resource.get("resourceType") or "resource"
    if resource.get("id"):
        return f"{kind}/{resource['id']}"
    return f"{kind} #{position}" if position is not None else str(kind)


# -- codes --------------------------------------------------------------------------------------

def concept(*codes: Code | None, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of ``codes`` (codings of one meaning) with its words."""
    present = [c for c in codes if c is not None]
    out: dict[str, Any] = {"coding": [c.coding() for c in present]}
    if text or present:
        out["text"] = text or present[0].display
    return out


def codings(value: Any) -> list[tuple[str, str]]:
    """The (system, code) pairs of a CodeableConcept or Coding."""
    if not isinstance(value, Mapping):
        return []
    if "coding" in value:
        return [(c.get("system", ""), c.get("code", "")) for c in value.get("coding") or []
                if isinstance(c, Mapping)]
    if "code" in value:
        return [(value.get("system", ""), value.get("code", ""))]
    return []


def has(value: Any, code: Code) -> bool:
    return (code.system, code.code) in codings(value)


def lookup(value: Any, table: Mapping[str, Code]) -> str | None:
    """The key of the first code of ``table`` that ``value`` carries."""
    pairs = set(codings(value))
    return next((key for key, code in table.items() if (code.system, code.code) in pairs), None)


def words(value: Any) -> str:
    """What a CodeableConcept says, for a message: its text or first display or code."""
    if not isinstance(value, Mapping):
        return ""
    if value.get("text"):
        return str(value["text"])
    for c in value.get("coding") or []:
        if isinstance(c, Mapping) and (c.get("display") or c.get("code")):
            return str(c.get("display") or c.get("code"))
    return ""


# -- extensions ---------------------------------------------------------------------------------

def extension(url: str, value_type: str, value: Any) -> dict[str, Any]:
    return {"url": url, f"value{value_type}": value}


def complex_extension(url: str, parts: Iterable[tuple[str, str, Any]]) -> dict[str, Any]:
    return {"url": url, "extension": [extension(name, kind, value) for name, kind, value in parts
                                       if value is not None]}


def extensions(element: Mapping[str, Any], url: str) -> list[Mapping[str, Any]]:
    return [e for e in element.get("extension") or [] if isinstance(e, Mapping) and e.get("url") == url]


def extension_value(element: Mapping[str, Any], url: str) -> Any:
    """The value of the first extension ``url`` of ``element`` (None when absent)."""
    for ext in extensions(element, url):
        for key, value in ext.items():
            if key.startswith("value"):
                return value
    return None


def parts(ext: Mapping[str, Any]) -> dict[str, Any]:
    """The sub-extensions of a complex extension as {url: value}."""
    out: dict[str, Any] = {}
    for sub in ext.get("extension") or []:
        if not isinstance(sub, Mapping):
            continue
        for key, value in sub.items():
            if key.startswith("value"):
                out[str(sub.get("url"))] = value
    return out


# -- references ---------------------------------------------------------------------------------

def reference(kind: str, id_: str) -> dict[str, str]:
    return {"reference": f"{kind}/{id_}"}


def reference_key(value: Any) -> str | None:
    """``Type/id`` of a reference (relative, absolute URL or ``urn:uuid:``, kept as is)."""
    if not isinstance(value, Mapping):
        return None
    ref = value.get("reference")
    if not isinstance(ref, str) or not ref:
        return None
    if ref.startswith(("urn:uuid:", "urn:oid:")):
        return ref
    segments = ref.split("/_history/")[0].rstrip("/").split("/")
    return "/".join(segments[-2:]) if len(segments) >= 2 else ref


def date_part(value: Any) -> str | None:
    """The calendar day of a FHIR date or dateTime (``2025-03-01T10:00:00Z`` -> ``2025-03-01``);
    None for a partial date (a year or a month: not a day the tracker can record)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    return value[:10]
