"""A FHIR implementation guide package read from disk, and a resource checked against one of its
profiles' snapshots, offline (no terminology server, no FHIRPath engine).

What :func:`check` evaluates, element by element of the snapshot, wherever the instance has the
element's parent: cardinality (min..max, slices counted by their discriminator when it is a
``value``/``pattern`` on a code or ``url``, or a ``type`` on a Bundle entry's resource), fixed and
pattern values, required bindings to value sets it can enumerate (the package's own value sets
listed concept by concept, and the few FHIR core code lists below), and the invariants that
``tracker.fhir.conformance.INVARIANTS`` implements. Everything else (value sets defined by SNOMED CT
filters, other FHIRPath invariants, type slices elsewhere) is listed as not evaluated.

Each result is a named check (``Observation.code pattern``, ``invariant us-core-7``...) that passed
or failed, so two resources can be compared check by check (tests/fhir/test_mcode_package.py: our
exports pass every check the package's own examples pass).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tracker.fhir.conformance import INVARIANTS

#: FHIR R4 core code lists of required bindings the profiles use (not in the mCODE package)
CORE_CODES: dict[str, tuple[str, ...]] = {
    "http://hl7.org/fhir/ValueSet/observation-status": (
        "registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error",
        "unknown"),
    "http://hl7.org/fhir/ValueSet/medicationrequest-status": (
        "active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"),
    "http://hl7.org/fhir/ValueSet/medicationrequest-intent": (
        "proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order",
        "option"),
    "http://hl7.org/fhir/ValueSet/event-status": (
        "preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error",
        "unknown"),
    "http://hl7.org/fhir/ValueSet/condition-clinical": (
        "active", "recurrence", "relapse", "inactive", "remission", "resolved"),
    "http://hl7.org/fhir/ValueSet/condition-ver-status": (
        "unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"),
    "http://hl7.org/fhir/ValueSet/administrative-gender": ("male", "female", "other", "unknown"),
    # US Core's, which the mCODE conditions slice their category by
    "http://hl7.org/fhir/us/core/ValueSet/us-core-problem-or-health-concern": (
        "problem-list-item", "health-concern"),
    "http://hl7.org/fhir/ValueSet/bundle-type": (
        "document", "message", "transaction", "transaction-response", "batch", "batch-response", "history",
        "searchset", "collection"),
}


@dataclass
class Package:
    """The StructureDefinitions, ValueSets and examples of an unpacked FHIR package."""

    folder: Path
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    value_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    examples: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def load(cls, folder: Path) -> Package:
        """``folder`` is the package's ``package/`` directory."""
        package = cls(folder)
        for path in sorted(folder.glob("*.json")):
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("resourceType") == "StructureDefinition":
                package.profiles[doc["url"]] = doc
            elif doc.get("resourceType") == "ValueSet":
                package.value_sets[doc["url"]] = doc
        package.examples = [(p.name, json.loads(p.read_text(encoding="utf-8")))
                            for p in sorted((folder / "example").glob("*.json"))]
        return package

    def examples_of(self, profile: str) -> list[tuple[str, dict[str, Any]]]:
        return [(name, doc) for name, doc in self.examples
                if profile in ((doc.get("meta") or {}).get("profile") or [])]

    def codes(self, url: str) -> set[tuple[str | None, str]] | None:
        """The (system, code) pairs of a value set, or None when it cannot be enumerated here."""
        url = url.split("|")[0]
        if url in CORE_CODES:
            return {(None, code) for code in CORE_CODES[url]}
        vs = self.value_sets.get(url)
        if vs is None:
            return None
        out: set[tuple[str | None, str]] = set()
        for include in (vs.get("compose") or {}).get("include") or []:
            if include.get("filter") or not include.get("concept"):
                return None
            out |= {(include.get("system"), concept["code"]) for concept in include["concept"]}
        return out


@dataclass
class Result:
    passed: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    not_evaluated: set[str] = field(default_factory=set)

    def record(self, name: str, ok: bool, why: str = "") -> None:
        if ok:
            if name not in self.failed:
                self.passed.add(name)
        else:
            self.passed.discard(name)
            self.failed.setdefault(name, why or name)


