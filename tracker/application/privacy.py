"""What each role is shown: one projection per role, which every answer about patients goes through
before it leaves the application for a face (the web pages, the API, the exports, FHIR).

    role        projection      patient references    free text (notes, override reasons,    who recorded, who
                                                      snooze and dismissal texts)            is on a reminder
    ----------  --------------  --------------------  -------------------------------------  -----------------
    navigator   Identified      as recorded           as typed                               the user
    clinician   Identified      as recorded           as typed                               the user
    auditor     Pseudonymous    keyed pseudonyms PX-  withheld (coded parts kept)            withheld
    admin       NoPatients      refused: an admin's answers hold no patient at all

A projection maps whole values (a patient record, a patient view, a worklist line, the worklist
in its sections, a stored entry, a deviation), so a face cannot forget a field: what it renders is
already what the role may see. ``show(value)`` takes any of them (or a list) and refuses a type it
was not taught, so a new kind of answer has to be taught here before any role sees it. Who is on
a reminder, who acknowledged it, and the colleagues a navigator may give a reminder to or ask for
an override are names, as who recorded an entry is: an auditor sees none (``person``,
``people``). The role walk (tests/api/test_role_walk.py) calls every endpoint and page as every
role and fails if a real reference, a typed text or a colleague's name reaches a role that must
not see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar, cast

from pydantic import SecretStr

from db.records import EntryRecord, PatientRecord, ReminderRecord
from journey.adherence import Deviation, ReminderDismissal
from journey.course import PathwayStep
from journey.profile import PatientProfile, profile_to_dict, read_profile
from tracker.application.patients import PatientView
from tracker.application.users import AccessDenied, Account, Role
from tracker.application.worklist import Worklist, WorklistItem
from tracker.reports.exports import coded_only, pseudonym

T = TypeVar("T")

#: what stands where free text was, for a role that may not read it (an override stays visible
#: as an override: the audit counts it)
WITHHELD = "(free text withheld)"
#: who recorded an entry, for a role that may not know
NOBODY = "-"
#: the payload keys that hold typed free text
FREE_TEXT_KEYS = ("note", "override")


#: the kinds of answer about patients every projection is taught (``show`` refuses the others)
TAUGHT: tuple[type, ...] = (PatientView, PatientRecord, WorklistItem, Worklist, EntryRecord, Deviation)


class Projection:
    """Shows values to one role. This base shows everything as recorded."""

    pseudonymous = False
    #: whether colleagues' names are shown (who is on a reminder, whom to give it to or ask)
    names_people = True

    def ref(self, ref: str) -> str:
        return ref

    def text(self, text: str | None) -> str | None:
        return text

    def actor(self, actor: str) -> str:
        return actor

    def person(self, name: str | None) -> str | None:
        """A colleague's user name (who is on a reminder, who acknowledged it)."""
        return name if self.names_people else None

    def people(self, names: list[str]) -> list[str]:
        """Colleagues' user names (whom to give a reminder, whom to ask for an override)."""
        return names if self.names_people else []

    def show(self, value: T) -> T:
        """``value`` as this role may see it: a patient record, view, worklist line or worklist,
        stored entry or deviation, or a list of them. Anything else is refused (TypeError): teach it here."""
        if isinstance(value, list):
            return cast(T, [self.show(v) for v in value])
        for kind, handle in self.handlers().items():
            if isinstance(value, kind):
                return cast(T, handle(value))
        raise TypeError(f"{type(value).__name__} has no projection: teach tracker.application.privacy "
                        f"what each role may see of it before showing it.")

    def handlers(self) -> dict[type, Callable[[Any], Any]]:
        """How each kind of answer is shown (one handler per kind in TAUGHT)."""
        return dict.fromkeys(TAUGHT, lambda value: value)


class Identified(Projection):
    """Navigators and clinicians: the whole record, as recorded."""


