"""Smoke: a saved query run to the Zendesk fake."""

from __future__ import annotations

import pytest

from carebase.db.session import Database
from carebase.settings import Settings
from tests.activation import runhelp
from tests.activation.zendesk_fake import FakeZendesk
from tests.conftest import test_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    return test_settings(database_url, allow_private_outbound=True)


def test_query_to_zendesk(database: Database, settings: Settings, zendesk_fake: FakeZendesk) -> None:
    runhelp.load_demo(database, settings)
    query = runhelp.save_query(
        database,
        "SELECT profile_id AS external_id, lower(full_name) AS name, email FROM customer_360",
    )
    dest = runhelp.destination(
        database, settings, "zendesk",
        {"base_url": zendesk_fake.url, "email": zendesk_fake.email},
        {"api_token": zendesk_fake.api_token},
    )
    orch = runhelp.orchestration(database, dest, {"type": "query", "id": query})
    clock = runhelp.Clock()
    done = runhelp.run_now(database, settings, clock, orch)
    print(done)
    print(runhelp.records(database, orch, done.id)[:5])
    assert done.status == "completed_with_errors"
