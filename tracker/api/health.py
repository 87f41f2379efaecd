from flask import Flask

from tracker.services.health import database_ready
from tracker.web import Blueprint

URL_PREFIX = ""
blp = Blueprint("health", __name__, description="Liveness and readiness probes")


@blp.route("/healthz")
@blp.response(200, description="The process is up")
def healthz():
    return {"status": "ok"}


@blp.route("/readyz")
@blp.response(200, description="The database answers")
@blp.alt_response(503, description="The database does not answer")
def readyz():
    database_ready()
    return {"status": "ready"}


def register_root_probes(app: Flask) -> None:
    """Load balancers probe /healthz and /readyz at the root as well."""
    app.add_url_rule("/healthz", "root_healthz", healthz)
    app.add_url_rule("/readyz", "root_readyz", readyz)
