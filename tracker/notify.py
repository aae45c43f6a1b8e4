"""The notification outbox: written in the sweep's transaction, delivered afterwards.

A notification row is written once per (reminder, status, channel), in the same transaction that
moves the reminder to ``due`` or ``overdue`` (and once per care team, day and channel for the daily
digest). :func:`deliver` sends what is pending to its channel:

- **webhook**: a JSON ``POST`` (httpx) with ``Idempotency-Key`` (the notification's key, the same
  on every retry, so a receiver drops a repeat), ``X-Journey-Timestamp`` and
  ``X-Journey-Signature: sha256=<HMAC-SHA256(secret, "<timestamp>." + body)>``;
- **email**: a plain-text message through SMTP (smtplib), ``Message-ID`` built from the key.

Delivery is at least once. A round *claims* rows first (state ``sending``, in its own short
transaction; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite), sends outside any
transaction, then records the result. A failure is retried with exponential back-off
(``next_attempt_at``); after the last attempt the row is ``failed`` and stays visible in
``journey notifications --failed`` until someone requeues it. A claimed row whose deliverer died
returns to the queue after :data:`CLAIM_TIMEOUT`. A reminder resolved, cancelled or dismissed
before its notification went out is marked ``superseded`` (with the reason), not sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import Engine, insert, update
from sqlmodel import Session, col, select

from db.repository import UnitOfWork
from db.tables import NotificationRow, ReminderRow
from tracker.settings import Settings

if TYPE_CHECKING:
    from tracker.services import Tracker

WEBHOOK, EMAIL = "webhook", "email"
PENDING, SENDING, SENT, FAILED, SUPERSEDED = "pending", "sending", "sent", "failed", "superseded"

#: a row claimed by a deliverer that died mid-send is offered again after this long
CLAIM_TIMEOUT = timedelta(minutes=5)
#: the longest wait between two attempts
MAX_BACKOFF = timedelta(hours=1)


class DeliveryError(Exception):
    """A channel refused or could not be reached; the message says which and why."""


def channels_of(settings: Settings) -> list[str]:
    """The configured channels: a webhook URL, an SMTP host with recipients."""
    out = []
    if settings.webhook_url:
        out.append(WEBHOOK)
    if settings.smtp_host and settings.smtp_to.strip():
        out.append(EMAIL)
    return out


def backoff(attempts: int, settings: Settings) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2 x base, 4 x base ... (capped)."""
    wait = timedelta(seconds=settings.notification_backoff_seconds * 2 ** max(attempts - 1, 0))
    return min(wait, MAX_BACKOFF)


