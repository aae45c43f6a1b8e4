"""Settings, read once at the composition root from ``JOURNEY_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from journey.settings import PathwaySettings


def default_database_path() -> Path:
    """``$XDG_DATA_HOME/crlm-journey/journey.sqlite`` (``~/.local/share/...`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "crlm-journey" / "journey.sqlite"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOURNEY_", extra="ignore")

    database_url: str = Field(default_factory=lambda: f"sqlite:///{default_database_path()}")
    #: the site's timezone: what "today" is, and when the daily digest goes out
    site_timezone: str = "Europe/London"
    synchronous_window_days: int = Field(default=0, ge=0, le=365)
    reminder_grace_days: int = Field(default=14, ge=0, le=120)
    total_chemo_target_days: int = Field(default=183, ge=1, le=730)
    total_chemo_tolerance_days: int = Field(default=30, ge=0, le=365)
    r1_chemo_window_weeks: int = Field(default=12, ge=1, le=52)
    recurrence_mdt_days: int = Field(default=30, ge=1, le=365)
    #: the key of the pseudonymous references in exports (HMAC-SHA256); set it per site
    pseudonym_key: str = "change-me-per-site"
    #: who is recorded as the actor when the CLI records something
    actor: str = Field(default_factory=lambda: f"cli:{os.environ.get('USER', 'unknown')}")

    def pathway(self) -> PathwaySettings:
        return PathwaySettings(
            synchronous_window_days=self.synchronous_window_days,
            reminder_grace_days=self.reminder_grace_days,
            total_chemo_target_days=self.total_chemo_target_days,
            total_chemo_tolerance_days=self.total_chemo_tolerance_days,
            r1_chemo_window_weeks=self.r1_chemo_window_weeks,
            recurrence_mdt_days=self.recurrence_mdt_days,
        )
