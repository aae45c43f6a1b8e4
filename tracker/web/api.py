"""The REST API under /api/v1. Thin: each handler calls one Desk method and shapes the answer.

Errors come from the one hierarchy (journey.errors, tracker.users), mapped once in
``tracker.web.app``: 400 unreadable, 401 not signed in, 403 role, 404 not found, 409 conflict,
413 too large, 422 refused entry or a value out of bounds, 429 too many failed sign-ins.

Every number and identifier a request carries is bounded here (tracker.web.schemas: ``Offset``,
``ReminderId``, ``RefPath``, ``AsOf``), so an oversized one is a 422 in words, never a crash
below. What the answers hold about patients has already been projected for the role by the Desk.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response, status

from journey.errors import InvalidScenario
from journey.pathway import PHASE_MEANING, Phase, diagram_edges, mermaid_diagram
from tracker.application import GRANTS, PatientRecord, PatientView
from tracker.web.auth import api_desk
from tracker.web.desk import Desk
from tracker.web.schemas import (
    MAX_VERSION,
    ActionOut,
    AsOf,
    AssignIn,
    AuditOut,
    AwaitedOut,
    DeviationOut,
    DismissIn,
    EdgeOut,
    ErrorOut,
    EventIn,
    EventOut,
    ExplanationOut,
    MeOut,
    NewUserOut,
    Offset,
    OpenReminderOut,
    PathwayOut,
    PatientIn,
    PatientOut,
    PatientSummaryOut,
    PhaseOut,
    QuoteOut,
    RecommendationOut,
    RecordedOut,
    RefPath,
    ReminderId,
    ReminderOut,
    SnoozeIn,
    StatementOut,
    StepOut,
    UserIn,
    UserOut,
    WorklistItemOut,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text} for code, text in (
        (400, "unreadable input"), (401, "no valid API token"), (403, "the role does not allow it"),
        (422, "refused: the entry cannot be true or has no pathway step")
    )}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "no such thing"}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": ErrorOut,
                                                    "description": "someone else changed it first"}}

router = APIRouter(prefix="/api/v1", responses=ERRORS)
DeskDep = Annotated[Desk, Depends(api_desk)]


def _summary(row: PatientRecord) -> PatientSummaryOut:
    return PatientSummaryOut(ref=row.ref, care_team=row.care_team, phase=row.phase,
                             phase_meaning=PHASE_MEANING[Phase(row.phase)], phase_on=row.phase_on,
                             timing=row.timing, sidedness=row.sidedness, version=row.version)


def _recommendations(view: PatientView) -> list[RecommendationOut]:
    return [RecommendationOut(id=r.id, text=r.text, seed=r.seed) for r in view.findings.recommendations]


def _patient(desk: Desk, view: PatientView) -> PatientOut:
    outcome = view.outcome
    return PatientOut(
        **_summary(view.row).model_dump(exclude={"phase", "phase_meaning"}),
        phase=outcome.phase.value, phase_meaning=PHASE_MEANING[outcome.phase],
        as_of=outcome.as_of, profile=dict(view.row.profile),
        history=[StepOut.model_validate(s.to_dict()) for s in outcome.steps],
        reminders=[ReminderOut(**vars(line)) for line in desk.reminder_lines(view)],
        recommendations=_recommendations(view),
        deviations=[DeviationOut(check=d.check, date=d.date, detail=d.detail, justified=d.justified,
                                 justification=d.justification)
                    for d in view.findings.deviations])


def _if_match(value: str | None) -> int | None:
    if value is None or value.strip() in ("", "*"):
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit() and int(text) <= MAX_VERSION):
        raise InvalidScenario(f"If-Match must be the patient's version number, not {value[:20]!r}.")
    return int(text)


# -- who am I -----------------------------------------------------------------------------------

@router.get("/me", response_model=MeOut, tags=["users"])
def me(desk: DeskDep) -> MeOut:
    """The account behind the token and what it may do."""
    account = desk.account
    return MeOut(name=account.name, role=account.role.value,
                 permissions=sorted(p.value for p in GRANTS[account.role]))


# -- patients -----------------------------------------------------------------------------------

@router.get("/patients", response_model=list[PatientSummaryOut], tags=["patients"])
def list_patients(desk: DeskDep,
                  phase: Annotated[Phase | None, Query(description="only this phase")] = None,
                  team: Annotated[str | None, Query(max_length=64, description="only this care team")] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  offset: Offset = 0) -> list[PatientSummaryOut]:
    """Registered patients, by reference, with their stored phase."""
    rows = desk.patients(phase.value if phase else None, team, limit, offset)
    return [_summary(r) for r in rows]


@router.post("/patients", response_model=PatientSummaryOut, status_code=status.HTTP_201_CREATED,
             tags=["patients"], responses=CONFLICT)
def create_patient(desk: DeskDep, body: PatientIn) -> PatientSummaryOut:
    """Register a patient (navigators and clinicians)."""
    return _summary(desk.register(body.patient, body.care_team))


@router.get("/patients/{ref}", response_model=PatientOut, tags=["patients"], responses=NOT_FOUND)
def read_patient(desk: DeskDep, ref: RefPath, response: Response, as_of: AsOf = None) -> PatientOut:
    """Phase, history, reminders, recommendations and deviations. The ETag is the version."""
    view = desk.patient(ref, as_of)
    response.headers["ETag"] = f'"{view.row.version}"'
    return _patient(desk, view)


@router.get("/patients/{ref}/events", response_model=list[EventOut], tags=["events"],
            responses=NOT_FOUND)
def list_events(desk: DeskDep, ref: RefPath) -> list[EventOut]:
    """The patient's event log, in recording order (for auditors without who recorded it and
    without the typed notes and override reasons)."""
    view = desk.patient(ref)
    return [EventOut(seq=e.seq, type=e.type, date=e.date, recorded_at=e.recorded_at,
                     actor=e.actor, payload=e.payload, phase_before=e.phase_before,
                     phase_after=e.phase_after, override_reason=e.override_reason)
            for e in view.event_rows]


@router.post("/patients/{ref}/events", response_model=RecordedOut, status_code=status.HTTP_201_CREATED,
             tags=["events"], responses={**NOT_FOUND, **CONFLICT})
def record_event(desk: DeskDep, ref: RefPath, response: Response,
                 event: Annotated[EventIn, Body()],  # type: ignore[valid-type]  # a model made at run time
                 if_match: Annotated[str | None, Header(
                     description="the version you saw; 409 if the patient changed since")] = None,
                 ) -> RecordedOut:
    """Record an event. Refused entries answer 422 with the reason; MDT reviews and overrides
    need a clinician."""
    raw = event.model_dump(exclude_none=True, mode="json")  # type: ignore[attr-defined]  # EventIn, see above
    result = desk.record(ref, raw, _if_match(if_match))
    response.headers["ETag"] = f'"{result.version}"'
    return RecordedOut(ref=ref, seq=result.event.seq, type=result.event.type.value, date=result.event.date,
                       phase_before=result.phase_before, phase_after=result.phase_after,
                       phase_now=result.phase_now, version=result.version)


@router.get("/patients/{ref}/recommendations", response_model=list[RecommendationOut],
            tags=["recommendations"], responses=NOT_FOUND)
def recommendations(desk: DeskDep, ref: RefPath, as_of: AsOf = None) -> list[RecommendationOut]:
    """What the guideline says for the patient's situation now, each with its seed line."""
    return _recommendations(desk.patient(ref, as_of))


