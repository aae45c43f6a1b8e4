"""People who use the tracker: accounts, roles, API tokens, web sessions, the sign-in throttle,
and the access log.

Passwords are stored as argon2id hashes (argon2-cffi); API tokens are random 256-bit strings of
which only a SHA-256 digest is stored (a token has full entropy, so a fast hash is enough and lets
the token be found by its digest), and expire (``api_token_days``). A web session is a row found
by the SHA-256 of the random token in its cookie; it ends when its owner signs out, changes the
password or is deactivated, after ``session_idle_minutes`` without a request, and
``session_lifetime_hours`` after sign-in. Failed sign-ins are rows too, counted per user name and
per client address by the throttle (tracker.application.signin) in every process alike. Every read
of a patient record, every write, every sign-in and every refusal of one is appended to the access
log by :meth:`Users.log`, with the channel and the client address.

    role        may
    ----------  ---------------------------------------------------------------------------------
    navigator   read patients, register patients, record events, manage reminders, read the audit
    clinician   all of the navigator's, plus MDT decisions and overrides, exports, FHIR imports
    auditor     read patients (pseudonymous references only), the audit and exports; never write
    admin       manage users; no patient records
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from db.records import AccessRecord, SessionRecord, UserRecord
from db.unit_of_work import UnitOfWork
from journey.errors import Conflict, InvalidScenario, JourneyError, NotFound
from tracker.application.context import AccessLine, Context
from tracker.application.signin import SignInPolicy, wait_sentence, whole_seconds


class NotSignedIn(JourneyError):
    """No valid session or token: sign in (web) or send ``Authorization: Bearer TOKEN`` (API)."""

    code = "not-signed-in"


class AccessDenied(JourneyError):
    """Signed in, but the role does not allow this."""

    code = "access-denied"


class SignInThrottled(NotSignedIn):
    """Too many failed sign-ins for this name or from this address: wait before the next try."""

    code = "too-many-attempts"

    def __init__(self, message: str, retry_after: timedelta) -> None:
        super().__init__(message)
        self.retry_after_seconds = whole_seconds(retry_after)


class Role(StrEnum):
    NAVIGATOR = "navigator"
    CLINICIAN = "clinician"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Permission(StrEnum):
    READ_PATIENTS = "read patient records"
    REGISTER_PATIENTS = "register patients"
    RECORD_EVENTS = "record events"
    RECORD_MDT = "record MDT decisions"
    OVERRIDE = "record off-pathway steps with an override"
    MANAGE_REMINDERS = "acknowledge, snooze or dismiss reminders"
    READ_AUDIT = "read the audit"
    EXPORT = "export the event log"
    MANAGE_USERS = "manage users"
    #: an import carries MDT decisions and overrides (a clinician's), and admins run integrations
    IMPORT_RECORDS = "import FHIR records from another system"


_NAVIGATOR = frozenset({Permission.READ_PATIENTS, Permission.REGISTER_PATIENTS,
                        Permission.RECORD_EVENTS, Permission.MANAGE_REMINDERS,
                        Permission.READ_AUDIT})

#: the one table of who may do what (docs/web.md shows it)
GRANTS: dict[Role, frozenset[Permission]] = {
    Role.NAVIGATOR: _NAVIGATOR,
    Role.CLINICIAN: _NAVIGATOR | {Permission.RECORD_MDT, Permission.OVERRIDE, Permission.EXPORT,
                                  Permission.IMPORT_RECORDS},
    Role.AUDITOR: frozenset({Permission.READ_PATIENTS, Permission.READ_AUDIT, Permission.EXPORT}),
    Role.ADMIN: frozenset({Permission.MANAGE_USERS}),
}

@dataclass(frozen=True)
class Account:
    """A signed-in person, as the entry points see them (a value, not a row)."""

    id: int
    name: str
    role: Role
    active: bool = True
    #: the API token's expiry and last use (None: no token, or never used)
    token_expires_at: datetime | None = None
    token_last_used_at: datetime | None = None

    def may(self, permission: Permission) -> bool:
        return self.active and permission in GRANTS[self.role]

    @property
    def pseudonymous(self) -> bool:
        """Auditors see keyed pseudonyms instead of patient references (tracker.application.privacy
        holds what each role sees; a test holds the two together)."""
        return self.role is Role.AUDITOR

    def require(self, permission: Permission) -> None:
        if not self.may(permission):
            raise AccessDenied(f"Your role ({self.role.value}) may not {permission.value}. Ask an "
                               f"administrator if you need to.")


NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
MIN_PASSWORD = 10
#: longer passwords are refused unhashed (argon2 over megabytes would be a way to load the server)
MAX_PASSWORD = 256
TOKEN_PREFIX = "jt_"
#: the last-used date of a token and the last-seen time of a session are written at most this often
TOUCH_EVERY = timedelta(minutes=1)
#: the access log's name for a caller whose API token matched nobody
UNKNOWN_TOKEN = "(unknown token)"


@dataclass(frozen=True)
class Origin:
    """Where a request came from, for the access log and the throttle: the channel (web: the
    pages, api, cli, scheduler) and the client's address."""

    channel: str = "cli"
    client: str = ""

    def line(self, user: str, action: str, patient_ref: str | None = None, detail: str = "") -> AccessLine:
        """The access log's line of what ``user`` did from here."""
        return AccessLine(user, action, patient_ref, detail, self.channel, self.client)


