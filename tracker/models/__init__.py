"""Database models, one module per aggregate. Importing this package registers them all."""

from tracker.models.assignment import Assignment, AssignmentEvent, Extension
from tracker.models.evidence import Evidence
from tracker.models.idempotency import IdempotencyKey
from tracker.models.organization import Organization
from tracker.models.plan import Action, Plan, TaskGroup
from tracker.models.report import ReportSnapshot
from tracker.models.user import LoginFailure, Membership, RevokedToken, User

__all__ = [
    "Action", "Assignment", "AssignmentEvent", "Evidence", "Extension", "IdempotencyKey", "LoginFailure", "Membership", "Organization", "Plan",
    "ReportSnapshot", "RevokedToken", "TaskGroup", "User",
]