# -- reminders and the worklist -----------------------------------------------------------------

@router.get("/reminders", response_model=list[ReminderOut], tags=["reminders"], responses=NOT_FOUND)
def list_reminders(desk: DeskDep,
                   ref: Annotated[str | None, Query(
                       max_length=64, description="one patient's reminders, every status")] = None,
                   kind: Annotated[str | None, Query(max_length=32)] = None,
                   team: Annotated[str | None, Query(max_length=64)] = None,
                   as_of: AsOf = None) -> list[ReminderOut]:
    """One patient's reminders (with ``ref``), or every due and overdue reminder."""
    if ref is not None:
        view = desk.patient(ref, as_of)
        return [ReminderOut(**vars(line)) for line in desk.reminder_lines(view)
                if kind is None or line.kind == kind]
    return [ReminderOut(id=i.reminder_id, ref=i.ref, kind=i.kind, anchor_on=i.due_on, due_on=i.due_on,
                        status=i.status.value)
            for i in desk.worklist(as_of, kind=kind, team=team, limit=1000)]


@router.post("/reminders/{reminder_id}/acknowledge", response_model=ActionOut, tags=["reminders"],
             responses=NOT_FOUND)
def acknowledge(desk: DeskDep, reminder_id: ReminderId) -> ActionOut:
    return ActionOut(reminder_id=reminder_id, action="acknowledge",
                     message=desk.reminder_action("acknowledge", reminder_id))


@router.post("/reminders/{reminder_id}/snooze", response_model=ActionOut, tags=["reminders"],
             responses=NOT_FOUND)
def snooze(desk: DeskDep, reminder_id: ReminderId, body: SnoozeIn) -> ActionOut:
    return ActionOut(reminder_id=reminder_id, action="snooze",
                     message=desk.reminder_action("snooze", reminder_id, until=body.until,
                                                  reason=body.reason, text=body.text))


@router.post("/reminders/{reminder_id}/dismiss", response_model=ActionOut, tags=["reminders"],
             responses=NOT_FOUND)
def dismiss(desk: DeskDep, reminder_id: ReminderId, body: DismissIn) -> ActionOut:
    return ActionOut(reminder_id=reminder_id, action="dismiss",
                     message=desk.reminder_action("dismiss", reminder_id, reason=body.reason,
                                                  text=body.text))


