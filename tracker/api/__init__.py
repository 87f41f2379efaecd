"""The /api/v1 blueprints, one per resource."""

from flask import Flask

from tracker.api import assignments, auth, evidence, health, organizations, plans, security, users

API_PREFIX = "/api/v1"


def register_blueprints(app: Flask, api) -> None:
    security.init_app(app)
    for module in (health, auth, users, organizations, plans, assignments, evidence):
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + module.URL_PREFIX)
    health.register_root_probes(app)