class Pseudonymous(Projection):
    """Auditors: keyed pseudonyms instead of references, no typed free text, nobody's name."""

    pseudonymous = True
    names_people = False

    def __init__(self, key: SecretStr) -> None:
        self.key = key

    def ref(self, ref: str) -> str:
        return pseudonym(ref, self.key)

    def text(self, text: str | None) -> str | None:
        return WITHHELD if text else None

    def actor(self, actor: str) -> str:
        return NOBODY

    def handlers(self) -> dict[type, Callable[[Any], Any]]:
        return {PatientView: self._view, PatientRecord: self._record, WorklistItem: self._worklist_item,
                Worklist: self._worklist, EntryRecord: self._entry, Deviation: self._deviation}

    def _profile(self, profile: PatientProfile) -> PatientProfile:
        return replace(profile, ref=self.ref(profile.ref))

    def _record(self, row: PatientRecord) -> PatientRecord:
        profile = self._profile(read_profile(row.profile))
        return replace(row, ref=profile.ref, profile=profile_to_dict(profile))

    def _step(self, step: PathwayStep) -> PathwayStep:
        if step.event is None:
            return step
        return replace(step, event=replace(step.event, note=None, override=self.text(step.event.override)))

    def _deviation(self, deviation: Deviation) -> Deviation:
        detail, justification = coded_only(deviation)
        return replace(deviation, detail=detail, justification=justification)

    def _entry(self, entry: EntryRecord) -> EntryRecord:
        payload = {k: v for k, v in entry.payload.items() if k not in FREE_TEXT_KEYS}
        if entry.payload.get("override"):
            payload["override"] = WITHHELD
        return replace(entry, actor=self.actor(entry.actor), payload=payload,
                       override_reason=self.text(entry.override_reason),
                       source=entry.source.partition(":")[0])

    def _worklist_item(self, item: WorklistItem) -> WorklistItem:
        return replace(item, ref=self.ref(item.ref), assignee=self.person(item.assignee),
                       acknowledged_by=self.person(item.acknowledged_by), acknowledged_at=None)

    def _worklist(self, worklist: Worklist) -> Worklist:
        return replace(worklist, sections=[replace(s, items=[self._worklist_item(i) for i in s.items])
                                           for s in worklist.sections])

    def _reminder(self, row: ReminderRecord) -> ReminderRecord:
        return replace(row, assignee=self.person(row.assignee),
                       acknowledged_by=self.person(row.acknowledged_by), acknowledged_at=None)

    def _dismissal(self, dismissal: ReminderDismissal) -> ReminderDismissal:
        return replace(dismissal, text=None)  # its coded reason stays: the audit counts it

    def _view(self, view: PatientView) -> PatientView:
        profile = self._profile(view.profile)
        outcome = replace(view.outcome, profile=profile, steps=[self._step(s) for s in view.outcome.steps])
        findings = replace(view.findings, deviations=[self._deviation(d) for d in view.findings.deviations])
        return replace(view, row=replace(view.row, ref=profile.ref, profile=profile_to_dict(profile)),
                       profile=profile, outcome=outcome, findings=findings,
                       event_rows=[self._entry(e) for e in view.event_rows],
                       reminder_rows=[self._reminder(r) for r in view.reminder_rows],
                       dismissals=[self._dismissal(d) for d in view.dismissals])


class NoPatients(Projection):
    """Admins: manage people, never see patients. Any patient value is refused (a second line
    behind the permission check: an answer that slipped past it still shows nothing)."""

    def ref(self, ref: str) -> str:
        return cast(str, self._refuse(ref))

    def handlers(self) -> dict[type, Callable[[Any], Any]]:
        return dict.fromkeys(TAUGHT, self._refuse)

    @staticmethod
    def _refuse(value: object) -> Any:
        raise AccessDenied("Your role (admin) sees no patient records.")


#: the one table of which role sees through which projection (beside GRANTS: who may do what)
PROJECTIONS: dict[Role, Callable[[SecretStr], Projection]] = {
    Role.NAVIGATOR: lambda key: Identified(),
    Role.CLINICIAN: lambda key: Identified(),
    Role.AUDITOR: Pseudonymous,
    Role.ADMIN: lambda key: NoPatients(),
}


def projection_for(account: Account, key: SecretStr) -> Projection:
    """How ``account`` is shown things (``key``: the site's pseudonym key)."""
    return PROJECTIONS[account.role](key)
