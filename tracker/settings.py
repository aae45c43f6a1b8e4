"""Settings, read once at the composition root from ``JOURNEY_*`` environment variables.

The secrets (the pseudonym key, the session secret, the webhook secret, the SMTP password) are
typed ``SecretStr``: printed, logged or put in an error they show as ``**********``, and only
``get_secret_value()`` reads them. :func:`secret_problems` says which are missing or public; the
composition root refuses to start a program with any (tracker.compose.require_secrets).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from journey.errors import JourneyError
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
    #: the key of the pseudonymous references (HMAC-SHA256) that auditors and exports see; a long
    #: random value per site, kept secret (whoever has it can test guessed references)
    pseudonym_key: SecretStr = SecretStr("")
    #: who is recorded as the actor when the CLI records something
    actor: str = Field(default_factory=lambda: f"cli:{os.environ.get('USER', 'unknown')}")
    #: where ``journey serve`` listens (the web pages and the API)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: worker processes of ``journey serve`` (one per core; docs/operations.md)
    web_workers: int = Field(default=1, ge=1, le=64)
    #: signs the sign-in form's CSRF cookie; the same on every web process (docs/security.md)
    session_secret: SecretStr = SecretStr("")
    #: a web session ends after this many minutes without a request ...
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    #: ... and this many hours after sign-in, whatever happens
    session_lifetime_hours: int = Field(default=12, ge=1, le=7 * 24)
    #: an API token expires this many days after it was issued (``journey user token`` renews it)
    api_token_days: int = Field(default=90, ge=1, le=3650)
    #: sign-in throttling (docs/security.md): failures counted over this many minutes ...
    signin_window_minutes: int = Field(default=60, ge=1, le=24 * 60)
    #: ... after this many failures for one user name, each further try waits (1, 2, 4 ... 60 s) ...
    signin_free_failures: int = Field(default=3, ge=1, le=100)
    #: ... and after this many the name is locked for ``signin_lock_minutes``
    signin_lock_failures: int = Field(default=10, ge=2, le=1000)
    signin_lock_minutes: int = Field(default=15, ge=1, le=24 * 60)
    #: the same for one client address, whatever the names it tries (and bad API tokens)
    signin_client_free_failures: int = Field(default=10, ge=1, le=1000)
    signin_client_lock_failures: int = Field(default=50, ge=2, le=10000)
    #: the largest request body accepted (bytes); larger ones are refused with 413
    max_request_bytes: int = Field(default=1_000_000, ge=10_000, le=100_000_000)
    #: addresses of the reverse proxies whose X-Forwarded-For/-Proto are believed (comma-separated;
    #: empty: none, the client address is the connection's)
    forwarded_allow_ips: str = ""
    #: ``Strict-Transport-Security: max-age=...`` on answers served over https (0: not sent)
    hsts_seconds: int = Field(default=31_536_000, ge=0, le=63_072_000)
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
    #: processes that judge the patients in the nightly audit job, each a run of ids (one per core)
    audit_workers: int = Field(default=1, ge=1, le=64)
    #: seconds between delivery rounds of the notification outbox
    delivery_interval_seconds: int = Field(default=60, ge=1, le=3600)
    #: a scheduler lease lasts this long unless renewed; a dead holder is replaced after it
    scheduler_lease_seconds: int = Field(default=30, ge=2, le=600)
    #: how often the holder renews the lease (and a standby tries to take it)
    scheduler_heartbeat_seconds: int = Field(default=10, ge=1, le=300)

    # -- notification channels (none configured: reminders are still announced, not sent) -----
    webhook_url: str | None = None
    #: the HMAC-SHA256 key of the X-Journey-Signature header (required when webhook_url is set)
    webhook_secret: SecretStr = SecretStr("")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "journey-tracker@localhost"
    #: comma-separated recipients
    smtp_to: str = ""
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    #: after this many failed attempts a notification is marked failed (``journey notifications``)
    notification_max_attempts: int = Field(default=6, ge=1, le=50)
    #: the first retry waits this long; each further one twice as long (capped at an hour)
    notification_backoff_seconds: int = Field(default=60, ge=1, le=3600)

    # -- evidence kept outside the database (docs/operations.md, "Checkpoints") ---------------
    #: the directory the signed checkpoints are appended to (unset: no checkpoints are taken)
    checkpoint_path: Path | None = None
    #: the Ed25519 private key that signs them (a PEM file the database never holds)
    checkpoint_key: Path | None = None
    #: the public keys a verifier trusts (PEM blocks; every key ever used, oldest first)
    checkpoint_public_keys: Path | None = None
    #: minutes between the scheduler's checkpoints (none is written when nothing changed)
    checkpoint_interval_minutes: int = Field(default=60, ge=1, le=1440)
    #: also send each checkpoint's signed statement to the webhook, a witness off this machine
    checkpoint_witness: bool = False

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


#: values that were printed in this project's source or docs at some time: public, so refused
PUBLIC_SECRETS = frozenset({"change-me-per-site", "test-secret", "change-me", "changeme", "secret"})
#: shorter secrets can be found by trying
MIN_SECRET_LENGTH = 16
GENERATE = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class UnsafeSettings(JourneyError):
    """A secret is missing, too short or publicly known: the program refuses to start."""

    code = "unsafe-settings"


def weak_secret(value: SecretStr | None) -> str | None:
    """Why ``value`` cannot serve as a secret (empty, public, short), or None if it can."""
    text = value.get_secret_value() if value is not None else ""
    if not text:
        return "is not set"
    if text in PUBLIC_SECRETS:
        return "is a value published in the source code"
    if len(text) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    return None


def secret_problems(settings: Settings, web: bool = False) -> list[str]:
    """One sentence per secret this program needs and does not have: the pseudonym key always
    (every program that opens the site's records may show or export pseudonyms), the webhook
    secret when a webhook is configured, the session secret for the web app."""
    needed: list[tuple[str, SecretStr | None]] = [("JOURNEY_PSEUDONYM_KEY", settings.pseudonym_key)]
    if settings.webhook_url:
        needed.append(("JOURNEY_WEBHOOK_SECRET", settings.webhook_secret))
    if web:
        needed.append(("JOURNEY_SESSION_SECRET", settings.session_secret))
    return [f"{name} {why}." for name, value in needed if (why := weak_secret(value)) is not None]


def unsafe_settings(problems: list[str]) -> UnsafeSettings:
    """The refusal to start, saying what is wrong and how to set it."""
    return UnsafeSettings(
        "Refusing to start: " + " ".join(problems) + f" Set each to a long random value kept secret, the "
        f"same on every process of the site, for example `export NAME=$({GENERATE})`, or in the "
        f"service's environment file (docs/security.md, Secrets). `./scripts/run` makes demo "
        f"values for you.")
