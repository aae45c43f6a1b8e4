"""People who use the tracker: accounts, roles, API tokens, and the access log.

Passwords are stored as argon2id hashes (argon2-cffi); API tokens are random 256-bit strings of
which only a SHA-256 digest is stored (a token has full entropy, so a fast hash is enough and lets
the token be found by its digest). Every read of a patient record and every write is appended to
the access log by :meth:`Users.log`.

    role        may
    ----------  ---------------------------------------------------------------------------------
    navigator   read patients, register patients, record events, manage reminders, read the audit
    clinician   all of the navigator's, plus MDT decisions and overrides, exports, FHIR imports
    auditor     read patients (pseudonymous references only), the audit and exports; never write
    admin       manage users, FHIR imports (integrations); no patient records
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from db.records import AccessRecord, UserRecord
from journey.errors import Conflict, InvalidScenario, JourneyError, NotFound
from tracker.application.context import Context


class NotSignedIn(JourneyError):
    """No valid session or token: sign in (web) or send ``Authorization: Bearer TOKEN`` (API)."""

    code = "not-signed-in"


class AccessDenied(JourneyError):
    """Signed in, but the role does not allow this."""

    code = "access-denied"


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
    Role.ADMIN: frozenset({Permission.MANAGE_USERS, Permission.IMPORT_RECORDS}),
}

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
MIN_PASSWORD = 10
TOKEN_PREFIX = "jt_"


@dataclass(frozen=True)
class Account:
    """A signed-in person, as the entry points see them (a value, not a row)."""

    id: int
    name: str
    role: Role
    active: bool = True

    def may(self, permission: Permission) -> bool:
        return self.active and permission in GRANTS[self.role]

    @property
    def pseudonymous(self) -> bool:
        """Auditors see keyed pseudonyms instead of patient references."""
        return self.role is Role.AUDITOR

    def require(self, permission: Permission) -> None:
        if not self.may(permission):
            raise AccessDenied(f"Your role ({self.role.value}) may not {permission.value}. Ask an "
                               f"administrator if you need to.")


@dataclass(frozen=True)
class NewAccount:
    """A created account with its password and API token in clear: shown once, never stored."""

    account: Account
    password: str
    token: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(row: UserRecord) -> Account:
    return Account(row.id, row.name, Role(row.role), row.active)


class Users:
    """Accounts and the access log over one database."""

    def __init__(self, ctx: Context, hasher: PasswordHasher | None = None) -> None:
        self.ctx = ctx
        self.hasher = hasher or PasswordHasher()
        # verifying against this when the name is unknown keeps both answers equally slow
        self._decoy = self.hasher.hash(secrets.token_urlsafe(16))

    # -- accounts -----------------------------------------------------------------------------
    def add(self, name: str, role: str, password: str | None = None) -> NewAccount:
        if not NAME_PATTERN.match(name or ""):
            raise InvalidScenario("A user name is 2 to 64 letters, digits or . _ @ -, starting with a "
                                  "letter or digit.")
        try:
            chosen = Role(role)
        except ValueError:
            raise InvalidScenario(f"{role!r} is not a role; choose one of "
                                  f"{', '.join(r.value for r in Role)}.") from None
        password = password or secrets.token_urlsafe(12)
        if len(password) < MIN_PASSWORD:
            raise InvalidScenario(f"A password needs at least {MIN_PASSWORD} characters.")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.ctx.unit_of_work() as uow:
            if uow.users.by_name(name) is not None:
                raise Conflict(f"A user called {name!r} already exists.")
            row = uow.users.add({"name": name, "role": chosen.value,
                                 "password_hash": self.hasher.hash(password),
                                 "api_token_hash": token_digest(token), "active": True,
                                 "created_at": self.ctx.clock.now()})
            uow.commit()
        account = _account(row)
        self.log(account.name, "user-created", detail=f"role {chosen.value}")
        return NewAccount(account, password, token)

    def list(self) -> list[Account]:
        with self.ctx.unit_of_work() as uow:
            return [_account(r) for r in uow.users.listing()]

    def get(self, account_id: int) -> Account | None:
        with self.ctx.unit_of_work() as uow:
            row = uow.users.by_id(account_id)
        return _account(row) if row is not None and row.active else None

    def authenticate(self, name: str, password: str) -> Account:
        """The account for this name and password; NotSignedIn (one message for both) otherwise."""
        refused = NotSignedIn("That user name and password do not match an active account.")
        account: Account | None = None
        # the access log is written after this transaction: SQLite lets one writer at a time
        with self.ctx.unit_of_work() as uow:
            row = uow.users.by_name(name)
            if row is None or not row.active:
                self._verify(self._decoy, password)
                raise refused
            if self._verify(row.password_hash, password):
                if self.hasher.check_needs_rehash(row.password_hash):
                    uow.users.set_password_hash(row.id, self.hasher.hash(password))
                    uow.commit()
                account = _account(row)
        if account is None:
            self.log(name, "login-failed")
            raise refused
        self.log(account.name, "login")
        return account

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def by_token(self, token: str) -> Account:
        with self.ctx.unit_of_work() as uow:
            row = uow.users.by_token_digest(token_digest(token))
        if row is None or not row.active or row.api_token_hash is None or not hmac.compare_digest(
                row.api_token_hash, token_digest(token)):
            raise NotSignedIn("The API token is not valid; ask an administrator for a new one.")
        return _account(row)

    def issue_token(self, name: str) -> str:
        """A new API token for ``name``; the old one stops working."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.ctx.unit_of_work() as uow:
            row = uow.users.by_name(name)
            if row is None:
                raise NotFound(f"No user called {name!r}.")
            uow.users.set_token_digest(row.id, token_digest(token))
            uow.commit()
        self.log(name, "token-issued")
        return token

    # -- the access log -----------------------------------------------------------------------
    def log(self, user: str, action: str, patient_ref: str | None = None, detail: str = "") -> None:
        with self.ctx.unit_of_work() as uow:
            uow.access_log.append(at=self.ctx.clock.now(), user=user, action=action,
                                  patient_ref=patient_ref, detail=detail)
            uow.commit()

    def access_log(self, patient_ref: str | None = None, limit: int = 200) -> builtins.list[AccessRecord]:
        with self.ctx.unit_of_work() as uow:
            return uow.access_log.listing(patient_ref, limit)
