"""Settings: defaults, production safety, rate-limit syntax, and documentation of each."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from carebase.auth.scopes import KNOWN_SCOPES
from carebase.settings import DEFAULT_RATE_LIMITS, DEVELOPMENT_SECRET_KEY, RateLimit, Settings

ROOT = Path(__file__).resolve().parents[1]
CONFIGURATION = ROOT / "docs" / "configuration.md"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Read by the test suite, not by carebase: the PostgreSQL binaries, the browser, the fuzz's budget.
TEST_ONLY_VARIABLES = {
    "CAREBASE_TEST_PG_BIN",
    "CAREBASE_CHROMIUM",
    "CAREBASE_FUZZ_SEED",
    "CAREBASE_FUZZ_EXAMPLES",
    "CAREBASE_FUZZ_STATEFUL_STEPS",
}


def test_defaults_run_on_a_local_sqlite_file() -> None:
    settings = Settings(_env_file=None)
    assert settings.is_sqlite
    assert settings.sqlite_path == Path(".carebase/carebase.db")
    assert settings.sqlite_synchronous == "FULL"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREBASE_PORT", "9001")
    monkeypatch.setenv("CAREBASE_DATABASE_URL", "postgresql://u:p@db/carebase")
    monkeypatch.setenv("CAREBASE_RATE_LIMITS", "ingest=10/1m, activity:read=5/s")
    settings = Settings(_env_file=None)
    assert settings.port == 9001
    assert settings.database_url == "postgresql+psycopg://u:p@db/carebase"
    assert settings.rate_limit_for("ingest") == RateLimit(10, 60)
    assert settings.rate_limit_for("activity:read") == RateLimit(5, 1)
    assert settings.rate_limit_for("profiles:read") == RateLimit(6000, 60)


def test_activity_default_is_the_documented_100_per_5_minutes() -> None:
    assert Settings(_env_file=None).rate_limit_for("activity:read") == RateLimit(100, 300)


def test_rate_limits_accept_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREBASE_RATE_LIMITS", '{"admin": "unlimited"}')
    assert Settings(_env_file=None).rate_limit_for("admin").unlimited


@pytest.mark.parametrize("spec", ["fast", "10/", "10/5x", "-1/1m"])
def test_bad_rate_limits_are_refused(spec: str) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, rate_limits={"admin": spec})


def test_rate_limit_for_an_unknown_scope_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown scope 'ingst'"):
        Settings(_env_file=None, rate_limits={"ingst": "10/1m"})


def test_production_refuses_the_development_secret_key() -> None:
    with pytest.raises(ValidationError, match="CAREBASE_SECRET_KEY"):
        Settings(_env_file=None, env="production")
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(_env_file=None, env="production", secret_key="short")
    ok = Settings(_env_file=None, env="production", secret_key="k" * 40)
    assert ok.secret_key.get_secret_value() != DEVELOPMENT_SECRET_KEY


def test_unsupported_databases_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, database_url="mysql://localhost/db")
    with pytest.raises(ValidationError):
        Settings(_env_file=None, database_url="sqlite:///:memory:")


def test_secret_key_never_prints() -> None:
    settings = Settings(_env_file=None, secret_key="super-secret-value-of-forty-characters!")
    assert "super-secret" not in repr(settings)


def test_every_setting_is_a_row_of_the_configuration_table() -> None:
    rows = re.findall(r"^\| `(CAREBASE_[A-Z_]+)` \|", CONFIGURATION.read_text(), re.MULTILINE)
    settings = {f"CAREBASE_{name.upper()}" for name in Settings.model_fields}
    assert len(rows) == len(set(rows)), "a setting has two rows in docs/configuration.md"
    assert settings - set(rows) == set(), "settings missing from docs/configuration.md's table"
    assert set(rows) - settings == set(), "docs/configuration.md's table names unknown settings"


def test_the_docs_name_no_unknown_setting() -> None:
    settings = {f"CAREBASE_{name.upper()}" for name in Settings.model_fields}
    for path in DOCUMENTS:
        documented = set(re.findall(r"`(CAREBASE_[A-Z_]+)`", path.read_text()))
        assert documented - settings - TEST_ONLY_VARIABLES == set(), f"{path.name} names them"


def test_every_scope_has_a_default_rate_limit() -> None:
    assert set(DEFAULT_RATE_LIMITS) == set(KNOWN_SCOPES)


def test_public_url_builds_links() -> None:
    assert Settings(_env_file=None).base_url == "http://127.0.0.1:8000"
    wildcard = Settings(_env_file=None, host="0.0.0.0", port=9000)  # noqa: S104
    assert wildcard.base_url == "http://127.0.0.1:9000"
    assert Settings(_env_file=None, host="::1").base_url == "http://[::1]:8000"
    behind_proxy = Settings(_env_file=None, public_url=" https://care.example.com/carebase/ ")
    assert behind_proxy.base_url == "https://care.example.com/carebase"
    assert Settings(_env_file=None, public_url="").public_url is None


@pytest.mark.parametrize(
    "url",
    [
        "care.example.com",
        "ftp://care.example.com",
        "https://",
        "https://x.io/?a=1",
        "https://x.io/#top",
    ],
)
def test_bad_public_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="public_url"):
        Settings(_env_file=None, public_url=url)


def test_sign_in_limits_are_rate_specs() -> None:
    settings = Settings(_env_file=None)
    assert RateLimit.parse(settings.signin_account_limit) == RateLimit(5, 900)
    assert RateLimit.parse(settings.signin_ip_limit) == RateLimit(50, 900)
    assert (settings.session_idle_hours, settings.session_max_days) == (12, 7)
    with pytest.raises(ValidationError):
        Settings(_env_file=None, signin_ip_limit="often")
