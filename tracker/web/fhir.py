"""The FHIR routes of the API (docs/fhir.md). Thin, as the rest of /api/v1: each handler calls one
Desk method (roles, pseudonyms, the access log) and shapes the answer; errors go through the one
mapping in ``tracker.web.app``.

    GET  /api/v1/patients/{ref}/fhir   the patient's mCODE bundle; roles as for the patient view,
                                        an auditor gets the pseudonymised bundle
    POST /api/v1/fhir                   import a Bundle (or one resource); clinicians and admins
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import JSONResponse

from tracker.application import PatientOutcome
from tracker.web.auth import api_desk
from tracker.web.desk import Desk
from tracker.web.schemas import AsOf, ErrorOut, FhirImportOut, FhirPatientOut, RefPath

FHIR_JSON = "application/fhir+json"

router = APIRouter(prefix="/api/v1", tags=["fhir"], responses={
    code: {"model": ErrorOut, "description": text} for code, text in (
        (400, "unreadable input"), (401, "no valid API token"), (403, "the role does not allow it"))})
DeskDep = Annotated[Desk, Depends(api_desk)]


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
def patient_fhir(desk: DeskDep, ref: RefPath, as_of: AsOf = None) -> JSONResponse:
    """The patient's journey as an mCODE STU4 bundle. Auditors get it pseudonymised: the keyed
    pseudonym instead of the reference, and no free text (notes, override and reminder reasons)."""
    return JSONResponse(desk.fhir_bundle(ref, as_of), media_type=FHIR_JSON)


@router.post("/fhir", response_model=FhirImportOut, responses={
    409: {"model": ErrorOut, "description": "the input contradicts what is recorded (both values shown)"},
    422: {"model": ErrorOut, "description": "nothing of the input could be recorded, and why"}})
def import_fhir(desk: DeskDep, body: Annotated[dict[str, Any], Body(
        description="a FHIR R4 Bundle (an mCODE patient bundle) or one resource")]) -> FhirImportOut:
    """Import mCODE resources: what maps is recorded (each patient whole, through the same checks as
    every entry), what does not is listed resource by resource. The same data twice changes nothing."""
    report = desk.import_fhir(body)
    return FhirImportOut(patients=[_patient_out(p) for p in report.patients],
                         not_imported=[u.sentence() for u in report.unmapped])
