"""The desk: what one signed-in person may do, in front of the Tracker services.

Both the pages and the API call a Desk and nothing below it. A Desk checks the role, turns
references into pseudonyms for auditors (and back), writes the access log for every read of a
patient record and every write, and calls the services. It holds no clinical rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from db.repository import reminder_of
from db.tables import PatientRow
from journey.errors import NotFound
from journey.events import EventType
from journey.reminders import ReminderStatus, status_on
from tracker.services import PatientView, RecordResult, Tracker, WorklistItem
from tracker.users import Account, NewAccount, Permission, Users, pseudonym
from tracker.web import adapters


@dataclass(frozen=True)
class ReminderLine:
    """A reminder as shown to a person: its status on the day asked about."""

    id: int
    ref: str
    kind: str
    anchor_on: date
    due_on: date
    status: ReminderStatus
    resolved_on: date | None
    cancelled_on: date | None
    snoozed_until: date | None


class Desk:
    def __init__(self, tracker: Tracker, users: Users, account: Account) -> None:
        self.tracker = tracker
        self.users = users
        self.account = account

    # -- references ---------------------------------------------------------------------------
    def shown(self, ref: str) -> str:
        """The reference this person sees: a keyed pseudonym for auditors."""
        if self.account.pseudonymous:
            return pseudonym(ref, self.tracker.settings.pseudonym_key)
        return ref

    def resolve(self, given: str) -> str:
        """The patient reference behind what this person typed (a pseudonym for auditors)."""
        if not self.account.pseudonymous:
            return given
        key = self.tracker.settings.pseudonym_key
        with Session(self.tracker.engine) as session:
            for ref in session.exec(select(PatientRow.ref)):
                if pseudonym(ref, key) == given:
                    return ref
        raise NotFound(f"No patient with reference {given!r} is registered.")

    def _log(self, action: str, ref: str | None = None, detail: str = "") -> None:
        self.users.log(self.account.name, action, ref, detail)

    # -- reading ------------------------------------------------------------------------------
    def patients(self, phase: str | None = None, team: str | None = None, limit: int = 100,
                 offset: int = 0) -> list[PatientRow]:
        self.account.require(Permission.READ_PATIENTS)
        query = select(PatientRow).order_by(col(PatientRow.ref)).offset(offset).limit(limit)
        if phase:
            query = query.where(PatientRow.phase == phase)
        if team:
            query = query.where(PatientRow.care_team == team)
        with Session(self.tracker.engine) as session:
            rows = list(session.exec(query))
        self._log("list", detail=f"patients phase={phase or '*'} team={team or '*'} n={len(rows)}")
        return rows

    def patient(self, given: str, as_of: date | None = None) -> PatientView:
        self.account.require(Permission.READ_PATIENTS)
        ref = self.resolve(given)
        view = self.tracker.patient_view(ref, as_of)
        self._log("read", ref)
        return view

    def reminder_lines(self, view: PatientView) -> list[ReminderLine]:
        day = view.outcome.as_of
        reminders = [(r, reminder_of(r)) for r in view.reminder_rows]
        return [ReminderLine(r.id or 0, self.shown(view.row.ref), r.kind, r.anchor_on,
                             reminder.due_on_at(day), status_on(reminder, day, self.tracker.pathway),
                             r.resolved_on, r.cancelled_on, r.snoozed_until)
                for r, reminder in reminders]

    def worklist(self, as_of: date | None = None, kind: str | None = None, team: str | None = None,
                 limit: int = 200) -> list[WorklistItem]:
        self.account.require(Permission.READ_PATIENTS)
        items = self.tracker.worklist(as_of, limit=limit, kind=kind, team=team)
        self._log("worklist", detail=f"kind={kind or '*'} team={team or '*'} n={len(items)}")
        if self.account.pseudonymous:
            from dataclasses import replace

            items = [replace(i, ref=self.shown(i.ref)) for i in items]
        return items

    def teams(self) -> list[str]:
        with Session(self.tracker.engine) as session:
            return sorted(set(session.exec(select(PatientRow.care_team))))

    # -- writing ------------------------------------------------------------------------------
    def register(self, raw_profile: Mapping[str, Any], care_team: str = "liver") -> PatientRow:
        self.account.require(Permission.REGISTER_PATIENTS)
        row = self.tracker.register_patient(raw_profile, care_team)
        self._log("write", row.ref, "registered")
        return row

    def record(self, given: str, raw_event: Mapping[str, Any],
               expected_version: int | None = None) -> RecordResult:
        self.account.require(Permission.RECORD_EVENTS)
        if raw_event.get("type") == EventType.MDT_REVIEW.value:
            self.account.require(Permission.RECORD_MDT)
        if raw_event.get("override"):
            self.account.require(Permission.OVERRIDE)
        ref = self.resolve(given)
        result = self.tracker.record_event(ref, raw_event, actor=f"web:{self.account.name}",
                                           expected_version=expected_version, source="web")
        self._log("write", ref, f"recorded {result.event.type.value} of {result.event.date}")
        return result

    def reminder_action(self, action: str, reminder_id: int, until: date | None = None,
                        reason: str | None = None, text: str | None = None) -> str:
        self.account.require(Permission.MANAGE_REMINDERS)
        reminder = adapters.find_reminder(self.tracker, reminder_id)
        sentence = adapters.reminder_action(self.tracker, action, reminder_id, f"web:{self.account.name}",
                                            until=until, reason=reason, text=text)
        self._log("write", reminder.patient_ref, f"{action} reminder {reminder_id}")
        return sentence

    # -- audit, exports, users ----------------------------------------------------------------
    def audit(self) -> dict[str, Any]:
        self.account.require(Permission.READ_AUDIT)
        self._log("audit")
        return adapters.cohort_audit(self.tracker)

    def audit_report(self) -> str | None:
        self.account.require(Permission.READ_AUDIT)
        return adapters.audit_report_html(self.tracker)

    def export(self, kind: str) -> tuple[str, str]:
        self.account.require(Permission.EXPORT)
        body = adapters.export(self.tracker, kind,
                               lambda ref: pseudonym(ref, self.tracker.settings.pseudonym_key))
        self._log("export", detail=kind)
        return body

    def add_user(self, name: str, role: str, password: str | None = None) -> NewAccount:
        self.account.require(Permission.MANAGE_USERS)
        created = self.users.add(name, role, password)
        self._log("write", detail=f"user {name} created ({role})")
        return created

    def list_users(self) -> list[Account]:
        self.account.require(Permission.MANAGE_USERS)
        return self.users.list()
