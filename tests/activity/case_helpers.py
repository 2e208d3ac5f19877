"""Builders for the Cases and NPS report tests: rows inserted directly (cases, mentions,
replies, classifications, forms, invitations and answers) and the report request over HTTP."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from carebase.db.session import Database
from carebase.ids import new_id
from carebase.kit.stats import bin_of
from carebase.models import (
    Case,
    Classification,
    Form,
    FormInvitation,
    FormResponse,
    MentionClassification,
    Response,
)
from carebase.settings import Settings
from tests.conftest import FakeClock, make_token
from tests.inbox.conftest import People, make_mention

_serial = itertools.count(1)


@pytest.fixture
def people(database: Database, settings: Settings, clock: FakeClock) -> People:
    """Users and groups through the users service."""
    return People(database, settings, clock)


@pytest.fixture
def activity_token(database: Database) -> str:
    """A token with activity:read."""
    return make_token(database, "activity:read", name="activity")


def post_report(client: TestClient, token: str, **body: Any) -> Any:
    """POST /v1/activity/reports; the response."""
    return client.post("/v1/activity/reports", json=body, headers={"Auth-Api-Token": token})


def report(client: TestClient, token: str, **body: Any) -> Any:
    """The report's JSON (asserting a 200)."""
    answer = post_report(client, token, **body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def add_case(
    session: Session,
    opened_at: datetime,
    closed_at: datetime | None = None,
    *,
    first_reply_s: float | None = None,
    resolution_s: float | None = None,
    agent_replies: int = 0,
    agents_involved: int = 0,
) -> str:
    """A case (closed when `closed_at` is given) with its measures; its id."""
    case_id = new_id("cas")
    session.add(
        Case(
            id=case_id,
            case_key=f"author:twitter_{next(_serial)}",
            profile_id=None,
            status="open" if closed_at is None else "closed",
            opened_at=opened_at,
            last_activity_at=opened_at,
            closed_at=closed_at,
            agent_replies=agent_replies,
            agents_involved=agents_involved,
            first_reply_s=first_reply_s,
            first_reply_bin=None if first_reply_s is None else bin_of(first_reply_s),
            resolution_s=resolution_s,
            resolution_bin=None if resolution_s is None else bin_of(resolution_s),
            created_at=opened_at,
            updated_at=opened_at,
        )
    )
    session.flush()
    return case_id


def add_mention(session: Session, case_id: str, at: datetime) -> str:
    """A customer mention in the case; its id."""
    return make_mention(session, published_at=at, case_id=case_id).id


def add_reply(
    session: Session,
    case_id: str,
    mention_id: str,
    author_id: int,
    at: datetime,
    *,
    private: bool = False,
    status: str = "sent",
) -> None:
    """A reply (or private note) in the case by `author_id`."""
    session.add(
        Response(
            id=new_id("rsp"),
            mention_id=mention_id,
            case_id=case_id,
            author_id=author_id,
            body="Thanks!",
            private=private,
            status=status,
            origin="console",
            origin_key="",
            sent_at=at if status == "sent" else None,
            created_at=at,
            updated_at=at,
        )
    )
    session.flush()


def add_classification(session: Session, name: str, at: datetime) -> int:
    """A classification; its id."""
    row = Classification(name=name, colour="#336699", created_at=at, updated_at=at)
    session.add(row)
    session.flush()
    return row.id


def classify(session: Session, mention_id: str, classification_id: int, at: datetime) -> None:
    """Put a classification on a mention."""
    session.add(
        MentionClassification(
            mention_id=mention_id,
            classification_id=classification_id,
            applied_by_type="user",
            applied_at=at,
        )
    )
    session.flush()


def add_form(session: Session, at: datetime, *, nps: bool = True) -> int:
    """A form; its id."""
    n = next(_serial)
    form = Form(
        name=f"Survey {n}",
        title="How did we do?",
        nps=nps,
        group_ids=[],
        public_key=f"key{n}{new_id('k')}",
        created_at=at,
        updated_at=at,
    )
    session.add(form)
    session.flush()
    return form.id


def add_invitation(
    session: Session, form_id: int, at: datetime, agent_id: int | None, groups: list[int]
) -> None:
    """An invitation to the form sent at `at` about `agent_id` (and their groups then)."""
    session.add(
        FormInvitation(
            id=new_id("inv"),
            form_id=form_id,
            agent_id=agent_id,
            group_ids=groups,
            token_hash=new_id("tok").ljust(64, "0")[:64],
            sent_at=at,
            expires_at=at,
        )
    )
    session.flush()


def add_answer(
    session: Session,
    form_id: int,
    at: datetime,
    score: int | None,
    agent_id: int | None = None,
    groups: list[int] | None = None,
) -> None:
    """An answer to the form at `at`."""
    session.add(
        FormResponse(
            id=new_id("frs"),
            form_id=form_id,
            agent_id=agent_id,
            group_ids=groups or [],
            score=score,
            answered_at=at,
        )
    )
    session.flush()
