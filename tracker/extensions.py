"""Extension instances, and nothing else."""

import logging

from flask_jwt_extended import JWTManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from tracker.web import TrackerApi

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TrackerSQLAlchemy(SQLAlchemy):
    def _teardown_session(self, exc: BaseException | None) -> None:
        # Ending the session must never turn an answer into an error: when the database has gone
        # away, its rollback fails, yet the work was committed (or never was) before that.
        try:
            super()._teardown_session(exc)
        except Exception:  # noqa: BLE001 - logged; the connection is discarded by the pool
            logging.getLogger("tracker.db").warning("could not close the database session cleanly", exc_info=True)


# expire_on_commit=False: answers are built from what was just written, never re-read after the
# commit, so that a database lost right after a commit cannot turn a saved change into an error.
db = TrackerSQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
def _in_models(obj, name, type_, reflected, compare_to) -> bool:
    """What autogenerate compares: not the PostgreSQL-only trigram search indexes (migration 0011),
    which the models do not declare because SQLite has no such index."""
    return not (type_ == "index" and name is not None and name.endswith("_trgm"))


migrate = Migrate(render_as_batch=True, compare_type=True, include_object=_in_models)
jwt = JWTManager()
api = TrackerApi()
