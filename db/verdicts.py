"""The day's audit verdicts as stored (``audit_entry``): one per patient, derived data, never a
record. A verdict is current while its day, its basis (ruleset, pathway settings and this layout)
and the patient's version all match; otherwise it is judged again and replaced.

How a verdict is stored: the eligible checks and the deviation flags as short strings (a few
dozen distinct values over a whole cohort, each parsed once), the summary numbers as a small JSON
list, and the deviations in full as JSON, read only when an export needs them.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, insert, select

from db.tables import AUDIT_ENTRY, PATIENT
from journey.adherence import Deviation, PatientAdherence
from journey.cohort import JourneySummary
from journey.guideline import RULESET_VERSION
from journey.settings import PathwaySettings

#: the layout of a stored verdict (:func:`verdict_row`); a new layout makes every verdict stale
VERDICT_FORMAT = 5


def audit_basis(pathway: PathwaySettings) -> str:
    """What a verdict depends on besides the record and the day: the ruleset, the settings and
    the stored layout."""
    settings = repr(sorted(asdict(pathway).items()))
    return f"{RULESET_VERSION}|{hashlib.sha256(settings.encode()).hexdigest()[:16]}|{VERDICT_FORMAT}"


def verdict_row(*, patient_id: int, as_of: date, basis: str, patient_version: int, timing: str,
                detected_on: date, computed_at: datetime, adherence: PatientAdherence,
                summary: JourneySummary) -> dict[str, Any]:
    return {"patient_id": patient_id, "as_of": as_of, "basis": basis, "patient_version": patient_version,
            "timing": timing, "detected_on": detected_on, "computed_at": computed_at,
            "eligible": ",".join(sorted(adherence.eligible)),
            "tally": ",".join(f"{d.check}:{int(d.justified)}" for d in adherence.deviations),
            "summary": json.dumps(summary.as_list()),
            "deviations": [[d.check, d.date.isoformat(), d.detail, d.justified, d.justification,
                            d.ruleset_version, d.seed] for d in adherence.deviations]}


@functools.lru_cache(maxsize=4096)
def _eligible_set(joined: str) -> frozenset[str]:
    return frozenset(joined.split(",")) if joined else frozenset()


@functools.lru_cache(maxsize=4096)
def _flags(tally: str) -> tuple[tuple[str, bool], ...]:
    return tuple((check, flag == "1") for check, flag in (item.split(":") for item in tally.split(",")
                                                          if item))


def _summary(text: str) -> JourneySummary:
    return JourneySummary.from_list(json.loads(text))


def _deviations(document: list[Any]) -> list[Deviation]:
    return [Deviation(check, date.fromisoformat(day), detail, justified, justification, ruleset, seed)
            for check, day, detail, justified, justification, ruleset, seed in document]


class KeptVerdict(NamedTuple):
    """A current verdict read back: what the cohort counters need, and the deviations in full
    when they were asked for. (Tuples: an audit reads one per patient, 100,000 at a time.)"""

    detected_on: date
    eligible: frozenset[str]
    flags: tuple[tuple[str, bool], ...]
    summary: JourneySummary
    deviations: list[Deviation] | None


class VerdictLine(NamedTuple):
    """A patient in id order, with the day's verdict when it is current (None: judge again)."""

    patient_id: int
    ref: str
    timing: str
    kept: KeptVerdict | None


class Verdicts:
    """The audit verdicts, inside one unit of work."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def lines(self, after_id: int, limit: int, as_of: date, basis: str, details: bool = True,
              replay: bool = False, until_id: int | None = None) -> list[VerdictLine]:
        """The next ``limit`` patients after ``after_id`` (up to ``until_id``), each with its
        verdict of ``as_of`` if it is current (never with ``replay``); the deviations in full only
        with ``details``."""
        e = AUDIT_ENTRY.c
        columns = [PATIENT.c.id, PATIENT.c.ref, PATIENT.c.timing, PATIENT.c.version, e.as_of, e.basis,
                   e.patient_version, e.detected_on, e.eligible, e.tally, e.summary,
                   *([e.deviations] if details else [])]
        rows = self.connection.execute(
            select(*columns).outerjoin(AUDIT_ENTRY, e.patient_id == PATIENT.c.id)
            .where(PATIENT.c.id > after_id,
                   *([PATIENT.c.id <= until_id] if until_id is not None else []))
            .order_by(PATIENT.c.id).limit(limit)).all()
        lines = []
        current = (as_of, basis)
        for row in rows:  # unpacked, not read by name: an audit reads 100,000 of them
            patient_id, ref, timing, version, day, kept_basis, kept_version, detected_on = row[:8]
            kept = None
            if not replay and (day, kept_basis) == current and kept_version == version:
                eligible, tally, summary = row[8:11]
                kept = KeptVerdict(detected_on, _eligible_set(eligible), _flags(tally), _summary(summary),
                                   _deviations(row[11]) if details else None)
            lines.append(VerdictLine(patient_id, ref, timing, kept))
        return lines

    def keep(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store new verdicts (:func:`verdict_row`), replacing the patients' older ones."""
        if rows:
            self.connection.execute(delete(AUDIT_ENTRY).where(
                AUDIT_ENTRY.c.patient_id.in_([r["patient_id"] for r in rows])))
            self.connection.execute(insert(AUDIT_ENTRY), list(rows))

    def forget(self, patient_id: int) -> None:
        """A change the patient's version does not show (a dismissal) makes the stored verdict
        stale: it is deleted, and the next audit judges the patient again."""
        self.connection.execute(delete(AUDIT_ENTRY).where(AUDIT_ENTRY.c.patient_id == patient_id))
