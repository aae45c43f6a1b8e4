"""THIN ADAPTERS to services another engineer is writing at the same time.

    reminder actions   tracker.reminder_actions (issue 4): acknowledge, snooze, dismiss (landed;
                       called directly)
    cohort audit       journey.cohort (issue 5)
    audit report       tracker.reports.audit_html (issue 5)
    exports            tracker.exports (issue 5)

Each function calls the real service when its module is importable and offers the function
named here; otherwise it falls back to a clearly minimal stand-in so the web app works in the
meantime. The stand-ins hold no business rules worth keeping: delete each fallback once the real
service lands (docs/decisions-web.md).
"""

from __future__ import annotations

import csv
import importlib
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from db.tables import EventRow, PatientRow, ReminderRow
from journey.errors import InvalidScenario, NotFound
from tracker.services import Tracker


def _module(name: str) -> Any | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _service(module: str, name: str) -> Any | None:
    found = _module(module)
    return getattr(found, name, None) if found is not None else None


def snooze_reasons() -> tuple[str, ...]:
    from tracker.reminder_actions import SnoozeReason

    return tuple(r.value for r in SnoozeReason)


def dismiss_reasons() -> tuple[str, ...]:
    from tracker.reminder_actions import DismissReason

    return tuple(r.value for r in DismissReason)


# -- reminders ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReminderRef:
    """The reminder an action is about, and its patient (for access checks and the log)."""

    id: int
    patient_ref: str
    kind: str
    due_on: date


def find_reminder(tracker: Tracker, reminder_id: int) -> ReminderRef:
    with Session(tracker.engine) as session:
        found = session.exec(select(ReminderRow, PatientRow)
                             .join(PatientRow, col(PatientRow.id) == ReminderRow.patient_id)
                             .where(ReminderRow.id == reminder_id)).first()
    if found is None:
        raise NotFound(f"There is no reminder number {reminder_id}; reload the worklist.")
    reminder, patient = found
    return ReminderRef(reminder_id, patient.ref, reminder.kind, reminder.due_on)


def reminder_action(tracker: Tracker, action: str, reminder_id: int, actor: str,
                    until: date | None = None, reason: str | None = None,
                    text: str | None = None) -> str:
    """Acknowledge, snooze or dismiss a reminder (tracker.reminder_actions, issue 4); returns the
    sentence saying what was done."""
    from tracker import reminder_actions

    if action == "acknowledge":
        result = reminder_actions.acknowledge(tracker, reminder_id, actor, note=text)
    elif action == "snooze":
        if until is None:
            raise InvalidScenario("Say until which day to snooze.")
        result = reminder_actions.snooze(tracker, reminder_id, until, reason or "", actor, text=text)
    elif action == "dismiss":
        result = reminder_actions.dismiss(tracker, reminder_id, reason or "", actor, text=text)
    else:
        raise NotFound(f"No reminder action called {action!r}.")
    return result.sentence()


# -- the audit ----------------------------------------------------------------------------------

def _cohort(tracker: Tracker) -> Any | None:
    """The cohort audit (journey.cohort, issue 5) over every stored patient, or None while that
    module is missing. THIN ADAPTER: replace by the audit's own database service once it lands."""
    cohort = _module("journey.cohort")
    adherence = _module("journey.adherence")
    if cohort is None or adherence is None:
        return None
    from db.repository import UnitOfWork
    from tracker.reminder_actions import dismissals_for

    audit = cohort.CohortAudit()
    with UnitOfWork(tracker.engine) as repo:
        for stored in repo.stream_patients():
            outcome = tracker.follow(stored)
            dismissals = dismissals_for(repo.session, stored.row.id or 0, outcome.as_of)
            audit.add(stored.row.timing, adherence.judge(outcome, dismissals), cohort.summarize(outcome))
    return audit


def cohort_audit(tracker: Tracker) -> dict[str, Any]:
    """The cohort audit document (contract §6, ``journey audit --json``)."""
    audit = _cohort(tracker)
    if audit is not None:
        return dict(audit.summary())
    return _fallback_audit(tracker)


def _fallback_audit(tracker: Tracker) -> dict[str, Any]:
    """STAND-IN while journey.cohort is missing: the patients counted, no checks."""
    from db.repository import UnitOfWork

    with UnitOfWork(tracker.engine) as repo:
        patients = repo.patient_count()
    return {"patients": patients, "checks": [], "by_timing": {}, "provisional": True}


def audit_report_available() -> bool:
    return _service("tracker.reports.audit_html", "render_audit_html") is not None


def audit_report_html(tracker: Tracker) -> str | None:
    """The self-contained HTML audit report (tracker.reports.audit_html), when it is there."""
    render = _service("tracker.reports.audit_html", "render_audit_html")
    audit = _cohort(tracker)
    if render is None or audit is None:
        return None
    return str(render(audit, generated_on=tracker.clock.today(),
                      grace_days=tracker.settings.reminder_grace_days))


# -- exports ------------------------------------------------------------------------------------

EXPORT_KINDS = {"csv": "text/csv", "xes": "application/xml"}


def export(tracker: Tracker, kind: str, pseudonymise: Any) -> tuple[str, str]:
    """(body, media type) of a pseudonymous export: ``csv`` one row per deviation, ``xes`` the
    event log for process mining (tracker.exports, issue 5). While that module is missing, the
    CSV falls back to one row per recorded event and XES is not offered."""
    if kind not in EXPORT_KINDS:
        raise NotFound(f"No export called {kind!r}; choose one of {', '.join(EXPORT_KINDS)}.")
    exports = _module("tracker.exports")
    adherence = _module("journey.adherence")
    if exports is None or adherence is None:
        if kind != "csv":
            raise NotFound(f"The {kind} export is not available yet; the CSV export is.")
        return _fallback_csv(tracker, pseudonymise), EXPORT_KINDS[kind]
    from db.repository import UnitOfWork
    from tracker.reminder_actions import dismissals_for

    buffer = io.StringIO()
    key = tracker.settings.pseudonym_key
    with UnitOfWork(tracker.engine) as repo:
        if kind == "xes":
            exports.write_xes(buffer, ((s.row.ref, s.row.timing, tracker.follow(s).steps)
                                       for s in repo.stream_patients()), key=key)
        else:
            def judged(stored: Any) -> tuple[str, str, Any]:
                outcome = tracker.follow(stored)
                dismissals = dismissals_for(repo.session, stored.row.id or 0, outcome.as_of)
                return stored.row.ref, stored.row.timing, adherence.judge(outcome, dismissals).deviations

            exports.write_deviations_csv(buffer, (judged(s) for s in repo.stream_patients()), key=key)
    return buffer.getvalue(), EXPORT_KINDS[kind]


def _fallback_csv(tracker: Tracker, pseudonymise: Any) -> str:
    """STAND-IN while tracker.exports is missing: one row per recorded event, pseudonymous refs."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["patient", "seq", "date", "type", "phase_before", "phase_after", "override"])
    with Session(tracker.engine) as session:
        rows = session.exec(select(EventRow, PatientRow)
                            .join(PatientRow, col(PatientRow.id) == EventRow.patient_id)
                            .order_by(col(PatientRow.ref), col(EventRow.seq)))
        for event, patient in rows:
            writer.writerow([pseudonymise(patient.ref), event.seq, event.date.isoformat(), event.type,
                             event.phase_before, event.phase_after, event.override_reason or ""])
    return buffer.getvalue()
