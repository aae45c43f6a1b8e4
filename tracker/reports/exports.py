"""Exports for auditors: deviations as CSV, the event log as IEEE 1849 XES (process mining).

Both stream: they take iterables and write row by row / trace by trace, so a cohort read from the
database in batches never sits in memory. References are pseudonymous by default: a keyed hash
(HMAC-SHA256 with the site's key, ``Settings.pseudonym_key``) that the same site can recompute to
find a patient, and nobody without the key can reverse. ``identified=True`` writes the real
references and must be asked for explicitly.

No process-mining library is used (the common one is AGPL); XES is plain XML written with
``xml.sax.saxutils.XMLGenerator``.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from io import TextIOBase
from typing import Any, Protocol, TextIO
from xml.sax.saxutils import XMLGenerator
from xml.sax.xmlreader import AttributesImpl

from pydantic import SecretStr

from journey.adherence import CHECKS_BY_ID, Deviation

PSEUDONYM_PREFIX = "PX-"
PSEUDONYM_HEX = 16  # 64 bits: no collisions to expect in any registry


#: the site's pseudonym key as the settings hold it (a SecretStr), or its value
Key = str | bytes | SecretStr


def pseudonym(ref: str, key: Key) -> str:
    """The pseudonymous reference of ``ref`` under ``key`` (HMAC-SHA256, first 64 bits, hex): the
    one pseudonym function of the tracker (auditors' screens, the API, the exports). Refuses an
    empty key: an unkeyed hash of a reference is reversed by hashing guessed references."""
    value = key.get_secret_value() if isinstance(key, SecretStr) else key
    if not value:
        raise ValueError("A pseudonym needs the site's key (pseudonym_key); an unkeyed hash of a "
                         "patient reference can be reversed by trying references.")
    secret = value.encode("utf-8") if isinstance(value, str) else value
    digest = hmac.new(secret, str(ref).encode("utf-8"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX]


class _Referencer:
    def __init__(self, key: Key | None, identified: bool) -> None:
        if not identified and not key:
            raise ValueError("Give the pseudonym key, or ask for identified=True explicitly.")
        self.key, self.identified = key, identified

    def __call__(self, ref: str) -> str:
        return str(ref) if self.identified else pseudonym(ref, self.key or "")


def coded_only(d: Deviation) -> tuple[str, str | None]:
    """(detail, justification) without the free text people typed (override reasons, dismissal
    notes), which may name people: pseudonymous exports keep only the coded part."""
    justification = None
    if d.justification:
        justification = "override" if d.check == "A-OVERRIDE" else d.justification.partition(":")[0]
    detail = d.detail.partition(": ")[0] if d.check == "A-OVERRIDE" else d.detail
    return detail, justification


# ---------------------------------------------------------------------------------------------
# Deviations CSV


@dataclass(frozen=True)
class PatientDeviations:
    """One patient's deviations as the CSV needs them."""

    ref: str
    timing: str
    deviations: Iterable[Deviation]


CSV_COLUMNS = ("patient", "timing", "check", "seed", "title", "date", "justified", "justification",
               "detail", "ruleset_version")


def write_deviations_csv(out: TextIO,
                         patients: Iterable[PatientDeviations | tuple[str, str, Iterable[Deviation]]],
                         key: Key | None = None, identified: bool = False) -> int:
    """One row per deviation; returns the number of rows written."""
    reference = _Referencer(key, identified)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for item in patients:
        ref, timing, deviations = (item.ref, item.timing, item.deviations) \
            if isinstance(item, PatientDeviations) else item
        shown = reference(ref)
        for d in deviations:
            check = CHECKS_BY_ID.get(d.check)
            detail, justification = (d.detail, d.justification) if identified else coded_only(d)
            writer.writerow([shown, timing, d.check, d.seed if d.seed is not None else "",
                             check.title if check else "", d.date.isoformat(),
                             "yes" if d.justified else "no", justification or "", detail,
                             d.ruleset_version])
            rows += 1
    return rows


# ---------------------------------------------------------------------------------------------
# XES (IEEE 1849-2016)


class StepLike(Protocol):
    """What the XES writer reads from a history step (journey.course.PathwayStep fits)."""

    @property
    def date(self) -> date: ...
    @property
    def trigger(self) -> str: ...
    @property
    def from_phase(self) -> Any: ...
    @property
    def to_phase(self) -> Any: ...


@dataclass(frozen=True)
class JourneyTrace:
    ref: str
    timing: str
    steps: Iterable[Any]  # StepLike; a PathwayStep may carry ``event`` and ``overridden``
    attributes: Mapping[str, str] | None = None


XES_NS = "http://www.xes-standard.org/"
XES_EXTENSIONS = (
    ("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
    ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
    ("Time", "time", "http://www.xes-standard.org/time.xesext"),
)
#: event fields copied to XES attributes when present
XES_EVENT_FIELDS = ("plan", "resectable", "regimen", "biologic", "reason", "response", "procedure",
                    "margin", "site", "target", "status", "pelvic_rt_indicated",
                    "simultaneous_feasible")


def _timestamp(day: date) -> str:
    # clinical dates have no time: midnight UTC, millisecond precision as XES tools expect
    return f"{day.isoformat()}T00:00:00.000+00:00"


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(getattr(v, "value", v))


class _Xes:
    def __init__(self, out: TextIOBase) -> None:
        self.g = XMLGenerator(out, encoding="utf-8", short_empty_elements=True)
        self.out = out
        self.depth = 0

    def _indent(self) -> None:
        self.g.ignorableWhitespace("\n" + "  " * self.depth)

    def empty(self, tag: str, attrs: dict[str, str]) -> None:
        self._indent()
        self.g.startElement(tag, AttributesImpl(attrs))
        self.g.endElement(tag)

    def open(self, tag: str, attrs: dict[str, str] | None = None) -> None:
        self._indent()
        self.g.startElement(tag, AttributesImpl(attrs or {}))
        self.depth += 1

    def close(self, tag: str) -> None:
        self.depth -= 1
        self._indent()
        self.g.endElement(tag)

    def attribute(self, kind: str, key: str, value: str) -> None:
        self.empty(kind, {"key": key, "value": value})


def write_xes(out: TextIOBase, traces: Iterable[JourneyTrace | tuple[str, str, Iterable[Any]]],
              key: Key | None = None, identified: bool = False,
              log_name: str = "CRLM treatment journeys") -> int:
    """Write an XES log: one trace per patient, one event per history step (recorded events and
    the clock's timed transitions), with ``concept:name``, ``lifecycle:transition``,
    ``time:timestamp`` and the phase entered (``phase``; ``phase_before`` too). Returns the
    number of traces."""
    reference = _Referencer(key, identified)
    x = _Xes(out)
    x.g.startDocument()
    x.open("log", {"xes.version": "1849-2016", "xes.features": "nested-attributes", "xmlns": XES_NS})
    for name, prefix, uri in XES_EXTENSIONS:
        x.empty("extension", {"name": name, "prefix": prefix, "uri": uri})
    x.open("global", {"scope": "trace"})
    x.attribute("string", "concept:name", "__INVALID__")
    x.close("global")
    x.open("global", {"scope": "event"})
    x.attribute("string", "concept:name", "__INVALID__")
    x.attribute("string", "lifecycle:transition", "complete")
    x.attribute("date", "time:timestamp", "1970-01-01T00:00:00.000+00:00")
    x.attribute("string", "phase", "__INVALID__")
    x.close("global")
    x.empty("classifier", {"name": "Activity", "keys": "concept:name"})
    x.empty("classifier", {"name": "Activity and phase", "keys": "concept:name phase"})
    x.attribute("string", "concept:name", log_name)
    x.attribute("string", "lifecycle:model", "standard")
    traces_written = 0
    for item in traces:
        trace = item if isinstance(item, JourneyTrace) else JourneyTrace(*item)
        x.open("trace")
        x.attribute("string", "concept:name", reference(trace.ref))
        x.attribute("string", "timing", trace.timing)
        for k, v in (trace.attributes or {}).items():
            x.attribute("string", k, _value(v))
        for step in trace.steps:
            _write_step(x, step, identified)
        x.close("trace")
        traces_written += 1
        if traces_written % 1000 == 0:
            out.flush()
    x.close("log")
    x.g.ignorableWhitespace("\n")
    x.g.endDocument()
    return traces_written


def _write_step(x: _Xes, step: Any, identified: bool) -> None:
    event = getattr(step, "event", None)
    lifecycle = "complete"
    name = str(step.trigger)
    if event is not None and name == "radiotherapy":
        lifecycle = "start" if event.get("status") == "started" else "complete"
    x.open("event")
    x.attribute("string", "concept:name", name)
    x.attribute("string", "lifecycle:transition", lifecycle)
    x.attribute("date", "time:timestamp", _timestamp(step.date))
    x.attribute("string", "phase", _value(step.to_phase))
    x.attribute("string", "phase_before", _value(step.from_phase))
    if event is None:
        x.attribute("boolean", "by_clock", "true")
    else:
        for f in XES_EVENT_FIELDS:
            v = event.get(f)
            if v is not None:
                x.attribute("boolean" if isinstance(v, bool) else "string", f, _value(v))
        if event.override:  # free text: only in identified exports
            if identified:
                x.attribute("string", "override", event.override)
            else:
                x.attribute("boolean", "overridden", "true")
            if event.override_code:  # the coded reason names no one: in every export
                x.attribute("string", "override_code", event.override_code)
    intent = getattr(step, "therapy_intent", None)
    if intent:
        x.attribute("string", "therapy_intent", intent)
    x.close("event")
