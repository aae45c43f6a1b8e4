"""Lost races, said once. Whatever the way two writers collided (a version that moved on, a unique
key taken first, PostgreSQL's serialization failure or deadlock, SQLite's lock), the person is
told the same thing in the same words: :func:`changed_meanwhile`."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from journey.errors import ConcurrentUpdate

#: PostgreSQL SQLSTATEs of a lost race: unique violation, serialization failure, deadlock
_CONFLICT_STATES = ("23505", "40001", "40P01")


def changed_meanwhile(what: str = "The same record", since: str = "at the same time") -> ConcurrentUpdate:
    """The error for a write that lost a race: ``what`` was changed by someone else ``since``."""
    return ConcurrentUpdate(f"{what} was changed by someone else {since}. Nothing was saved; "
                            f"open it again, see what changed, and repeat what you did if it is still "
                            f"needed.")


def is_write_conflict(error: DBAPIError) -> bool:
    """A database error that means another transaction got there first (retrying is right)."""
    original = error.orig
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if state is not None:
        return state in _CONFLICT_STATES
    text = str(original)
    return "UNIQUE constraint failed" in text or "database is locked" in text
