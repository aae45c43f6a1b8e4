"""What the web app asks of the other services, in the shape its routes need:

    reminder actions   tracker.reminder_actions: acknowledge, snooze, dismiss
    cohort audit       tracker.audit (the same streaming audit as ``journey audit``)
    audit report       tracker.reports.audit_html
    exports            tracker.exports (pseudonymous deviations CSV, XES)
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from db.tables import PatientRow, ReminderRow
from journey.cohort import CohortAudit
from journey.errors import InvalidScenario, NotFound
from tracker.audit import audited_journeys
from tracker.exports import JourneyTrace, PatientDeviations, write_deviations_csv, write_xes
from tracker.reports.audit_html import render_audit_html
from tracker.services import Tracker


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

def _cohort(tracker: Tracker) -> CohortAudit:
    """The cohort audit over every stored patient, judged today (tracker.audit)."""
    audit = CohortAudit()
    for journey in audited_journeys(tracker, tracker.clock.today(), details=False):
        journey.count_into(audit)
    return audit


def cohort_audit(tracker: Tracker) -> dict[str, Any]:
    """The cohort audit document (contract §6, ``journey audit --json``)."""
    return dict(_cohort(tracker).summary())


def audit_report_html(tracker: Tracker) -> str | None:
    """The self-contained HTML audit report."""
    return render_audit_html(_cohort(tracker), generated_on=tracker.clock.today(),
                             grace_days=tracker.settings.reminder_grace_days)


# -- exports ------------------------------------------------------------------------------------

EXPORT_KINDS = {"csv": "text/csv", "xes": "application/xml"}


def export(tracker: Tracker, kind: str, pseudonymise: Any) -> tuple[str, str]:
    """(body, media type) of a pseudonymous export: ``csv`` one row per deviation, ``xes`` the
    event log for process mining."""
    if kind not in EXPORT_KINDS:
        raise NotFound(f"No export called {kind!r}; choose one of {', '.join(EXPORT_KINDS)}.")
    buffer = io.StringIO()
    key = tracker.settings.pseudonym_key
    journeys = audited_journeys(tracker, tracker.clock.today(), replay=kind == "xes")
    if kind == "xes":
        write_xes(buffer, (JourneyTrace(j.ref, j.timing, j.outcome.steps) for j in journeys
                           if j.outcome is not None), key=key)
    else:
        write_deviations_csv(buffer, (PatientDeviations(j.ref, j.timing, j.adherence.deviations)
                                      for j in journeys if j.adherence is not None), key=key)
    return buffer.getvalue(), EXPORT_KINDS[kind]
