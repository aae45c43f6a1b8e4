"""What the repositories hand out: plain, frozen values read from the rows, never the rows
themselves. Above ``db/`` code reads these (and the domain's values); it never sees a table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar, cast

R = TypeVar("R")

#: the largest id or version a row can have (PostgreSQL's integer); anything larger names no row
MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class PatientRecord:
    """A registered patient: the profile as stored and the derived phase, with the version that
    guards every write (optimistic locking)."""

    id: int
    ref: str
    care_team: str
    #: the validated profile in the scenario format
    profile: dict[str, Any]
    timing: str
    sidedness: str
    #: the phase the event log implies on ``phase_on``
    phase: str
    phase_on: date
    version: int
    #: the version of the pathway's rules that derived the phase and reminders
    derived_with: str
    #: the hash link of the last event and how many events there are
    log_head: str
    log_length: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class EntryRecord:
    """One recorded event as stored (append-only): the entry in the scenario format (``payload``)
    with when, by whom and from where it was recorded, the phases around it and its hashes."""

    #: None for an entry written in the current transaction (its id is not read back)
    id: int | None
    patient_id: int
    seq: int
    type: str
    date: date
    recorded_at: datetime
    actor: str
    source: str
    payload: dict[str, Any]
    phase_before: str
    phase_after: str
    override_reason: str | None
    content_hash: str
    chain_hash: str


@dataclass(frozen=True)
class ReminderRecord:
    """A stored reminder: derived from the log (kind, anchor, dates, status), with what people did
    beside it (snoozed, dismissed) and what the outbox announced."""

    id: int
    patient_id: int
    kind: str
    #: the entry (its seq) that opened it: with the kind, what identifies it (contract §7.1)
    opened_by: int
    anchor_on: date
    due_on: date
    resolved_on: date | None
    cancelled_on: date | None
    #: the entry (its seq) that resolved or cancelled it
    closed_by: int | None
    #: its due date moves later each day from this one (the line it counts is on hold)
    held_since: date | None
    closed: bool
    status: str
    snoozed_until: date | None
    announced: str | None
    dismissed_on: date | None
    #: the person on it (a user name), and who acknowledged it last and when
    assignee: str | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    updated_at: datetime


class ReminderAction(StrEnum):
    """What a person may do with a reminder."""

    ACKNOWLEDGE = "acknowledge"
    SNOOZE = "snooze"
    DISMISS = "dismiss"
    #: give it to a person (or release it): who is on it
    ASSIGN = "assign"


@dataclass(frozen=True)
class ReminderActionRecord:
    """What a person did with a reminder (append-only): acknowledge, snooze, dismiss or assign."""

    id: int
    reminder_id: int
    patient_id: int
    action: str
    reason: str | None
    text: str | None
    snoozed_until: date | None
    actor: str
    recorded_at: datetime
    #: assign: the person it was given to (None: released); acknowledge: who took it by it
    assignee: str | None = None


class NoticeState(StrEnum):
    """Where a notification is: waiting (pending, or claimed by a deliverer: sending), sent, failed
    after its last attempt, or superseded (its reminder closed before it went out)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class NoticeRecord:
    """One row of the notification outbox."""

    id: int
    kind: str
    reminder_id: int | None
    patient_id: int | None
    status: str
    channel: str
    payload: dict[str, Any]
    idempotency_key: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @property
    def waiting(self) -> bool:
        """Not yet sent, failed or superseded."""
        return self.state in (NoticeState.PENDING, NoticeState.SENDING)


@dataclass(frozen=True)
class UserRecord:
    id: int
    name: str
    role: str
    password_hash: str
    api_token_hash: str | None
    active: bool
    created_at: datetime
    token_expires_at: datetime | None
    token_last_used_at: datetime | None
    password_changed_at: datetime | None


@dataclass(frozen=True)
class AccessRecord:
    """One line of the access log: who read or wrote what, when, through which channel (web, api,
    cli) and from which address."""

    id: int
    at: datetime
    user: str
    action: str
    patient_ref: str | None
    detail: str
    channel: str
    client: str


@dataclass(frozen=True)
class SessionRecord:
    """A web session as stored: whose, since when, last seen when, and whether it has ended."""

    id: int
    token_hash: str
    user_id: int
    csrf: str
    client: str
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None
    ended_why: str | None
    flash: str | None
    kept: dict[str, Any] | None


def record_of(kind: type[R], row: Mapping[Any, Any]) -> R:
    """A record from a row's mapping (``row._mapping``): the columns are the record's fields."""
    return kind(**cast(Mapping[str, Any], row))  # a row's keys are its column names
