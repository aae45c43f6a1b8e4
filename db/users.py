"""The people who use the tracker (accounts with a role, a password hash and an API token digest),
their web sessions, their failed sign-ins (what the throttle counts), and the access log (every
read of a patient record and every write, append-only)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from db.records import AccessRecord, SessionRecord, UserRecord, record_of
from db.tables import ACCESS_LOG, SIGN_IN_FAILURE, USER, WEB_SESSION, inserted_id

_USER_COLUMNS = tuple(USER.c)
_SESSION_COLUMNS = tuple(WEB_SESSION.c)
#: the largest refused form a session keeps for its next page (as JSON)
KEPT_MAX_CHARS = 8_000


class Users:
    """The accounts, inside one unit of work."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _one(self, *where: Any) -> UserRecord | None:
        row = self.connection.execute(select(*_USER_COLUMNS).where(*where)).first()
        return record_of(UserRecord, row._mapping) if row is not None else None

    def by_name(self, name: str) -> UserRecord | None:
        return self._one(USER.c.name == name)

    def by_id(self, user_id: int) -> UserRecord | None:
        return self._one(USER.c.id == user_id)

    def by_token_digest(self, digest: str) -> UserRecord | None:
        return self._one(USER.c.api_token_hash == digest)

    def listing(self) -> list[UserRecord]:
        return [record_of(UserRecord, r._mapping)
                for r in self.connection.execute(select(*_USER_COLUMNS).order_by(USER.c.name))]

    def add(self, values: Mapping[str, Any]) -> UserRecord:
        row = {"token_expires_at": None, "token_last_used_at": None, "password_changed_at": None, **values}
        result = self.connection.execute(insert(USER).values(**row))
        return record_of(UserRecord, {"id": inserted_id(result), **row})

    def _set(self, user_id: int, **values: Any) -> None:
        self.connection.execute(update(USER).where(USER.c.id == user_id).values(**values))

    def set_password_hash(self, user_id: int, password_hash: str, changed_at: datetime | None = None) -> None:
        """A new hash; ``changed_at`` when it is a new password (not the same one rehashed)."""
        self._set(user_id, password_hash=password_hash,
                  **({"password_changed_at": changed_at} if changed_at is not None else {}))

    def set_token(self, user_id: int, digest: str | None, expires_at: datetime | None) -> None:
        """A new API token (its digest and expiry), or none (revoked)."""
        self._set(user_id, api_token_hash=digest, token_expires_at=expires_at, token_last_used_at=None)

    def token_used(self, user_id: int, at: datetime) -> None:
        self._set(user_id, token_last_used_at=at)

    def set_active(self, user_id: int, active: bool) -> None:
        self._set(user_id, active=active)


class WebSessions:
    """Signed-in web sessions, inside one unit of work: found by the SHA-256 of the cookie's token."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def start(self, *, token_hash: str, user_id: int, csrf: str, client: str, at: datetime,
              flash: str | None = None) -> None:
        self.connection.execute(insert(WEB_SESSION).values(
            token_hash=token_hash, user_id=user_id, csrf=csrf, client=client[:64], created_at=at,
            last_seen_at=at, flash=flash))

    def by_token_hash(self, token_hash: str) -> SessionRecord | None:
        row = self.connection.execute(
            select(*_SESSION_COLUMNS).where(WEB_SESSION.c.token_hash == token_hash)).first()
        return record_of(SessionRecord, row._mapping) if row is not None else None

    def seen(self, session_id: int, at: datetime) -> None:
        self.connection.execute(update(WEB_SESSION).where(WEB_SESSION.c.id == session_id)
                                .values(last_seen_at=at))

    def set_next_page(self, session_id: int, flash: str | None,
                      kept: Mapping[str, Any] | None = None) -> None:
        """What the session's next page shows once: a message, and a refused form (dropped whole
        when it is larger than KEPT_MAX_CHARS as JSON: the forms' own limits keep it far below)."""
        if kept is not None and len(json.dumps(kept, default=str)) > KEPT_MAX_CHARS:
            kept = None
        self.connection.execute(update(WEB_SESSION).where(WEB_SESSION.c.id == session_id)
                                .values(flash=flash[:500] if flash else None,
                                        kept=dict(kept) if kept else None))

    def end(self, session_id: int, at: datetime, why: str) -> None:
        self.connection.execute(update(WEB_SESSION)
                                .where(WEB_SESSION.c.id == session_id, WEB_SESSION.c.ended_at.is_(None))
                                .values(ended_at=at, ended_why=why, flash=None, kept=None))

    def end_all_of(self, user_id: int, at: datetime, why: str) -> int:
        """End every open session of a user; how many were open."""
        result = self.connection.execute(
            update(WEB_SESSION).where(WEB_SESSION.c.user_id == user_id, WEB_SESSION.c.ended_at.is_(None))
            .values(ended_at=at, ended_why=why, flash=None, kept=None))
        return int(result.rowcount)

    def open_count(self, user_id: int) -> int:
        return int(self.connection.execute(
            select(func.count()).select_from(WEB_SESSION)
            .where(WEB_SESSION.c.user_id == user_id, WEB_SESSION.c.ended_at.is_(None))).scalar_one())