@router.post("/reminders/{reminder_id}/assign", response_model=ActionOut, tags=["reminders"],
             responses=NOT_FOUND)
def assign(desk: DeskDep, reminder_id: ReminderId, body: AssignIn) -> ActionOut:
    """Give a reminder to a person (a navigator or clinician, by user name), or release it."""
    return ActionOut(reminder_id=reminder_id, action="assign", message=desk.assign(reminder_id, body.to))


@router.get("/worklist", response_model=list[WorklistItemOut], tags=["reminders"])
def worklist(desk: DeskDep, as_of: AsOf = None,
             kind: Annotated[str | None, Query(max_length=32)] = None,
             team: Annotated[str | None, Query(max_length=64)] = None,
             limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[WorklistItemOut]:
    """Due and overdue reminders, most urgent (longest waiting) first, each with who is on it."""
    return [WorklistItemOut(reminder_id=i.reminder_id, ref=i.ref, care_team=i.care_team, phase=i.phase,
                            kind=i.kind, due_on=i.due_on, status=i.status.value, days_late=i.days_late,
                            timing=i.timing, section=i.section, assignee=i.assignee,
                            acknowledged_by=i.acknowledged_by, acknowledged_at=i.acknowledged_at)
            for i in desk.worklist(as_of, kind=kind, team=team, limit=limit)]


@router.get("/patients/{ref}/explanation", response_model=ExplanationOut, tags=["patients"],
            responses=NOT_FOUND)
def explanation(desk: DeskDep, ref: RefPath, as_of: AsOf = None) -> ExplanationOut:
    """Why is this patient not moving? What the pathway waits for and since when, the open
    reminders and what clears them, the guideline statements that apply (quoted) and their
    conflicts."""
    x = desk.explanation(ref, as_of)
    return ExplanationOut(
        headline=x.headline, phase=x.phase.value, phase_since=x.phase_since,
        awaited=[AwaitedOut(what=a.what, since=a.since, why=a.why, entries=[e.value for e in a.entries])
                 for a in x.awaited],
        reminders=[OpenReminderOut(kind=r.kind.value, label=r.label, due_on=r.due_on, status=r.status.value,
                                   timing=r.timing, cleared_by=[e.value for e in r.cleared_by],
                                   dismissed=r.dismissed is not None) for r in x.reminders],
        statements=[StatementOut(id=s.id, kind=s.kind, text=s.text,
                                 guideline=s.citation.guideline if s.citation else None,
                                 quotes=[QuoteOut(line=q.line, section=q.section, text=q.text)
                                         for q in (s.citation.quotes if s.citation else ())],
                                 conflicts_with=[other for other, _ in s.conflicts]) for s in x.statements],
        conflicts=[f"{one} and {other}: {why}" for one, other, why in x.conflicts], missing=list(x.missing))


# -- audit, exports, pathway --------------------------------------------------------------------

@router.get("/audit", response_model=AuditOut, tags=["audit"])
def audit(desk: DeskDep) -> AuditOut:
    """The cohort audit (contract §6, as ``journey audit --json``)."""
    return AuditOut.model_validate(desk.audit())


@router.get("/exports/{kind}", tags=["exports"], responses={
    **NOT_FOUND, 200: {"description": "the export file", "content": {"text/csv": {}, "application/xml": {}}}})
def export(desk: DeskDep, kind: Annotated[str, Path(max_length=8, pattern="^[a-z]+$")]) -> Response:
    """A pseudonymous export: ``csv`` (one row per deviation) or ``xes`` (the event log)."""
    body, media_type = desk.export(kind)
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="journey-events.{kind}"'})


@router.get("/pathway", response_model=PathwayOut, tags=["pathway"])
def pathway(desk: DeskDep) -> PathwayOut:
    """The phases and every phase-changing transition, read from the transition table."""
    return PathwayOut(phases=[PhaseOut(phase=p.value, meaning=PHASE_MEANING[p]) for p in Phase],
                      edges=[EdgeOut(source=s, target=t, trigger=g) for s, t, g in diagram_edges()],
                      mermaid=mermaid_diagram())


# -- users --------------------------------------------------------------------------------------

@router.get("/users", response_model=list[UserOut], tags=["users"])
def list_users(desk: DeskDep) -> list[UserOut]:
    return [UserOut.of(a) for a in desk.list_users()]


@router.post("/users", response_model=NewUserOut, status_code=status.HTTP_201_CREATED, tags=["users"],
             responses=CONFLICT)
def add_user(desk: DeskDep, body: UserIn) -> NewUserOut:
    """Create a user (admins); the password and the API token are in the answer, once."""
    created = desk.add_user(body.name, body.role, body.password)
    return NewUserOut(**UserOut.of(created.account).model_dump(), password=created.password,
                      token=created.token)
