"""Settings, read from the environment in one place.

`TRACKER_ENV` selects the profile: `production` (the default: secrets are required),
`development` or `testing` (fixed, non-secret keys are filled in so one command runs it).
"""

from __future__ import annotations

import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import NoReturn

ENVIRONMENTS = ("production", "development", "testing")
_INSECURE_KEY = "insecure-development-key-change-me-0123456789"


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def refuse_to_start(error: ConfigError) -> NoReturn:
    """Stop a process whose settings cannot run: one line on stderr naming the setting, no traceback,
    a non-zero exit (`flask --app wsgi ...`, `python -c 'import wsgi'`, gunicorn with or without
    `--preload`)."""
    print(f"tracker: {error}", file=sys.stderr, flush=True)
    # 4 is gunicorn's "App failed to load": its master stops, instead of starting the worker again
    # and again as it does after other exit codes.
    raise SystemExit(4)


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def _choice(env: dict, name: str, choices: tuple[str, ...], default: str) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _time(env: dict, name: str, default: str) -> str:
    raw = (env.get(name) or default).strip()
    try:
        hours, minutes = (int(part) for part in raw.split(":"))
    except ValueError:
        raise ConfigError(f"{name} must be a local time HH:MM, got {raw!r}") from None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ConfigError(f"{name} must be a local time HH:MM, got {raw!r}")
    return f"{hours:02d}:{minutes:02d}"


def _dates(env: dict, name: str) -> list[str]:
    """Days as YYYY-MM-DD or DD/MM/YYYY, comma-separated; given back as ISO dates."""
    found = []
    for item in _list(env.get(name)):
        try:
            if "/" in item:
                day, month, year = (int(part) for part in item.split("/"))
                found.append(date(year, month, day).isoformat())
            else:
                found.append(date.fromisoformat(item).isoformat())
        except ValueError:
            raise ConfigError(f"{name} must list dates as YYYY-MM-DD or DD/MM/YYYY, got {item!r}") from None
    return sorted(set(found))


