"""A throw-away PostgreSQL cluster of its own (Debian's binaries, via initdb and pg_ctl), on a spare
port with its data in a temporary folder, that a fault run can restart or kill at will.

Used by bench/load.py (`--fault`) and tests/test_database_faults.py. As root, the server runs as
the `postgres` user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def find_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if candidates:
        return candidates[-1].parent
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    def __init__(self, bin_dir: Path | None = None):
        self.bin = bin_dir or find_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL's initdb/pg_ctl are not installed (Debian package `postgresql`)")
        self.root = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        os.chmod(self.root, 0o755)
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/tracker"

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self.start()
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE tracker")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "-t", "60", "start")

    def restart(self) -> None:
        """A clean fast restart, as `pg_ctl restart -m fast` (what an upgrade or a config change does)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        self.start()

    def kill(self) -> None:
        """`kill -9` of the postmaster (its backends end when they notice), then a start (crash recovery)."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)
        for _ in range(200):  # the backends leave once they see the postmaster gone
            if not self.accepting() and not _process_alive(pid):
                break
            time.sleep(0.05)
        for _ in range(100):
            if self._run("pg_ctl", "-D", str(self.data), "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
                         "-l", str(self.log), "-w", "-t", "60", "start", check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"PostgreSQL did not start again: {self.log.read_text()[-2000:]}")

    def accepting(self) -> bool:
        try:
            with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=tracker", connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
