"""The people who use the tracker (accounts with a role, a password hash and an API token digest)
and the access log (every read of a patient record and every write, append-only)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from db.records import AccessRecord, UserRecord, record_of
from db.tables import ACCESS_LOG, USER, inserted_id

_USER_COLUMNS = tuple(USER.c)


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
        result = self.connection.execute(insert(USER).values(**values))
        return record_of(UserRecord, {"id": inserted_id(result), **values})

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self.connection.execute(update(USER).where(USER.c.id == user_id).values(password_hash=password_hash))

    def set_token_digest(self, user_id: int, digest: str) -> None:
        self.connection.execute(update(USER).where(USER.c.id == user_id).values(api_token_hash=digest))


class AccessLog:
    """The access log, inside one unit of work."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def append(self, *, at: datetime, user: str, action: str, patient_ref: str | None, detail: str) -> None:
        self.connection.execute(insert(ACCESS_LOG).values(at=at, user=user[:64], action=action[:32],
                                                          patient_ref=patient_ref, detail=detail[:500]))

    def listing(self, patient_ref: str | None = None, limit: int = 200) -> list[AccessRecord]:
        query = select(*tuple(ACCESS_LOG.c)).order_by(ACCESS_LOG.c.id.desc()).limit(limit)
        if patient_ref is not None:
            query = query.where(ACCESS_LOG.c.patient_ref == patient_ref)
        return [record_of(AccessRecord, r._mapping) for r in self.connection.execute(query)]
