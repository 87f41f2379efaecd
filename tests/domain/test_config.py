import pytest

from tracker.config import ConfigError, load_settings, normalise_database_url


def test_production_requires_secrets(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY and JWT_SECRET_KEY must be set"):
        load_settings(str(tmp_path), {"TRACKER_ENV": "production"})
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        load_settings(str(tmp_path), {"SECRET_KEY": "x" * 40})


def test_production_with_secrets(tmp_path):
    settings = load_settings(str(tmp_path), {"SECRET_KEY": "a" * 40, "JWT_SECRET_KEY": "b" * 40})
    assert settings["SECRET_KEY"] == "a" * 40
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/tracker.sqlite3"


def test_development_fills_keys(tmp_path):
    settings = load_settings(str(tmp_path), {"TRACKER_ENV": "development"})
    assert settings["SECRET_KEY"] and settings["JWT_SECRET_KEY"]


def test_unknown_environment(tmp_path):
    with pytest.raises(ConfigError, match="TRACKER_ENV"):
        load_settings(str(tmp_path), {"TRACKER_ENV": "staging"})


def test_bad_number(tmp_path):
    with pytest.raises(ConfigError, match="MAX_PAGE_SIZE"):
        load_settings(str(tmp_path), {"TRACKER_ENV": "testing", "MAX_PAGE_SIZE": "many"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url(raw, expected):
    assert normalise_database_url(raw) == expected


def test_cors_origins(tmp_path):
    settings = load_settings(str(tmp_path), {"TRACKER_ENV": "testing", "CORS_ORIGINS": "https://a.gov.vn, https://b.gov.vn"})
    assert settings["TRACKER_CORS_ORIGINS"] == ["https://a.gov.vn", "https://b.gov.vn"]


def test_token_issuer_and_audience(tmp_path):
    defaults = load_settings(str(tmp_path), {"TRACKER_ENV": "testing"})
    assert (defaults["JWT_ENCODE_ISSUER"], defaults["JWT_DECODE_ISSUER"]) == ("tracker", "tracker")
    assert (defaults["JWT_ENCODE_AUDIENCE"], defaults["JWT_DECODE_AUDIENCE"]) == ("tracker-api", "tracker-api")
    assert (defaults["LOGIN_MAX_FAILURES_PER_ADDRESS"], defaults["LOGIN_FREE_FAILURES"]) == (300, 3)
    settings = load_settings(str(tmp_path), {"TRACKER_ENV": "testing", "JWT_ISSUER": "so-kh", "JWT_AUDIENCE": "so-kh-api"})
    assert (settings["JWT_DECODE_ISSUER"], settings["JWT_DECODE_AUDIENCE"]) == ("so-kh", "so-kh-api")
