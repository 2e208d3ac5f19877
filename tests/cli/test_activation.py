"""`carebase destination …` and `carebase orchestration …` on both engines, against the
Zendesk contract fake: secrets never printed back, validation naming fields, the connection
test's steps, and `orchestration run --here` following a run to its exit code (0 completed,
1 failed, 2 records rejected or invalid)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carebase.activation.run_schemas import RunCounts, RunOut
from carebase.cli import app
from carebase.cli.activation_follow import exit_code
from carebase.db.session import Database
from carebase.settings import Settings
from tests.activation import runhelp
from tests.activation.zendesk_fake import FakeZendesk, serve_zendesk

runner = CliRunner()


@pytest.fixture
def zendesk_fake() -> Iterator[FakeZendesk]:
    """A Zendesk account on a loopback port (the fake's defaults)."""
    with serve_zendesk() as fake:
        yield fake


def invoke(database_url: str, *args: str) -> tuple[int, str, str]:
    """Run `carebase …` on the test database, loopback destinations allowed."""
    env = {"CAREBASE_DATABASE_URL": database_url, "CAREBASE_ALLOW_PRIVATE_OUTBOUND": "true"}
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def last_line(stdout: str) -> str:
    return stdout.rstrip("\n").splitlines()[-1]


def create_zendesk(database_url: str, fake: FakeZendesk, token: str, name: str) -> str:
    code, stdout, stderr = invoke(
        database_url,
        "destination",
        "create",
        "zendesk",
        "--name",
        name,
        "--config",
        f"base_url={fake.url}",
        "--config",
        f"email={fake.email}",
        "--config",
        "users_per_second=50",
        "--secret",
        f"api_token={token}",
    )
    assert code == 0, stderr
    return last_line(stdout)


def test_destination_commands(
    database_url: str, database: Database, zendesk_fake: FakeZendesk, tmp_path: Path
) -> None:
    destination_id = create_zendesk(database_url, zendesk_fake, zendesk_fake.api_token, "Zd")
    assert destination_id.startswith("dst_")

    code, stdout, _ = invoke(database_url, "destination", "list", "--json")
    assert code == 0
    listed = json.loads(stdout)
    assert [(d["id"], d["config"]["users_per_second"]) for d in listed] == [(destination_id, 50)]
    assert zendesk_fake.api_token not in stdout
    code, stdout, _ = invoke(database_url, "destination", "show", destination_id)
    assert json.loads(stdout)["name"] == "Zd"
    assert zendesk_fake.api_token not in stdout

    code, _, stderr = invoke(database_url, "destination", "test", destination_id)
    assert code == 0, stderr
    assert "✓" in stderr
    assert "passed" in stderr
    code, stdout, _ = invoke(database_url, "destination", "show", destination_id)
    assert json.loads(stdout)["check"]["ok"] is True

    token_file = tmp_path / "token"
    token_file.write_text("not-the-token", encoding="utf-8")
    code, stdout, stderr = invoke(
        database_url,
        "destination",
        "create",
        "zendesk",
        "--name",
        "Wrong",
        "--config",
        f"base_url={zendesk_fake.url}",
        "--config",
        f"email={zendesk_fake.email}",
        "--secret-file",
        f"api_token={token_file}",
    )
    assert code == 0, stderr
    wrong = last_line(stdout)
    code, _, stderr = invoke(database_url, "destination", "test", wrong)
    assert code == 1
    assert "✗" in stderr
    assert "not-the-token" not in stderr

    code, _, stderr = invoke(
        database_url, "destination", "create", "zendesk", "--name", "X", "--config", "nothing"
    )
    assert code == 2
    assert "key=value" in stderr
    code, _, stderr = invoke(
        database_url, "destination", "create", "zendesk", "--name", "X", "--config", "email=a@b.c"
    )
    assert code == 1
    assert "config.base_url" in stderr
    assert "secrets.api_token" in stderr

    code, _, stderr = invoke(database_url, "destination", "delete", wrong)
    assert code == 0, stderr
    code, _, stderr = invoke(database_url, "destination", "show", wrong)
    assert code == 1
    assert "No destination" in stderr


def test_orchestration_run_exit_codes(
    database_url: str, database: Database, settings: Settings, zendesk_fake: FakeZendesk
) -> None:
    runhelp.load_demo(database, settings, profiles=6)
    named = runhelp.save_query(
        database,
        "SELECT profile_id AS external_id, 'Customer ' || profile_id AS name FROM customer_360 "
        "ORDER BY profile_id LIMIT 4",
        name="Named",
    )
    nameless = runhelp.save_query(
        database,
        "SELECT profile_id AS external_id FROM customer_360 ORDER BY profile_id LIMIT 3",
        name="Nameless",
    )
    good = create_zendesk(database_url, zendesk_fake, zendesk_fake.api_token, "Zendesk")
    bad = create_zendesk(database_url, zendesk_fake, "revoked", "Zendesk (revoked)")

    def create(name: str, destination: str, query: str, *extra: str) -> str:
        code, stdout, stderr = invoke(
            database_url,
            "orchestration",
            "create",
            "--name",
            name,
            "--destination",
            destination,
            "--query",
            query,
            *extra,
        )
        assert code == 0, stderr
        return last_line(stdout)

    sending = create("Named", good, named)
    scheduled = create(
        "Nameless", good, nameless, "--cron", "0 6 * * *", "--timezone", "Australia/Sydney"
    )
    refused = create("Refused", bad, named)

    code, stdout, stderr = invoke(database_url, "orchestration", "run", sending, "--here")
    assert code == 0, stderr
    assert "completed: 4 queried" in stderr
    assert last_line(stdout).startswith("run_")
    assert len(zendesk_fake.users) == 4

    code, _, stderr = invoke(database_url, "orchestration", "run", sending, "--here", "--dry-run")
    assert code == 0, stderr
    assert "4 unchanged" in stderr

    code, _, stderr = invoke(database_url, "orchestration", "run", scheduled, "--here")
    assert code == 2, stderr
    assert "3 invalid" in stderr

    code, _, stderr = invoke(database_url, "orchestration", "run", refused, "--here")
    assert code == 1, stderr
    assert "failed" in stderr

    code, stdout, _ = invoke(database_url, "orchestration", "runs", sending, "--json")
    runs = json.loads(stdout)
    assert [(r["status"], r["dry_run"]) for r in runs] == [
        ("completed", True),
        ("completed", False),
    ]
    code, stdout, _ = invoke(database_url, "orchestration", "list", "--json")
    shown = {item["name"]: item for item in json.loads(stdout)}
    assert shown["Nameless"]["schedule"]["cron"] == "0 6 * * *"
    assert shown["Nameless"]["next_run_at"] is not None
    assert shown["Named"]["last_run"]["dry_run"] is True
    code, stdout, _ = invoke(database_url, "orchestration", "list")
    assert "Nameless" in stdout

    code, _, stderr = invoke(
        database_url,
        "orchestration",
        "create",
        "--name",
        "Both",
        "--destination",
        good,
    )
    assert code == 2
    assert "one source" in stderr
    code, _, stderr = invoke(
        database_url,
        "orchestration",
        "create",
        "--name",
        "Bad cron",
        "--destination",
        good,
        "--query",
        named,
        "--cron",
        "61 * * * *",
    )
    assert code == 1
    assert "schedule.cron" in stderr


def test_exit_codes_by_status() -> None:
    def run(status: str) -> RunOut:
        return RunOut(
            id="run_1",
            orchestration_id="orc_1",
            status=status,
            trigger="manual",
            dry_run=False,
            full_resync=False,
            only_failed=False,
            counts=RunCounts(**dict.fromkeys(RunCounts.model_fields, 0)),
            progress=None,
            error=None,
            details=None,
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            started_at=None,
            finished_at=None,
            requested_by=None,
        )

    codes = {
        s: exit_code(run(s)) for s in ("completed", "completed_with_errors", "failed", "cancelled")
    }
    assert codes == {"completed": 0, "completed_with_errors": 2, "failed": 1, "cancelled": 1}
