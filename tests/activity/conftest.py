"""Shared builders for the Activity tests: people and groups through the users service
(`people`, inbox's People), classifications, mentions inserted directly with the measures
`inbox/sla.py::stamp` would have stamped (`Seed.mention`), and the HTTP call of the API
(`report`) with an `activity:read` token (`activity_token`).

`Seed` remembers what it inserted (`seed.rows`), so a test can compute every expected value
itself from those rows, independently of the code under test:

    def test_x(client, seed, activity_token):
        seed.mention(published_at=..., response_s=600.0, state="closed")
        body = report(client, activity_token, {"type": "summary", ...}).json()
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from carebase.db.session import Database
from carebase.kit.stats import bin_of
from carebase.models import Classification, MentionClassification
from carebase.settings import Settings
from tests.conftest import FakeClock, make_token
from tests.inbox.conftest import People, make_mention

REPORTS_URL = "/v1/activity/reports"
_serial = itertools.count(1)


def report(
    client: TestClient, token: str | None, body: dict[str, Any], *, bearer: bool = False
) -> Response:
    """POST /v1/activity/reports with the token in `Auth-Api-Token` (or, with `bearer`, in
    `Authorization: Bearer`; no header at all when token is None)."""
    headers: dict[str, str] = {}
    if token is not None:
        headers = {"Authorization": f"Bearer {token}"} if bearer else {"Auth-Api-Token": token}
    return client.post(REPORTS_URL, json=body, headers=headers)


def body_for(kind: str, date_from: str, date_to: str, **fields: Any) -> dict[str, Any]:
    """A report request body (extra fields such as users, groups, time_zone as given)."""
    return {"type": kind, "date_from": date_from, "date_to": date_to, **fields}


@dataclass(frozen=True)
class Row:
    """What Seed.mention inserted: the columns the Activity reports read."""

    id: str
    published_at: datetime
    state: str
    assignee_id: int | None
    first_responder_id: int | None
    assigned_group_id: int | None
    response_s: float | None
    action_s: float | None
    broke_sla: bool | None
    broke_action_sla: bool | None
    responded_in_private: bool | None
    classifications: tuple[int, ...] = field(default=())


class Seed:
    """Inserts classifications and mentions (one unit of work each) and keeps the rows."""

    def __init__(self, database: Database, clock: FakeClock) -> None:
        self.database = database
        self.clock = clock
        self.rows: list[Row] = []
        self.classification_names: dict[int, str] = {}

    def classification(self, name: str | None = None) -> int:
        """A new classification's id."""
        label = name or f"Topic {next(_serial)}"
        with self.database.unit_of_work() as session:
            row = Classification(
                name=label,
                description="",
                colour="#336699",
                archived_at=None,
                created_at=self.clock.now,
                updated_at=self.clock.now,
            )
            session.add(row)
            session.flush()
            self.classification_names[row.id] = label
            return row.id

    def mention(
        self,
        *,
        published_at: datetime,
        state: str = "new",
        assignee_id: int | None = None,
        first_responder_id: int | None = None,
        assigned_group_id: int | None = None,
        response_s: float | None = None,
        action_s: float | None = None,
        broke_sla: bool | None = None,
        broke_action_sla: bool | None = None,
        responded_in_private: bool | None = None,
        classifications: Sequence[int] = (),
        **extra: Any,
    ) -> Row:
        """Insert a mention with these measures (bins set as `stamp` sets them: bin_of of
        the seconds) and its classifications; returns (and remembers) its row."""
        with self.database.unit_of_work() as session:
            mention = make_mention(
                session,
                published_at=published_at,
                state=state,
                assignee_id=assignee_id,
                first_responder_id=first_responder_id,
                assigned_group_id=assigned_group_id,
                response_s=response_s,
                action_s=action_s,
                response_bin=bin_of(response_s),
                action_bin=bin_of(action_s),
                broke_sla=broke_sla,
                broke_action_sla=broke_action_sla,
                responded_in_private=responded_in_private,
                **extra,
            )
            for classification_id in classifications:
                session.add(
                    MentionClassification(
                        mention_id=mention.id,
                        classification_id=classification_id,
                        applied_by_type="user",
                        applied_by_user_id=None,
                        applied_by_rule_id=None,
                        applied_at=published_at,
                    )
                )
            session.flush()
            row = Row(
                mention.id,
                published_at,
                state,
                assignee_id,
                first_responder_id,
                assigned_group_id,
                response_s,
                action_s,
                broke_sla,
                broke_action_sla,
                responded_in_private,
                tuple(classifications),
            )
        self.rows.append(row)
        return row


@pytest.fixture
def people(database: Database, settings: Settings, clock: FakeClock) -> People:
    """Builders for users and groups on this test's database."""
    return People(database, settings, clock)


@pytest.fixture
def seed(database: Database, clock: FakeClock) -> Seed:
    """Builders for classifications and mentions on this test's database."""
    return Seed(database, clock)


@pytest.fixture
def activity_token(database: Database) -> str:
    """A token with activity:read."""
    return make_token(database, "activity:read", name="activity")
