"""The notification outbox as stored: queueing notices in the writer's transaction (each key once),
claiming them for delivery, recording what came of an attempt, and looking at what waits or failed.

A notice's row is unique per idempotency key (``<key>-<channel>``): a second sweep of the same
day, or a doubled fire time, queues nothing more. A claimed row (``sending``) is offered again
after the claim times out (its deliverer died mid-send); a notice whose reminder was resolved,
cancelled or dismissed before it went out is ``superseded``, with the reason.

**Restores.** A restored database does not know what the live one delivered after the backup,
and its sweep would announce it again. So a restore carries the live database's deliveries into
the restored one (:func:`deliveries`, :func:`carry_deliveries`): a restored notice already
delivered is marked so, and the others go into the delivery ledger (``delivered_notice``), which
:func:`queue_notices` consults: a notice of the same meaning (:func:`notice_fingerprint`) queued
again is written ``superseded``, never sent. The meaning, not the ids: a restored database may
give a reminder id that was used after the backup to another reminder.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Table, and_, bindparam, insert, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from db.records import NoticeRecord, NoticeState, record_of
from db.tables import DELIVERED, NOTIFICATION, REMINDER

_NOTICE_COLUMNS = tuple(NOTIFICATION.c)


def notice_rows(*, kind: str, key: str, status: str, payload: dict[str, Any], channels: Iterable[str],
                now: datetime, reminder_id: int | None = None, patient_id: int | None = None,
                ) -> list[dict[str, Any]]:
    """One outbox row per channel, keyed ``<key>-<channel>``."""
    return [{"kind": kind, "reminder_id": reminder_id, "patient_id": patient_id, "status": status,
             "channel": channel, "payload": payload, "idempotency_key": f"{key}-{channel}",
             "state": NoticeState.PENDING.value, "attempts": 0, "next_attempt_at": now, "created_at": now}
            for channel in channels]


def notice_fingerprint(kind: str, payload: Mapping[str, Any], status: str, channel: str,
                       idempotency_key: str) -> str:
    """What a notice says, as a digest: a reminder's patient, kind, the entry that opened it (its
    identity; a notice written before reminders named it gives its opening day) and the status
    announced; a digest's care team and day; the channel. Two rows with the same fingerprint
    tell the receiver the same thing."""
    if kind == "reminder":
        opened = payload.get("opened_by", payload.get("anchor_on"))
        meaning = [kind, payload.get("patient"), payload.get("kind"), opened, status]
    elif kind == "digest":
        meaning = [kind, payload.get("care_team"), payload.get("date")]
    else:
        meaning = [kind, idempotency_key.removesuffix(f"-{channel}")]
    return hashlib.sha256(json.dumps([*meaning, channel]).encode()).hexdigest()


def _fingerprint_of(row: Mapping[Any, Any]) -> str:
    return notice_fingerprint(row["kind"], row["payload"], row["status"], row["channel"],
                              row["idempotency_key"])


def _upsert(connection: Connection, table: Table) -> Insert:
    if connection.dialect.name == "postgresql":
        return postgresql_insert(table).on_conflict_do_nothing()
    if connection.dialect.name == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing()
    return insert(table)  # pragma: no cover - other databases: the unique keys still refuse a double


def queue_notices(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Queue outbox rows in one statement; a row whose key is already queued is left alone, and
    one the ledger says was delivered before a restore is written ``superseded``. How many were
    new."""
    if not rows:
        return 0
    fingerprints = [_fingerprint_of(row) for row in rows]
    delivered = {fingerprint: sent_at for fingerprint, sent_at in connection.execute(
        select(DELIVERED.c.fingerprint, DELIVERED.c.sent_at)
        .where(DELIVERED.c.fingerprint.in_(set(fingerprints))))}
    if delivered:
        rows = [{**row, "state": NoticeState.SUPERSEDED.value,
                 "last_error": f"not sent again: delivered on {delivered[fp]:%Y-%m-%d %H:%M} UTC, "
                               f"before the database was restored"} if fp in delivered else row
                for row, fp in zip(rows, fingerprints, strict=True)]
    statement = _upsert(connection, NOTIFICATION)
    if len(rows) == 1:
        return int(connection.execute(statement.values(**rows[0])).rowcount or 0)
    return int(connection.execute(statement, list(rows)).rowcount or 0)


