"""SQLModel tables. They are storage, kept apart from the domain's values (journey/): nothing
outside ``db/`` imports this module; the repositories (db.patients, db.reminders, ...) map rows to
domain values and to the records of ``db.records``.

Events are append-only: nothing in the project updates or deletes an event row. The patient row
holds the derived phase and a version that guards every write (optimistic locking); reminder
rows are unique per (patient, kind, opening entry) so each exists once however often it is
computed, and two entries on one day each keep their own (contract §7.1).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, CursorResult, Index, Table, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class PatientRow(SQLModel, table=True):
    __tablename__ = "patient"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(index=True, unique=True, max_length=64)
    care_team: str = Field(default="liver", max_length=64, index=True)
    #: the validated profile in the scenario format
    profile: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    timing: str = Field(max_length=16)
    sidedness: str = Field(max_length=8)
    #: the phase the event log implies on ``phase_on`` (refreshed by each event and each sweep)
    phase: str = Field(max_length=16, index=True)
    phase_on: date
    version: int = Field(default=1)
    #: the version of the pathway's rules (journey.course.PATHWAY_VERSION) that derived the phase
    #: and the reminders; an older one is re-derived from the log on start-up
    derived_with: str = Field(default="", max_length=32, index=True)
    #: the hash link of the patient's last event and how many events there are: deleting the
    #: last event (which no later link would betray) shows here
    log_head: str = Field(default="0" * 64, max_length=64)
    log_length: int = Field(default=0)
    created_at: datetime
    updated_at: datetime


class EventRow(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (UniqueConstraint("patient_id", "seq", name="uq_event_patient_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    #: recording order within the patient (1, 2, ...): orders entries of the same clinical date
    seq: int
    type: str = Field(max_length=32)
    #: the clinical date: the day it happened
    date: date
    #: the recording instant (UTC): when it was entered
    recorded_at: datetime
    actor: str = Field(max_length=128)
    source: str = Field(default="", max_length=256)
    #: the entry in the scenario format (type, date, fields, override, note)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    phase_before: str = Field(max_length=16)
    phase_after: str = Field(max_length=16)
    override_reason: str | None = Field(default=None, max_length=500)
    #: sha256 of the entry's content, to recognise an entry already recorded (idempotent import)
    content_hash: str = Field(max_length=64, index=True)
    #: sha256 chained to the previous event of the same patient (tamper evidence)
    chain_hash: str = Field(max_length=64)


class ReminderRow(SQLModel, table=True):
    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("patient_id", "kind", "opened_by", name="uq_reminder_patient_kind_opener"),
        # the worklist and the sweep read open reminders by due date
        Index("ix_reminder_open_due", "closed", "due_on"),
        # the sweep's candidate selection: partial (open reminders only, a few % of all) and
        # covering (everything it filters on), so it never reads the table (docs/performance.md)
        # (id after due_on: the worklist's "ORDER BY due_on, id LIMIT 50" reads it in order too;
        # anchor_on, held_since and opened_by last: the sweep reads what it announces (the
        # reminder's identity too), and whether the due date is moving, from the index, not the table)
        Index("ix_reminder_open_due_covering", "closed", "due_on", "id", "kind", "status", "announced",
              "snoozed_until", "dismissed_on", "patient_id", "anchor_on", "held_since", "opened_by",
              sqlite_where=text("closed = 0"), postgresql_where=text("closed = false")),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    kind: str = Field(max_length=32)
    #: the event (its seq) that opened it: with the kind, what identifies it (contract §7.1)
    opened_by: int
    anchor_on: date
    due_on: date
    resolved_on: date | None = None
    cancelled_on: date | None = None
    #: the event (its seq) that resolved or cancelled it
    closed_by: int | None = None
    #: the due date moves later by each day from this one (the line it counts is on hold)
    held_since: date | None = None
    #: resolved or cancelled: no longer awaited
    closed: bool = Field(default=False)
    #: the status last written by an event or a sweep (scheduled, due, overdue, resolved, cancelled)
    status: str = Field(max_length=16)
    snoozed_until: date | None = None
    #: the last status announced through the outbox (due, overdue): each is announced once
    announced: str | None = Field(default=None, max_length=16)
    #: the day a person dismissed it with a coded justification (reminder_action holds why)
    dismissed_on: date | None = None
    #: the person (a user name) who is on it: given it (assign) or took it (acknowledge); None
    #: while nobody has taken it. reminder_action holds every assignment.
    assignee: str | None = Field(default=None, max_length=64, index=True)
    #: who acknowledged it last (the action's actor) and when: what a colleague sees on the row
    acknowledged_by: str | None = Field(default=None, max_length=128)
    acknowledged_at: datetime | None = None
    updated_at: datetime


class ReminderActionRow(SQLModel, table=True):
    """What a person did with a reminder: acknowledge, snooze (until a date, coded reason),
    dismiss (coded justification) or assign (to a person). Append-only, like events; the audit
    reads dismissals."""

    __tablename__ = "reminder_action"

    id: int | None = Field(default=None, primary_key=True)
    reminder_id: int = Field(foreign_key="reminder.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    action: str = Field(max_length=16)  # acknowledge | snooze | dismiss | assign
    reason: str | None = Field(default=None, max_length=32)
    text: str | None = Field(default=None, max_length=500)
    snoozed_until: date | None = None
    #: the person an assignment gave the reminder to (None: released), or who took it by
    #: acknowledging it
    assignee: str | None = Field(default=None, max_length=64)
    actor: str = Field(max_length=128)
    recorded_at: datetime


class NotificationRow(SQLModel, table=True):
    """The outbox: one row per reminder that fell due or overdue, written in the same transaction,
    delivered afterwards with retries. Unique per (reminder, status, channel): never doubled."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("reminder_id", "status", "channel", name="uq_notification_reminder_status"),
        Index("ix_notification_pending", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="reminder", max_length=16)  # reminder | digest
    #: the reminder announced (None for a care team's daily digest)
    reminder_id: int | None = Field(default=None, foreign_key="reminder.id", index=True)
    patient_id: int | None = Field(default=None, foreign_key="patient.id")
    status: str = Field(max_length=16)  # the reminder status announced: due | overdue (digest)
    channel: str = Field(max_length=16)  # webhook | email
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    idempotency_key: str = Field(max_length=64, unique=True)
    #: pending | sending (claimed by a deliverer) | sent | failed | superseded (reminder closed)
    state: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime
    sent_at: datetime | None = None


