"""The application layer: the one service object the faces call (:class:`Tracker`), and the values
its answers are made of. The faces (tracker.cli, tracker.web, tracker.scheduler) import this
package and the domain (journey), nothing else of the project; below it, each use case speaks to
the database through db's unit of work and repositories (tests/unit/test_layering.py holds it)."""

from db.lease import LeaseUnavailable
from db.records import MAX_ID, AccessRecord, EntryRecord, NoticeRecord, PatientRecord, ReminderRecord
from tracker.application.audit import EXPORT_KINDS, AuditedJourney, AuditRun
from tracker.application.evidence import CheckpointReport, EvidenceUnavailable, generate_keys
from tracker.application.fhir import FhirContradicts, FhirImportReport, FhirRefused, PatientOutcome
from tracker.application.files import load_fhir_documents, load_scenario, scenario_files
from tracker.application.findings import Findings
from tracker.application.notifications import DeliveryError, DeliveryReport, Sender
from tracker.application.operations import RestoreReport
from tracker.application.patients import (
    ImportReport,
    PatientView,
    RecordResult,
    replay_document,
)
from tracker.application.privacy import WITHHELD, Projection, projection_for
from tracker.application.reminders import ASSIGNABLE_ROLES, ActionResult, DismissReason, SnoozeReason
from tracker.application.service import Tracker
from tracker.application.sweep import SweepReport
from tracker.application.users import (
    CLI,
    GRANTS,
    MAX_PASSWORD,
    SESSION_ENDED,
    AccessDenied,
    Account,
    NewAccount,
    NotSignedIn,
    Origin,
    Permission,
    Role,
    SignInThrottled,
    Users,
    WebSession,
)
from tracker.application.verify import Verification
from tracker.application.worklist import SECTION_TITLES, Section, Worklist, WorklistItem
from tracker.clock import Clock
from tracker.reports.exports import CSV_COLUMNS, pseudonym
from tracker.settings import Settings, UnsafeSettings

__all__ = [
    "ASSIGNABLE_ROLES",
    "CLI",
    "CSV_COLUMNS",
    "EXPORT_KINDS",
    "GRANTS",
    "MAX_ID",
    "MAX_PASSWORD",
    "SECTION_TITLES",
    "SESSION_ENDED",
    "WITHHELD",
    "AccessDenied",
    "AccessRecord",
    "Account",
    "ActionResult",
    "AuditRun",
    "AuditedJourney",
    "CheckpointReport",
    "Clock",
    "DeliveryError",
    "DeliveryReport",
    "DismissReason",
    "EntryRecord",
    "EvidenceUnavailable",
    "FhirContradicts",
    "FhirImportReport",
    "FhirRefused",
    "Findings",
    "ImportReport",
    "LeaseUnavailable",
    "NewAccount",
    "NotSignedIn",
    "NoticeRecord",
    "Origin",
    "PatientOutcome",
    "PatientRecord",
    "PatientView",
    "Permission",
    "Projection",
    "RecordResult",
    "ReminderRecord",
    "RestoreReport",
    "Role",
    "Section",
    "Sender",
    "Settings",
    "SignInThrottled",
    "SnoozeReason",
    "SweepReport",
    "Tracker",
    "UnsafeSettings",
    "Users",
    "Verification",
    "WebSession",
    "Worklist",
    "WorklistItem",
    "generate_keys",
    "load_fhir_documents",
    "load_scenario",
    "projection_for",
    "pseudonym",
    "replay_document",
    "scenario_files",
]
