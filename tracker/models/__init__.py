"""Database models, one module per aggregate. Importing this package registers them all."""

from tracker.models.assignment import Assignment, AssignmentEvent
from tracker.models.organization import Organization
from tracker.models.plan import Action, Plan, TaskGroup

__all__ = ["Action", "Assignment", "AssignmentEvent", "Organization", "Plan", "TaskGroup"]