def check(resource: Mapping[str, Any], profile: Mapping[str, Any], package: Package) -> Result:
    """``resource`` against the snapshot of ``profile``."""
    return _Checker(profile, package).run(resource)


class _Checker:
    def __init__(self, profile: Mapping[str, Any], package: Package) -> None:
        self.package = package
        self.elements = {e["id"]: e for e in profile["snapshot"]["element"]}
        self.result = Result()

    def run(self, resource: Mapping[str, Any]) -> Result:
        root = next(iter(self.elements))
        for element_id, element in self.elements.items():
            if element_id == root:
                self.constraints(element, [resource])
                continue
            parent_id, _, last = element_id.rpartition(".")
            parents = self.nodes(parent_id, resource)
            if parents is None:
                self.result.not_evaluated.add(element_id)
                continue
            if not parents:
                continue
            items_of = [self.children(parent_id, last, p) for p in parents]
            if any(items is None for items in items_of):
                self.result.not_evaluated.add(element_id)
                continue
            low, high = element.get("min", 0), element.get("max", "*")
            for items in items_of:
                assert items is not None
                count = len(items)
                ok = count >= low and (high == "*" or count <= int(high))
                self.result.record(f"{element_id} {low}..{high}", ok,
                                   f"{element_id}: {count} found, {low}..{high} wanted")
                for item in items:
                    self.values(element_id, element, item)
            self.constraints(element, [i for items in items_of if items for i in items])
        return self.result

    # -- navigating the instance --------------------------------------------------------------
    def nodes(self, element_id: str, resource: Mapping[str, Any]) -> list[Any] | None:
        """The instance's nodes for an element id (None: cannot be followed)."""
        segments = element_id.split(".")
        nodes: list[Any] = [resource]
        path = segments[0]
        for segment in segments[1:]:
            found: list[Any] = []
            for node in nodes:
                items = self.children(path, segment, node)
                if items is None:
                    return None
                found += items
            nodes = found
            path = f"{path}.{segment}"
        return nodes

    def children(self, parent_id: str, segment: str, node: Any) -> list[Any] | None:
        if not isinstance(node, Mapping):
            return []
        name, _, slice_name = segment.partition(":")
        if name.endswith("[x]"):
            stem = name[:-3]
            keys = [k for k in node if k.startswith(stem) and k[len(stem):][:1].isupper()]
            if slice_name:
                wanted = slice_name[len(stem):]
                keys = [k for k in keys if k[len(stem):].lower() == wanted.lower()]
            return [node[k] for k in keys]
        value = node.get(name)
        items = value if isinstance(value, list) else ([] if value is None else [value])
        if value is None and f"_{name}" in node:
            items = [node[f"_{name}"]]
        if not slice_name:
            return items
        member = self.slice_member(f"{parent_id}.{name}", f"{parent_id}.{segment}")
        if member is None:
            return None
        return [i for i in items if member(i)]

    def slice_member(self, sliced_id: str, slice_id: str) -> Any:
        sliced = self.elements.get(sliced_id) or {}
        slicing = sliced.get("slicing") or {}
        discriminators = slicing.get("discriminator") or []
        if not discriminators:
            return None
        tests = []
        for d in discriminators:
            kind, path = d.get("type"), d.get("path")
            if kind in ("value", "pattern") and path == "url":
                element = self.elements.get(slice_id) or {}
                url = (self.elements.get(f"{slice_id}.url") or {}).get("fixedUri") or next(
                    (p for t in element.get("type") or [] for p in t.get("profile") or []), None)
                if url is None:
                    return None
                tests.append(lambda i, url=url: isinstance(i, Mapping) and i.get("url") == url)
            elif kind in ("value", "pattern") and path and "." not in path:
                test = self.value_test(slice_id, path)
                if test is None:
                    return None
                tests.append(test)
            elif kind == "type" and path == "resource":
                resource = self.elements.get(f"{slice_id}.resource") or {}
                types = [t["code"] for t in resource.get("type") or []]
                tests.append(lambda i, types=types: (i.get("resource") or {}).get("resourceType") in types)
            else:
                return None
        return lambda item: all(t(item) for t in tests)

    def value_test(self, slice_id: str, path: str) -> Any:
        """Membership of a slice told by a value at ``path``: a pattern (on the element at the
        path, or on the slice itself), or else a required binding the checker can enumerate."""
        target = self.elements.get(slice_id if path == "$this" else f"{slice_id}.{path}") or {}
        pattern = _pattern(target)
        if pattern is None and path != "$this":
            whole = _pattern(self.elements.get(slice_id) or {})
            pattern = whole.get(path) if isinstance(whole, Mapping) else None
        if pattern is not None:
            return lambda item: _matches_any(_at(item, path), pattern)
        binding = target.get("binding") or {}
        required = binding.get("strength") == "required"
        allowed = self.package.codes(binding.get("valueSet", "")) if required else None
        if allowed is None:
            return None
        return lambda item: any((s, code) in allowed or (None, code) in allowed
                                for s, code in _pairs(_at(item, path)))

    # -- what an element says ---------------------------------------------------------------
    def values(self, element_id: str, element: Mapping[str, Any], item: Any) -> None:
        for key, expected in element.items():
            if key.startswith(("fixed", "pattern")):
                exact = key.startswith("fixed")
                ok = item == expected if exact else _matches(item, expected)
                self.result.record(f"{element_id} {key[:5]}", ok,
                                   f"{element_id}: {item!r} does not match {expected!r}")
        binding = element.get("binding") or {}
        if binding.get("strength") == "required" and binding.get("valueSet"):
            allowed = self.package.codes(binding["valueSet"])
            name = f"{element_id} binding"
            if allowed is None:
                self.result.not_evaluated.add(name)
                return
            pairs = _pairs(item)
            ok = not pairs or any((s, code) in allowed or (None, code) in allowed for s, code in pairs)
            self.result.record(name, ok, f"{element_id}: {pairs} not in {binding['valueSet']}")

    def constraints(self, element: Mapping[str, Any], nodes: list[Any]) -> None:
        for constraint in element.get("constraint") or []:
            key = constraint.get("key", "")
            if constraint.get("source", "").startswith("http://hl7.org/fhir/StructureDefinition/") and \
                    key not in INVARIANTS:
                continue  # the base specification's own invariants: the model library's business
            name = f"invariant {key}"
            predicate = INVARIANTS.get(key)
            if predicate is None:
                self.result.not_evaluated.add(name)
                continue
            for node in nodes:
                if isinstance(node, Mapping):
                    self.result.record(name, predicate(node), f"{name}: {constraint.get('human', '')}")


