"""The first manager: `carebase serve --demo` on a database without users creates the demo
brand's manager and prints its one-time sign-in link before the admin token (still alone on
the last line); without `--demo` it says how to create one."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import httpx
import pytest

from carebase.datasets import service as datasets
from carebase.db.session import Database
from carebase.settings import Settings
from carebase.users import first, service
from tests.conftest import FakeClock
from tests.serverproc import RunningServer, running_server
from tests.users import people

LINK = re.compile(r"^http://127\.0\.0\.1:\d+/set-password/[A-Za-z0-9_-]{43}$")


def test_the_demo_manager_is_made_once_on_a_database_without_users(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    created = database.transaction(
        lambda session: first.ensure_demo_manager(session, settings, now=clock.now)
    )
    assert created is not None
    assert created.link.purpose == "invite"
    with database.unit_of_work(write=False) as session:
        (user,) = service.describe_users(session, service.list_users(session), now=clock.now)
        (group,) = service.list_groups(session)
    assert (user.email, user.role, user.timezone, user.has_password) == (
        "manager@demo.carebase",
        "manager",
        "Australia/Sydney",
        False,
    )
    assert (group.name, user.groups) == ("Demo Brand support", [group.id])
    again = database.transaction(
        lambda session: first.ensure_demo_manager(session, settings, now=clock.now)
    )
    assert again is None


def test_no_demo_manager_once_someone_exists(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    people.create_user(database, settings, clock.now, "jane@business.io")
    made = database.transaction(
        lambda session: first.ensure_demo_manager(session, settings, now=clock.now)
    )
    assert made is None


def _printed(server: RunningServer, condition: str, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [line.strip() for line in server.stdout]
        if lines and lines[-1].startswith("cb_"):
            return lines
        time.sleep(0.1)
    pytest.fail(f"no {condition} printed:\n" + "\n".join(server.stdout + server.stderr))


@pytest.mark.slow
def test_serve_demo_prints_the_first_managers_link_before_the_admin_token(
    database_url: str, database: Database
) -> None:
    # A dataset already exists, so --demo skips loading the brand (the manager still comes).
    with database.unit_of_work() as session:
        datasets.create_dataset(
            session, name="Existing", record_type="customer_record", now=datetime.now(UTC)
        )
    with running_server(database_url, args=["--demo"]) as server:
        lines = _printed(server, "admin token")
        links = [line for line in lines if LINK.match(line)]
        assert len(links) == 1, lines
        assert any("First manager: manager@demo.carebase" in line for line in lines)
        assert lines.index(links[0]) < len(lines) - 1  # the token stays alone on the last line
        assert lines[-1].startswith("cb_")
        assert links[0].startswith(server.url)
        page = httpx.get(links[0])
        assert page.status_code == 200
        assert "Welcome, Demo" in page.text


@pytest.mark.slow
def test_serve_without_demo_says_how_to_create_the_first_manager(database_url: str) -> None:
    with running_server(database_url) as server:
        lines = _printed(server, "admin token")
        assert not [line for line in lines if "/set-password/" in line]
        text = "\n".join(lines)
        assert "Nobody can sign in to the console yet" in text
        assert "carebase user create --email you@example.com" in text
        assert "--role manager" in text
        assert lines[-1].startswith("cb_")
        # Links made later, by the admin API or the console, point where it serves too.
        response = httpx.post(
            f"{server.url}/v1/users",
            headers={"Authorization": f"Bearer {lines[-1]}"},
            json={"email": "first@business.io", "first_name": "F", "role": "manager"},
        )
        assert response.status_code == 201
        assert response.json()["sign_in_link"]["url"].startswith(f"{server.url}/set-password/")


@pytest.mark.slow
def test_serve_warns_when_session_cookies_cannot_be_secure(database_url: str) -> None:
    env = {"CAREBASE_PUBLIC_URL": "http://care.internal:8000"}
    with running_server(database_url, env=env) as server:
        _printed(server, "admin token")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            "plain http" in line for line in server.stderr
        ):
            time.sleep(0.1)
        assert any("console session cookies cannot be Secure" in line for line in server.stderr), (
            server.stderr
        )