CLI = Origin("cli")


@dataclass(frozen=True)
class NewAccount:
    """A created account with its password and API token in clear: shown once, never stored."""

    account: Account
    password: str
    token: str


@dataclass(frozen=True)
class WebSession:
    """A signed-in web session as a page sees it: whose, its CSRF token, and what its next page
    shows once: a message, and a refused form (its message and what was typed)."""

    id: int
    account: Account
    csrf: str
    flash: str | None = None
    kept: dict[str, Any] | None = None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _web_session(found: SessionRecord, row: UserRecord) -> WebSession:
    """The open session as its next page sees it (what it shows once included)."""
    return WebSession(found.id, _account(row), found.csrf, found.flash, found.kept)


def _account(row: UserRecord) -> Account:
    return Account(row.id, row.name, Role(row.role), row.active, row.token_expires_at, row.token_last_used_at)


class Users:
    """Accounts, web sessions, the sign-in throttle and the access log over one database."""

    def __init__(self, ctx: Context, hasher: PasswordHasher | None = None) -> None:
        self.ctx = ctx
        self.hasher = hasher or PasswordHasher()
        self.policy = SignInPolicy.of(ctx.settings)

    @cached_property
    def _decoy(self) -> str:
        """Verifying against this when the name is unknown keeps both answers equally slow (made
        when first needed: the commands that only write the access log need no hash)."""
        return self.hasher.hash(secrets.token_urlsafe(16))

    # -- accounts -----------------------------------------------------------------------------
    def add(self, name: str, role: str, password: str | None = None, by: str = "",
            origin: Origin = CLI) -> NewAccount:
        if not NAME_PATTERN.match(name or ""):
            raise InvalidScenario("A user name is 2 to 64 letters, digits or . _ @ -, starting with a "
                                  "letter or digit.")
        try:
            chosen = Role(role)
        except ValueError:
            raise InvalidScenario(f"{role!r} is not a role; choose one of "
                                  f"{', '.join(r.value for r in Role)}.") from None
        password = self._new_password(password)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.ctx.clock.now()
        with self.ctx.unit_of_work() as uow:
            if uow.users.by_name(name) is not None:
                raise Conflict(f"A user called {name!r} already exists.")
            row = uow.users.add({"name": name, "role": chosen.value,
                                 "password_hash": self.hasher.hash(password),
                                 "api_token_hash": token_digest(token), "active": True,
                                 "created_at": now, "token_expires_at": self._token_expiry(),
                                 "password_changed_at": now})
            self._append(uow, by or name, "user-created", detail=f"{name} ({chosen.value})", origin=origin)
            uow.commit()
        return NewAccount(_account(row), password, token)

    def list(self) -> builtins.list[Account]:
        with self.ctx.unit_of_work() as uow:
            return [_account(r) for r in uow.users.listing()]

    def get(self, account_id: int) -> Account | None:
        with self.ctx.reading() as uow:
            row = uow.users.by_id(account_id)
        return _account(row) if row is not None and row.active else None

    def _new_password(self, password: str | None) -> str:
        password = password or secrets.token_urlsafe(12)
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InvalidScenario(f"A password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters.")
        return password

    def _token_expiry(self) -> datetime:
        return self.ctx.clock.now() + timedelta(days=self.ctx.settings.api_token_days)

    def _named(self, uow: UnitOfWork, name: str) -> UserRecord:
        row = uow.users.by_name(name)
        if row is None:
            raise NotFound(f"No user called {name!r}; `journey user list` shows who there is.")
        return row

    def issue_token(self, name: str, by: str = "", origin: Origin = CLI) -> str:
        """A new API token for ``name`` (valid ``api_token_days``); the old one stops working."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.ctx.unit_of_work() as uow:
            row = self._named(uow, name)
            uow.users.set_token(row.id, token_digest(token), self._token_expiry())
            self._append(uow, by or name, "token-issued", detail=f"for {name}", origin=origin)
            uow.commit()
        return token

    def revoke_token(self, name: str, by: str = "", origin: Origin = CLI) -> None:
        """``name``'s API token stops working now; no new one is issued."""
        with self.ctx.unit_of_work() as uow:
            row = self._named(uow, name)
            uow.users.set_token(row.id, None, None)
            self._append(uow, by or name, "token-revoked", detail=f"of {name}", origin=origin)
            uow.commit()

    def deactivate(self, name: str, by: str = "", origin: Origin = CLI) -> int:
        """``name`` can no longer sign in or use the API: their sessions end and their token is
        revoked. How many sessions were ended."""
        with self.ctx.unit_of_work() as uow:
            row = self._named(uow, name)
            uow.users.set_active(row.id, False)
            uow.users.set_token(row.id, None, None)
            ended = uow.sessions.end_all_of(row.id, self.ctx.clock.now(), "deactivated")
            self._append(uow, by or name, "user-deactivated",
                         detail=f"{name}; {ended} session(s) ended, token revoked", origin=origin)
            uow.commit()
        return ended

    def activate(self, name: str, by: str = "", origin: Origin = CLI) -> None:
        """``name`` may sign in again (with a new token from ``issue_token`` for the API)."""
        with self.ctx.unit_of_work() as uow:
            row = self._named(uow, name)
            uow.users.set_active(row.id, True)
            self._append(uow, by or name, "user-activated", detail=name, origin=origin)
            uow.commit()

    def reset_password(self, name: str, password: str | None = None, by: str = "",
                       origin: Origin = CLI) -> str:
        """A new password for ``name`` (generated unless given), returned once; their sessions
        end and their failed sign-ins are forgotten (the lock lifts)."""
        password = self._new_password(password)
        password_hash = self.hasher.hash(password)
        with self.ctx.unit_of_work() as uow:
            row = self._named(uow, name)
            self._replace_password(uow, row, password_hash, "password-reset")
            uow.sign_in_failures.forget_name(name)
            self._append(uow, by or name, "password-reset", detail=f"of {name}", origin=origin)
            uow.commit()
        return password

    def change_password(self, account: Account, current: str, new: str, origin: Origin = CLI) -> None:
        """The owner changes their own password: the current one must match (throttled like a
        sign-in); every session of theirs ends (the web app starts a fresh one for the browser
        that changed it)."""
        try:
            self.authenticate(account.name, current, origin, action="password-check")
        except SignInThrottled:
            raise
        except NotSignedIn:
            raise AccessDenied("The current password does not match; the password was not changed.") from None
        password_hash = self.hasher.hash(self._new_password(new))
        with self.ctx.unit_of_work() as uow:
            self._replace_password(uow, self._named(uow, account.name), password_hash, "password-changed")
            self._append(uow, account.name, "password-changed", origin=origin)
            uow.commit()

    def _replace_password(self, uow: UnitOfWork, row: UserRecord, password_hash: str, why: str) -> None:
        now = self.ctx.clock.now()
        uow.users.set_password_hash(row.id, password_hash, changed_at=now)
        uow.sessions.end_all_of(row.id, now, why)

    # -- signing in ---------------------------------------------------------------------------
    def authenticate(self, name: str, password: str, origin: Origin = CLI, action: str = "login") -> Account:
        """The account for this name and password; NotSignedIn (one message for both) otherwise,
        SignInThrottled (before any hashing) while the name or the address must wait.

        The try is counted as a failure before the password is checked and forgotten when it
        matches, so tries in flight at the same moment are counted too."""
        refused = NotSignedIn("That user name and password do not match an active account.")
        now = self.ctx.clock.now()
        with self.ctx.unit_of_work() as uow:
            self._throttle(uow, now, name, origin, action)
            uow.sign_in_failures.record(at=now, name=name, client=origin.client, kind="password")
            row = uow.users.by_name(name)
            uow.commit()
        known = row is not None and row.active and len(password) <= MAX_PASSWORD
        matches = self._verify(row.password_hash if known and row else self._decoy, password[:MAX_PASSWORD])
        with self.ctx.unit_of_work() as uow:
            if not (known and matches and row is not None):
                self._append(uow, name, f"{action}-failed", origin=origin)
                if self.policy.by_name.locked(uow.sign_in_failures.of_name(name, now - self.policy.window)):
                    self._append(uow, name, "login-locked",
                                 detail=f"{self.policy.by_name.lock} failures; locked for "
                                        f"{self.policy.by_name.lock_for}", origin=origin)
                uow.sign_in_failures.prune(now - max(self.policy.window, self.policy.by_name.lock_for))
                uow.commit()
                raise refused
            uow.sign_in_failures.forget_name(name)
            if self.hasher.check_needs_rehash(row.password_hash):
                uow.users.set_password_hash(row.id, self.hasher.hash(password))
            self._append(uow, row.name, action, origin=origin)
            uow.commit()
        return _account(row)

    def _throttle(self, uow: UnitOfWork, now: datetime, name: str | None, origin: Origin,
                  action: str) -> None:
        """Refuse (and log) a try while the name or the client address must wait."""
        wait, locked = self._wait(uow, now, name, origin)
        if wait > timedelta(0):
            self._append(uow, name or UNKNOWN_TOKEN, f"{action}-throttled",
                         detail=f"{'locked' if locked else 'back-off'}; {whole_seconds(wait)} s to wait",
                         origin=origin)
            uow.commit()
            raise SignInThrottled(wait_sentence(wait, locked), wait)

    def _wait(self, uow: UnitOfWork, now: datetime, name: str | None,
              origin: Origin) -> tuple[timedelta, bool]:
        """How long the name or the client address must still wait, and whether it is locked."""
        since = now - self.policy.window
        waits = []
        if name is not None:
            failures = uow.sign_in_failures.of_name(name, since)
            waits.append((self.policy.by_name.wait(failures, now), self.policy.by_name.locked(failures)))
        if origin.client:
            failures = uow.sign_in_failures.of_client(origin.client, since)
            waits.append((self.policy.by_client.wait(failures, now), self.policy.by_client.locked(failures)))
        return max(waits, default=(timedelta(0), False))

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def by_token(self, token: str, origin: Origin = CLI) -> Account:
        """The account of an API token; NotSignedIn if it is unknown, revoked, expired or its owner
        deactivated (logged and counted against the client address), SignInThrottled while the
        address must wait."""
        now = self.ctx.clock.now()
        digest = token_digest(token)
        # every API request asks: the common answer (a valid token, used within the minute, from an
        # address that need not wait) is read without taking SQLite's writer lock
        with self.ctx.reading() as uow:
            row = uow.users.by_token_digest(digest)
            if (row is not None and self._token_problem(row, digest, now) is None
                    and row.token_last_used_at is not None and now - row.token_last_used_at < TOUCH_EVERY
                    and self._wait(uow, now, None, origin)[0] <= timedelta(0)):
                return _account(row)
        with self.ctx.unit_of_work() as uow:
            self._throttle(uow, now, None, origin, "token")
            row = uow.users.by_token_digest(digest)
            problem = self._token_problem(row, digest, now)
            if problem is None and row is not None:
                if row.token_last_used_at is None or now - row.token_last_used_at >= TOUCH_EVERY:
                    uow.users.token_used(row.id, now)
                    uow.commit()
                return _account(row)
            uow.sign_in_failures.record(at=now, name="", client=origin.client, kind="token")
            self._append(uow, row.name if row is not None else UNKNOWN_TOKEN, "token-failed",
                         detail=problem or "", origin=origin)
            uow.commit()
        if problem == "expired":
            raise NotSignedIn("The API token has expired; ask an administrator for a new one "
                              "(journey user token NAME).")
        raise NotSignedIn("The API token is not valid; ask an administrator for a new one.")

    @staticmethod
    def _token_problem(row: UserRecord | None, digest: str, now: datetime) -> str | None:
        if row is None or row.api_token_hash is None or not hmac.compare_digest(row.api_token_hash, digest):
            return "unknown"
        if not row.active:
            return "inactive user"
        if row.token_expires_at is None or row.token_expires_at <= now:
            return "expired"
        return None

    # -- web sessions -------------------------------------------------------------------------
    def start_session(self, account: Account, origin: Origin,
                      flash: str | None = None) -> tuple[str, WebSession]:
        """A new session for ``account`` (after sign-in): the cookie's token, returned once (only
        its SHA-256 is kept), and the session with a fresh CSRF token."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        with self.ctx.unit_of_work() as uow:
            uow.sessions.start(token_hash=token_digest(token), user_id=account.id, csrf=csrf,
                               client=origin.client, at=self.ctx.clock.now(), flash=flash)
            uow.commit()
            found = uow.sessions.by_token_hash(token_digest(token))
        assert found is not None, "the session just started"
        return token, WebSession(found.id, account, csrf, flash)

    def open_session(self, token: str, origin: Origin) -> tuple[WebSession | None, str | None]:
        """The session of a cookie's token, or (None, why it ended) when it has ended by time or
        its owner was deactivated ((None, None) for a token that is no session)."""
        now = self.ctx.clock.now()
        # every page asks: an open session seen within the minute is read without the writer lock
        with self.ctx.reading() as uow:
            found = uow.sessions.by_token_hash(token_digest(token))
            row = uow.users.by_id(found.user_id) if found is not None and found.ended_at is None else None
            if (found is not None and row is not None and self._session_over(found, row, now) is None
                    and now - found.last_seen_at < TOUCH_EVERY):
                return _web_session(found, row), None
        with self.ctx.unit_of_work() as uow:
            found = uow.sessions.by_token_hash(token_digest(token))
            if found is None or found.ended_at is not None:
                return None, None
            row = uow.users.by_id(found.user_id)
            why = self._session_over(found, row, now)
            if why is not None or row is None:
                uow.sessions.end(found.id, now, why or "deactivated")
                self._append(uow, row.name if row else "", "session-ended", detail=why or "", origin=origin)
                uow.commit()
                return None, SESSION_ENDED.get(why or "")
            if now - found.last_seen_at >= TOUCH_EVERY:
                uow.sessions.seen(found.id, now)
                uow.commit()
        return _web_session(found, row), None

    def _session_over(self, found: SessionRecord, row: UserRecord | None, now: datetime) -> str | None:
        settings = self.ctx.settings
        if row is None or not row.active:
            return "deactivated"
        if now - found.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
            return "idle"
        if now - found.created_at > timedelta(hours=settings.session_lifetime_hours):
            return "lifetime"
        return None

    def end_session(self, session: WebSession, origin: Origin, why: str = "signed-out") -> None:
        with self.ctx.unit_of_work() as uow:
            uow.sessions.end(session.id, self.ctx.clock.now(), why)
            self._append(uow, session.account.name, "logout", origin=origin)
            uow.commit()

    def set_next_page(self, session: WebSession, flash: str | None,
                      kept: Mapping[str, Any] | None = None) -> None:
        """What the session's next page shows once (None: shown, forget it): a message, and a
        refused form with what was typed (kept in the session row, never in the cookie)."""
        with self.ctx.unit_of_work() as uow:
            uow.sessions.set_next_page(session.id, flash, kept)
            uow.commit()

    def open_sessions(self, name: str) -> int:
        with self.ctx.unit_of_work() as uow:
            return uow.sessions.open_count(self._named(uow, name).id)

    # -- the access log -----------------------------------------------------------------------
    def _append(self, uow: UnitOfWork, user: str, action: str, patient_ref: str | None = None,
                detail: str = "", origin: Origin = CLI) -> None:
        origin.line(user, action, patient_ref, detail).append_to(uow, self.ctx.clock)

    def log(self, user: str, action: str, patient_ref: str | None = None, detail: str = "",
            origin: Origin = CLI) -> None:
        with self.ctx.unit_of_work() as uow:
            self._append(uow, user, action, patient_ref, detail, origin)
            uow.commit()

    def log_shown(self, user: str, action: str, patient_refs: Sequence[str], detail: str = "",
                  origin: Origin = CLI) -> None:
        """What a list showed: one line for the list, and one per patient on it (so that "who
        looked at this patient?" finds the worklists that showed them too)."""
        with self.ctx.unit_of_work() as uow:
            self._append(uow, user, action, None, detail, origin)
            uow.access_log.append_many(at=self.ctx.clock.now(), user=user, action="shown",
                                       patient_refs=list(dict.fromkeys(patient_refs)),
                                       detail=f"on {action}", channel=origin.channel, client=origin.client)
            uow.commit()

    def access_log(self, patient_ref: str | None = None, limit: int = 200, user: str | None = None,
                   since: datetime | None = None) -> builtins.list[AccessRecord]:
        with self.ctx.unit_of_work() as uow:
            return uow.access_log.listing(patient_ref, limit, user=user, since=since)


#: what a person is told when their session ended by itself
SESSION_ENDED = {
    "idle": "Your session ended after a while without activity; please sign in again.",
    "lifetime": "Your session reached its time limit; please sign in again.",
}
