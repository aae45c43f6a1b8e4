"""Notifications: what a notice says, the daily digest, and delivering the outbox.

A notice is queued in the outbox (db.outbox) once per (reminder, status, channel), in the same
transaction that moves the reminder to ``due`` or ``overdue`` (the sweep), and once per care team,
day and channel for the daily digest. :func:`deliver` sends what is pending to its channel:

- **webhook**: a JSON ``POST`` (httpx) with ``Idempotency-Key`` (the notice's key, the same on
  every retry, so a receiver drops a repeat), ``X-Journey-Timestamp`` and
  ``X-Journey-Signature: sha256=<HMAC-SHA256(secret, "<timestamp>." + body)>``;
- **email**: a plain-text message through SMTP (smtplib), ``Message-ID`` built from the key.

Delivery is at least once. A round *claims* rows first (in its own short transaction), sends
outside any transaction, then records the result. A failure is retried with exponential back-off;
after the last attempt the row is ``failed`` and stays visible in ``journey notifications
--failed`` until someone requeues it. A claimed row whose deliverer died returns to the queue
after :data:`CLAIM_TIMEOUT`. A reminder resolved, cancelled or dismissed before its notice went out
makes the notice ``superseded`` (with the reason), not sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx

from db.outbox import notice_rows
from db.records import NoticeRecord, NoticeState
from db.sweep import SweptReminder
from journey.reminders import REMINDER_MEANING, ReminderKind, overdue_from
from tracker.application.context import Context
from tracker.application.worklist import worklist
from tracker.settings import Settings

log = logging.getLogger("journey.sweep")

WEBHOOK, EMAIL = "webhook", "email"

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


# -- what is queued ---------------------------------------------------------------------------------

def reminder_key(reminder_id: int, status: str) -> str:
    return f"r{reminder_id}-{status}"


def digest_key(team: str, day: str) -> str:
    return f"d{hashlib.sha256(team.encode()).hexdigest()[:12]}-{day}"


def reminder_payload(ctx: Context, ref: str, team: str, phase: str, reminder: SweptReminder, status: str,
                     as_of: date) -> dict[str, Any]:
    kind = ReminderKind(reminder.kind)
    return {"type": "reminder", "reminder_id": reminder.id, "patient": ref, "care_team": team,
            "phase": phase, "kind": reminder.kind, "meaning": REMINDER_MEANING[kind],
            "status": status, "due_on": reminder.due_on.isoformat(),
            "anchor_on": reminder.anchor_on.isoformat(), "opened_by": reminder.opened_by,
            "overdue_from": overdue_from(reminder.due_on, ctx.pathway).isoformat(),
            "as_of": as_of.isoformat()}


def write_digests(ctx: Context, day: date, now: datetime | None = None) -> int:
    """One digest per care team with something due or overdue on ``day``, per channel. Keyed by
    (team, day): a second run for the same day (a doubled fire time at a DST change, a restart)
    writes nothing more."""
    now = now or ctx.clock.now()
    channels = channels_of(ctx.settings)
    by_team: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in worklist(ctx, day, limit=None):
        by_team[item.care_team].append({"reminder_id": item.reminder_id, "patient": item.ref,
                                        "phase": item.phase, "kind": item.kind,
                                        "due_on": item.due_on.isoformat(), "status": item.status.value,
                                        "days_late": item.days_late})
    rows: list[dict[str, Any]] = []
    for team, items in sorted(by_team.items()):
        payload = {"type": "digest", "care_team": team, "date": day.isoformat(), "items": items}
        rows.extend(notice_rows(kind="digest", key=digest_key(team, day.isoformat()), status="digest",
                                payload=payload, channels=channels, now=now))
    with ctx.unit_of_work() as uow:
        written = uow.outbox.queue(rows)
        uow.commit()
    if written:
        log.info("Digest of %s: %d notification(s) queued for %d care team(s).", day, written, len(by_team))
    return written


# -- sending ----------------------------------------------------------------------------------------

def canonical_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` over ``"<timestamp>." + body``: a receiver recomputes it with the shared
    secret and rejects a body that was altered or a timestamp that is too old."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def subject_and_text(notice: NoticeRecord) -> tuple[str, str]:
    p = notice.payload
    if notice.kind == "digest":
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
    """Sends one notice to its channel, or raises :class:`DeliveryError`."""

    def __init__(self, settings: Settings, http: httpx.Client | None = None,
                 smtp_factory: Callable[..., smtplib.SMTP] = smtplib.SMTP) -> None:
        self.settings = settings
        self.http = http
        self.smtp_factory = smtp_factory

    def send(self, notice: NoticeRecord, now: datetime) -> None:
        try:
            if notice.channel == WEBHOOK:
                self.webhook(notice, now)
            elif notice.channel == EMAIL:
                self.email(notice)
            else:
                raise DeliveryError(f"unknown channel {notice.channel!r}")
        except DeliveryError:
            raise
        except (httpx.HTTPError, OSError, smtplib.SMTPException) as e:
            raise DeliveryError(f"{notice.channel}: {type(e).__name__}: {e}") from e

    def webhook(self, notice: NoticeRecord, now: datetime) -> None:
        url = self.settings.webhook_url
        if not url:
            raise DeliveryError("webhook: no JOURNEY_WEBHOOK_URL is configured")
        body = canonical_body(notice.payload)
        timestamp = str(int(now.timestamp()))
        headers = {"Content-Type": "application/json", "Idempotency-Key": notice.idempotency_key,
                   "X-Journey-Timestamp": timestamp, "X-Journey-Event": notice.kind,
                   "X-Journey-Signature": signature(self.settings.webhook_secret.get_secret_value(),
                                                    timestamp, body)}
        client = self.http or httpx.Client(timeout=self.settings.webhook_timeout_seconds)
        try:
            response = client.post(url, content=body, headers=headers)
        finally:
            if self.http is None:
                client.close()
        if not response.is_success:
            raise DeliveryError(f"webhook: {url} answered {response.status_code} "
                                f"{response.reason_phrase}: {response.text[:200]}")

    def email(self, notice: NoticeRecord) -> None:
        s = self.settings
        if not s.smtp_host:
            raise DeliveryError("email: no JOURNEY_SMTP_HOST is configured")
        recipients = [a.strip() for a in s.smtp_to.split(",") if a.strip()]
        subject, text = subject_and_text(notice)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.smtp_from, ", ".join(recipients), subject
        message["Message-ID"] = f"<{notice.idempotency_key}@crlm-journey>"
        message.set_content(text)
        with self.smtp_factory(s.smtp_host, s.smtp_port, timeout=s.webhook_timeout_seconds) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value() if s.smtp_password else "")
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


def _record_result(ctx: Context, notice: NoticeRecord, error: str | None, now: datetime,
                   report: DeliveryReport) -> None:
    settings = ctx.settings
    if error is None:
        values: dict[str, Any] = {"state": NoticeState.SENT.value, "sent_at": now, "last_error": None}
        bucket = report.sent
    elif notice.attempts >= settings.notification_max_attempts:
        values = {"state": NoticeState.FAILED.value,
                  "last_error": f"attempt {notice.attempts}: {error}"[:1000]}
        bucket = report.failed
    else:
        values = {"state": NoticeState.PENDING.value,
                  "last_error": f"attempt {notice.attempts}: {error}"[:1000],
                  "next_attempt_at": now + backoff(notice.attempts, settings)}
        bucket = report.retrying
    with ctx.unit_of_work() as uow:
        if uow.outbox.record_attempt(notice, values):
            bucket.append(notice.idempotency_key)
        uow.commit()


def deliver(ctx: Context, now: datetime | None = None, sender: Sender | None = None,
            batch: int = 50, max_batches: int = 20) -> DeliveryReport:
    """One delivery round: everything whose time has come, a batch at a time."""
    now = now or ctx.clock.now()
    sender = sender or Sender(ctx.settings)
    report = DeliveryReport()
    for _ in range(max_batches):
        with ctx.unit_of_work() as uow:
            claim = uow.outbox.claim(now, batch, CLAIM_TIMEOUT)
            uow.commit()
        report.superseded += claim.superseded
        if not claim.notices:
            break
        for notice in claim.notices:
            error = None
            try:
                sender.send(notice, now)
            except DeliveryError as e:
                error = str(e)
            _record_result(ctx, notice, error, now, report)
    return report


# -- looking at the outbox --------------------------------------------------------------------------

def notifications(ctx: Context, failed_only: bool = False, everything: bool = False,
                  limit: int = 200) -> list[NoticeRecord]:
    """The outbox, newest first: by default what waits or failed; only the failed ones; or all."""
    states = None if everything else [NoticeState.FAILED.value] if failed_only else \
        [NoticeState.PENDING.value, NoticeState.SENDING.value, NoticeState.FAILED.value]
    with ctx.unit_of_work() as uow:
        return uow.outbox.listing(states, limit)


def requeue_failed(ctx: Context) -> int:
    """Offer every failed notification again (after the channel was fixed), attempts from zero."""
    with ctx.unit_of_work() as uow:
        count = uow.outbox.requeue_failed(ctx.clock.now())
        uow.commit()
    return count
