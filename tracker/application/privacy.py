"""What each role is shown: one projection per role, which every answer about patients goes through
before it leaves the application for a face (the web pages, the API, the exports, FHIR).

    role        projection      patient references    free text (notes, override reasons,    who recorded
                                                      snooze and dismissal texts)
    ----------  --------------  --------------------  -------------------------------------  ------------
    navigator   Identified      as recorded           as typed                               the user
    clinician   Identified      as recorded           as typed                               the user
    auditor     Pseudonymous    keyed pseudonyms PX-  withheld (coded parts kept)            withheld
    admin       NoPatients      refused: an admin's answers hold no patient at all

A projection maps whole values (a patient record, a patient view, a worklist line, a stored
entry, a deviation), so a face cannot forget a field: what it renders is already what the role
may see. ``show(value)`` takes any of them (or a list) and refuses a type it was not taught, so a
new kind of answer has to be taught here before any role sees it. The role walk
(tests/api/test_role_walk.py) calls every endpoint and page as every role and fails if a real
reference or a typed text reaches a role that must not see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar, cast

from pydantic import SecretStr

from db.records import EntryRecord, PatientRecord
from journey.adherence import Deviation
from journey.course import PathwayStep
from journey.events import ClinicalEvent
from journey.profile import PatientProfile, profile_to_dict, read_profile
from tracker.application.patients import PatientView, WorklistItem
from tracker.application.users import AccessDenied, Account, Role
from tracker.reports.exports import coded_only, pseudonym

T = TypeVar("T")

#: what stands where free text was, for a role that may not read it (an override stays visible
#: as an override: the audit counts it)
WITHHELD = "(free text withheld)"
#: who recorded an entry, for a role that may not know
NOBODY = "-"
#: the payload keys that hold typed free text
FREE_TEXT_KEYS = ("note", "override")


class Projection:
    """Everything as recorded (the clinical roles): ``show`` hands values back unchanged."""

    role_may_see_patients = True

    def ref(self, ref: str) -> str:
        return ref

    def text(self, text: str | None) -> str | None:
        return text

    def actor(self, actor: str) -> str:
        return actor

    @property
    def pseudonymous(self) -> bool:
        return False

    # -- the values the faces are given ---------------------------------------------------------
    def record(self, row: PatientRecord) -> PatientRecord:
        return row

    def view(self, view: PatientView) -> PatientView:
        return view

    def worklist_item(self, item: WorklistItem) -> WorklistItem:
        return item

    def entry(self, entry: EntryRecord) -> EntryRecord:
        return entry

    def deviation(self, deviation: Deviation) -> Deviation:
        return deviation

    def show(self, value: T) -> T:
        """``value`` as this role may see it: a patient record, view, worklist line, stored entry
        or deviation, or a list of them. Anything else is refused (TypeError): teach it here."""
        if isinstance(value, list):
            return cast(T, [self.show(v) for v in value])
        for kind, method in self._methods():
            if isinstance(value, kind):
                return cast(T, method(value))
        raise TypeError(f"{type(value).__name__} has no projection: teach tracker.application.privacy "
                        f"what each role may see of it before showing it.")

    def _methods(self) -> tuple[tuple[type, Callable[[Any], Any]], ...]:
        return ((PatientView, self.view), (PatientRecord, self.record), (WorklistItem, self.worklist_item),
                (EntryRecord, self.entry), (Deviation, self.deviation))


class Identified(Projection):
    """Navigators and clinicians: the whole record, as recorded."""


class Pseudonymous(Projection):
    """Auditors: keyed pseudonyms instead of references, no typed free text, nobody's name."""

    def __init__(self, key: SecretStr) -> None:
        self.key = key

    @property
    def pseudonymous(self) -> bool:
        return True

    def ref(self, ref: str) -> str:
        return pseudonym(ref, self.key)

    def text(self, text: str | None) -> str | None:
        return WITHHELD if text else None

    def actor(self, actor: str) -> str:
        return NOBODY

    def profile(self, profile: PatientProfile) -> PatientProfile:
        return replace(profile, ref=self.ref(profile.ref))

    def record(self, row: PatientRecord) -> PatientRecord:
        profile = self.profile(read_profile(row.profile))
        return replace(row, ref=profile.ref, profile=profile_to_dict(profile))

    def clinical_event(self, event: ClinicalEvent) -> ClinicalEvent:
        return replace(event, note=None, override=self.text(event.override))

    def step(self, step: PathwayStep) -> PathwayStep:
        return step if step.event is None else replace(step, event=self.clinical_event(step.event))

    def deviation(self, deviation: Deviation) -> Deviation:
        detail, justification = coded_only(deviation)
        return replace(deviation, detail=detail, justification=justification)

    def entry(self, entry: EntryRecord) -> EntryRecord:
        payload = {k: v for k, v in entry.payload.items() if k not in FREE_TEXT_KEYS}
        if entry.payload.get("override"):
            payload["override"] = WITHHELD
        return replace(entry, actor=self.actor(entry.actor), payload=payload,
                       override_reason=self.text(entry.override_reason),
                       source=entry.source.partition(":")[0])

    def worklist_item(self, item: WorklistItem) -> WorklistItem:
        return replace(item, ref=self.ref(item.ref))

    def view(self, view: PatientView) -> PatientView:
        profile = self.profile(view.profile)
        outcome = replace(view.outcome, profile=profile, steps=[self.step(s) for s in view.outcome.steps])
        findings = replace(view.findings, deviations=[self.deviation(d) for d in view.findings.deviations])
        return replace(view, row=replace(view.row, ref=profile.ref, profile=profile_to_dict(profile)),
                       profile=profile, outcome=outcome, findings=findings,
                       event_rows=[self.entry(e) for e in view.event_rows])


class NoPatients(Projection):
    """Admins: manage people, never see patients. Any patient value is refused (a second line
    behind the permission check: an answer that slipped past it still shows nothing)."""

    role_may_see_patients = False

    def _refuse(self, value: object) -> Any:
        raise AccessDenied("Your role (admin) sees no patient records.")

    def ref(self, ref: str) -> str:
        return cast(str, self._refuse(ref))

    def record(self, row: PatientRecord) -> PatientRecord:
        return cast(PatientRecord, self._refuse(row))

    def view(self, view: PatientView) -> PatientView:
        return cast(PatientView, self._refuse(view))

    def worklist_item(self, item: WorklistItem) -> WorklistItem:
        return cast(WorklistItem, self._refuse(item))

    def entry(self, entry: EntryRecord) -> EntryRecord:
        return cast(EntryRecord, self._refuse(entry))

    def deviation(self, deviation: Deviation) -> Deviation:
        return cast(Deviation, self._refuse(deviation))


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
