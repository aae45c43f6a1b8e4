"""The reminder policy of the contract (§3): what is awaited, when it is due, and its status on a
given day. Reminders are values; the fold in ``journey.course`` opens, resolves and cancels them
as it walks the event history, and :func:`status_on` reads one on any date."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from journey.dates import add_months
from journey.settings import PathwaySettings


class ReminderKind(StrEnum):
    REASSESSMENT_DUE = "reassessment_due"
    TOTAL_CHEMO_CHECK = "total_chemo_check"
    #: beyond the contract's two kinds: what the audit checks are also worth a reminder
    RECURRENCE_MDT = "recurrence_mdt"
    R1_POSTOP_THERAPY = "r1_postop_therapy"


class ReminderStatus(StrEnum):
    SCHEDULED = "scheduled"
    DUE = "due"
    OVERDUE = "overdue"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


OPEN_STATUSES = (ReminderStatus.SCHEDULED, ReminderStatus.DUE, ReminderStatus.OVERDUE)

REMINDER_MEANING = {
    ReminderKind.REASSESSMENT_DUE: "2-monthly resectability reassessment (seed:13)",
    ReminderKind.TOTAL_CHEMO_CHECK: "check that perioperative chemotherapy reaches 6 months (seed:14)",
    ReminderKind.RECURRENCE_MDT: "MDT review after a recurrence, within the setting (seed:37)",
    ReminderKind.R1_POSTOP_THERAPY: "post-operative therapy after an R1 liver resection (seed:35)",
}


@dataclass(frozen=True)
class Reminder:
    """Something awaited for a patient. (kind, anchor_on) identifies it: the day that created
    it (therapy start, reassessment, post-operative start)."""

    kind: ReminderKind
    anchor_on: date
    due_on: date
    resolved_on: date | None = None
    cancelled_on: date | None = None

    @property
    def key(self) -> tuple[str, date]:
        return (self.kind.value, self.anchor_on)

    def resolve(self, on: date) -> Reminder:
        return replace(self, resolved_on=on)

    def cancel(self, on: date) -> Reminder:
        return replace(self, cancelled_on=on)

    @property
    def closed_on(self) -> date | None:
        return self.resolved_on or self.cancelled_on


def overdue_from(due_on: date, settings: PathwaySettings) -> date:
    """The first day a reminder is overdue: after the due day plus the grace period."""
    return due_on + timedelta(days=settings.reminder_grace_days + 1)


def status_on(reminder: Reminder, day: date, settings: PathwaySettings) -> ReminderStatus:
    """The status of ``reminder`` on ``day`` (contract §3)."""
    if reminder.resolved_on is not None and reminder.resolved_on <= day:
        return ReminderStatus.RESOLVED
    if reminder.cancelled_on is not None and reminder.cancelled_on <= day:
        return ReminderStatus.CANCELLED
    if day < reminder.due_on:
        return ReminderStatus.SCHEDULED
    if day < overdue_from(reminder.due_on, settings):
        return ReminderStatus.DUE
    return ReminderStatus.OVERDUE


def next_reassessment(anchor_on: date, settings: PathwaySettings) -> Reminder:
    """Due 2 calendar months after the start of pre-operative therapy or the last reassessment."""
    return Reminder(ReminderKind.REASSESSMENT_DUE, anchor_on,
                    add_months(anchor_on, settings.reassessment_interval_months))


def total_chemo_check(postop_start: date, preop_days: int, settings: PathwaySettings) -> Reminder:
    """Due when pre-operative plus post-operative days reach the target:
    post-op start + (target - pre-op days)."""
    remaining = max(settings.total_chemo_target_days - preop_days, 0)
    return Reminder(ReminderKind.TOTAL_CHEMO_CHECK, postop_start,
                    postop_start + timedelta(days=remaining))


def recurrence_mdt(recurrence_on: date, settings: PathwaySettings) -> Reminder:
    """An MDT review is awaited within the setting (default 30 days) of a recurrence (seed:37)."""
    return Reminder(ReminderKind.RECURRENCE_MDT, recurrence_on,
                    recurrence_on + timedelta(days=settings.recurrence_mdt_days))


def r1_postop_therapy(surgery_on: date, settings: PathwaySettings) -> Reminder:
    """Post-operative therapy is awaited within the setting (default 12 weeks) of an R1 liver
    resection (seed:35)."""
    return Reminder(ReminderKind.R1_POSTOP_THERAPY, surgery_on,
                    surgery_on + timedelta(weeks=settings.r1_chemo_window_weeks))