class SignInFailures:
    """Failed sign-ins, inside one unit of work: recorded, counted per name and per client since an
    instant, forgotten for a name after its successful sign-in, and pruned when old."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def record(self, *, at: datetime, name: str, client: str, kind: str) -> None:
        self.connection.execute(insert(SIGN_IN_FAILURE).values(at=at, name=name[:64], client=client[:64],
                                                               kind=kind))

    def _since(self, where: Any, since: datetime) -> list[datetime]:
        query = (select(SIGN_IN_FAILURE.c.at).where(where, SIGN_IN_FAILURE.c.at >= since)
                 .order_by(SIGN_IN_FAILURE.c.at))
        return list(self.connection.execute(query).scalars())

    def of_name(self, name: str, since: datetime) -> list[datetime]:
        return self._since(SIGN_IN_FAILURE.c.name == name[:64], since)

    def of_client(self, client: str, since: datetime) -> list[datetime]:
        return self._since(SIGN_IN_FAILURE.c.client == client[:64], since)

    def forget_name(self, name: str) -> None:
        self.connection.execute(delete(SIGN_IN_FAILURE).where(SIGN_IN_FAILURE.c.name == name[:64]))

    def prune(self, before: datetime) -> None:
        self.connection.execute(delete(SIGN_IN_FAILURE).where(SIGN_IN_FAILURE.c.at < before))


class AccessLog:
    """The access log, inside one unit of work."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def append(self, *, at: datetime, user: str, action: str, patient_ref: str | None, detail: str,
               channel: str = "", client: str = "") -> None:
        self.append_many(at=at, user=user, action=action, patient_refs=[patient_ref], detail=detail,
                         channel=channel, client=client)

    def append_many(self, *, at: datetime, user: str, action: str, patient_refs: Sequence[str | None],
                    detail: str, channel: str = "", client: str = "") -> None:
        """One row per patient (one statement): what a list or a worklist showed."""
        if not patient_refs:
            return
        common = {"at": at, "user": user[:64], "action": action[:32], "detail": detail[:500],
                  "channel": channel[:16], "client": client[:64]}
        self.connection.execute(insert(ACCESS_LOG), [{**common, "patient_ref": ref} for ref in patient_refs])

    def listing(self, patient_ref: str | None = None, limit: int = 200, user: str | None = None,
                since: datetime | None = None) -> list[AccessRecord]:
        query = select(*tuple(ACCESS_LOG.c)).order_by(ACCESS_LOG.c.id.desc()).limit(limit)
        if patient_ref is not None:
            query = query.where(ACCESS_LOG.c.patient_ref == patient_ref)
        if user is not None:
            query = query.where(ACCESS_LOG.c.user == user)
        if since is not None:
            query = query.where(ACCESS_LOG.c.at >= since)
        return [record_of(AccessRecord, r._mapping) for r in self.connection.execute(query)]
