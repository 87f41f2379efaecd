"""Settings that cannot run stop the app at start with one line naming the setting, never a traceback:
through `flask --app wsgi ...`, a plain `import wsgi` and gunicorn (with and without `--preload`),
each a process of its own started as a person would, in the repository, from a shell without the
settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_transaction

REPO = Path(__file__).resolve().parents[2]
# A bound on a failed start, far above what one takes (the app's imports on a loaded machine).
TIMEOUT = 180

# What a person's shell might carry that would change the outcome; removed before each case.
_SETTINGS = ("TRACKER_ENV", "SECRET_KEY", "JWT_SECRET_KEY", "FLASK_APP", "FLASK_DEBUG", "MAX_PAGE_SIZE",
             "JWT_ACCESS_MINUTES")

CASES = {
    # production is the default: a shell with no settings at all
    "secrets missing in production": (
        {},
        "tracker: SECRET_KEY and JWT_SECRET_KEY must be set when TRACKER_ENV=production. Set them to long random "
        "strings (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), or set "
        "TRACKER_ENV=development for a local run.",
    ),
    "unknown TRACKER_ENV": (
        {"TRACKER_ENV": "staging"},
        "tracker: TRACKER_ENV must be one of production, development, testing, got 'staging'",
    ),
    "a number that is not one": (
        {"TRACKER_ENV": "development", "JWT_ACCESS_MINUTES": "fifteen"},
        "tracker: JWT_ACCESS_MINUTES must be a whole number, got 'fifteen'",
    ),
}

ENTRY_POINTS = {
    "flask routes": [sys.executable, "-m", "flask", "--app", "wsgi", "routes"],
    "import wsgi": [sys.executable, "-c", "import wsgi"],
}


def _environment(settings: dict[str, str], tmp_path: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _SETTINGS}
    # Were the settings valid, nothing here would touch the repository's instance/ folder.
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'never.sqlite3'}", EVIDENCE_DIR=str(tmp_path / "evidence"),
               EVIDENCE_STAGING_DIR=str(tmp_path / "staging"), PYTHONDONTWRITEBYTECODE="1")
    env.update(settings)
    return env


def _run(command: list[str], settings: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, env=_environment(settings, tmp_path), capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)


def _assert_one_line(stderr: str, expected: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("tracker: ")]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(expected), lines[0]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case", CASES)
def test_a_failed_start_says_why_in_one_line(case, entry, tmp_path):
    settings, expected = CASES[case]
    result = _run(ENTRY_POINTS[entry], settings, tmp_path)
    assert result.returncode != 0, result
    # Nothing but the line: no traceback, no usage text.
    assert result.stderr.splitlines() == [result.stderr.strip()], result.stderr
    _assert_one_line(result.stderr, expected)
    assert result.stdout == ""
    assert not (tmp_path / "never.sqlite3").exists()


def test_valid_settings_start(tmp_path):
    """The same entry point with the settings it asked for: the app loads (the failures above are
    the settings', not the command's)."""
    result = _run(ENTRY_POINTS["import wsgi"], {"SECRET_KEY": "s" * 48, "JWT_SECRET_KEY": "j" * 48}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "tracker: " not in result.stderr


@pytest.mark.parametrize("preload", [False, True], ids=["workers", "preload"])
def test_gunicorn_stops_with_the_line(preload, tmp_path):
    """gunicorn prints the line alone (its own log lines around it) and stops: exit status 4, "App
    failed to load", instead of starting the worker again and again."""
    command = [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0", "--no-control-socket",
               *(["--preload"] if preload else []), "wsgi:app"]
    result = _run(command, {"SECRET_KEY": "s" * 48}, tmp_path)
    assert result.returncode == 4, result.stderr
    _assert_one_line(result.stderr, "tracker: JWT_SECRET_KEY must be set when TRACKER_ENV=production.")
    if not preload:
        assert "App failed to load" in result.stderr
        assert result.stderr.count("Booting worker") == 1, result.stderr
