"""The /api/v1 blueprints, one per resource."""

from flask import Flask

from tracker import docs, frontend
from tracker.api import (
    actions, assignments, auth, changes, evidence, health, indicators, measurements, meta, notifications, organizations, plans,
    preferences, reports, security, users, webhooks,
)

API_PREFIX = "/api/v1"


def register_blueprints(app: Flask, api) -> None:
    security.init_app(app)
    for module in (health, meta, auth, users, organizations, plans, actions, assignments, evidence, reports, indicators, measurements,
                   notifications, preferences, webhooks, changes):
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + module.URL_PREFIX)
    health.register_root_probes(app)
    docs.init_app(app)
    frontend.init_app(app)
