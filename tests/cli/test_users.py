"""`carebase user …` and `carebase group …`: the output contract (what a script reads is alone
on stdout's last line), the same rules as the API, clean failures."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from carebase.cli import app

runner = CliRunner()
LINK = re.compile(r"^http://127\.0\.0\.1:8000/set-password/[A-Za-z0-9_-]{43}$")


def invoke(database_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"CAREBASE_DATABASE_URL": database_url})
    return result.exit_code, result.stdout, result.stderr


def users(database_url: str) -> list[dict[str, object]]:
    code, stdout, stderr = invoke(database_url, "user", "list", "--json")
    assert code == 0, stderr
    listed: list[dict[str, object]] = json.loads(stdout)
    return listed


JANE = ("--email", "Jane@Business.io", "--first-name", "Jane", "--last-name", "Remington")


def test_user_create_prints_a_link_then_the_id_alone_on_the_last_line(database_url: str) -> None:
    code, stdout, stderr = invoke(database_url, "user", "create", *JANE, "--role", "manager")

    assert code == 0, stderr
    link, user_id = stdout.splitlines()
    assert LINK.match(link)
    assert user_id.isdigit()
    assert "Created manager jane@business.io" in stderr
    assert "shown once" in stderr
    [user] = users(database_url)
    assert (user["id"], user["email"], user["role"], user["has_password"]) == (
        int(user_id),
        "jane@business.io",
        "manager",
        False,
    )


def test_user_create_in_groups(database_url: str) -> None:
    code, stdout, stderr = invoke(
        database_url, "group", "create", "--name", "Social Customer Care", "--comment", "Social"
    )
    assert code == 0, stderr
    care = int(stdout.splitlines()[-1])
    _, stdout, _ = invoke(database_url, "group", "create", "--name", "Email")
    email = int(stdout.splitlines()[-1])

    code, _, stderr = invoke(
        database_url,
        "user",
        "create",
        *JANE,
        "--role",
        "agent",
        "--group",
        "Email",
        "--group",
        "Social Customer Care",
        "--timezone",
        "Australia/Sydney",
    )

    assert code == 0, stderr
    [user] = users(database_url)
    assert user["groups"] == sorted([care, email])
    assert user["timezone"] == "Australia/Sydney"
    code, stdout, _ = invoke(database_url, "group", "list", "--json")
    assert [(g["name"], g["members"]) for g in json.loads(stdout)] == [
        ("Social Customer Care", [user["id"]]),
        ("Email", [user["id"]]),
    ]


def test_user_create_failures_are_clean(database_url: str) -> None:
    invoke(database_url, "user", "create", *JANE, "--role", "agent")
    for args, message in [
        ((*JANE, "--role", "agent"), "A user with this email already exists."),
        ((*JANE, "--role", "root"), "'root' is not one of"),
        (
            (
                "--email",
                "new@business.io",
                "--first-name",
                "N",
                "--last-name",
                "",
                "--role",
                "agent",
                "--group",
                "Nope",
            ),
            "No group is named 'Nope'. Create it first: carebase group create --name 'Nope'",
        ),
        (
            (
                "--email",
                "new@business.io",
                "--first-name",
                "N",
                "--last-name",
                "",
                "--role",
                "agent",
                "--timezone",
                "Mars/Base",
            ),
            "timezone: not an IANA time zone",
        ),
        (
            ("--email", "not-an-email", "--first-name", "N", "--last-name", "", "--role", "agent"),
            "email: not a valid email address",
        ),
    ]:
        code, stdout, stderr = invoke(database_url, "user", "create", *args)
        assert code != 0, args
        assert message in stderr, (args, stderr)
        assert "Traceback" not in stdout + stderr
    assert len(users(database_url)) == 1


def test_reset_link_archive_and_restore(database_url: str) -> None:
    invoke(database_url, "user", "create", *JANE, "--role", "agent")

    code, stdout, stderr = invoke(database_url, "user", "reset-link", "--email", "JANE@business.io")
    assert code == 0, stderr
    assert LINK.match(stdout.splitlines()[-1])
    assert "invitation" in stderr  # no password set yet

    code, _, stderr = invoke(database_url, "user", "archive", "--email", "jane@business.io")
    assert code == 0, stderr
    assert "can no longer sign in" in stderr
    assert users(database_url)[0]["archived"] is True
    code, _, stderr = invoke(database_url, "user", "reset-link", "--email", "jane@business.io")
    assert code == 1
    assert "archived" in stderr

    code, _, stderr = invoke(database_url, "user", "restore", "--email", "jane@business.io")
    assert code == 0, stderr
    assert users(database_url)[0]["archived"] is False

    code, _, stderr = invoke(database_url, "user", "archive", "--email", "nobody@business.io")
    assert code == 1
    assert "No user has this email." in stderr


def test_user_list_as_a_table(database_url: str) -> None:
    invoke(database_url, "user", "create", *JANE, "--role", "agent")
    code, stdout, _ = invoke(database_url, "user", "list")
    assert code == 0
    assert "jane@business.io" in stdout
    assert "invited" in stdout


def test_group_create_refuses_a_taken_name(database_url: str) -> None:
    invoke(database_url, "group", "create", "--name", "Email")
    code, stdout, stderr = invoke(database_url, "group", "create", "--name", " Email ")
    assert code == 1
    assert "A group with this name already exists." in stderr
    assert stdout == ""
