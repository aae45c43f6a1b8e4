"""The Tracker: the one object the faces (CLI, web pages, API, scheduler) call. Each method is one
use case, most of them one transaction; the work is done in the modules beside this one, which
speak to the database only through db's unit of work and repositories."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from functools import cached_property
from io import TextIOBase
from pathlib import Path
from typing import Any, TextIO

from apscheduler.jobstores.base import BaseJobStore

from db.jobs import job_store
from db.lease import Lease
from db.records import NoticeRecord, PatientRecord, ReminderActionRecord
from journey.scenario import Scenario
from tracker.application import audit as _audit
from tracker.application import evidence as _evidence
from tracker.application import fhir as _fhir
from tracker.application import notifications as _notifications
from tracker.application import operations as _operations
from tracker.application import patients as _patients
from tracker.application import reminders as _reminders
from tracker.application import sweep as _sweep
from tracker.application import verify as _verify
from tracker.application import worklist as _worklist
from tracker.application.audit import AuditedJourney, AuditRun
from tracker.application.context import Context
from tracker.application.evidence import CheckpointReport
from tracker.application.fhir import FhirImportReport
from tracker.application.notifications import DeliveryReport
from tracker.application.operations import RestoreReport
from tracker.application.patients import ImportReport, PatientView, RecordResult
from tracker.application.reminders import ActionResult
from tracker.application.sweep import SweepReport
from tracker.application.users import Users
from tracker.application.verify import Verification
from tracker.application.worklist import Worklist, WorklistItem
from tracker.demo.cohort import generate_cohort
from tracker.demo.loading import LoadReport, bulk_generate, import_cohort


class Tracker(Context):
    """The application: services over one database, one clock and one set of settings."""

    # -- patients -----------------------------------------------------------------------------
    def patient_view(self, ref: str, as_of: date | None = None) -> PatientView:
        return _patients.patient_view(self, ref, as_of)

    def worklist(self, as_of: date | None = None, limit: int | None = 50, kind: str | None = None,
                 team: str | None = None) -> list[WorklistItem]:
        return _worklist.worklist(self, as_of, limit, kind, team)

    def worklist_sections(self, as_of: date | None = None, *, kind: str | None = None,
                          team: str | None = None, assignee: str | None = None, untaken: bool = False,
                          limit: int | None = 100, only: str | None = None) -> Worklist:
        return _worklist.worklist_sections(self, as_of, kind=kind, team=team, assignee=assignee,
                                           untaken=untaken, limit=limit, only=only)

    def patients(self, phase: str | None = None, team: str | None = None, limit: int = 100,
                 offset: int = 0) -> list[PatientRecord]:
        return _patients.patients(self, phase, team, limit, offset)

    def care_teams(self) -> list[str]:
        return _patients.care_teams(self)

    def patient_count(self) -> int:
        return _patients.patient_count(self)

    def ref_of_pseudonym(self, given: str) -> str | None:
        return _patients.ref_of_pseudonym(self, given)

    def register_patient(self, raw_profile: Mapping[str, Any], care_team: str = "liver") -> PatientRecord:
        return _patients.register_patient(self, raw_profile, care_team)

    def record_event(self, ref: str, raw_event: Mapping[str, Any], actor: str,
                     expected_version: int | None = None, source: str = "") -> RecordResult:
        return _patients.record_event(self, ref, raw_event, actor, expected_version, source)

    def import_scenario(self, scenario: Scenario, actor: str, source: str = "") -> ImportReport:
        return _patients.import_scenario(self, scenario, actor, source)

    def rederive_stale(self, progress: Callable[[int, int], None] | None = None) -> int:
        return _patients.rederive_stale(self, progress)

    def verify(self) -> Iterator[str]:
        return _verify.verify(self)

    # -- evidence kept outside the database ---------------------------------------------------
    def checkpoint(self) -> CheckpointReport:
        return _evidence.take_checkpoint(self)

    def verify_with_checkpoints(self, path: Path, public_keys: list[Path] | None = None) -> Verification:
        return _verify.verify_with_checkpoints(self, path, public_keys)

    def checkpoint_proof(self, ref: str, path: Path | None = None) -> dict[str, object]:
        return _evidence.proof(self, ref, path)

    def check_checkpoint_proof(self, proof: dict[str, object],
                               public_keys: list[Path] | None = None) -> str | None:
        return _evidence.check_patient_proof(self, proof, public_keys)

    # -- reminders ----------------------------------------------------------------------------
    def act_on_reminder(self, action: str, reminder_id: int, actor: str, until: date | None = None,
                        reason: str | None = None, text: str | None = None,
                        person: str | None = None) -> ActionResult:
        return _reminders.act(self, action, reminder_id, actor, until, reason, text, person)

    def patient_of_reminder(self, reminder_id: int) -> str:
        return _reminders.patient_of(self, reminder_id)

    def reminder_actions(self, reminder_ids: Sequence[int]) -> list[ReminderActionRecord]:
        return _reminders.actions_of(self, reminder_ids)

    # -- the audit and the exports ------------------------------------------------------------
    def audited_journeys(self, as_of: date, **options: Any) -> Iterator[AuditedJourney]:
        return _audit.audited_journeys(self, as_of, **options)

    def run_audit(self, as_of: date | None = None, detected_from: date | None = None,
                  detected_to: date | None = None, csv: TextIO | None = None, identified: bool = False,
                  progress: Callable[[int], None] | None = None) -> AuditRun:
        return _audit.run_audit(self, as_of, detected_from, detected_to, csv, identified, progress)

    def audit_report_html(self, run: AuditRun, *, suppress_below: int = 5, period: str | None = None,
                          file: Path | None = None) -> str:
        return _audit.audit_report_html(self, run, suppress_below=suppress_below, period=period, file=file)

    def audit_report_body(self, run: AuditRun, *, suppress_below: int = 5) -> str:
        return _audit.audit_report_body(self, run, suppress_below=suppress_below)

    def write_event_log_xes(self, out: TextIOBase, as_of: date | None = None, identified: bool = False,
                            progress: Callable[[int], None] | None = None) -> int:
        return _audit.write_event_log_xes(self, out, as_of, identified, progress)

    def export(self, kind: str) -> tuple[str, str]:
        return _audit.export(self, kind)

    def refresh_verdicts(self, as_of: date | None = None) -> int:
        return _audit.refresh_verdicts(self, as_of, workers=self.settings.audit_workers)

    # -- FHIR R4 / mCODE STU4 in and out (docs/fhir.md) ---------------------------------------
    def fhir_bundle(self, ref: str, pseudonymous: bool = False, as_of: date | None = None) -> dict[str, Any]:
        return _fhir.patient_bundle(self, ref, pseudonymous, as_of)

    def export_fhir_ndjson(self, folder: Path, pseudonymous: bool = False, as_of: date | None = None,
                           progress: Callable[[int], None] | None = None) -> dict[str, int]:
        return _fhir.export_ndjson(self, folder, pseudonymous, as_of, progress)

    def import_fhir(self, documents: Iterable[Any], actor: str, source: str = "fhir") -> FhirImportReport:
        return _fhir.import_documents(self, documents, actor, source)

    # -- time: the sweep, the digest, the outbox ----------------------------------------------
    def sweep(self, as_of: date | None = None) -> SweepReport:
        return _sweep.sweep(self, as_of)

    def write_digests(self, day: date) -> int:
        return _notifications.write_digests(self, day)

    def deliver(self, now: datetime | None = None) -> DeliveryReport:
        return _notifications.deliver(self, now)

    def notifications(self, failed_only: bool = False, everything: bool = False,
                      limit: int = 200) -> list[NoticeRecord]:
        return _notifications.notifications(self, failed_only, everything, limit)

    def requeue_failed_notifications(self) -> int:
        return _notifications.requeue_failed(self)

    def job_store(self) -> BaseJobStore:
        """Where APScheduler keeps the scheduler's jobs: the project database (db.jobs)."""
        return job_store(self.engine)

    def scheduler_lease(self, holder: str) -> Lease:
        """The lease only whose holder runs the scheduled jobs (docs/scheduler.md)."""
        return Lease(self.engine, holder, self.settings.scheduler_lease_seconds)

    # -- people -------------------------------------------------------------------------------
    @cached_property
    def users(self) -> Users:
        """Accounts, web sessions, the sign-in throttle and the access log."""
        return Users(self)

    # -- operations ---------------------------------------------------------------------------
    def backup(self, destination: Path, overwrite: bool = False) -> int:
        return _operations.backup(self, destination, overwrite)

    def restore(self, source: Path, replace: bool = False, accept_rollback: bool = False) -> RestoreReport:
        return _operations.restore(self, source, replace, accept_rollback)

    def generate_demo_cohort(self, patients: int, seed: int, *, bulk: bool = False, start: int = 0,
                             batch: int = 2000, workers: int = 1, progress: bool = False) -> LoadReport:
        """A synthetic cohort placed relative to today (tracker.demo)."""
        day = self.clock.today()
        if bulk:
            return bulk_generate(self.engine, patients, seed, day, self.clock.now(), settings=self.pathway,
                                 batch=batch, workers=workers, start=start, progress=progress)
        return import_cohort(self, generate_cohort(patients, seed, day, start=start), progress=progress,
                             total=patients)