# -- writing the outbox (inside the caller's transaction) -------------------------------------------
def insert_outbox_rows(session: Session, rows: list[dict[str, Any]]) -> int:
    """Queue outbox rows in one statement; a row whose key is already queued is left alone (a
    second sweep, a doubled fire time). How many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    table = NotificationRow.__table__  # type: ignore[attr-defined]
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        statement: Any = pg_insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        statement = sqlite_insert(table).on_conflict_do_nothing()
    else:  # pragma: no cover - other databases: the unique keys still refuse a double
        statement = insert(table)
    if len(rows) == 1:
        return int(session.execute(statement.values(**rows[0])).rowcount or 0)  # type: ignore[attr-defined]
    return int(session.execute(statement, rows).rowcount or 0)  # type: ignore[attr-defined]


def outbox_rows(*, kind: str, key: str, status: str, payload: dict[str, Any], channels: Iterable[str],
                now: datetime, reminder_id: int | None = None, patient_id: int | None = None,
                ) -> list[dict[str, Any]]:
    """One outbox row per channel, keyed ``<key>-<channel>``."""
    return [{"kind": kind, "reminder_id": reminder_id, "patient_id": patient_id, "status": status,
             "channel": channel, "payload": payload, "idempotency_key": f"{key}-{channel}",
             "state": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
            for channel in channels]


def write_outbox(session: Session, *, kind: str, key: str, status: str, payload: dict[str, Any],
                 channels: Iterable[str], now: datetime, reminder_id: int | None = None,
                 patient_id: int | None = None) -> int:
    """One row per channel, keyed ``<key>-<channel>``; how many were new."""
    return insert_outbox_rows(session, outbox_rows(
        kind=kind, key=key, status=status, payload=payload, channels=channels, now=now,
        reminder_id=reminder_id, patient_id=patient_id))


def reminder_key(reminder_id: int, status: str) -> str:
    return f"r{reminder_id}-{status}"


def digest_key(team: str, day: str) -> str:
    return f"d{hashlib.sha256(team.encode()).hexdigest()[:12]}-{day}"


# -- sending ----------------------------------------------------------------------------------------
def canonical_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``"<timestamp>." + body``: a receiver recomputes it with the shared
    secret and rejects a body that was altered or a timestamp that is too old."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def subject_and_text(row: NotificationRow) -> tuple[str, str]:
    p = row.payload
    if row.kind == "digest":
        lines = [f"- {i['patient']}: {i['kind'].replace('_', ' ')} due {i['due_on']} ({i['status']})"
                 for i in p.get("items", [])]
        return (f"[journey] {p.get('care_team')}: {len(lines)} reminder(s) due or overdue on {p.get('date')}",
                "\n".join([f"Daily digest for care team {p.get('care_team')} on {p.get('date')}.", "",
                           *lines, ""]))
    what = str(p.get("meaning") or p.get("kind", "reminder"))
    subject = f"[journey] {p.get('patient')}: {what} is {p.get('status')} (due {p.get('due_on')})"
    text = (f"Patient {p.get('patient')} (care team {p.get('care_team')}, phase {p.get('phase')}):\n"
            f"{what} was due on {p.get('due_on')}; it is {p.get('status')} on {p.get('as_of')}"
            f" (overdue from {p.get('overdue_from')}).\n\n"
            f"Record what happened, or act on the reminder: journey reminder ack|snooze|dismiss "
            f"{p.get('reminder_id')}\n")
    return subject, text


class Sender:
    """Sends one notification to its channel, or raises :class:`DeliveryError`."""

    def __init__(self, settings: Settings, http: httpx.Client | None = None,
                 smtp_factory: Callable[..., smtplib.SMTP] = smtplib.SMTP) -> None:
        self.settings = settings
        self.http = http
        self.smtp_factory = smtp_factory

    def send(self, row: NotificationRow, now: datetime) -> None:
        try:
            if row.channel == WEBHOOK:
                self.webhook(row, now)
            elif row.channel == EMAIL:
                self.email(row)
            else:
                raise DeliveryError(f"unknown channel {row.channel!r}")
        except DeliveryError:
            raise
        except (httpx.HTTPError, OSError, smtplib.SMTPException) as e:
            raise DeliveryError(f"{row.channel}: {type(e).__name__}: {e}") from e

    def webhook(self, row: NotificationRow, now: datetime) -> None:
        url = self.settings.webhook_url
        if not url:
            raise DeliveryError("webhook: no JOURNEY_WEBHOOK_URL is configured")
        body = canonical_body(row.payload)
        timestamp = str(int(now.timestamp()))
        headers = {"Content-Type": "application/json", "Idempotency-Key": row.idempotency_key,
                   "X-Journey-Timestamp": timestamp, "X-Journey-Event": row.kind,
                   "X-Journey-Signature": signature(self.settings.webhook_secret, timestamp, body)}
        client = self.http or httpx.Client(timeout=self.settings.webhook_timeout_seconds)
        try:
            response = client.post(url, content=body, headers=headers)
        finally:
            if self.http is None:
                client.close()
        if not response.is_success:
            raise DeliveryError(f"webhook: {url} answered {response.status_code} "
                                f"{response.reason_phrase}: {response.text[:200]}")

    def email(self, row: NotificationRow) -> None:
        s = self.settings
        if not s.smtp_host:
            raise DeliveryError("email: no JOURNEY_SMTP_HOST is configured")
        recipients = [a.strip() for a in s.smtp_to.split(",") if a.strip()]
        subject, text = subject_and_text(row)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.smtp_from, ", ".join(recipients), subject
        message["Message-ID"] = f"<{row.idempotency_key}@crlm-journey>"
        message.set_content(text)
        with self.smtp_factory(s.smtp_host, s.smtp_port, timeout=s.webhook_timeout_seconds) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
            refused = smtp.send_message(message, to_addrs=recipients)
        if refused:
            raise DeliveryError(f"email: recipients refused: {', '.join(refused)}")


# -- the delivery round -----------------------------------------------------------------------------
@dataclass
class DeliveryReport:
    sent: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        return (f"{len(self.sent)} notification(s) sent, {len(self.retrying)} to retry, "
                f"{len(self.failed)} failed, {len(self.superseded)} superseded.")


def claim(engine: Engine, now: datetime, limit: int, report: DeliveryReport) -> list[NotificationRow]:
    """Take up to ``limit`` rows whose time has come; mark them ``sending`` so no other deliverer
    takes them until :data:`CLAIM_TIMEOUT`. Rows of a reminder closed meanwhile are superseded."""
    with UnitOfWork(engine) as repo:
        session = repo.session
        query = (select(NotificationRow)
                 .where(col(NotificationRow.state).in_((PENDING, SENDING)),
                        col(NotificationRow.next_attempt_at) <= now)
                 .order_by(col(NotificationRow.next_attempt_at), col(NotificationRow.id)).limit(limit))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list(session.exec(query))
        reminder_ids = {r.reminder_id for r in rows if r.reminder_id is not None}
        reminders = {r.id: r for r in session.exec(
            select(ReminderRow).where(col(ReminderRow.id).in_(reminder_ids)))} if reminder_ids else {}
        claimed = []
        for row in rows:
            reminder = reminders.get(row.reminder_id)
            why = _no_longer_relevant(reminder)
            if why:
                row.state, row.last_error = SUPERSEDED, why
                report.superseded.append(row.idempotency_key)
                continue
            row.state, row.attempts = SENDING, row.attempts + 1
            row.next_attempt_at = now + CLAIM_TIMEOUT
            claimed.append(row)
        return claimed


def _no_longer_relevant(reminder: ReminderRow | None) -> str | None:
    if reminder is None:
        return None
    if reminder.resolved_on is not None:
        return f"not sent: the reminder was resolved on {reminder.resolved_on} before delivery"
    if reminder.cancelled_on is not None:
        return f"not sent: the reminder was cancelled on {reminder.cancelled_on} before delivery"
    if reminder.dismissed_on is not None:
        return f"not sent: the reminder was dismissed on {reminder.dismissed_on} before delivery"
    return None


def record_result(engine: Engine, row: NotificationRow, error: str | None, now: datetime,
                  settings: Settings, report: DeliveryReport) -> None:
    with UnitOfWork(engine) as repo:
        guard = (col(NotificationRow.id) == row.id) & (col(NotificationRow.state) == SENDING) & \
            (col(NotificationRow.attempts) == row.attempts)
        if error is None:
            values: dict[str, Any] = {"state": SENT, "sent_at": now, "last_error": None}
            bucket = report.sent
        elif row.attempts >= settings.notification_max_attempts:
            values = {"state": FAILED, "last_error": f"attempt {row.attempts}: {error}"[:1000]}
            bucket = report.failed
        else:
            values = {"state": PENDING, "last_error": f"attempt {row.attempts}: {error}"[:1000],
                      "next_attempt_at": now + backoff(row.attempts, settings)}
            bucket = report.retrying
        # only if nobody re-claimed it meanwhile (a send slower than CLAIM_TIMEOUT)
        result = repo.session.execute(update(NotificationRow).where(guard).values(**values))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            bucket.append(row.idempotency_key)


def deliver(tracker: Tracker, now: datetime | None = None, sender: Sender | None = None,
            batch: int = 50, max_batches: int = 20) -> DeliveryReport:
    """One delivery round: everything whose time has come, a batch at a time."""
    now = now or tracker.clock.now()
    sender = sender or Sender(tracker.settings)
    report = DeliveryReport()
    for _ in range(max_batches):
        rows = claim(tracker.engine, now, batch, report)
        if not rows:
            break
        for row in rows:
            error = None
            try:
                sender.send(row, now)
            except DeliveryError as e:
                error = str(e)
            record_result(tracker.engine, row, error, now, tracker.settings, report)
    return report


# -- looking at the outbox --------------------------------------------------------------------------
def list_notifications(engine: Engine, states: Sequence[str] | None = None,
                       limit: int = 200) -> list[NotificationRow]:
    with UnitOfWork(engine) as repo:
        query = select(NotificationRow).order_by(col(NotificationRow.id).desc()).limit(limit)
        if states:
            query = query.where(col(NotificationRow.state).in_(tuple(states)))
        return list(repo.session.exec(query))


def requeue_failed(engine: Engine, now: datetime | None = None) -> int:
    """Offer every failed notification again (after the channel was fixed), attempts from zero."""
    now = now or datetime.now(UTC)
    with UnitOfWork(engine) as repo:
        result = repo.session.execute(
            update(NotificationRow).where(col(NotificationRow.state) == FAILED)
            .values(state=PENDING, attempts=0, next_attempt_at=now))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
