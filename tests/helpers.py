"""Small helpers shared by tests."""

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.models import Action, Assignment, AssignmentEvent, Organization, Plan, TaskGroup

MODELS = (Organization, Plan, TaskGroup, Action, Assignment, AssignmentEvent)


def row_counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in MODELS}


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert body["title"] and body["detail"]
    return body
