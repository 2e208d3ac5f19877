"""Builders for the forms and surveys tests: users and groups through the users service, a
case inserted directly (cases are the SLA area's; the row is all a survey needs), forms and
survey links through the forms service."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.ids import new_id
from carebase.inbox import forms, surveys
from carebase.models import Case
from carebase.settings import Settings
from carebase.users import service as users
from tests.web.console import BASE_URL

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_group(database: Database, now: datetime, name: str) -> int:
    """A new group's id."""
    with database.unit_of_work() as session:
        return users.create_group(session, name=name, comment="", now=now).id


def make_agent(
    database: Database,
    settings: Settings,
    now: datetime,
    email: str = "kay@business.io",
    groups: list[int] | None = None,
) -> int:
    """A new agent's id, in `groups`."""
    with database.unit_of_work() as session:
        created = users.create_user(
            session,
            settings,
            email=email,
            first_name="Kay",
            last_name="Agent",
            role="agent",
            timezone="UTC",
            groups=groups or [],
            now=now,
            created_by="test",
        )
        return created.user.id


def make_case(
    database: Database, now: datetime, *, agent_id: int | None, profile_id: str | None = None
) -> str:
    """A case answered last by `agent_id`; its id."""
    case_id = new_id("cas")
    with database.unit_of_work() as session:
        session.add(
            Case(
                id=case_id,
                case_key=profile_id or "author:twitter_1",
                profile_id=profile_id,
                status="open",
                opened_at=now,
                first_reply_at=now,
                last_agent_response_at=now,
                last_agent_id=agent_id,
                last_activity_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    return case_id


def make_form(database: Database, now: datetime, name: str = "NPS Survey", **fields: Any) -> int:
    """A new form's id."""
    values: dict[str, Any] = {
        "title": "How did we do?",
        "nps": True,
        "groups": [],
        "comment_prompt": "What is the main reason for your score?",
    }
    values.update(fields)
    with database.unit_of_work() as session:
        return forms.create_form(session, name=name, now=now, **values).id


def make_link(database: Database, now: datetime, form_id: int, case_id: str) -> str:
    """A case's one-time survey link's token."""
    with database.unit_of_work() as session:
        _, url = surveys.invite(session, form_id, case_id, now, base_url="http://test")
    return url.rsplit("/", 1)[1]


def csrf_of(client: TestClient) -> str:
    """The pre-session form token bound to the client's cookie (any public form page gives
    it; the sign-in page always has one, whatever state a survey is in)."""
    page = client.get(f"{BASE_URL}/sign-in")
    found = _CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


def open_page(client: TestClient, path: str) -> Any:
    """GET a public page over https, as a browser keeping the pre-session cookie would."""
    return client.get(f"{BASE_URL}{path}")


def post_answer(client: TestClient, path: str, **fields: str) -> Any:
    """Post the survey form on `path` as a browser would."""
    token = csrf_of(client)
    return client.post(
        f"{BASE_URL}{path}",
        data={"csrf_token": token, **fields},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
