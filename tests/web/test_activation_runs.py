"""A run's page after a real run to the Zendesk fake, on both engines: the status label
"Completed with errors", the records that did not simply succeed with the destination's
reasons, filtered by status, and Retry failed records starting a run of only those."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.settings import Settings
from tests.activation import runhelp
from tests.activation.zendesk_fake import FakeZendesk, serve_zendesk
from tests.conftest import FakeClock, test_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The fake Zendesk listens on a loopback address."""
    return test_settings(database_url, allow_private_outbound=True)


@pytest.fixture
def zendesk() -> Iterator[FakeZendesk]:
    """A Zendesk account on a loopback port."""
    with serve_zendesk() as fake:
        yield fake


def test_a_run_with_rejections_lists_them_and_retries_only_those(
    manager: TestClient,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    zendesk: FakeZendesk,
) -> None:
    runhelp.load_demo(database, settings, profiles=12)
    # Half the names are missing: Zendesk needs one for a new user.
    query = runhelp.save_query(
        database,
        "SELECT profile_id AS external_id, email,"
        " CASE WHEN ticket_count % 2 = 0 THEN full_name END AS name FROM customer_360",
    )
    destination = runhelp.destination(
        database,
        settings,
        "zendesk",
        {"base_url": zendesk.url, "email": zendesk.email},
        {"api_token": zendesk.api_token},
    )
    orchestration = runhelp.orchestration(database, destination, {"type": "query", "id": query})
    started = manager.post(f"/activation/orchestrations/{orchestration}/runs", data={"mode": "run"})
    assert started.status_code == 303
    run_url = started.headers["location"].split("?")[0]
    runhelp.work(database, settings, lambda: clock.now)

    page = manager.get(run_url)
    assert 'data-status="completed_with_errors"' in page.text
    assert "Completed with errors" in page.text
    assert "hx-trigger" not in page.text
    invalid = re.findall(r"<td><code>(\w+)</code> ", page.text)
    assert invalid, page.text[-4000:]
    assert '<span class="state state--warn">Not valid, not sent</span>' in page.text
    assert "Retry failed records" in page.text

    filtered = manager.get(run_url, params={"status": "succeeded"})
    assert '<span class="state state--warn">Not valid' not in filtered.text
    assert "selected>Delivered</option>" in filtered.text

    csv_lines = manager.get(f"{run_url}/records.csv").text.splitlines()
    assert len(csv_lines) > 1

    retried = manager.post(f"{run_url}/retry")
    assert retried.status_code == 303, retried.text[:2000]
    assert retried.headers["location"].split("?")[0] != run_url
    retry_page = manager.get(retried.headers["location"])
    assert "Failed records only" in retry_page.text
    assert "Retry started" in retry_page.text