def _matches(value: Any, pattern: Any) -> bool:
    """FHIR pattern matching: every element of the pattern is in the value (lists: each pattern
    item matches some value item)."""
    if isinstance(pattern, Mapping):
        return isinstance(value, Mapping) and all(_matches(value.get(k), v) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(_matches(v, p) for v in value) for p in pattern)
    return value == pattern


def _matches_any(value: Any, pattern: Any) -> bool:
    """A pattern on one item of a repeating element (a Coding among the codings) matches when
    any item does."""
    if isinstance(value, list) and not isinstance(pattern, list):
        return any(_matches(v, pattern) for v in value)
    return _matches(value, pattern)


def _pattern(element: Mapping[str, Any]) -> Any:
    return next((v for k, v in element.items() if k.startswith(("pattern", "fixed"))), None)


def _at(item: Any, path: str) -> Any:
    return item if path == "$this" else (item.get(path) if isinstance(item, Mapping) else None)


def _pairs(item: Any) -> list[tuple[str | None, str]]:
    if isinstance(item, str):
        return [(None, item)]
    if isinstance(item, Mapping):
        if "coding" in item:
            return [(c.get("system"), c.get("code")) for c in item["coding"] if c.get("code")]
        if "code" in item and isinstance(item["code"], str):
            return [(item.get("system"), item["code"])]
    return []
