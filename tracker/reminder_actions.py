"""What a person does with a reminder: acknowledge it, snooze it until a day with a coded reason,
or dismiss it with a coded justification. Each action is appended to ``reminder_action`` (never
updated or deleted) in one transaction with its effect on the reminder row: a snooze sets
``snoozed_until`` (the worklist and the sweep leave it alone until then), a dismissal sets
``dismissed_on`` (it leaves the worklist; the audit reports it as a justified miss, apart from
unexplained ones). The event log and the fold are untouched: a reminder stays what the log implies,
and ``journey verify`` still proves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, update
from sqlmodel import Session, col, select

from db.repository import UnitOfWork
from db.tables import PatientRow, ReminderActionRow, ReminderRow
from journey.adherence import ReminderDismissal
from journey.errors import Conflict, ImpossibleEntry, NotFound

if TYPE_CHECKING:
    from tracker.services import Tracker

class ReminderAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    SNOOZE = "snooze"
    DISMISS = "dismiss"


class SnoozeReason(StrEnum):
    AWAITING_SCAN = "awaiting_scan"
    AWAITING_RESULTS = "awaiting_results"
    TREATMENT_DELAYED = "treatment_delayed"
    PATIENT_REQUEST = "patient_request"
    OTHER = "other"


class DismissReason(StrEnum):
    """The coded justifications (journey.adherence.DISMISSAL_REASONS)."""

    PATIENT_CHOICE = "patient_choice"
    TOXICITY = "toxicity"
    MDT_DECISION = "mdt_decision"
    PROGRESSION = "progression"
    OTHER = "other"


@dataclass(frozen=True)
class ActionResult:
    action: ReminderActionRow
    reminder: ReminderRow
    patient_ref: str

    def sentence(self) -> str:
        r, a = self.reminder, self.action
        what = f"{r.kind.replace('_', ' ')} of {self.patient_ref} (due {r.due_on})"
        if a.action == ReminderAction.SNOOZE:
            return f"Snoozed the {what} until {a.snoozed_until} ({a.reason})."
        if a.action == ReminderAction.DISMISS:
            return f"Dismissed the {what}: {a.reason}" + (f" ({a.text})" if a.text else "") + "."
        return f"Acknowledged the {what}."


def _code(value: str, codes: type[StrEnum], what: str) -> str:
    try:
        return codes(value).value
    except ValueError:
        allowed = ", ".join(c.value for c in codes)
        raise ImpossibleEntry(f"{value!r} is not a {what}; use one of: {allowed}.") from None


def _open_reminder(session: Session, reminder_id: int, verb: str) -> tuple[ReminderRow, PatientRow]:
    reminder = session.get(ReminderRow, reminder_id)
    if reminder is None:
        raise NotFound(f"No reminder with id {reminder_id}; the worklist shows the ids.")
    patient = session.get(PatientRow, reminder.patient_id)
    assert patient is not None
    if reminder.closed:
        how = (f"resolved on {reminder.resolved_on}" if reminder.resolved_on
               else f"cancelled on {reminder.cancelled_on}")
        raise ImpossibleEntry(f"The {reminder.kind.replace('_', ' ')} reminder of {patient.ref} was "
                              f"already {how}; there is nothing to {verb}.")
    if reminder.dismissed_on is not None:
        raise Conflict(f"The {reminder.kind.replace('_', ' ')} reminder of {patient.ref} was already "
                       f"dismissed on {reminder.dismissed_on}.")
    return reminder, patient


def _append(tracker: Tracker, session: Session, reminder: ReminderRow, action: ReminderAction,
            actor: str, **fields: Any) -> ReminderActionRow:
    row = ReminderActionRow(reminder_id=reminder.id or 0, patient_id=reminder.patient_id,
                            action=action.value, actor=actor, recorded_at=tracker.clock.now(), **fields)
    session.add(row)
    session.flush()
    return row


def acknowledge(tracker: Tracker, reminder_id: int, actor: str, note: str | None = None) -> ActionResult:
    """Someone has seen the reminder and is on it. Nothing else changes."""
    with UnitOfWork(tracker.engine) as repo:
        reminder, patient = _open_reminder(repo.session, reminder_id, "acknowledge")
        row = _append(tracker, repo.session, reminder, ReminderAction.ACKNOWLEDGE, actor, text=note)
        return ActionResult(row, reminder, patient.ref)


def snooze(tracker: Tracker, reminder_id: int, until: date, reason: str, actor: str,
           text: str | None = None) -> ActionResult:
    """Hide the reminder from the worklist and the announcements until ``until``."""
    code = _code(reason, SnoozeReason, "snooze reason")
    if code == SnoozeReason.OTHER and not (text or "").strip():
        raise ImpossibleEntry("A snooze for an 'other' reason needs the reason in words (--text).")
    today = tracker.clock.today()
    if until <= today:
        raise ImpossibleEntry(f"A snooze must end after today ({today}); {until} is not.")
    with UnitOfWork(tracker.engine) as repo:
        reminder, patient = _open_reminder(repo.session, reminder_id, "snooze")
        row = _append(tracker, repo.session, reminder, ReminderAction.SNOOZE, actor, reason=code,
                      text=text, snoozed_until=until)
        reminder.snoozed_until, reminder.updated_at = until, tracker.clock.now()
        return ActionResult(row, reminder, patient.ref)


def dismiss(tracker: Tracker, reminder_id: int, reason: str, actor: str,
            text: str | None = None) -> ActionResult:
    """The team decided the awaited step will not happen, and says why (a coded justification)."""
    code = _code(reason, DismissReason, "dismissal justification")
    if code == DismissReason.OTHER and not (text or "").strip():
        raise ImpossibleEntry("A dismissal for an 'other' reason needs the justification in words (--text).")
    today, now = tracker.clock.today(), tracker.clock.now()
    with UnitOfWork(tracker.engine) as repo:
        reminder, patient = _open_reminder(repo.session, reminder_id, "dismiss")
        # conditional: of two people dismissing at once, one wins and the other is told
        result = repo.session.execute(
            update(ReminderRow)
            .where(and_(col(ReminderRow.id) == reminder_id, col(ReminderRow.dismissed_on).is_(None)))
            .values(dismissed_on=today, updated_at=now).execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"The reminder {reminder_id} of {patient.ref} was dismissed by someone else "
                           f"just now.")
        row = _append(tracker, repo.session, reminder, ReminderAction.DISMISS, actor, reason=code, text=text)
        repo.forget_audit_verdict(reminder.patient_id)  # the dismissal justifies a deviation
        repo.session.refresh(reminder)
        return ActionResult(row, reminder, patient.ref)


def dismissals_for(session: Session, patient_id: int, as_of: date | None = None) -> list[ReminderDismissal]:
    """The patient's dismissed reminders with their justification, for the audit."""
    return dismissals_of(session, [patient_id], as_of)[patient_id]