@dataclass(frozen=True)
class Delivery:
    """A notification a database delivered: what it said, under which key, when."""

    fingerprint: str
    idempotency_key: str
    sent_at: datetime


def deliveries(engine: Engine) -> list[Delivery]:
    """Everything this database delivered: its sent notices and its ledger (deliveries carried
    by earlier restores). Read before a restore replaces it; an empty or older database has
    fewer tables, and answers what it has."""
    tables = set(inspect(engine).get_table_names())
    found: dict[str, Delivery] = {}
    with engine.connect() as connection:
        if "delivered_notice" in tables:
            for fingerprint, key, sent_at in connection.execute(
                    select(DELIVERED.c.fingerprint, DELIVERED.c.idempotency_key, DELIVERED.c.sent_at)):
                found[fingerprint] = Delivery(fingerprint, key, sent_at)
        if "notification" in tables:
            for row in connection.execute(
                    select(NOTIFICATION.c.kind, NOTIFICATION.c.payload, NOTIFICATION.c.status,
                           NOTIFICATION.c.channel, NOTIFICATION.c.idempotency_key, NOTIFICATION.c.sent_at,
                           NOTIFICATION.c.created_at)
                    .where(NOTIFICATION.c.state == NoticeState.SENT.value)):
                fingerprint = _fingerprint_of(row._mapping)
                found[fingerprint] = Delivery(fingerprint, row.idempotency_key, row.sent_at or row.created_at)
    return list(found.values())


def carry_deliveries(connection: Connection, delivered: Sequence[Delivery]) -> int:
    """Into a restored database: every delivery goes into the ledger, and a restored notice that
    waits (or failed) but was delivered is marked superseded, with when it went out. How many
    restored notices were waiting for nothing."""
    if not delivered:
        return 0
    connection.execute(_upsert(connection, DELIVERED), [
        {"fingerprint": d.fingerprint, "idempotency_key": d.idempotency_key, "sent_at": d.sent_at}
        for d in delivered])
    by_fingerprint = {d.fingerprint: d for d in delivered}
    changes = []
    for row in connection.execute(
            select(NOTIFICATION.c.id, NOTIFICATION.c.kind, NOTIFICATION.c.payload, NOTIFICATION.c.status,
                   NOTIFICATION.c.channel, NOTIFICATION.c.idempotency_key)
            .where(NOTIFICATION.c.state.in_((NoticeState.PENDING.value, NoticeState.SENDING.value,
                                             NoticeState.FAILED.value)))):
        done = by_fingerprint.get(_fingerprint_of(row._mapping))
        if done is not None:
            changes.append({"nid": row.id, "n_error": f"not sent again: delivered on "
                                                      f"{done.sent_at:%Y-%m-%d %H:%M} UTC, before the "
                                                      f"database was restored"})
    if changes:
        connection.execute(update(NOTIFICATION).where(NOTIFICATION.c.id == bindparam("nid"))
                           .values(state=NoticeState.SUPERSEDED.value, last_error=bindparam("n_error")),
                           changes)
    return len(changes)


def superseded_because(resolved_on: date | None, cancelled_on: date | None,
                       dismissed_on: date | None) -> str | None:
    """Why a notice of a reminder must not go out any more (None: it still must)."""
    if resolved_on is not None:
        return f"not sent: the reminder was resolved on {resolved_on} before delivery"
    if cancelled_on is not None:
        return f"not sent: the reminder was cancelled on {cancelled_on} before delivery"
    if dismissed_on is not None:
        return f"not sent: the reminder was dismissed on {dismissed_on} before delivery"
    return None


@dataclass
class Claim:
    """What a delivery round took: the notices to send now, and the keys it superseded."""

    notices: list[NoticeRecord] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)


_CLAIM = (update(NOTIFICATION).where(NOTIFICATION.c.id == bindparam("nid"))
          .values(state=bindparam("n_state"), attempts=bindparam("n_attempts"),
                  next_attempt_at=bindparam("n_next"), last_error=bindparam("n_error")))


