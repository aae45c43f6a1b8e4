"""The API's request and response bodies (pydantic), so the OpenAPI document says what is sent,
and the bounds of every number and identifier a request carries.

The event body is generated from ``journey.events.EVENT_SPECS``: the vocabulary is declared once
and the API, the web form, the CLI and the validator all read it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, create_model

from journey.events import EVENT_SPECS, OVERRIDE_REASONS, EventType
from tracker.application import MAX_ID, Account

# -- bounds: what the database and the date arithmetic can hold, said in the OpenAPI document --

#: ids and versions are database integers (PostgreSQL's integer: 2^31 - 1)
MAX_VERSION = MAX_ID
#: at most a billion patients skipped
MAX_OFFSET = 10**9
#: the days a reader may look from: the domain refuses dates before 1900; months are added to the
#: day looked from, so it stays far from the calendar's end
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2199, 12, 31)

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="how many to skip")]
ReminderId = Annotated[int, Path(ge=1, le=MAX_ID, description="the reminder's id (the worklist shows it)")]
RefPath = Annotated[str, Path(min_length=1, max_length=64,
                              description="the patient reference (auditors: the pseudonym PX-...)")]
AsOf = Annotated[date | None, Query(ge=EARLIEST_DAY, le=LATEST_DAY,
                                    description="the day to look from; default today")]


class ErrorOut(BaseModel):
    error: str = Field(description="a stable code: entry-refused, off-pathway, not-found, ...")
    message: str = Field(description="what was wrong and what to do, in plain words")


class PatientIn(BaseModel):
    patient: dict[str, Any] = Field(description="the patient block of a scenario (contract §1)",
                                    examples=[{"ref": "P-0001", "ecog": 1,
                                               "primary": {"site": "sigmoid", "diagnosed_on": "2025-01-10"},
                                               "metastases": {"detected_on": "2025-01-10", "count": 2,
                                                              "max_size_mm": 35},
                                               "biomarkers": {"mmr": "pMMR", "ras": "wild_type",
                                                              "braf": "wild_type"}}])
    care_team: str = Field(default="liver", min_length=1, max_length=64)


class PatientSummaryOut(BaseModel):
    ref: str = Field(description="the patient reference (a keyed pseudonym for auditors)")
    care_team: str
    phase: str
    phase_meaning: str
    phase_on: date
    timing: str
    sidedness: str
    version: int = Field(description="send it back as If-Match when recording an event")


class StepOut(BaseModel):
    date: date
    event: str
    from_: str = Field(alias="from")
    to: str
    by_clock: bool = False
    override: str | None = None

    model_config = ConfigDict(populate_by_name=True)


class ReminderOut(BaseModel):
    id: int
    ref: str
    kind: str
    anchor_on: date
    due_on: date
    status: str
    resolved_on: date | None = None
    cancelled_on: date | None = None
    snoozed_until: date | None = None


class RecommendationOut(BaseModel):
    id: str
    text: str
    seed: int | str | None = Field(default=None, description="the line of the seed guideline it rests on")


class DeviationOut(BaseModel):
    check: str
    date: date
    detail: str
    justified: bool = False
    justification: str | None = None


class PatientOut(PatientSummaryOut):
    as_of: date
    profile: dict[str, Any]
    history: list[StepOut]
    reminders: list[ReminderOut]
    recommendations: list[RecommendationOut]
    deviations: list[DeviationOut]


class EventOut(BaseModel):
    seq: int
    type: str
    date: date
    recorded_at: datetime
    actor: str
    payload: dict[str, Any]
    phase_before: str
    phase_after: str
    override_reason: str | None = None


class RecordedOut(BaseModel):
    ref: str
    seq: int
    type: str
    date: date
    phase_before: str
    phase_after: str
    phase_now: str
    version: int


class WorklistItemOut(BaseModel):
    reminder_id: int
    ref: str
    care_team: str
    phase: str
    kind: str
    due_on: date
    status: str
    days_late: int
    timing: str = Field(default="", description="the due date in words: due today, 12 days overdue")
    section: str = Field(default="", description="overdue, today, grace (past due, not yet overdue) or "
                                                 "week (the look-ahead)")
    assignee: str | None = Field(default=None, description="who is on it (a user name); null: nobody yet")
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None


class SnoozeIn(BaseModel):
    until: date
    reason: str = Field(min_length=1, max_length=32)
    text: str | None = Field(default=None, max_length=500)


class DismissIn(BaseModel):
    reason: str = Field(min_length=1, max_length=32)
    text: str | None = Field(default=None, max_length=500)


class AssignIn(BaseModel):
    to: str | None = Field(default=None, max_length=64,
                           description="the user name of the person who will be on it; null releases it")


class ActionOut(BaseModel):
    reminder_id: int
    action: Literal["acknowledge", "snooze", "dismiss", "assign"]
    message: str


class AwaitedOut(BaseModel):
    what: str
    since: date
    why: str
    entries: list[str] = Field(description="the entry types that would record it")


class OpenReminderOut(BaseModel):
    kind: str
    label: str
    due_on: date
    status: str
    timing: str
    cleared_by: list[str]
    dismissed: bool


class QuoteOut(BaseModel):
    line: int
    section: str | None
    text: str


class StatementOut(BaseModel):
    id: str
    kind: str
    text: str
    guideline: str | None = Field(description="the guideline's name; null for a rule no statement is behind")
    quotes: list[QuoteOut]
    conflicts_with: list[str]


class ExplanationOut(BaseModel):
    """Why is this patient not moving? The patient page's first panel, as data."""

    headline: str
    phase: str
    phase_since: date | None
    awaited: list[AwaitedOut]
    reminders: list[OpenReminderOut]
    statements: list[StatementOut]
    conflicts: list[str] = Field(description="each pair of statements that advise against each other, why")
    missing: list[str]


class AuditCheckOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    check: str
    eligible: int | None = None
    deviations: int | None = None
    rate: float | None = None


class AuditOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    patients: int
    checks: list[AuditCheckOut]
    by_timing: dict[str, Any] = Field(default_factory=dict)


class UserIn(BaseModel):
    name: str = Field(min_length=2, max_length=64)
    role: Literal["navigator", "clinician", "auditor", "admin"]
    password: str | None = Field(default=None, min_length=10, max_length=256)


class UserOut(BaseModel):
    name: str
    role: str
    active: bool
    token_expires_at: datetime | None = Field(default=None, description="when the API token stops working")
    token_last_used_at: datetime | None = Field(default=None, description="when it was last accepted")

    @classmethod
    def of(cls, account: Account) -> UserOut:
        return cls(name=account.name, role=account.role.value, active=account.active,
                   token_expires_at=account.token_expires_at, token_last_used_at=account.token_last_used_at)


class NewUserOut(UserOut):
    password: str = Field(description="shown once")
    token: str = Field(description="the API token, shown once")


class PasswordOut(BaseModel):
    name: str
    password: str = Field(description="the new password, shown once; the user's sessions have ended")


class TokenOut(BaseModel):
    name: str
    token: str = Field(description="the new API token, shown once; the old one no longer works")


class DoneOut(BaseModel):
    name: str
    message: str


class PasswordChangeIn(BaseModel):
    current: str = Field(min_length=1, max_length=256)
    new: str = Field(min_length=10, max_length=256)


class MeOut(BaseModel):
    name: str
    role: str
    permissions: list[str]


class EdgeOut(BaseModel):
    source: str
    target: str
    trigger: str


class PhaseOut(BaseModel):
    phase: str
    meaning: str


class PathwayOut(BaseModel):
    phases: list[PhaseOut]
    edges: list[EdgeOut]
    mermaid: str


def _event_model() -> type[BaseModel]:
    """One body for every event type: the union of the fields of EVENT_SPECS, each optional;
    which fields a type takes is checked by ``journey.events.read_event`` (a 422 with the
    nurse's sentence)."""
    fields: dict[str, Any] = {}
    for spec in EVENT_SPECS.values():
        for f in spec.fields:
            if f.name in fields:
                continue
            # a name several types use (reason: of a stop or of a hold) takes any of their values
            specs = [s.field(f.name) for s in EVENT_SPECS.values() if s.field(f.name) is not None]
            choices = tuple(dict.fromkeys(c for other in specs if other for c in other.choices))
            kind: Any = (bool if f.kind == "bool"
                         else Literal[tuple(int(c) for c in choices)] if f.kind == "number"
                         else Literal[choices])
            used_by = [s.type.value for s in EVENT_SPECS.values() if s.field(f.name) is not None]
            fields[f.name] = (kind | None,
                              Field(default=None, description=f"{f.label} ({', '.join(used_by)})"))
    event_type: Any = Literal[tuple(t.value for t in EventType)]  # made at run time: Any to mypy
    override_code: Any = Literal[tuple(OVERRIDE_REASONS)]
    return create_model(
        "EventIn",
        __config__=ConfigDict(extra="forbid"),
        type=(event_type, Field(description="the event type")),
        date=(date, Field(description="the clinical date: the day it happened")),
        override=(str | None, Field(default=None, max_length=500,
                                    description="why an off-pathway step is right, in words (clinicians)")),
        override_code=(override_code | None, Field(
            default=None, description="the coded reason of an override: "
                                      + "; ".join(f"{c} ({w})" for c, w in OVERRIDE_REASONS.items()))),
        note=(str | None, Field(default=None, max_length=500)),
        **fields,
    )


EventIn = _event_model()


class FhirPatientOut(BaseModel):
    resource: str = Field(description="the Patient resource of the input, e.g. Patient/abc")
    ref: str | None = Field(description="the patient reference it is recorded under")
    status: str = Field(description="imported | refused | contradicts")
    message: str
    added: int = 0
    already_recorded: int = 0
    refused_entries: list[str] = Field(default_factory=list,
                                       description="entries the pathway refused, with the resource")
    not_imported: list[str] = Field(default_factory=list, description="resource: why it was not imported")
    derived: int = Field(0, description="reminders (Task) read but not imported: the tracker derives them")


class FhirImportOut(BaseModel):
    patients: list[FhirPatientOut]
    not_imported: list[str] = Field(default_factory=list,
                                    description="resources of no patient of the input, or not FHIR R4")
