"""Settings > Inbox over HTTP, on both engines: each page lists, creates and edits through
the inbox services; bad input comes back as a message beside the field it names (422,
never a 500); agents get the managers-only page; a group's "replies require approval"."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.models.users import Group
from carebase.users import service as users
from tests.conftest import FakeClock
from tests.web.console import csrf, field_errors, toast


def _group(database: Database, clock: FakeClock, name: str) -> int:
    with database.unit_of_work() as session:
        return users.create_group(session, name=name, comment="", now=clock.now).id


def _post(client: TestClient, path: str, data: dict[str, object]) -> object:
    page = client.get(path)
    assert page.status_code == 200, page.text[:2000]
    return client.post(path, data={"csrf_token": csrf(page), **data})


# The frame.


def test_the_inbox_settings_start_page_links_every_section(manager: TestClient) -> None:
    settings = manager.get("/settings/users")
    assert '<a href="/settings/inbox">Inbox</a>' in settings.text
    page = manager.get("/settings/inbox")
    assert page.status_code == 200
    assert "<h1>Inbox settings</h1>" in page.text
    assert '<a href="/settings/inbox" aria-current="page">Inbox</a>' in page.text


# A group's replies may need approval.


def test_a_group_can_require_approval_of_its_members_replies(
    manager: TestClient, database: Database, clock: FakeClock
) -> None:
    group_id = _group(database, clock, "New starters")
    path = f"/settings/groups/{group_id}"
    form = manager.get(path)
    assert 'name="requires_approval"' in form.text
    assert 'name="requires_approval" value="on" aria-describedby' in form.text  # unticked
    saved = manager.post(
        path,
        data={"csrf_token": csrf(form), "name": "New starters", "requires_approval": "on"},
    )
    assert saved.status_code == 303
    with database.unit_of_work(write=False) as session:
        assert session.get(Group, group_id).requires_approval is True  # type: ignore[union-attr]
    again = manager.get(path)
    assert 'value="on" aria-describedby="requires_approval-hint" checked' in again.text
    # Left unticked: no longer required.
    manager.post(path, data={"csrf_token": csrf(again), "name": "New starters"})
    with database.unit_of_work(write=False) as session:
        assert session.get(Group, group_id).requires_approval is False  # type: ignore[union-attr]


def test_the_approval_checkbox_refuses_other_values(
    manager: TestClient, database: Database, clock: FakeClock
) -> None:
    group_id = _group(database, clock, "Night shift")
    path = f"/settings/groups/{group_id}"
    form = manager.get(path)
    refused = manager.post(
        path, data={"csrf_token": csrf(form), "name": "Night shift", "requires_approval": "yes"}
    )
    assert refused.status_code == 422
    assert field_errors(refused) == {"requires_approval": "Choose one of the options."}
    assert toast(refused) is None


@pytest.mark.parametrize("path", ["/settings/inbox"])
def test_agents_get_the_managers_only_page(agent: TestClient, path: str) -> None:
    response = agent.get(path)
    assert response.status_code == 403
    assert "Only managers can do this." in response.text
