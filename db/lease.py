"""The scheduler lease: a row that one process holds until it expires. Renewing and taking over
are each one conditional UPDATE, so two processes can never both believe they hold it; a
standby takes it over once the holder stopped renewing (docs/scheduler.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, insert, or_, update
from sqlalchemy.exc import IntegrityError, OperationalError

from db.tables import LEASE

#: the lease's expiry after a clean release: long past, so a standby takes it at once
_RELEASED = datetime(1970, 1, 1, tzinfo=UTC)


class LeaseUnavailable(Exception):
    """The database could not be reached (or stayed locked) to renew or take the lease."""


class Lease:
    def __init__(self, engine: Engine, holder: str, seconds: int, name: str = "scheduler") -> None:
        self.engine, self.holder, self.seconds, self.name = engine, holder, seconds, name

    def acquire(self, now: datetime) -> bool:
        """Renew the lease if held, take it if free or expired; True if this process holds it."""
        values = {"holder": self.holder, "expires_at": now + timedelta(seconds=self.seconds),
                  "heartbeat_at": now}
        try:
            with self.engine.begin() as connection:
                result = connection.execute(
                    update(LEASE).where(and_(LEASE.c.name == self.name,
                                             or_(LEASE.c.holder == self.holder, LEASE.c.expires_at < now)))
                    .values(**values))
                if result.rowcount == 1:
                    return True
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(LEASE).values(name=self.name, **values))
                return True
            except IntegrityError:
                return False  # someone else holds it
        except OperationalError as e:
            raise LeaseUnavailable(str(e)) from e

    def release(self) -> None:
        """Let a standby take over at once (a clean stop)."""
        with self.engine.begin() as connection:
            connection.execute(update(LEASE).where(and_(LEASE.c.name == self.name,
                                                        LEASE.c.holder == self.holder))
                               .values(expires_at=_RELEASED))
