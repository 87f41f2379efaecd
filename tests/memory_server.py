"""Serve the app on a loopback port for tests that measure a separate server process.

Usage: python -m tests.memory_server DATABASE_URL STORAGE_DIR
Prints the port on its first line of output, then serves until killed.
"""

import sys
from pathlib import Path

from werkzeug.serving import make_server

from tests.conftest import app_config
from tracker import create_app


def main() -> None:
    database_url, storage_dir = sys.argv[1], Path(sys.argv[2])
    app = create_app(app_config(database_url, storage_dir, EVIDENCE_MAX_BYTES=256 * 1024 * 1024, LOG_LEVEL="WARNING"))
    server = make_server("127.0.0.1", 0, app, threaded=False)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