class Outbox:
    """The outbox rows, inside one unit of work."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def queue(self, rows: Sequence[Mapping[str, Any]]) -> int:
        return queue_notices(self.connection, rows)

    def carry(self, delivered: Sequence[Delivery]) -> int:
        """After a restore: what the replaced database delivered (:func:`carry_deliveries`)."""
        return carry_deliveries(self.connection, delivered)

    def claim(self, now: datetime, limit: int, claim_for: timedelta) -> Claim:
        """Take up to ``limit`` rows whose time has come and mark them ``sending`` (with one more
        attempt) so no other deliverer takes them for ``claim_for``; rows whose reminder closed
        meanwhile are superseded instead. ``FOR UPDATE SKIP LOCKED`` on PostgreSQL: two deliverers
        claim different rows; SQLite's writer lock already serialises them."""
        query = (select(*_NOTICE_COLUMNS)
                 .where(NOTIFICATION.c.state.in_((NoticeState.PENDING.value, NoticeState.SENDING.value)),
                        NOTIFICATION.c.next_attempt_at <= now)
                 .order_by(NOTIFICATION.c.next_attempt_at, NOTIFICATION.c.id).limit(limit))
        if self.connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = [record_of(NoticeRecord, r._mapping) for r in self.connection.execute(query)]
        reminder_ids = {r.reminder_id for r in rows if r.reminder_id is not None}
        reminders = {r.id: r for r in self.connection.execute(
            select(REMINDER.c.id, REMINDER.c.resolved_on, REMINDER.c.cancelled_on, REMINDER.c.dismissed_on)
            .where(REMINDER.c.id.in_(reminder_ids)))} if reminder_ids else {}
        claim = Claim()
        changes: list[dict[str, Any]] = []
        for row in rows:
            reminder = reminders.get(row.reminder_id)
            why = None if reminder is None else superseded_because(
                reminder.resolved_on, reminder.cancelled_on, reminder.dismissed_on)
            if why:
                changes.append({"nid": row.id, "n_state": NoticeState.SUPERSEDED.value,
                                "n_attempts": row.attempts, "n_next": row.next_attempt_at, "n_error": why})
                claim.superseded.append(row.idempotency_key)
                continue
            changes.append({"nid": row.id, "n_state": NoticeState.SENDING.value,
                            "n_attempts": row.attempts + 1, "n_next": now + claim_for,
                            "n_error": row.last_error})
            claim.notices.append(NoticeRecord(**{**vars(row), "state": NoticeState.SENDING.value,
                                                 "attempts": row.attempts + 1,
                                                 "next_attempt_at": now + claim_for}))
        if changes:
            self.connection.execute(_CLAIM, changes)
        return claim

    def record_attempt(self, notice: NoticeRecord, values: Mapping[str, Any]) -> bool:
        """Write what came of sending a claimed notice, only if nobody claimed it again meanwhile
        (a send slower than the claim); whether it was written."""
        result = self.connection.execute(
            update(NOTIFICATION)
            .where(and_(NOTIFICATION.c.id == notice.id, NOTIFICATION.c.state == NoticeState.SENDING.value,
                        NOTIFICATION.c.attempts == notice.attempts))
            .values(**values))
        return result.rowcount == 1

    def listing(self, states: Sequence[str] | None = None, limit: int = 200) -> list[NoticeRecord]:
        query = select(*_NOTICE_COLUMNS).order_by(NOTIFICATION.c.id.desc()).limit(limit)
        if states:
            query = query.where(NOTIFICATION.c.state.in_(tuple(states)))
        return [record_of(NoticeRecord, r._mapping) for r in self.connection.execute(query)]

    def requeue_failed(self, now: datetime) -> int:
        """Offer every failed notification again, attempts from zero."""
        result = self.connection.execute(
            update(NOTIFICATION).where(NOTIFICATION.c.state == NoticeState.FAILED.value)
            .values(state=NoticeState.PENDING.value, attempts=0, next_attempt_at=now))
        return int(result.rowcount or 0)
