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
    #: a held line of therapy is reviewed this many days after the pause (contract §7.4)
    hold_review_days: int = Field(default=42, ge=1, le=365)
    #: the second stage of a two-stage liver operation is due this many weeks after the first
    second_stage_weeks: int = Field(default=8, ge=1, le=52)
    #: the key of the pseudonymous references in exports (HMAC-SHA256); set it per site
    pseudonym_key: str = "change-me-per-site"
    #: who is recorded as the actor when the CLI records something
    actor: str = Field(default_factory=lambda: f"cli:{os.environ.get('USER', 'unknown')}")
    #: where ``journey serve`` listens (the web pages and the API)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: signs the web session cookies; empty = a random key per process (sessions end on restart)
    session_secret: str = ""
    #: the worklist's look-ahead: reminders falling due within this many days ("Due this week";
    #: 0 leaves the section out)
    worklist_ahead_days: int = Field(default=7, ge=0, le=60)

    # -- the scheduler (docs/scheduler.md) ---------------------------------------------------
    #: minutes between sweeps that move reminders to due/overdue and fire timed transitions
    sweep_interval_minutes: int = Field(default=15, ge=1, le=1440)
    #: local time (site timezone) of the daily digest per care team, HH:MM
    digest_time: str = Field(default="07:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    #: local time of the nightly audit job that judges every patient for the new day, HH:MM
    audit_time: str = Field(default="01:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    #: seconds between delivery rounds of the notification outbox
    delivery_interval_seconds: int = Field(default=60, ge=1, le=3600)
    #: a scheduler lease lasts this long unless renewed; a dead holder is replaced after it
    scheduler_lease_seconds: int = Field(default=30, ge=2, le=600)
    #: how often the holder renews the lease (and a standby tries to take it)
    scheduler_heartbeat_seconds: int = Field(default=10, ge=1, le=300)

    # -- notification channels (none configured: reminders are still announced, not sent) -----
    webhook_url: str | None = None
    #: the HMAC-SHA256 key of the X-Journey-Signature header
    webhook_secret: str = ""
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "journey-tracker@localhost"
    #: comma-separated recipients
    smtp_to: str = ""
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    #: after this many failed attempts a notification is marked failed (``journey notifications``)
    notification_max_attempts: int = Field(default=6, ge=1, le=50)
    #: the first retry waits this long; each further one twice as long (capped at an hour)
    notification_backoff_seconds: int = Field(default=60, ge=1, le=3600)

    def pathway(self) -> PathwaySettings:
        return PathwaySettings(
            synchronous_window_days=self.synchronous_window_days,
            reminder_grace_days=self.reminder_grace_days,
            total_chemo_target_days=self.total_chemo_target_days,
            total_chemo_tolerance_days=self.total_chemo_tolerance_days,
            r1_chemo_window_weeks=self.r1_chemo_window_weeks,
            recurrence_mdt_days=self.recurrence_mdt_days,
            hold_review_days=self.hold_review_days,
            second_stage_weeks=self.second_stage_weeks,
        )
