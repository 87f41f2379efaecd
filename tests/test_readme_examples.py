"""The README as a path: its shell examples run as written against a live server.

The README's first command is followed as it is written (its `export` and its `flask db upgrade`
and `flask tracker seed-demo`; not the venv and pip steps, done already), then its `flask run`
serves on a free loopback port. Every ```sh block marked `<!-- example: live -->` on the line
before it then runs in README order, each with `bash -euo pipefail` in the repository, from an
environment without the app's settings (a new shell: no `TRACKER_ENV`, `FLASK_APP`, secrets or
`TOKEN`), with `127.0.0.1:5000` replaced by the server's port. Each must exit 0, and every curl in
them fails on an error answer (`--fail-with-body` or `-f`), so a 4xx or 5xx fails the example.

The database is always a fresh SQLite file of this test's own, with its own evidence folder (set
by `DATABASE_URL`, `EVIDENCE_DIR` and `EVIDENCE_STAGING_DIR`, the only settings the test gives):
the README's local path is SQLite, the test runs the same on the PostgreSQL run of the suite, and
nothing touches instance/ or the run's test database.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import sqlite3
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_transaction

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MARKER = "<!-- example: live -->"
LOCAL_ORIGIN = "127.0.0.1:5000"
# Bounds on steps that take seconds (the demo's seeding, a CLI command), never waited out.
STEP_TIMEOUT = 600
SERVER_START_TIMEOUT = 180
HEALTH_ATTEMPTS = 50

# Settings a person's shell might carry: a new shell has none of them.
_CLEARED = re.compile(r"^(TRACKER_ENV|FLASK_\w+|SECRET_KEY|JWT_\w+|DATABASE_URL|TEST_DATABASE_URL|EVIDENCE_\w+|S3_\w+"
                      r"|TOKEN|SNAPSHOT|LOG_LEVEL|LOGIN_\w+|TRUSTED_PROXIES)$")
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# A curl whose first option does not make it fail on an HTTP error answer.
_CURL_NOT_FAILING = re.compile(r"\bcurl\b(?!\s+(--fail-with-body|--fail|-[a-zA-Z]*f[a-zA-Z]*)\s)")
_RUNNING_ON = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence in README.md
    language: str
    code: str
    live: bool

    @property
    def where(self) -> str:
        return f"README.md:{self.line}"


def readme_blocks(text: str) -> list[Block]:
    blocks = []
    for match in _FENCE.finditer(text):
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        blocks.append(Block(text.count("\n", 0, match.start()) + 1, match.group(1), match.group(2), before.strip() == MARKER))
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
LIVE = [block for block in BLOCKS if block.live]


def first_command() -> tuple[list[str], str]:
    """The first command's set-up steps after the venv (the exports, migrations, seeding) and its
    server command."""
    first = BLOCKS[0]
    assert first.language == "sh" and first.code.count("\n") == 1, "the first command is one line"
    steps = first.code.strip().split(" && ")
    assert steps[0].startswith("python3 -m venv .venv"), steps
    assert steps[1].startswith(".venv/bin/pip install"), steps
    return steps[2:-1], steps[-1]


def _fresh_shell_environment(tmp: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not _CLEARED.match(name)}
    env.update(DATABASE_URL=f"sqlite:///{tmp / 'readme.sqlite3'}", EVIDENCE_DIR=str(tmp / "evidence"),
               EVIDENCE_STAGING_DIR=str(tmp / "evidence-staging"))
    return env


def _bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=STEP_TIMEOUT, check=False)


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the README's examples (.ci/run makes .venv)", pytrace=False)
    pytest.skip(reason)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/healthz", timeout=10) as response:
            return response.status == 200
    except OSError:  # refused, reset, timed out, or an error answer (urllib's HTTPError)
        return False


@dataclass
class LiveDemo:
    port: int
    env: dict[str, str] = field(repr=False)  # the shell's environment: not shown in a failure's report
    database: Path


@pytest.fixture(scope="module")
def live_demo(tmp_path_factory):
    """The first command, followed on a database of this test's own; its server on a free port."""
    if not (REPO / ".venv" / "bin" / "flask").exists():
        _unavailable("the README's commands use .venv/bin/ and there is no .venv here (make it as the README does)")
    for tool in ("curl", "python3", "bash"):
        if shutil.which(tool) is None:
            _unavailable(f"the README's examples need {tool}")
    tmp = tmp_path_factory.mktemp("readme")
    env = _fresh_shell_environment(tmp)
    set_up, serve = first_command()
    done = _bash(" && ".join(set_up), env)
    assert done.returncode == 0, f"the first command's set-up failed:\n{done.stdout}\n{done.stderr}"

    exports = " && ".join(step for step in set_up if step.startswith("export "))
    server = subprocess.Popen(["bash", "-c", f"{exports} && exec {serve} --port 0"], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output: queue.Queue[str | None] = queue.Queue()
    log: list[str] = []

    def drain() -> None:  # read everything the server says, so that it never blocks on a full pipe
        for line in server.stdout:
            output.put(line)
        output.put(None)

    drainer = threading.Thread(target=drain, name="readme-server-output", daemon=True)
    drainer.start()
    try:
        port = None
        while port is None:
            try:
                line = output.get(timeout=SERVER_START_TIMEOUT)
            except queue.Empty:
                pytest.fail("`flask run` said nothing for a long time:\n" + "".join(log), pytrace=False)
            if line is None:
                pytest.fail(f"`flask run` exited ({server.wait()}):\n" + "".join(log), pytrace=False)
            log.append(line)
            if found := _RUNNING_ON.search(line):
                port = int(found.group(1))
        for _attempt in range(HEALTH_ATTEMPTS):
            if _healthy(port):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"the server on port {port} never answered /api/v1/healthz", pytrace=False)
        yield LiveDemo(port, env, tmp / "readme.sqlite3")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        drainer.join(timeout=30)  # the pipe's end: the server is gone
        server.stdout.close()


