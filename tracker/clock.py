"""The one place that reads the real clock. Everything else is handed a Clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def today(self) -> date:
        """Today's date at the site."""
        ...


class SystemClock:
    def __init__(self, site_timezone: str = "UTC") -> None:
        self.zone = ZoneInfo(site_timezone)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return datetime.now(UTC).astimezone(self.zone).date()


class FixedClock:
    """A clock standing still on one day (replays, tests), until a test moves it on."""

    def __init__(self, day: date, at: time = time(12, 0)) -> None:
        self.day = day
        self.instant = datetime.combine(day, at, tzinfo=UTC)

    def advance(self, by: timedelta) -> None:
        """Move the clock on (a test of what time does: idle sessions, sign-in locks)."""
        self.instant += by
        self.day = self.instant.date()

    def now(self) -> datetime:
        return self.instant

    def today(self) -> date:
        return self.day
