"""What a person does with a reminder: acknowledge it, snooze it until a day with a coded reason,
dismiss it with a coded justification, or give it to a person (assign). Each action is one
transaction that appends it to ``reminder_action`` (never updated or deleted) with its effect on
the reminder row: a snooze sets ``snoozed_until`` (the worklist and the sweep leave the reminder
alone until then), a dismissal sets ``dismissed_on`` (it leaves the worklist; the audit reports it
as a justified miss, apart from unexplained ones), an acknowledgement sets who acknowledged it
and when (and, when nobody holds it, the person who acknowledged it takes it), an assignment sets
the person on it. The event log and the fold are untouched: a reminder stays what the log
implies, and ``journey verify`` still proves it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from db.records import ReminderAction, ReminderActionRecord, ReminderRecord
from db.unit_of_work import UnitOfWork
from journey.adherence import DISMISSAL_REASONS, ReminderDismissal
from journey.errors import Conflict, ImpossibleEntry, InvalidScenario, NotFound
from tracker.application.context import Context
from tracker.application.users import GRANTS, Permission, Role


class SnoozeReason(StrEnum):
    AWAITING_SCAN = "awaiting_scan"
    AWAITING_RESULTS = "awaiting_results"
    TREATMENT_DELAYED = "treatment_delayed"
    PATIENT_REQUEST = "patient_request"
    OTHER = "other"


#: the coded justifications of a dismissal: the domain's own list (journey.adherence), not a copy
DismissReason = StrEnum("DismissReason", [(code.upper(), code) for code in DISMISSAL_REASONS])  # type: ignore[misc]  # mypy cannot follow members made from a tuple


@dataclass(frozen=True)
class ActionResult:
    action: ReminderActionRecord
    reminder: ReminderRecord
    patient_ref: str

    def sentence(self) -> str:
        r, a = self.reminder, self.action
        what = f"{r.kind.replace('_', ' ')} of {self.patient_ref} (due {r.due_on})"
        if a.action == ReminderAction.SNOOZE:
            return f"Snoozed the {what} until {a.snoozed_until} ({a.reason})."
        if a.action == ReminderAction.DISMISS:
            return f"Dismissed the {what}: {a.reason}" + (f" ({a.text})" if a.text else "") + "."
        if a.action == ReminderAction.ASSIGN:
            return (f"Gave the {what} to {a.assignee}." if a.assignee
                    else f"Released the {what}: nobody is on it now.")
        if r.assignee and a.assignee == r.assignee:
            return f"Acknowledged the {what}; it is yours now."
        return f"Acknowledged the {what}" + (f" ({r.assignee} is on it)." if r.assignee else ".")


def _code(value: str, codes: Iterable[str], what: str) -> str:
    allowed = tuple(codes)
    if value not in allowed:
        raise ImpossibleEntry(f"{value!r} is not a {what}; use one of: {', '.join(allowed)}.")
    return value


def _open_reminder(uow: UnitOfWork, reminder_id: int, verb: str) -> tuple[ReminderRecord, str]:
    reminder, ref = uow.reminders.get(reminder_id)
    if reminder.closed:
        how = (f"resolved on {reminder.resolved_on}" if reminder.resolved_on
               else f"cancelled on {reminder.cancelled_on}")
        raise ImpossibleEntry(f"The {reminder.kind.replace('_', ' ')} reminder of {ref} was "
                              f"already {how}; there is nothing to {verb}.")
    if reminder.dismissed_on is not None:
        raise Conflict(f"The {reminder.kind.replace('_', ' ')} reminder of {ref} was already "
                       f"dismissed on {reminder.dismissed_on}.")
    return reminder, ref


def _append(ctx: Context, uow: UnitOfWork, reminder: ReminderRecord, action: ReminderAction, actor: str,
            reason: str | None = None, text: str | None = None,
            snoozed_until: date | None = None, assignee: str | None = None) -> ReminderActionRecord:
    return uow.reminder_actions.append({
        "reminder_id": reminder.id, "patient_id": reminder.patient_id, "action": action.value,
        "reason": reason, "text": text, "snoozed_until": snoozed_until, "actor": actor,
        "recorded_at": ctx.clock.now(), "assignee": assignee})


def acknowledge(ctx: Context, reminder_id: int, actor: str, note: str | None = None,
                taker: str | None = None) -> ActionResult:
    """Someone has seen the reminder and is on it: who and when show on the row. A ``taker`` (the
    person acknowledging, by user name) takes it when nobody holds it yet; one assigned to someone
    stays theirs."""
    with ctx.unit_of_work() as uow:
        reminder, ref = _open_reminder(uow, reminder_id, "acknowledge")
        takes = taker if reminder.assignee is None else None
        action = _append(ctx, uow, reminder, ReminderAction.ACKNOWLEDGE, actor, text=note,
                         assignee=takes)
        uow.reminders.acknowledged(reminder_id, actor, ctx.clock.now(), takes)
        reminder, _ = uow.reminders.get(reminder_id)
        uow.commit()
    return ActionResult(action, reminder, ref)


#: the roles whose people act on reminders, and so may be given one
ASSIGNABLE_ROLES = tuple(role for role in Role if Permission.MANAGE_REMINDERS in GRANTS[role])


def assign(ctx: Context, reminder_id: int, to: str | None, actor: str) -> ActionResult:
    """Give the reminder to a person (a user who may act on reminders), or release it (``to``
    None): who is on it shows on the row and filters the worklist (mine, by person)."""
    with ctx.unit_of_work() as uow:
        reminder, ref = _open_reminder(uow, reminder_id, "assign")
        if to is not None:
            person = uow.users.by_name(to)
            if person is None or not person.active or Role(person.role) not in ASSIGNABLE_ROLES:
                raise ImpossibleEntry(f"{to!r} is not someone who acts on reminders; give it to a "
                                      f"{' or '.join(r.value for r in ASSIGNABLE_ROLES)} by user name.")
        if to == reminder.assignee:
            raise ImpossibleEntry(f"The {reminder.kind.replace('_', ' ')} reminder of {ref} is "
                                  + (f"already {to}'s." if to else "not held by anyone."))
        action = _append(ctx, uow, reminder, ReminderAction.ASSIGN, actor, assignee=to)
        uow.reminders.assign(reminder_id, to, ctx.clock.now())
        reminder, _ = uow.reminders.get(reminder_id)
        uow.commit()
    return ActionResult(action, reminder, ref)


def snooze(ctx: Context, reminder_id: int, until: date, reason: str, actor: str,
           text: str | None = None) -> ActionResult:
    """Hide the reminder from the worklist and the announcements until ``until``."""
    code = _code(reason, SnoozeReason, "snooze reason")
    if code == SnoozeReason.OTHER and not (text or "").strip():
        raise ImpossibleEntry("A snooze for an 'other' reason needs the reason in words.")
    today, now = ctx.clock.today(), ctx.clock.now()
    if until <= today:
        raise ImpossibleEntry(f"A snooze must end after today ({today}); {until} is not.")
    with ctx.unit_of_work() as uow:
        reminder, ref = _open_reminder(uow, reminder_id, "snooze")
        action = _append(ctx, uow, reminder, ReminderAction.SNOOZE, actor, reason=code, text=text,
                         snoozed_until=until)
        uow.reminders.snooze(reminder_id, until, now)
        reminder, _ = uow.reminders.get(reminder_id)
        uow.commit()
    return ActionResult(action, reminder, ref)


def dismiss(ctx: Context, reminder_id: int, reason: str, actor: str, text: str | None = None) -> ActionResult:
    """The team decided the awaited step will not happen, and says why (a coded justification)."""
    code = _code(reason, DISMISSAL_REASONS, "dismissal justification")
    if code == "other" and not (text or "").strip():
        raise ImpossibleEntry("A dismissal for an 'other' reason needs the justification in words.")
    today, now = ctx.clock.today(), ctx.clock.now()
    with ctx.unit_of_work() as uow:
        reminder, ref = _open_reminder(uow, reminder_id, "dismiss")
        if not uow.reminders.dismiss(reminder_id, today, now):
            raise Conflict(f"The reminder {reminder_id} of {ref} was dismissed by someone else just now.")
        action = _append(ctx, uow, reminder, ReminderAction.DISMISS, actor, reason=code, text=text)
        uow.verdicts.forget(reminder.patient_id)  # the dismissal justifies a deviation
        reminder, _ = uow.reminders.get(reminder_id)
        uow.commit()
    return ActionResult(action, reminder, ref)


def act(ctx: Context, action: str, reminder_id: int, actor: str, until: date | None = None,
        reason: str | None = None, text: str | None = None, person: str | None = None) -> ActionResult:
    """Acknowledge, snooze, dismiss or assign, the action named (the web's forms and the API);
    ``person``: who acknowledges (and so takes it), or whom it is given to."""
    if action == ReminderAction.ACKNOWLEDGE:
        return acknowledge(ctx, reminder_id, actor, note=text, taker=person)
    if action == ReminderAction.ASSIGN:
        return assign(ctx, reminder_id, person, actor)
    if action == ReminderAction.SNOOZE:
        if until is None:
            raise InvalidScenario("Say until which day to snooze.")
        return snooze(ctx, reminder_id, until, reason or "", actor, text=text)
    if action == ReminderAction.DISMISS:
        return dismiss(ctx, reminder_id, reason or "", actor, text=text)
    raise NotFound(f"No reminder action called {action!r}.")


def dismissals_for(ctx: Context, patient_id: int, as_of: date | None = None) -> list[ReminderDismissal]:
    """The patient's dismissed reminders with their justification, for the audit."""
    with ctx.unit_of_work() as uow:
        return uow.reminder_actions.dismissals_of([patient_id], as_of)[patient_id]


def patient_of(ctx: Context, reminder_id: int) -> str:
    """The reference of the patient a reminder is for; NotFound when there is no such reminder."""
    with ctx.reading() as uow:
        return uow.reminders.get(reminder_id)[1]


def actions_of(ctx: Context, reminder_ids: Sequence[int]) -> list[ReminderActionRecord]:
    """The recorded actions on these reminders, oldest first."""
    with ctx.unit_of_work() as uow:
        return uow.reminder_actions.of_reminders(reminder_ids)
