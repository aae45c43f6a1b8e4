"""The desk: what one signed-in person may do, in front of the Tracker services.

Both the pages and the API call a Desk and nothing below it. A Desk checks the role, calls the
services, passes every answer about patients through the role's projection
(tracker.application.privacy: pseudonyms and no free text for auditors, no patients at all for
admins) before a face sees it, turns an auditor's pseudonym back into the reference, and writes
the access log (with the channel and the client address) for every read of a patient record,
every patient a list or a worklist showed, every write and export and every view of the audit.
Colleagues' names it hands out (who may be given a reminder, who may record an override) pass
through the same projection. It holds no clinical rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from journey.dates import parse_clinical_date
from journey.errors import JourneyError, NotFound
from journey.events import EventType
from journey.explain import Explanation
from journey.reminders import ReminderStatus
from tracker.application import (
    ASSIGNABLE_ROLES,
    GRANTS,
    AccessDenied,
    Account,
    FhirImportReport,
    NewAccount,
    Origin,
    PatientRecord,
    PatientView,
    Permission,
    RecordResult,
    Role,
    Tracker,
    Users,
    Worklist,
    WorklistItem,
    projection_for,
)


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


def _recorded_words(raw_event: Mapping[str, Any]) -> str:
    """The access log's words for an entry (its line is kept only with the entry, so an entry that
    cannot be read is refused and leaves none)."""
    try:
        day = parse_clinical_date(raw_event.get("date"), "The date")
        return f"recorded {EventType(str(raw_event.get('type'))).value} of {day}"
    except (JourneyError, ValueError):
        return "recorded an entry"


class Desk:
    def __init__(self, tracker: Tracker, users: Users, account: Account, origin: Origin) -> None:
        self.tracker = tracker
        self.users = users
        self.account = account
        self.origin = origin
        #: what this person's role is shown of every answer (the one way out for patient data)
        self.projection = projection_for(account, tracker.settings.pseudonym_key)

    # -- references ---------------------------------------------------------------------------
    def resolve(self, given: str) -> str:
        """The patient reference behind what this person typed (a pseudonym for auditors)."""
        if not self.projection.pseudonymous:
            return given
        ref = self.tracker.ref_of_pseudonym(given)
        if ref is None:
            raise NotFound(f"No patient with reference {given!r} is registered.")
        return ref

    def _witnessed(self, ref: str, detail: str) -> Tracker:
        """The services for one write, its access-log line kept in the write's own transaction
        (a kept write always has its line; a refused one has none)."""
        return self.tracker.witnessed(self.origin.line(self.account.name, "write", ref, detail))

    def _log(self, action: str, ref: str | None = None, detail: str = "") -> None:
        self.users.log(self.account.name, action, ref, detail, self.origin)

    # -- reading ------------------------------------------------------------------------------
    def patients(self, phase: str | None = None, team: str | None = None, limit: int = 100,
                 offset: int = 0) -> list[PatientRecord]:
        self.account.require(Permission.READ_PATIENTS)
        rows = self.tracker.patients(phase, team, limit, offset)
        self.users.log_shown(self.account.name, "list", [r.ref for r in rows],
                             f"patients phase={phase or '*'} team={team or '*'} n={len(rows)}", self.origin)
        return self.projection.show(rows)

    def patient(self, given: str, as_of: date | None = None) -> PatientView:
        """One patient's view, as this person's role may see it (references, free text)."""
        self.account.require(Permission.READ_PATIENTS)
        ref = self.resolve(given)
        view = self.tracker.patient_view(ref, as_of)
        self._log("read", ref)
        return self.projection.show(view)

    def reminder_lines(self, view: PatientView) -> list[ReminderLine]:
        """The reminders of a view ``patient`` gave (so already projected)."""
        return [ReminderLine(r.id, view.row.ref, r.kind, r.anchor_on, view.reminder_due[r.id],
                             view.reminder_status[r.id], r.resolved_on, r.cancelled_on, r.snoozed_until)
                for r in view.reminder_rows]

    def worklist(self, as_of: date | None = None, kind: str | None = None, team: str | None = None,
                 limit: int = 200) -> list[WorklistItem]:
        self.account.require(Permission.READ_PATIENTS)
        items = self.tracker.worklist(as_of, limit=limit, kind=kind, team=team)
        self.users.log_shown(self.account.name, "worklist", [i.ref for i in items],
                             f"kind={kind or '*'} team={team or '*'} n={len(items)}", self.origin)
        return self.projection.show(items)

    def teams(self) -> list[str]:
        return self.tracker.care_teams()

    # -- writing ------------------------------------------------------------------------------
    def register(self, raw_profile: Mapping[str, Any], care_team: str = "liver") -> PatientRecord:
        self.account.require(Permission.REGISTER_PATIENTS)
        ref = str(raw_profile.get("ref", "")).strip()  # as read_profile reads it
        return self._witnessed(ref, "registered").register_patient(raw_profile, care_team)

    def record(self, given: str, raw_event: Mapping[str, Any],
               expected_version: int | None = None) -> RecordResult:
        self.account.require(Permission.RECORD_EVENTS)
        if raw_event.get("type") == EventType.MDT_REVIEW.value:
            self.account.require(Permission.RECORD_MDT)
        if raw_event.get("override") or raw_event.get("override_code"):
            self.account.require(Permission.OVERRIDE)  # a coded reason alone records an override too
        ref = self.resolve(given)
        witnessed = self._witnessed(ref, _recorded_words(raw_event))
        return witnessed.record_event(ref, raw_event, actor=f"web:{self.account.name}",
                                      expected_version=expected_version, source="web")

    def reminder_action(self, action: str, reminder_id: int, until: date | None = None,
                        reason: str | None = None, text: str | None = None) -> str:
        self.account.require(Permission.MANAGE_REMINDERS)
        witnessed = self._witnessed(self.tracker.patient_of_reminder(reminder_id),
                                    f"{action} reminder {reminder_id}")
        result = witnessed.act_on_reminder(action, reminder_id, f"web:{self.account.name}",
                                           until=until, reason=reason, text=text,
                                           person=self.account.name if action == "acknowledge" else None)
        return result.sentence()

    # -- FHIR (docs/fhir.md) ------------------------------------------------------------------
    def fhir_bundle(self, given: str, as_of: date | None = None) -> dict[str, Any]:
        """The patient's mCODE bundle, as the patient view's roles may read it: auditors get the
        pseudonymised bundle (the keyed pseudonym, no free text)."""
        self.account.require(Permission.READ_PATIENTS)
        ref = self.resolve(given)
        bundle = self.tracker.fhir_bundle(ref, self.projection.pseudonymous, as_of)
        self._log("read", ref, "fhir bundle")
        return bundle

    def import_fhir(self, document: Mapping[str, Any]) -> FhirImportReport:
        """Import a Bundle (or one resource): each patient whole or not at all; the one error, in
        words, when nothing could be recorded."""
        self.account.require(Permission.IMPORT_RECORDS)
        report = self.tracker.import_fhir([document], actor=f"web:{self.account.name}", source="fhir:api")
        for p in report.imported:
            self._log("write", p.read.ref, "fhir import")
        report.raise_if_nothing_recorded()
        return report

    # -- the navigator's day (issue 15) ------------------------------------------------------
    def worklist_sections(self, *, kind: str | None = None, team: str | None = None, who: str = "",
                          limit: int = 100, only: str | None = None) -> Worklist:
        """The worklist in its sections, as this person's role may see it. ``who``: "" everyone's,
        "untaken" nobody's yet, "mine", or a person's user name (a role that sees nobody's name
        filters by no one: a count by person would name them)."""
        self.account.require(Permission.READ_PATIENTS)
        if not self.projection.names_people:
            who = ""
        assignee = self.account.name if who == "mine" else (who if who not in ("", "untaken") else None)
        worklist = self.tracker.worklist_sections(kind=kind, team=team, assignee=assignee,
                                                  untaken=who == "untaken", limit=limit, only=only)
        self.users.log_shown(self.account.name, "worklist",
                             [i.ref for section in worklist.sections for i in section.items],
                             f"kind={kind or '*'} team={team or '*'} who={who or '*'} n={worklist.total}",
                             self.origin)
        return self.projection.show(worklist)

    def explanation(self, given: str, as_of: date | None = None) -> Explanation:
        """Why is this patient not moving? Read from the patient's view as this role may see it."""
        return self.patient(given, as_of).explanation()

    def assign(self, reminder_id: int, to: str | None) -> str:
        """Give a reminder to a person (a user name), or release it (None)."""
        self.account.require(Permission.MANAGE_REMINDERS)
        witnessed = self._witnessed(self.tracker.patient_of_reminder(reminder_id),
                                    f"assign reminder {reminder_id} to {to or 'nobody'}")
        result = witnessed.act_on_reminder("assign", reminder_id, f"web:{self.account.name}", person=to)
        return result.sentence()

    def people(self) -> list[str]:
        """Who may be given a reminder: the active accounts whose role acts on reminders (none for
        a role that may not give one)."""
        if not self.account.may(Permission.MANAGE_REMINDERS):
            return []
        return self.projection.people([a.name for a in self.users.list()
                                       if a.active and a.role in ASSIGNABLE_ROLES])

    def who_may(self, permission: Permission) -> tuple[list[Role], list[str]]:
        """The roles that may do it, and the active people who hold them (to tell someone who
        may not whom to ask; names as this role may see them)."""
        roles = [role for role in Role if permission in GRANTS[role]]
        names = [a.name for a in self.users.list() if a.active and a.role in roles]
        return roles, self.projection.people(names)

    def audit_report_body(self) -> str:
        """The audit report's content, judged today, for a page with the app's stylesheet (cohort
        figures, small cells suppressed, no patient named)."""
        self.account.require(Permission.READ_AUDIT)
        self._log("audit-report")
        return self.tracker.audit_report_body(self.tracker.run_audit())

    # -- audit, exports, users ----------------------------------------------------------------
    def audit(self) -> dict[str, Any]:
        """The cohort audit document (contract §6, as ``journey audit --json``), judged today."""
        self.account.require(Permission.READ_AUDIT)
        self._log("audit")
        return dict(self.tracker.run_audit().cohort.summary())

    def export(self, kind: str) -> tuple[str, str]:
        """(body, media type) of a pseudonymous export (csv or xes)."""
        self.account.require(Permission.EXPORT)
        body = self.tracker.export(kind)
        self._log("export", detail=kind)
        return body

    def add_user(self, name: str, role: str, password: str | None = None) -> NewAccount:
        self.account.require(Permission.MANAGE_USERS)
        return self.users.add(name, role, password, by=self.account.name, origin=self.origin)

    def list_users(self) -> list[Account]:
        self.account.require(Permission.MANAGE_USERS)
        return self.users.list()

    def deactivate_user(self, name: str) -> int:
        """``name`` can no longer sign in; their sessions end, their token is revoked. Not oneself:
        the last admin would lock everyone out of the users page."""
        self.account.require(Permission.MANAGE_USERS)
        if name == self.account.name:
            raise AccessDenied("You cannot deactivate yourself here; another admin can, or "
                               "`journey user deactivate` on the server.")
        return self.users.deactivate(name, by=self.account.name, origin=self.origin)

    def activate_user(self, name: str) -> None:
        self.account.require(Permission.MANAGE_USERS)
        self.users.activate(name, by=self.account.name, origin=self.origin)

    def reset_password(self, name: str) -> str:
        """A generated password for ``name`` (shown once); their sessions end."""
        self.account.require(Permission.MANAGE_USERS)
        return self.users.reset_password(name, by=self.account.name, origin=self.origin)

    def revoke_token(self, name: str) -> None:
        self.account.require(Permission.MANAGE_USERS)
        self.users.revoke_token(name, by=self.account.name, origin=self.origin)

    def issue_token(self, name: str) -> str:
        self.account.require(Permission.MANAGE_USERS)
        return self.users.issue_token(name, by=self.account.name, origin=self.origin)

    def change_own_password(self, current: str, new: str) -> None:
        """Any signed-in person changes their own password; all their sessions end."""
        self.users.change_password(self.account, current, new, self.origin)