def dismissals_of(session: Session, patient_ids: Sequence[int],
                  as_of: date | None = None) -> dict[int, list[ReminderDismissal]]:
    """:func:`dismissals_for` for several patients in one query."""
    query = (select(ReminderActionRow, ReminderRow)
             .join(ReminderRow, col(ReminderRow.id) == ReminderActionRow.reminder_id)
             .where(col(ReminderActionRow.patient_id).in_(patient_ids),
                    ReminderActionRow.action == ReminderAction.DISMISS.value,
                    col(ReminderRow.dismissed_on).is_not(None))
             .order_by(col(ReminderActionRow.id)))
    out: dict[int, list[ReminderDismissal]] = {i: [] for i in patient_ids}
    for action, reminder in session.exec(query):
        assert reminder.dismissed_on is not None
        if as_of is not None and reminder.dismissed_on > as_of:
            continue
        out[action.patient_id].append(ReminderDismissal(
            kind=reminder.kind, due_on=reminder.due_on, dismissed_on=reminder.dismissed_on,
            reason=action.reason or "", text=action.text))
    return out


def actions_of(tracker: Tracker, reminder_ids: Sequence[int]) -> list[ReminderActionRow]:
    """The recorded actions on these reminders, oldest first."""
    with UnitOfWork(tracker.engine) as repo:
        return list(repo.session.exec(select(ReminderActionRow)
                                      .where(col(ReminderActionRow.reminder_id).in_(list(reminder_ids)))
                                      .order_by(col(ReminderActionRow.id))))
