"""The application layer: the one service object the faces call (:class:`Tracker`), and the values
its answers are made of. The faces (tracker.cli, tracker.web, tracker.scheduler) import this
package and the domain (journey), nothing else of the project; below it, each use case speaks to
the database through db's unit of work and repositories (tests/unit/test_layering.py holds it)."""

from db.lease import LeaseUnavailable
from db.records import AccessRecord, EntryRecord, NoticeRecord, PatientRecord, ReminderRecord
from tracker.application.audit import EXPORT_KINDS, AuditedJourney, AuditRun
from tracker.application.files import load_scenario, scenario_files
from tracker.application.findings import Findings
from tracker.application.notifications import DeliveryError, DeliveryReport, Sender
from tracker.application.operations import RestoreReport
from tracker.application.patients import (
    ImportReport,
    PatientView,
    RecordResult,
    replay_document,
)
from tracker.application.reminders import ASSIGNABLE_ROLES, ActionResult, DismissReason, SnoozeReason
from tracker.application.service import Tracker
from tracker.application.sweep import SweepReport
from tracker.application.users import (
    GRANTS,
    AccessDenied,
    Account,
    NewAccount,
    NotSignedIn,
    Permission,
    Role,
    Users,
)
from tracker.application.worklist import SECTION_TITLES, Section, Worklist, WorklistItem
from tracker.clock import Clock
from tracker.reports.exports import CSV_COLUMNS, pseudonym
from tracker.settings import Settings

__all__ = [
    "ASSIGNABLE_ROLES",
    "CSV_COLUMNS",
    "EXPORT_KINDS",
    "GRANTS",
    "SECTION_TITLES",
    "AccessDenied",
    "AccessRecord",
    "Account",
    "ActionResult",
    "AuditRun",
    "AuditedJourney",
    "Clock",
    "DeliveryError",
    "DeliveryReport",
    "DismissReason",
    "EntryRecord",
    "Findings",
    "ImportReport",
    "LeaseUnavailable",
    "NewAccount",
    "NotSignedIn",
    "NoticeRecord",
    "PatientRecord",
    "PatientView",
    "Permission",
    "RecordResult",
    "ReminderRecord",
    "RestoreReport",
    "Role",
    "Section",
    "Sender",
    "Settings",
    "SnoozeReason",
    "SweepReport",
    "Tracker",
    "Users",
    "Worklist",
    "WorklistItem",
    "load_scenario",
    "pseudonym",
    "replay_document",
    "scenario_files",
]
