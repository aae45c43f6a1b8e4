"""Reminders as stored, and what people did with them.

This module is the one place that knows how a reminder is kept:

- :func:`implied_key` and :func:`stored_key`: which stored row is which reminder of the fold (the
  table's unique key: patient, kind and the entry that opened it, never a date: contract §7.1);
- :func:`reminder_row`: the row of a reminder the fold implies (recording and the bulk load);
- :meth:`Reminders.save`: writes the reminders the fold implies, the one writer;
- :func:`reminder_of`: a stored reminder back as the domain's :class:`journey.reminders.Reminder`;
- :func:`awaited_on`: when a stored reminder is awaited on a day: open, due, neither snoozed past
  the day nor dismissed by it (the worklist lists these; the sweep announces only these).

Snoozes, dismissals, acknowledgements and assignments are people's decisions beside the derived
rows: each is appended to ``reminder_action`` (never updated or deleted) with its effect on the
reminder row (``snoozed_until``, ``dismissed_on``, ``acknowledged_by``/``_at``, ``assignee``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    false,
    func,
    insert,
    or_,
    select,
    update,
)

from db.records import MAX_ID, ReminderAction, ReminderActionRecord, ReminderRecord, record_of
from db.tables import PATIENT, REMINDER, REMINDER_ACTION, inserted_id
from journey.adherence import ReminderDismissal
from journey.errors import NotFound
from journey.reminders import Reminder, ReminderKind, ReminderStatus

#: which reminder a row is: the reminder table's unique key besides the patient (its kind and the
#: seq of the entry that opened it)
ReminderKey = tuple[str, int]


class StoredReminder(Protocol):
    """What :func:`reminder_of` reads of a stored reminder (a record, or the sweep's narrower row)."""

    @property
    def kind(self) -> str: ...
    @property
    def opened_by(self) -> int: ...
    @property
    def anchor_on(self) -> date: ...
    @property
    def due_on(self) -> date: ...
    @property
    def resolved_on(self) -> date | None: ...
    @property
    def cancelled_on(self) -> date | None: ...
    @property
    def closed_by(self) -> int | None: ...
    @property
    def held_since(self) -> date | None: ...


def implied_key(reminder: Reminder) -> ReminderKey:
    """The key of the row that keeps this reminder of the fold."""
    return reminder.key


def stored_key(row: StoredReminder) -> ReminderKey:
    """The key of a stored reminder (matches :func:`implied_key` of the reminder it keeps)."""
    return (row.kind, row.opened_by)


def reminder_of(row: StoredReminder) -> Reminder:
    """The domain's reminder kept in a row."""
    return Reminder(ReminderKind(row.kind), row.opened_by, row.anchor_on, row.due_on, row.resolved_on,
                    row.cancelled_on, row.closed_by, row.held_since)


def reminder_row(patient_id: int, reminder: Reminder, status: ReminderStatus,
                 now: datetime) -> dict[str, Any]:
    """The row of a reminder the fold implies, with its status on the day written."""
    kind, opened_by = implied_key(reminder)
    return {"patient_id": patient_id, "kind": kind, "opened_by": opened_by, **_derived(reminder, status),
            "snoozed_until": None, "updated_at": now}


def _derived(reminder: Reminder, status: ReminderStatus) -> dict[str, Any]:
    """The columns the fold decides (everything else is people's doing or the outbox's)."""
    return {"anchor_on": reminder.anchor_on, "due_on": reminder.due_on,
            "resolved_on": reminder.resolved_on, "cancelled_on": reminder.cancelled_on,
            "closed_by": reminder.closed_by, "held_since": reminder.held_since,
            "status": status.value, "closed": reminder.closed_on is not None}


def awaited_on(as_of: date | BindParameter[date],
               through: date | BindParameter[date] | None = None) -> ColumnElement[bool]:
    """A stored reminder someone awaits on ``as_of``: open, due by then, not snoozed past the day,
    not dismissed by it. A due date that moves while a line is held is always ahead of the day
    (journey.reminders), so such a reminder is never awaited. With ``through`` (the worklist's
    look-ahead), also those falling due after ``as_of`` up to that day."""
    return and_(REMINDER.c.closed == false(), REMINDER.c.due_on <= (as_of if through is None else through),
                REMINDER.c.held_since.is_(None),
                or_(REMINDER.c.snoozed_until.is_(None), REMINDER.c.snoozed_until <= as_of),
                or_(REMINDER.c.dismissed_on.is_(None), REMINDER.c.dismissed_on > as_of))


@dataclass(frozen=True)
class WorklistFilter:
    """Which awaited reminders a worklist shows: of one kind, one care team, one person's (the
    assignee), or only those nobody has taken yet."""

    kind: str | None = None
    team: str | None = None
    assignee: str | None = None
    untaken: bool = False

    def shape(self) -> WorklistFilter:
        """Which filters apply, without their values (one built statement serves them all)."""
        return WorklistFilter("k" if self.kind else None, "t" if self.team else None,
                              "a" if self.assignee else None, self.untaken)


@dataclass(frozen=True)
class DueReminder:
    """A reminder on the worklist, with the patient it is for."""

    reminder: ReminderRecord
    ref: str
    care_team: str
    phase: str


_REMINDER_COLUMNS = tuple(REMINDER.c)
_ACTION_COLUMNS = tuple(REMINDER_ACTION.c)
_DERIVED = ("anchor_on", "due_on", "resolved_on", "cancelled_on", "closed_by", "held_since", "status",
            "closed")
_UPDATED = (*_DERIVED, "updated_at")
_SAVE_UPDATE = (update(REMINDER).where(REMINDER.c.id == bindparam("rid"))
                .values({k: bindparam(k) for k in _UPDATED}))
#: what one entry changed of a reminder, found by its key (built once: recording an entry runs it)
_SAVE_BY_KEY = (update(REMINDER)
                .where(and_(REMINDER.c.patient_id == bindparam("k_patient_id"),
                            REMINDER.c.kind == bindparam("k_kind"),
                            REMINDER.c.opened_by == bindparam("k_opened_by")))
                .values({k: bindparam(k) for k in (*_DERIVED, "updated_at")}))
_INSERT = insert(REMINDER)


@cache
def _due_query(only: WorklistFilter, windowed: bool, limited: bool) -> Select[Any]:
    """The worklist's statement, built once for each set of filters (the worklist is asked on
    every page and API call; building it cost more than SQLite's part of running it). ``only``
    holds which filters apply, not their values: those are bound as ``kind``, ``team``,
    ``assignee``; ``first``/``last`` bound the due days when ``windowed``."""
    query = (select(*_REMINDER_COLUMNS, PATIENT.c.ref.label("patient_ref"),
                    PATIENT.c.care_team.label("patient_team"), PATIENT.c.phase.label("patient_phase"))
             .join(PATIENT, PATIENT.c.id == REMINDER.c.patient_id)
             .where(awaited_on(bindparam("as_of", type_=Date), bindparam("through", type_=Date)))
             .order_by(REMINDER.c.due_on, REMINDER.c.id))
    query = _only(query, only, bound=True)
    if windowed:
        query = query.where(REMINDER.c.due_on.between(bindparam("first", type_=Date),
                                                      bindparam("last", type_=Date)))
    if limited:
        query = query.limit(bindparam("limit", type_=Integer))
    return query


class Reminders:
    """The reminder rows, inside one unit of work."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def of_patient(self, patient_id: int) -> list[ReminderRecord]:
        return [record_of(ReminderRecord, r._mapping) for r in self.connection.execute(
            select(*_REMINDER_COLUMNS).where(REMINDER.c.patient_id == patient_id)
            .order_by(REMINDER.c.anchor_on, REMINDER.c.opened_by, REMINDER.c.kind))]

    def get(self, reminder_id: int) -> tuple[ReminderRecord, str]:
        """The reminder and its patient's reference; NotFound when there is no such reminder."""
        row = None if not 0 < reminder_id <= MAX_ID else self.connection.execute(
            select(*_REMINDER_COLUMNS, PATIENT.c.ref.label("patient_ref"))
            .join(PATIENT, PATIENT.c.id == REMINDER.c.patient_id)
            .where(REMINDER.c.id == reminder_id)).first()
        if row is None:
            raise NotFound(f"No reminder with id {reminder_id}; the worklist shows the ids.")
        values = dict(row._mapping)
        ref = values.pop("patient_ref")
        return record_of(ReminderRecord, values), ref

    def save(self, patient_id: int, reminders: Sequence[tuple[Reminder, ReminderStatus]],
             today: date, now: datetime) -> None:
        """Write the reminders the log implies: insert new ones, update changed ones, and cancel
        stored ones the log no longer implies (a corrected history), never deleting one (people
        may have acted on it). Keyed by (kind, opening entry). A write touches a handful of rows,
        often none: at most two statements."""
        stored = {stored_key(r): r for r in self.connection.execute(
            select(REMINDER.c.id, REMINDER.c.kind, REMINDER.c.opened_by, *(REMINDER.c[k] for k in _DERIVED))
            .where(REMINDER.c.patient_id == patient_id))}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        seen: set[ReminderKey] = set()
        for reminder, status in reminders:
            key = implied_key(reminder)
            seen.add(key)
            row = stored.get(key)
            if row is None:
                inserts.append(reminder_row(patient_id, reminder, status, now))
                continue
            values = _derived(reminder, status)
            if any(getattr(row, k) != v for k, v in values.items()):
                updates.append({"rid": row.id, "updated_at": now, **values})
        for key, row in stored.items():
            if key not in seen and not row.closed:  # the corrected history no longer implies it
                updates.append({"rid": row.id, **{k: getattr(row, k) for k in _DERIVED},
                                "cancelled_on": today, "status": ReminderStatus.CANCELLED.value,
                                "closed": True, "held_since": None, "updated_at": now})
        if inserts:
            self.connection.execute(insert(REMINDER), inserts)
        if updates:
            self.connection.execute(_SAVE_UPDATE, updates)

    def save_changed(self, patient_id: int, changed: Sequence[tuple[Reminder, ReminderStatus]],
                     now: datetime) -> None:
        """Write the reminders one entry opened or changed (the fold's memory says which): each
        updated by its key, or inserted when it is new. A handful of rows, never the patient's all."""
        for reminder, status in changed:
            kind, opened_by = implied_key(reminder)
            updated = self.connection.execute(_SAVE_BY_KEY, {
                "k_patient_id": patient_id, "k_kind": kind, "k_opened_by": opened_by,
                **_derived(reminder, status), "updated_at": now})
            if updated.rowcount == 0:
                self.connection.execute(_INSERT, reminder_row(patient_id, reminder, status, now))

    def due(self, as_of: date, limit: int | None = None, kind: str | None = None,
            team: str | None = None, *, through: date | None = None,
            due_between: tuple[date, date] | None = None,
            only: WorklistFilter | None = None) -> list[DueReminder]:
        """Reminders awaited on ``as_of`` (or falling due by ``through``), earliest due first
        (most urgent); ``due_between``: only those due in these days (both included)."""
        chosen = only or WorklistFilter(kind, team)
        query = _due_query(chosen.shape(), due_between is not None, bool(limit))
        first, last = due_between or (None, None)
        params: dict[str, Any] = {"as_of": as_of, "through": through or as_of, "kind": chosen.kind,
                                  "team": chosen.team, "assignee": chosen.assignee,
                                  "first": first, "last": last, "limit": limit}
        out = []
        for row in self.connection.execute(query, params):
            values = dict(row._mapping)
            ref, team_of, phase = (values.pop("patient_ref"), values.pop("patient_team"),
                                   values.pop("patient_phase"))
            out.append(DueReminder(record_of(ReminderRecord, values), ref, team_of, phase))
        return out

    def due_days(self, as_of: date, through: date, only: WorklistFilter) -> dict[date, int]:
        """How many reminders awaited on ``as_of`` (or falling due by ``through``) are due on each
        day: the worklist's section counts, whatever it shows."""
        query = (select(REMINDER.c.due_on, func.count())
                 .join(PATIENT, PATIENT.c.id == REMINDER.c.patient_id)
                 .where(awaited_on(as_of, through)).group_by(REMINDER.c.due_on))
        return {day: int(n) for day, n in self.connection.execute(_only(query, only))}

    def acknowledged(self, reminder_id: int, actor: str, now: datetime, taker: str | None) -> None:
        """Someone acknowledged it (shown on the row); ``taker`` takes it when nobody has."""
        values: dict[str, Any] = {"acknowledged_by": actor, "acknowledged_at": now, "updated_at": now}
        if taker is not None:
            values["assignee"] = func.coalesce(REMINDER.c.assignee, taker)
        self.connection.execute(update(REMINDER).where(REMINDER.c.id == reminder_id).values(**values))

    def assign(self, reminder_id: int, assignee: str | None, now: datetime) -> None:
        self.connection.execute(update(REMINDER).where(REMINDER.c.id == reminder_id)
                                .values(assignee=assignee, updated_at=now))

    def snooze(self, reminder_id: int, until: date, now: datetime) -> None:
        self.connection.execute(update(REMINDER).where(REMINDER.c.id == reminder_id)
                                .values(snoozed_until=until, updated_at=now))

    def dismiss(self, reminder_id: int, today: date, now: datetime) -> bool:
        """Mark the reminder dismissed, unless someone did already (of two people dismissing at
        once, one wins); whether this one did."""
        result = self.connection.execute(
            update(REMINDER).where(and_(REMINDER.c.id == reminder_id, REMINDER.c.dismissed_on.is_(None)))
            .values(dismissed_on=today, updated_at=now))
        return result.rowcount == 1


Query = TypeVar("Query", bound=Select[Any])


def _only(query: Query, only: WorklistFilter, bound: bool = False) -> Query:
    """``query`` narrowed to the filter; ``bound``: by parameters of the same names, for a
    statement built once (:func:`_due_query`), instead of by the filter's values."""
    def value(name: str) -> Any:
        return bindparam(name) if bound else getattr(only, name)
    if only.kind:
        query = query.where(REMINDER.c.kind == value("kind"))
    if only.team:
        query = query.where(PATIENT.c.care_team == value("team"))
    if only.assignee:
        query = query.where(REMINDER.c.assignee == value("assignee"))
    if only.untaken:
        query = query.where(REMINDER.c.assignee.is_(None))
    return query


class ReminderActions:
    """What people did with reminders (append-only), inside one unit of work."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def append(self, values: Mapping[str, Any]) -> ReminderActionRecord:
        result = self.connection.execute(insert(REMINDER_ACTION).values(**values))
        return record_of(ReminderActionRecord, {"id": inserted_id(result), "reason": None, "text": None,
                                                "snoozed_until": None, "assignee": None, **values})

    def of_reminders(self, reminder_ids: Sequence[int]) -> list[ReminderActionRecord]:
        """The recorded actions on these reminders, oldest first."""
        return [record_of(ReminderActionRecord, r._mapping) for r in self.connection.execute(
            select(*_ACTION_COLUMNS).where(REMINDER_ACTION.c.reminder_id.in_(list(reminder_ids)))
            .order_by(REMINDER_ACTION.c.id))]

    def dismissals_of(self, patient_ids: Sequence[int],
                      as_of: date | None = None) -> dict[int, list[ReminderDismissal]]:
        """Each patient's dismissed reminders with their coded justification (by ``as_of``), for
        the audit: a dismissal justifies the deviation it explains."""
        query = (select(REMINDER_ACTION.c.patient_id, REMINDER_ACTION.c.reason, REMINDER_ACTION.c.text,
                        REMINDER.c.kind, REMINDER.c.due_on, REMINDER.c.dismissed_on)
                 .join(REMINDER, REMINDER.c.id == REMINDER_ACTION.c.reminder_id)
                 .where(REMINDER_ACTION.c.patient_id.in_(list(patient_ids)),
                        REMINDER_ACTION.c.action == ReminderAction.DISMISS.value,
                        REMINDER.c.dismissed_on.is_not(None))
                 .order_by(REMINDER_ACTION.c.id))
        out: dict[int, list[ReminderDismissal]] = {i: [] for i in patient_ids}
        for row in self.connection.execute(query):
            if as_of is not None and row.dismissed_on > as_of:
                continue
            out[row.patient_id].append(ReminderDismissal(kind=row.kind, due_on=row.due_on,
                                                         dismissed_on=row.dismissed_on,
                                                         reason=row.reason or "", text=row.text))
        return out
