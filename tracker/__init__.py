"""Tracker: a REST API that turns a government plan into assignable, trackable, provable work."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from flask_smorest.spec.plugins import integerconverter2paramschema
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker import cli, errors, models, storage, web  # noqa: F401 - models registers the mappers
from tracker.api import idempotency, parameters, register_blueprints
from tracker.services import tallies  # noqa: F401 - keeps the assignment tallies on every flush
from tracker.services import webhooks  # noqa: F401 - writes the webhook deliveries of each flush
from tracker.config import load_settings
from tracker.extensions import api, db, jwt, migrate


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def _configure_logging(app: Flask) -> None:
    root = logging.getLogger()
    if not any(isinstance(f, _RequestIdFilter) for h in root.handlers for f in h.filters):
        handler = logging.StreamHandler()
        handler.addFilter(_RequestIdFilter())
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
        root.addHandler(handler)
    root.setLevel(app.config["LOG_LEVEL"])


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Enforce foreign keys, and let SQLAlchemy (not pysqlite) emit BEGIN so that
    # SAVEPOINT and transactional DDL work as on PostgreSQL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # IMMEDIATE: take the write lock at the start, so that concurrent writers queue (busy_timeout)
    # instead of failing when a read transaction tries to become a write transaction.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _register_engine_events(app: Flask) -> None:
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _sqlite_pragmas):
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)


def _register_session_hygiene(app: Flask) -> None:
    @app.after_request
    def _discard_failed_work(response):
        # An error answer never leaves half-done work in the session (it would be committed by
        # nothing, but a later use of the same session must not see it either).
        if response.status_code >= 400:
            try:
                db.session.rollback()
            except Exception:  # noqa: BLE001 - the database is gone; the answer stands
                logging.getLogger("tracker.db").warning("rollback after an error answer failed", exc_info=True)
        return response


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = web.TrackerFlask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    env = None
    if test_config and "TRACKER_ENV" in test_config:
        env = {**os.environ, "TRACKER_ENV": test_config["TRACKER_ENV"]}
    app.config.from_mapping(load_settings(app.instance_path, env))
    if test_config:
        app.config.from_mapping(test_config)

    _configure_logging(app)
    storage.init_app(app)
    web.init_app(app)
    db.init_app(app)
    _register_engine_events(app)
    _register_session_hygiene(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    jwt.init_app(app)
    idempotency.init_app(app)
    api.init_app(app)
    api.register_converter(web.BoundedIntConverter, integerconverter2paramschema)
    errors.init_app(app)
    parameters.init_app(app)  # unknown query parameters: 400; documented on every operation

    register_blueprints(app, api)
    if app.config["TRUSTED_PROXIES"]:
        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    cli.init_app(app)
    return app
