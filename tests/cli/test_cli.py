"""The `carebase` command: tokens, migrate, version, and clean failures."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from carebase import __version__
from carebase.auth.secrets import is_well_formed
from carebase.cli import app
from carebase.db.migrate import head_revision

runner = CliRunner()


def invoke(database_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"CAREBASE_DATABASE_URL": database_url})
    return result.exit_code, result.stdout, result.stderr


def test_token_create_prints_the_secret_alone_on_the_last_line(database_url: str) -> None:
    code, stdout, stderr = invoke(
        database_url,
        "token",
        "create",
        "--name",
        "zapier",
        "--scope",
        "ingest",
        "--scope",
        "profiles:read",
    )
    assert code == 0, stderr
    last_line = stdout.rstrip("\n").splitlines()[-1]
    assert is_well_formed(last_line)
    assert "zapier" in stderr


def test_token_list_and_revoke(database_url: str) -> None:
    invoke(database_url, "token", "create", "--name", "a", "--scope", "ingest")
    code, stdout, _ = invoke(database_url, "token", "list", "--json")
    assert code == 0
    tokens = json.loads(stdout)
    assert [t["name"] for t in tokens] == ["a"]
    assert "token" not in tokens[0]

    code, _, stderr = invoke(database_url, "token", "revoke", tokens[0]["id"])
    assert code == 0
    assert "Revoked" in stderr
    _, stdout, _ = invoke(database_url, "token", "list", "--json", "--active")
    assert json.loads(stdout) == []


def test_revoking_the_last_admin_token_is_refused(database_url: str) -> None:
    invoke(database_url, "token", "create", "--name", "first", "--scope", "admin")
    invoke(database_url, "token", "create", "--name", "second", "--scope", "admin")
    _, stdout, _ = invoke(database_url, "token", "list", "--json")
    first, second = (token["id"] for token in json.loads(stdout))

    code, _, stderr = invoke(database_url, "token", "revoke", first)
    assert code == 0, stderr
    code, stdout, stderr = invoke(database_url, "token", "revoke", second)
    assert code == 1
    assert "last active admin token" in stderr
    assert "Traceback" not in stdout + stderr
    _, stdout, _ = invoke(database_url, "token", "list", "--json", "--active")
    assert [token["id"] for token in json.loads(stdout)] == [second]


def test_bad_scope_is_a_clear_error_without_traceback(database_url: str) -> None:
    code, stdout, stderr = invoke(database_url, "token", "create", "--name", "x", "--scope", "root")
    assert code == 1
    assert "unknown scope 'root'" in stderr
    assert "Traceback" not in stdout + stderr


def test_revoking_an_unknown_token_fails_cleanly(database_url: str) -> None:
    code, _, stderr = invoke(database_url, "token", "revoke", "tok_nope")
    assert code == 1
    assert "No API token" in stderr


def test_migrate_reports_the_revision(database_url: str) -> None:
    code, stdout, _ = invoke(database_url, "migrate")
    assert code == 0
    assert head_revision() in stdout
    assert "up to date" in stdout


def test_invalid_configuration_names_the_variable() -> None:
    result = runner.invoke(app, ["migrate"], env={"CAREBASE_PORT": "not-a-port"})
    assert result.exit_code == 3
    assert "CAREBASE_PORT" in result.stderr
    assert "Traceback" not in result.output


def test_unreachable_database_exits_4() -> None:
    result = runner.invoke(
        app,
        ["migrate"],
        env={"CAREBASE_DATABASE_URL": "postgresql://nobody:pw@127.0.0.1:1/none"},
    )
    assert result.exit_code == 4
    assert "cannot use the database" in result.stderr
    assert "pw@" not in result.output


def test_version() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__