def test_the_first_command_is_the_one_followed_here():
    set_up, serve = first_command()
    assert set_up == [
        "export TRACKER_ENV=development FLASK_APP=wsgi",
        ".venv/bin/flask db upgrade",
        ".venv/bin/flask tracker seed-demo",
    ]
    assert serve == ".venv/bin/flask run"


def test_the_marked_examples_cover_the_path():
    """What a front-end developer needs first is among the examples run: sign-in, a plan import by
    curl, a report, a published report (snapshot), a reorganisation, the `flask tracker` commands."""
    assert LIVE, f"no block in README.md is marked {MARKER}"
    assert all(block.language == "sh" for block in LIVE), [block.where for block in LIVE if block.language != "sh"]
    code = "\n".join(block.code for block in LIVE)
    for needed in ("/api/v1/auth/login", "/api/v1/plans/import", "/api/v1/reports/overdue", "/api/v1/reports/summary",
                   "/api/v1/reports/snapshots", "/api/v1/organizations/reorganizations", "tracker import-plan",
                   "tracker recount", "tracker demo-reform"):
        assert needed in code, f"no marked README example shows {needed}"
    commands = code.replace("\\\n", " ").splitlines()  # a command continued on the next line is one
    assert any("curl" in command and "/plans/import" in command for command in commands), "the plan import by curl"


@pytest.mark.parametrize("block", LIVE, ids=[block.where for block in LIVE])
def test_a_marked_example_fails_on_error_answers_and_calls_the_local_server(block):
    assert not _CURL_NOT_FAILING.search(block.code), \
        f"{block.where}: every curl starts with --fail-with-body (or -f), so that an error answer fails the example"
    origins = set(re.findall(r"https?://([^/\s'\"]+)", block.code))
    assert origins <= {LOCAL_ORIGIN}, f"{block.where}: examples call the local API, {LOCAL_ORIGIN}; found {origins}"


def test_every_marked_example_runs_against_a_live_server(live_demo):
    """In README order, as a reader follows it; the first to fail stops the run (the later ones may
    build on it), naming its line in README.md and showing what it printed."""
    for block in LIVE:
        script = block.code.replace(LOCAL_ORIGIN, f"127.0.0.1:{live_demo.port}")
        result = _bash(script, live_demo.env)
        assert result.returncode == 0, (
            f"{block.where} failed (exit {result.returncode}):\n{block.code}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
        )
    # The examples worked on this test's database, through the server and the CLI alike.
    with sqlite3.connect(live_demo.database) as connection:
        snapshots = connection.execute("SELECT count(*) FROM report_snapshot").fetchone()[0]
        reorganizations = connection.execute("SELECT count(*) FROM reorganization").fetchone()[0]
    assert snapshots >= 1 and reorganizations >= 1, (snapshots, reorganizations)
