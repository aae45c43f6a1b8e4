"""The sign-in throttle: how long a user name or a client address must wait before its next try,
from its recent failures (kept in the database, so every process counts the same failures).

    failures in the window   the next try
    ----------------------   ------------------------------------------------------------
    fewer than ``free``      at once
    ``free`` .. ``lock``-1   1 s after the last failure, then 2, 4, 8 ... (at most 60 s)
    ``lock`` or more         locked: ``lock_for`` after the last failure

A refused try is answered before any password is hashed (an attacker's tries cost the server
nothing), is not counted itself (an attacker cannot keep a name locked for ever by hammering it,
only for ``lock_for`` after each real failure), and is written to the access log.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tracker.settings import Settings

#: the longest back-off between two tries before the lock
MAX_BACKOFF = timedelta(seconds=60)


@dataclass(frozen=True)
class Throttle:
    """The back-off and lock for one kind of key (a user name, or a client address)."""

    free: int
    lock: int
    lock_for: timedelta

    def wait(self, failures: Sequence[datetime], now: datetime) -> timedelta:
        """How long from ``now`` until the next try is allowed (zero: at once); ``failures`` are
        the instants of the failures in the window, oldest first."""
        n = len(failures)
        if n < self.free:
            return timedelta(0)
        backoff = timedelta(seconds=2 ** min(n - self.free, 10))  # 2^10 s is past the cap already
        until = failures[-1] + (self.lock_for if n >= self.lock else min(backoff, MAX_BACKOFF))
        return max(until - now, timedelta(0))

    def locked(self, failures: Sequence[datetime]) -> bool:
        return len(failures) >= self.lock


@dataclass(frozen=True)
class SignInPolicy:
    window: timedelta
    by_name: Throttle
    by_client: Throttle

    @classmethod
    def of(cls, settings: Settings) -> SignInPolicy:
        lock_for = timedelta(minutes=settings.signin_lock_minutes)
        return cls(window=timedelta(minutes=settings.signin_window_minutes),
                   by_name=Throttle(settings.signin_free_failures, settings.signin_lock_failures, lock_for),
                   by_client=Throttle(settings.signin_client_free_failures,
                                      settings.signin_client_lock_failures, lock_for))


def whole_seconds(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds()))


def wait_sentence(wait: timedelta, locked: bool) -> str:
    """The refusal, in words: what happened, how long to wait, what else to do."""
    seconds = whole_seconds(wait)
    when = f"{math.ceil(seconds / 60)} minute(s)" if seconds >= 60 else f"{seconds} second(s)"
    why = ("Too many failed sign-ins: this account or address is locked for now" if locked
           else "Too many failed sign-ins in a row")
    return (f"{why}; try again in {when}. If you have forgotten the password, ask an administrator "
            f"to reset it.")
