"""The /api/v1 blueprints, one per resource."""

from flask import Flask

from tracker import docs
from tracker.api import (
    actions, assignments, auth, changes, evidence, health, indicators, measurements, meta, notifications, organizations, plans, reports,
    security, users,
)

API_PREFIX = "/api/v1"


def register_blueprints(app: Flask, api) -> None:
    security.init_app(app)
    for module in (health, meta, auth, users, organizations, plans, actions, assignments, evidence, reports, indicators, measurements,
                   notifications, changes):
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + module.URL_PREFIX)
    health.register_root_probes(app)
    docs.init_app(app)
