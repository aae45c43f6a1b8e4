"""The notification outbox as stored: queueing notices in the writer's transaction (each key once),
claiming them for delivery, recording what came of an attempt, and looking at what waits or failed.

A notice's row is unique per idempotency key (``<key>-<channel>``): a second sweep of the same
day, or a doubled fire time, queues nothing more. A claimed row (``sending``) is offered again
after the claim times out (its deliverer died mid-send); a notice whose reminder was resolved,
cancelled or dismissed before it went out is ``superseded``, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Insert, and_, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from db.records import NoticeRecord, NoticeState, record_of
from db.tables import NOTIFICATION, REMINDER

_NOTICE_COLUMNS = tuple(NOTIFICATION.c)


def notice_rows(*, kind: str, key: str, status: str, payload: dict[str, Any], channels: Iterable[str],
                now: datetime, reminder_id: int | None = None, patient_id: int | None = None,
                ) -> list[dict[str, Any]]:
    """One outbox row per channel, keyed ``<key>-<channel>``."""
    return [{"kind": kind, "reminder_id": reminder_id, "patient_id": patient_id, "status": status,
             "channel": channel, "payload": payload, "idempotency_key": f"{key}-{channel}",
             "state": NoticeState.PENDING.value, "attempts": 0, "next_attempt_at": now, "created_at": now}
            for channel in channels]


def queue_notices(connection: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Queue outbox rows in one statement; a row whose key is already queued is left alone. How
    many were new."""
    if not rows:
        return 0
    statement: Insert
    if connection.dialect.name == "postgresql":
        statement = postgresql_insert(NOTIFICATION).on_conflict_do_nothing()
    elif connection.dialect.name == "sqlite":
        statement = sqlite_insert(NOTIFICATION).on_conflict_do_nothing()
    else:  # pragma: no cover - other databases: the unique keys still refuse a double
        statement = insert(NOTIFICATION)
    if len(rows) == 1:
        return int(connection.execute(statement.values(**rows[0])).rowcount or 0)
    return int(connection.execute(statement, list(rows)).rowcount or 0)


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
