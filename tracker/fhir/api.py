"""The FHIR routes of the API (docs/fhir.md). Thin, as the rest of /api/v1: check the role, call
the FhirExchange, shape the answer; errors go through the one mapping in ``tracker.web.app``.

    GET  /api/v1/patients/{ref}/fhir   the patient's mCODE bundle; roles as for the patient view,
                                        an auditor gets the pseudonymised bundle
    POST /api/v1/fhir                   import a Bundle (or one resource); clinicians and admins
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tracker.fhir.service import FhirExchange, PatientOutcome
from tracker.users import AccessDenied, Permission, Role
from tracker.web.auth import api_desk
from tracker.web.desk import Desk
from tracker.web.schemas import ErrorOut

FHIR_JSON = "application/fhir+json"
#: importing writes whole journeys at once: the clinicians (who may record MDT decisions and
#: overrides, which an import carries) and the admins (who run integrations)
IMPORT_ROLES = (Role.CLINICIAN, Role.ADMIN)

router = APIRouter(prefix="/api/v1", tags=["fhir"], responses={
    code: {"model": ErrorOut, "description": text} for code, text in (
        (400, "unreadable input"), (401, "no valid API token"), (403, "the role does not allow it"))})
DeskDep = Annotated[Desk, Depends(api_desk)]


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


def _patient_out(p: PatientOutcome) -> FhirPatientOut:
    report = p.report
    return FhirPatientOut(resource=p.read.resource, ref=p.read.ref, status=p.status, message=p.message,
                          added=report.added if report else 0,
                          already_recorded=report.already_recorded if report else 0,
                          refused_entries=p.refused_entries,
                          not_imported=[u.sentence() for u in p.read.unmapped], derived=len(p.read.derived))


@router.get("/patients/{ref}/fhir", response_class=JSONResponse, responses={
    200: {"description": "an mCODE patient Bundle (type collection)", "content": {FHIR_JSON: {}}},
    404: {"model": ErrorOut, "description": "no such patient"}})
def patient_fhir(desk: DeskDep, ref: str, as_of: Annotated[date | None, Query(
        description="the day the reminders are seen from; default today")] = None) -> JSONResponse:
    """The patient's journey as an mCODE STU4 bundle. Auditors get it pseudonymised: the keyed
    pseudonym instead of the reference, and no free text (notes, override and reminder reasons)."""
    desk.account.require(Permission.READ_PATIENTS)
    real = desk.resolve(ref)
    bundle = FhirExchange(desk.tracker).patient_bundle(real, desk.account.pseudonymous, as_of)
    desk.users.log(desk.account.name, "read", real, "fhir bundle")
    return JSONResponse(bundle, media_type=FHIR_JSON)


@router.post("/fhir", response_model=FhirImportOut, responses={
    409: {"model": ErrorOut, "description": "the input contradicts what is recorded (both values shown)"},
    422: {"model": ErrorOut, "description": "nothing of the input could be recorded, and why"}})
def import_fhir(desk: DeskDep, body: Annotated[dict[str, Any], Body(
        description="a FHIR R4 Bundle (an mCODE patient bundle) or one resource")]) -> FhirImportOut:
    """Import mCODE resources: what maps is recorded (each patient whole, through the same checks as
    every entry), what does not is listed resource by resource. The same data twice changes nothing."""
    if desk.account.role not in IMPORT_ROLES or not desk.account.active:
        raise AccessDenied(f"Your role ({desk.account.role.value}) may not import FHIR data; clinicians "
                           f"and administrators may.")
    report = FhirExchange(desk.tracker).import_documents([body], actor=f"web:{desk.account.name}",
                                                         source="fhir:api")
    for p in report.imported:
        desk.users.log(desk.account.name, "write", p.read.ref, "fhir import")
    report.raise_if_nothing_recorded()
    return FhirImportOut(patients=[_patient_out(p) for p in report.patients],
                         not_imported=[u.sentence() for u in report.unmapped])