def normalise_database_url(url: str) -> str:
    """Let people write postgres:// or postgresql:// and still get psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_settings(instance_path: str, env: dict | None = None) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = dict(os.environ if env is None else env)
    profile = env.get("TRACKER_ENV", "production").strip().lower()
    if profile not in ENVIRONMENTS:
        raise ConfigError(f"TRACKER_ENV must be one of {', '.join(ENVIRONMENTS)}, got {profile!r}")
    relaxed = profile in ("development", "testing")

    secret_key = env.get("SECRET_KEY") or (_INSECURE_KEY if relaxed else None)
    jwt_key = env.get("JWT_SECRET_KEY") or (secret_key if relaxed else None)
    missing = [name for name, value in (("SECRET_KEY", secret_key), ("JWT_SECRET_KEY", jwt_key)) if not value]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} must be set when TRACKER_ENV={profile}. "
            "Set them to long random strings (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
            "or set TRACKER_ENV=development for a local run."
        )

    default_db = "sqlite:///" + str(Path(instance_path) / "tracker.sqlite3")
    database_url = normalise_database_url(env.get("DATABASE_URL") or default_db)

    return {
        "TRACKER_ENV": profile,
        "TESTING": profile == "testing",
        "SECRET_KEY": secret_key,
        "JWT_SECRET_KEY": jwt_key,
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=_int(env, "JWT_ACCESS_MINUTES", 15)),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=_int(env, "JWT_REFRESH_DAYS", 14)),
        "JWT_TOKEN_LOCATION": ["headers"],
        # Tokens name who issued them and for whom; a token naming anything else is refused.
        "JWT_ENCODE_ISSUER": env.get("JWT_ISSUER") or "tracker",
        "JWT_DECODE_ISSUER": env.get("JWT_ISSUER") or "tracker",
        "JWT_ENCODE_AUDIENCE": env.get("JWT_AUDIENCE") or "tracker-api",
        "JWT_DECODE_AUDIENCE": env.get("JWT_AUDIENCE") or "tracker-api",
        # Sign-in throttling, never a lock-out: after LOGIN_FREE_FAILURES failures of one account from
        # one address, each attempt waits 2, 4, 8 ... seconds up to LOGIN_MAX_DELAY_SECONDS; one
        # address may fail LOGIN_MAX_FAILURES_PER_ADDRESS times (an office behind one NAT) per window.
        "LOGIN_FREE_FAILURES": _int(env, "LOGIN_FREE_FAILURES", 3),
        "LOGIN_MAX_DELAY_SECONDS": _int(env, "LOGIN_MAX_DELAY_SECONDS", 300),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _int(env, "LOGIN_MAX_FAILURES_PER_ADDRESS", 300),
        "LOGIN_WINDOW_SECONDS": _int(env, "LOGIN_WINDOW_SECONDS", 900),
        # How many reverse proxies set X-Forwarded-For in front of the app (0: none trusted).
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Evidence storage: a local folder (default, under instance/) or an S3-compatible store.
        "EVIDENCE_BACKEND": _choice(env, "EVIDENCE_BACKEND", ("local", "s3"), "local"),
        "EVIDENCE_DIR": env.get("EVIDENCE_DIR") or str(Path(instance_path) / "evidence"),
        "EVIDENCE_STAGING_DIR": env.get("EVIDENCE_STAGING_DIR") or str(Path(instance_path) / "evidence-staging"),
        "EVIDENCE_MAX_BYTES": _int(env, "EVIDENCE_MAX_MB", 50) * 1024 * 1024,
        "EVIDENCE_QUOTA_BYTES": _int(env, "EVIDENCE_QUOTA_MB", 2048) * 1024 * 1024,
        # ZIP, OOXML and OpenDocument evidence, checked before storing (zip bombs).
        "EVIDENCE_ARCHIVE_MAX_UNCOMPRESSED_BYTES": _int(env, "EVIDENCE_ARCHIVE_MAX_UNCOMPRESSED_MB", 200) * 1024 * 1024,
        "EVIDENCE_ARCHIVE_MAX_RATIO": _int(env, "EVIDENCE_ARCHIVE_MAX_RATIO", 100),
        "EVIDENCE_ARCHIVE_MAX_MEMBERS": _int(env, "EVIDENCE_ARCHIVE_MAX_MEMBERS", 10000),
        # How long a signed evidence link (GET /evidence/{id}/link, for <img> and <a>) works.
        "EVIDENCE_LINK_SECONDS": _int(env, "EVIDENCE_LINK_SECONDS", 300),
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL"),
        "S3_BUCKET": env.get("S3_BUCKET", "tracker-evidence"),
        "S3_REGION": env.get("S3_REGION", "us-east-1"),
        "S3_PREFIX": env.get("S3_PREFIX", "evidence/"),
        "S3_CREATE_BUCKET": _bool(env.get("S3_CREATE_BUCKET")),
        "SQLALCHEMY_ENGINE_OPTIONS": (
            # JIT compiles queries the planner costs high (a list over a million rows) and spends more
            # time compiling than the query runs: off, as for most OLTP work.
            {"pool_pre_ping": True, "pool_timeout": 10, "connect_args": {"connect_timeout": 3, "options": "-c jit=off"}}
            if database_url.startswith("postgresql") else {}
        ),
        "SQLALCHEMY_ECHO": _bool(env.get("SQLALCHEMY_ECHO")),
        "TRACKER_TIMEZONE": env.get("TRACKER_TIMEZONE", "Asia/Ho_Chi_Minh"),
        # How many days an officer may date a submission back (a leader further, with a note).
        "BACKDATE_MAX_DAYS": _int(env, "BACKDATE_MAX_DAYS", 7),
        # How far short of the straight line an indicator may be and still be "at risk", as a
        # percentage of its whole baseline-to-target distance (beyond it: "off track").
        "INDICATOR_TOLERANCE": _int(env, "INDICATOR_TOLERANCE_PERCENT", 10) / 100,
        # Webhooks: deliveries to private, loopback, link-local or reserved addresses (and URLs naming
        # them) are refused unless this is set (a receiver on the same host or network); how long one
        # attempt may take.
        "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": _bool(env.get("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES")),
        "WEBHOOKS_TIMEOUT_SECONDS": _int(env, "WEBHOOKS_TIMEOUT_SECONDS", 10),
        "TRACKER_CORS_ORIGINS": _list(env.get("CORS_ORIGINS")),
        "TRACKER_MAX_PAGE_SIZE": _int(env, "MAX_PAGE_SIZE", 200),
        "MAX_CONTENT_LENGTH": _int(env, "MAX_REQUEST_MB", 60) * 1024 * 1024,
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO").upper(),
        # E-mail (tracker.services.mail), sent by the worker (`flask tracker worker`). With no SMTP_HOST
        # no mail is made; in-app notifications go on regardless.
        "SMTP_HOST": env.get("SMTP_HOST") or None,
        "SMTP_PORT": _int(env, "SMTP_PORT", 587),
        # starttls (port 587), ssl (implicit TLS, port 465) or none (a relay on the local network).
        "SMTP_TLS": _choice(env, "SMTP_TLS", ("starttls", "ssl", "none"), "starttls"),
        "SMTP_USERNAME": env.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD") or None,
        "SMTP_TIMEOUT_SECONDS": _int(env, "SMTP_TIMEOUT_SECONDS", 30),
        "MAIL_SENDER": env.get("MAIL_SENDER") or "Theo dõi nhiệm vụ <no-reply@localhost>",
        # Where the links in mails lead: the front end's address (its /#/assignments/<id> pages).
        "FRONTEND_URL": (env.get("FRONTEND_URL") or "http://127.0.0.1:5000/app/").rstrip("/") + "/",
        # The daily reminders are made at this local time (TRACKER_TIMEZONE) on working days.
        "REMINDER_TIME": _time(env, "REMINDER_TIME", "07:00"),
        # Days with no mail besides Saturdays and Sundays: Tết and national holidays, listed by date.
        "HOLIDAYS": _dates(env, "HOLIDAYS"),
        # A submission waiting for approval longer than this many days is put to the leaders.
        "APPROVAL_REMINDER_DAYS": _int(env, "APPROVAL_REMINDER_DAYS", 3),
        # How long an idle worker waits before looking for work again.
        "WORKER_POLL_SECONDS": _int(env, "WORKER_POLL_SECONDS", 5),
        # flask-smorest / OpenAPI
        "API_TITLE": "Tracker API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.1.0",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "api/v1/openapi.json",
        # /docs is served by tracker.docs from files installed with the package, not by
        # flask-smorest from a CDN: it must work with no internet, under a strict CSP.
        "OPENAPI_SWAGGER_UI_PATH": None,
        "API_SPEC_OPTIONS": {
            "info": {
                "description": (
                    "Theo dõi thực hiện kế hoạch: nhiệm vụ, phân công, thời hạn, minh chứng, báo cáo. "
                    "Accountability tracker for government plans. Errors are RFC 9457 "
                    "application/problem+json with a stable `code`.\n\n"
                    "Language: send `Accept-Language` (RFC 9110) to choose the language of a problem's `title`, "
                    "`detail` and `errors` messages: Vietnamese (`vi`, the default, also when no supported language "
                    "is asked for) or English (`en`, `en-US`…); weights are honoured (`vi;q=0.1, en;q=0.9` is "
                    "English). The answer says which in `Content-Language` and carries `Vary: Accept-Language`. "
                    "`code`, `errors` keys and every other member are the same in both languages; data (names, "
                    "notes) and `/api/v1/meta/labels` (both languages always) do not change."
                ),
            },
        },
    }
