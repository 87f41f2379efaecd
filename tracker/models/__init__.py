"""Database models, one module per aggregate. Importing this package registers them all."""

from tracker.models.assignment import Assignment, AssignmentEvent, Extension
from tracker.models.auth import AuthSession, SignIn
from tracker.models.change import Change
from tracker.models.evidence import Evidence
from tracker.models.idempotency import IdempotencyKey
from tracker.models.notification import Notification
from tracker.models.outbox import OutboxMail, ScheduledRun
from tracker.models.indicator import Indicator, IndicatorTarget, IndicatorUnit, Measurement, MeasurementEvidence
from tracker.models.organization import AssignmentTransfer, Organization, OrganizationLink, OrganizationVersion, Reorganization
from tracker.models.plan import Action, Plan, TaskGroup
from tracker.models.report import ReportSnapshot
from tracker.models.tally import AssignmentTally, AssignmentTallyMonth, NoteSearch, UnitYearTally
from tracker.models.user import Membership, User
from tracker.models.webhook import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "Action", "Assignment", "AssignmentTally", "AssignmentTallyMonth", "AssignmentTransfer", "AssignmentEvent", "AuthSession", "Change", "Evidence", "Extension", "IdempotencyKey", "Indicator", "IndicatorTarget", "IndicatorUnit", "Measurement", "MeasurementEvidence", "Membership", "NoteSearch", "Notification", "Organization", "OutboxMail", "OrganizationLink", "OrganizationVersion", "Plan", "Reorganization", "UnitYearTally",
    "ReportSnapshot", "ScheduledRun", "SignIn", "TaskGroup", "User", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint",
]
