"""The /api/v1 blueprints, one per resource."""

from flask import Flask

from tracker.api import health, organizations, plans

API_PREFIX = "/api/v1"


def register_blueprints(app: Flask, api) -> None:
    for module in (health, plans, organizations):
        api.register_blueprint(module.blp, url_prefix=API_PREFIX + module.URL_PREFIX)
    health.register_root_probes(app)
