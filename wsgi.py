"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`.

Settings that cannot run (a missing secret, an unknown `TRACKER_ENV`, a number that is not one)
stop the process with one line naming the setting, not a traceback.
"""

from tracker import create_app
from tracker.config import ConfigError, refuse_to_start

try:
    app = create_app()
except ConfigError as error:
    refuse_to_start(error)
