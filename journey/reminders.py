"""The reminder policy of the contract (§3, §7): what is awaited, when it is due, and its status on
a given day. Reminders are values; the fold in ``journey.course`` opens, resolves and cancels them
as it walks the event history, and :func:`status_on` reads one on any date.

A reminder's identity is its kind and the entry that opened it (contract §7.1), never its date:
two entries on one day each open their own, and none silently replaces another. The entry that
closed it is named too, so a reminder is never shown resolved without the entry that resolved it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from journey.dates import add_months
from journey.settings import PathwaySettings


class ReminderKind(StrEnum):
    REASSESSMENT_DUE = "reassessment_due"
    TOTAL_CHEMO_CHECK = "total_chemo_check"
    #: contract 1.1 (§7.4, §7.6, §7.7)
    HOLD_REVIEW = "hold_review"
    SECOND_STAGE_DUE = "second_stage_due"
    MDT_AFTER_R2 = "mdt_after_r2"
    #: beyond the contract: what the audit checks are also worth a reminder
    RECURRENCE_MDT = "recurrence_mdt"
    R1_POSTOP_THERAPY = "r1_postop_therapy"


class ReminderStatus(StrEnum):
    SCHEDULED = "scheduled"
    DUE = "due"
    OVERDUE = "overdue"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


OPEN_STATUSES = (ReminderStatus.SCHEDULED, ReminderStatus.DUE, ReminderStatus.OVERDUE)

#: what each kind awaits, in words, with the guideline line or contract clause it rests on
REMINDER_MEANING = {
    ReminderKind.REASSESSMENT_DUE: "2-monthly resectability reassessment (seed:13)",
    ReminderKind.TOTAL_CHEMO_CHECK: "check that perioperative chemotherapy reaches 6 months (seed:14)",
    ReminderKind.HOLD_REVIEW: "review of a line of therapy on hold: resume, stop or decide",
    ReminderKind.SECOND_STAGE_DUE: "second stage of a two-stage liver operation",
    ReminderKind.MDT_AFTER_R2: "MDT decision after an R2 liver operation (disease left behind)",
    ReminderKind.RECURRENCE_MDT: "MDT review after a recurrence, within the setting (seed:37)",
    ReminderKind.R1_POSTOP_THERAPY: "post-operative therapy after an R1 liver resection (seed:35)",
}

#: what a nurse records to clear a reminder of each kind (the entry types that resolve it)
RESOLVED_BY = {
    ReminderKind.REASSESSMENT_DUE: ("reassessment",),
    ReminderKind.TOTAL_CHEMO_CHECK: ("systemic_stopped",),
    ReminderKind.HOLD_REVIEW: ("systemic_resumed", "systemic_started", "systemic_stopped", "mdt_review"),
    ReminderKind.SECOND_STAGE_DUE: ("surgery",),
    ReminderKind.MDT_AFTER_R2: ("mdt_review",),
    ReminderKind.RECURRENCE_MDT: ("mdt_review",),
    ReminderKind.R1_POSTOP_THERAPY: ("systemic_started",),
}


@dataclass(frozen=True)
class Reminder:
    """Something awaited for a patient, opened by one entry (``opened_by``: its ``seq``) on
    ``anchor_on``, due on ``due_on``.

    ``held_since``: the due date moves later by every day from then on, because the line of
    therapy it counts is on hold (contract §7.4); None when it stands still."""

    kind: ReminderKind
    opened_by: int
    anchor_on: date
    due_on: date
    resolved_on: date | None = None
    cancelled_on: date | None = None
    #: the entry (``seq``) that resolved or cancelled it
    closed_by: int | None = None
    held_since: date | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind.value, self.opened_by)

    def resolve(self, on: date, by: int) -> Reminder:
        return replace(self, resolved_on=on, closed_by=by)

    def cancel(self, on: date, by: int | None) -> Reminder:
        return replace(self, cancelled_on=on, closed_by=by)

    @property
    def closed_on(self) -> date | None:
        return self.resolved_on or self.cancelled_on

    def due_on_at(self, day: date) -> date:
        """The due date as it stands on ``day``: later by the days held up to then."""
        if self.held_since is None or day <= self.held_since:
            return self.due_on
        end = min(day, self.closed_on) if self.closed_on is not None else day
        return self.due_on + timedelta(days=max((end - self.held_since).days, 0))


def overdue_from(due_on: date, settings: PathwaySettings) -> date:
    """The first day a reminder is overdue: after the due day plus the grace period."""
    return due_on + timedelta(days=settings.reminder_grace_days + 1)


def status_on(reminder: Reminder, day: date, settings: PathwaySettings) -> ReminderStatus:
    """The status of ``reminder`` on ``day`` (contract §3)."""
    if reminder.resolved_on is not None and reminder.resolved_on <= day:
        return ReminderStatus.RESOLVED
    if reminder.cancelled_on is not None and reminder.cancelled_on <= day:
        return ReminderStatus.CANCELLED
    due = reminder.due_on_at(day)
    if day < due:
        return ReminderStatus.SCHEDULED
    if day < overdue_from(due, settings):
        return ReminderStatus.DUE
    return ReminderStatus.OVERDUE


def next_reassessment(opened_by: int, anchor_on: date, settings: PathwaySettings) -> Reminder:
    """Due 2 calendar months after the start of pre-operative therapy or the last reassessment."""
    return Reminder(ReminderKind.REASSESSMENT_DUE, opened_by, anchor_on,
                    add_months(anchor_on, settings.reassessment_interval_months))


def total_chemo_check(opened_by: int, postop_start: date, days_given: int,
                      settings: PathwaySettings) -> Reminder:
    """Due when the chemotherapy days already given in the episode (pre-operative, and any
    earlier post-operative line) plus this line's reach the target:
    post-op start + (target - days given). Holds move it later (:meth:`Reminder.due_on_at`)."""
    remaining = max(settings.total_chemo_target_days - days_given, 0)
    return Reminder(ReminderKind.TOTAL_CHEMO_CHECK, opened_by, postop_start,
                    postop_start + timedelta(days=remaining))


def hold_review(opened_by: int, paused_on: date, settings: PathwaySettings) -> Reminder:
    """A held line is reviewed within the setting (default 42 days) of the pause (§7.4)."""
    return Reminder(ReminderKind.HOLD_REVIEW, opened_by, paused_on,
                    paused_on + timedelta(days=settings.hold_review_days))


def second_stage_due(opened_by: int, first_stage_on: date, settings: PathwaySettings) -> Reminder:
    """The second stage is due within the setting (default 8 weeks) of the first (§7.6)."""
    return Reminder(ReminderKind.SECOND_STAGE_DUE, opened_by, first_stage_on,
                    first_stage_on + timedelta(weeks=settings.second_stage_weeks))


def mdt_after_r2(opened_by: int, surgery_on: date, settings: PathwaySettings) -> Reminder:
    """An MDT decision is due within the recurrence MDT setting (default 30 days) of an R2 liver
    operation (§7.7)."""
    return Reminder(ReminderKind.MDT_AFTER_R2, opened_by, surgery_on,
                    surgery_on + timedelta(days=settings.recurrence_mdt_days))


def recurrence_mdt(opened_by: int, recurrence_on: date, settings: PathwaySettings) -> Reminder:
    """An MDT review is awaited within the setting (default 30 days) of a recurrence (seed:37)."""
    return Reminder(ReminderKind.RECURRENCE_MDT, opened_by, recurrence_on,
                    recurrence_on + timedelta(days=settings.recurrence_mdt_days))


def r1_postop_therapy(opened_by: int, surgery_on: date, settings: PathwaySettings) -> Reminder:
    """Post-operative therapy is awaited within the setting (default 12 weeks) of an R1 liver
    resection (seed:35)."""
    return Reminder(ReminderKind.R1_POSTOP_THERAPY, opened_by, surgery_on,
                    surgery_on + timedelta(weeks=settings.r1_chemo_window_weeks))
