"""Backfills against the loopback fakes: pagination, 429 + Retry-After, resuming an
interrupted run with every ticket stored exactly once, Freshdesk's page limit, and the CLI."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from carebase.cli.main import app as cli
from carebase.connectors import backfill
from carebase.connectors.service import ClientOptions
from carebase.db.session import Database
from carebase.http.outbound import OutboundError
from carebase.ingest.service import IngestConfig
from carebase.settings import Settings
from tests.connectors import fakes
from tests.connectors.conftest import connect
from tests.helpers import auth

SINCE = datetime(2024, 1, 1, tzinfo=UTC)


def zendesk_tickets(count: int) -> dict[int, dict[str, object]]:
    start = datetime(2024, 6, 1, tzinfo=UTC)
    return {
        n: fakes.zendesk_ticket(n, updated_at=(start + timedelta(hours=n)).isoformat())
        for n in range(1, count + 1)
    }


def stored_ticket_ids(database: Database, dataset_id: str) -> list[str]:
    with database.unit_of_work(write=False) as session:
        rows = session.execute(
            text("SELECT ticket_id FROM tickets WHERE dataset_id = :d ORDER BY ticket_id"),
            {"d": dataset_id},
        ).all()
    return [row[0] for row in rows]


def run(
    database: Database, settings: Settings, options: ClientOptions, connector_id: str, **kw: object
) -> backfill.BackfillSummary:
    return backfill.run(
        database,
        connector_id,
        since=SINCE,
        settings=settings,
        config=IngestConfig.from_settings(settings),
        options=options,
        # These tests count the ticket export's requests and waits; conversations (the
        # inbox's part) are tested in tests/inbox/test_helpdesk_*.py.
        conversations=False,
        **kw,  # type: ignore[arg-type]
    )


def test_zendesk_backfill_pages_through_the_export_and_honours_429(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    options: ClientOptions,
    sleeps: list[float],
) -> None:
    with fakes.serve(fakes.zendesk(zendesk_tickets(5))) as fake:
        connector = connect(client, admin_token, "zendesk", fake.url)
        fake.failures.append((429, "7"))
        summary = run(database, settings, options, connector.id)
    assert (summary.pages, summary.tickets, summary.created) == (3, 5, 5)
    # Retry-After is honoured (7 s); the export allows 10 requests a minute, so the retried
    # first page (already 7 s late) goes at once and the next two pages wait 6 s each.
    assert sleeps == [7.0, 6.0, 6.0]
    assert fake.requests[1].startswith("/api/v2/incremental/tickets/cursor.json?")
    assert f"start_time={int(SINCE.timestamp())}" in fake.requests[1]
    assert stored_ticket_ids(database, connector.dataset_id) == ["1", "2", "3", "4", "5"]
    assert summary.profiles == 1
    state = client.get(f"/v1/connectors/{connector.id}", headers=auth(admin_token)).json()
    assert state["backfill_state"]["done"] is True


def test_an_interrupted_backfill_resumes_and_stores_every_ticket_once(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    options: ClientOptions,
) -> None:
    with fakes.serve(fakes.zendesk(zendesk_tickets(6), page_size=2)) as fake:
        connector = connect(client, admin_token, "zendesk", fake.url)
        fake.broken = re.compile(r"cursor=4")  # the third page: the helpdesk goes down
        with pytest.raises(OutboundError):
            run(database, settings, options, connector.id)
        assert stored_ticket_ids(database, connector.dataset_id) == ["1", "2", "3", "4"]
        first_pages = [r for r in fake.requests if "start_time=" in r]
        fake.broken = None
        summary = run(database, settings, options, connector.id)
        assert summary.resumed is True
        assert (summary.pages, summary.tickets) == (1, 2)
        assert [r for r in fake.requests if "start_time=" in r] == first_pages, (
            "the resumed run starts from the saved cursor, not from the beginning"
        )
    assert stored_ticket_ids(database, connector.dataset_id) == ["1", "2", "3", "4", "5", "6"]
    with database.unit_of_work(write=False) as session:
        count = session.execute(text("SELECT COUNT(*) FROM tickets")).scalar_one()
    assert count == 6


def test_gorgias_backfill_walks_newest_first_and_stops_at_since(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    options: ClientOptions,
) -> None:
    tickets = {
        n: fakes.gorgias_ticket(n, updated_datetime=f"2024-0{n}-10T10:00:00+00:00")
        for n in range(1, 6)
    }
    tickets[1]["updated_datetime"] = "2023-12-01T10:00:00+00:00"  # before since
    with fakes.serve(fakes.gorgias(tickets, page_size=2)) as fake:
        connector = connect(client, admin_token, "gorgias", fake.url)
        summary = run(database, settings, options, connector.id)
        assert "/api/tickets/1" not in fake.requests
    assert summary.tickets == 4
    assert stored_ticket_ids(database, connector.dataset_id) == ["2", "3", "4", "5"]


def test_freshdesk_backfill_restarts_before_the_300_page_limit(
    client: TestClient,
    admin_token: str,
    database: Database,
    settings: Settings,
    options: ClientOptions,
) -> None:
    start = datetime(2024, 2, 1, tzinfo=UTC)
    tickets = {
        n: fakes.freshdesk_ticket(
            n, updated_at=(start + timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
        )
        for n in range(1, 303)
    }
    with fakes.serve(fakes.freshdesk(tickets, page_size=1)) as fake:
        connector = connect(client, admin_token, "freshdesk", fake.url)
        summary = run(database, settings, options, connector.id)
        listed_pages = [r for r in fake.requests if r.startswith("/api/v2/tickets?")]
        assert not any("page=300" in r for r in listed_pages), "never asks past the limit"
        assert len([r for r in fake.requests if r.startswith("/api/v2/agents/")]) == 1
    assert summary.created == 302
    assert summary.unchanged >= 1, "the ticket on the restart boundary comes twice"
    assert len(stored_ticket_ids(database, connector.dataset_id)) == 302


def test_backfill_cli_prints_a_summary(
    client: TestClient, admin_token: str, database_url: str
) -> None:
    tickets = {101: fakes.freshdesk_ticket(101), 102: fakes.freshdesk_ticket(102)}
    tickets[102]["requester"] = {"id": 1, "name": "No contact"}  # no email, no phone
    with fakes.serve(fakes.freshdesk(tickets)) as fake:
        dataset_id = client.post(
            "/v1/datasets", json={"name": "fd"}, headers=auth(admin_token)
        ).json()["id"]
        env = {
            "CAREBASE_DATABASE_URL": database_url,
            "CAREBASE_ALLOW_PRIVATE_OUTBOUND": "true",
            "CAREBASE_CONNECTOR_SECRET": "fd-key",
            "PATH": os.environ.get("PATH", ""),
        }
        runner = CliRunner()
        created = runner.invoke(
            cli,
            [
                "connector",
                "create",
                "freshdesk",
                "--name",
                "FD",
                "--domain",
                fake.url,
                "--dataset",
                dataset_id,
            ],
            env=env,
        )
        assert created.exit_code == 0, created.stderr
        connector_id = created.stdout.strip().splitlines()[-1]
        assert connector_id.startswith("con_")
        assert "cbw_" in created.stderr, "the webhook secret is shown once"
        result = runner.invoke(cli, ["backfill", connector_id, "--since", "2024-01-01"], env=env)
    assert result.exit_code == 0, result.stderr
    assert "2 tickets (1 created" in result.stderr
    assert "1 rejected" in result.stderr
    assert "rejected ticket 102: link" in result.stderr