class DeliveredNoticeRow(SQLModel, table=True):
    """The delivery ledger: notifications delivered by an earlier life of this database, carried
    over by a restore (db.outbox.carry_deliveries). A notice queued again with the same meaning
    (the same reminder's status, or the same digest, on the same channel) is not sent a second
    time. No foreign keys: what it names may not exist in the restored database."""

    __tablename__ = "delivered_notice"

    #: what the notice said (db.outbox.notice_fingerprint), not the row or reminder ids
    fingerprint: str = Field(primary_key=True, max_length=64)
    idempotency_key: str = Field(max_length=64)
    sent_at: datetime


class SchedulerLease(SQLModel, table=True):
    """Only the holder of the lease runs scheduled jobs; others stand by (APScheduler 3 must
    never share a job store between processes)."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=128)
    expires_at: datetime
    heartbeat_at: datetime


class UserRow(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=64)
    role: str = Field(max_length=16)  # navigator | clinician | auditor | admin
    password_hash: str = Field(max_length=256)
    api_token_hash: str | None = Field(default=None, max_length=128, index=True)
    active: bool = Field(default=True)
    created_at: datetime
    #: the API token stops working at this instant (None: no token, or one from before expiry)
    token_expires_at: datetime | None = None
    #: when the API token was last accepted (to the minute)
    token_last_used_at: datetime | None = None
    password_changed_at: datetime | None = None


class AccessLogRow(SQLModel, table=True):
    """Every read of a patient record and every write: who, what, when, through which channel and
    from which address. A list or worklist that showed patients has one row per patient shown."""

    __tablename__ = "access_log"
    __table_args__ = (Index("ix_access_log_user_at", "user", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    user: str = Field(max_length=64)
    action: str = Field(max_length=32)  # read | write | export | login ...
    patient_ref: str | None = Field(default=None, max_length=64, index=True)
    detail: str = Field(default="", max_length=500)
    #: web (the pages) | api | cli | scheduler; empty in rows from before it was recorded
    channel: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})
    #: the client's address as the web app saw it (after a trusted proxy's X-Forwarded-For)
    client: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})


class WebSessionRow(SQLModel, table=True):
    """A signed-in web session. The cookie holds a random token; only its SHA-256 is kept here, so
    a copy of the database opens no session. Ended by signing out, a password change, the user's
    deactivation, or time (idle and absolute, docs/security.md)."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    #: the session's CSRF token, which every form posts back
    csrf: str = Field(max_length=64)
    client: str = Field(default="", max_length=64)
    created_at: datetime
    last_seen_at: datetime
    ended_at: datetime | None = None
    #: signed-out | idle | lifetime | password-changed | deactivated | password-reset
    ended_why: str | None = Field(default=None, max_length=32)
    #: the one-off message for the next page (kept here, never in the cookie)
    flash: str | None = Field(default=None, max_length=500)
    #: a refused form for the next page: its message and what was typed, shown once beside the
    #: form it came from (post/redirect/get) and forgotten
    kept: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class SignInFailureRow(SQLModel, table=True):
    """A failed sign-in (a wrong password, or an unknown or expired API token): what the throttle
    counts, per user name and per client address, in every process alike."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (Index("ix_sign_in_failure_name_at", "name", "at"),
                      Index("ix_sign_in_failure_client_at", "client", "at"))

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    #: the user name tried (also names that do not exist); empty for an API token
    name: str = Field(max_length=64)
    client: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # password | token


class AuditEntryRow(SQLModel, table=True):
    """One patient's audit verdict on one day: what the cohort audit counts (journey.cohort), kept
    so that an audit of the day reads verdicts instead of re-folding every journey. Derived data,
    never a record: it is current only while ``as_of``, ``basis`` (ruleset and settings) and
    ``patient_version`` all match, and is recomputed otherwise (tracker.audit)."""

    __tablename__ = "audit_entry"

    patient_id: int = Field(foreign_key="patient.id", primary_key=True)
    as_of: date
    basis: str = Field(max_length=64)
    patient_version: int
    timing: str = Field(max_length=16)
    detected_on: date
    #: what the cohort counters read (tracker.audit): the eligible checks ("A-X,A-Y"), each
    #: deviation's check and whether it was justified ("A-X:1,A-Y:0"), the summary numbers (JSON)
    eligible: str = Field(max_length=2000)
    tally: str = Field(max_length=4000)
    summary: str = Field(max_length=4000)
    #: the deviations in full (date, detail, justification), for the per-deviation exports
    deviations: list[Any] = Field(sa_column=Column(JSON, nullable=False))
    computed_at: datetime


class JourneyMemoryRow(SQLModel, table=True):
    """What the fold remembers of a patient after the last entry (journey.course: the current
    episode, the open reminders, the phase): an entry dated on or after it is applied to it
    instead of replaying the whole log (issue 17). Derived data, never a record: current only
    while ``version`` is the pathway's and ``log_length`` the patient's; rebuilt otherwise."""

    __tablename__ = "journey_memory"

    patient_id: int = Field(foreign_key="patient.id", primary_key=True)
    #: the version of the pathway's rules that made it (journey.course.PATHWAY_VERSION)
    version: str = Field(max_length=32)
    #: how many entries of the log it has seen
    log_length: int
    memory: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


#: the tables as SQLAlchemy Core sees them: the statements of db/ are written on these
PATIENT = _table("patient")
EVENT = _table("event")
REMINDER = _table("reminder")
REMINDER_ACTION = _table("reminder_action")
NOTIFICATION = _table("notification")
DELIVERED = _table("delivered_notice")
LEASE = _table("scheduler_lease")
USER = _table("app_user")
ACCESS_LOG = _table("access_log")
WEB_SESSION = _table("web_session")
SIGN_IN_FAILURE = _table("sign_in_failure")
AUDIT_ENTRY = _table("audit_entry")
JOURNEY_MEMORY = _table("journey_memory")


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row a single-row INSERT wrote."""
    key = result.inserted_primary_key
    assert key is not None and key[0] is not None, "a single-row insert with a generated key"
    return int(key[0])
