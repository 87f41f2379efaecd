import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from tracker.errors import AppError
from tracker.extensions import db

log = logging.getLogger("tracker.health")


class NotReady(AppError):
    status = 503
    code = "server.not_ready"


def database_ready() -> None:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("readiness check failed: %s", type(exc).__name__)
        raise NotReady("Cơ sở dữ liệu không phản hồi. The database does not answer.", headers={"Retry-After": "5"}) from None
