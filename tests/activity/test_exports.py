"""The mention_sla_export: started through POST /v1/activity/reports, written by the real job
runner, polled by token, downloaded through its signed URL; exact rows, every row of a big
export, flat memory, refused links, failures and purging."""

from __future__ import annotations

import hashlib
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from carebase.activity import exports, exports_csv
from carebase.db.session import Database
from carebase.models.activity import ActivityExport
from carebase.settings import Settings
from tests.activity.export_fixtures import DAY, expected_rows, handled_set
from tests.activity.export_helpers import (
    auth,
    bulk_mentions,
    download_rows,
    local,
    run_jobs,
    start,
    status,
)
from tests.conftest import FakeClock, make_token
from tests.inbox.conftest import People


@pytest.fixture
def people(database: Database, settings: Settings, clock: FakeClock) -> People:
    """Builders for users and groups."""
    return People(database, settings, clock)


@pytest.fixture
def reader(database: Database) -> str:
    """A token with activity:read."""
    return make_token(database, "activity:read", name="activity")


def export_rows(
    client: TestClient,
    reader: str,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    **filters: Any,
) -> list[list[str]]:
    """Start an export of 2026-11-20, run the worker, download the CSV."""
    token = start(client, reader, "2026-11-20", "2026-11-20", **filters)
    assert status(client, reader, token)["status"] == "pending"
    run_jobs(database, settings, clock)
    done = status(client, reader, token)
    assert done["status"] == "complete"
    assert done["error"] is None
    rows = download_rows(client, done["url"])
    assert done["rows"] == len(rows) - 1
    return rows


def test_the_csv_has_the_header_and_the_rows_worked_out_by_hand(
    client: TestClient,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    people: People,
    reader: str,
) -> None:
    ids = handled_set(database, people)
    rows = export_rows(client, reader, database, settings, clock)
    expected = expected_rows(ids)
    assert rows[0] == list(exports_csv.HEADER)
    assert rows[0][0] == "Mention ID"
    assert rows[0][-1] == "Customer Note"
    assert rows[1:] == [expected["handled"], expected["waiting"], expected["forgotten"]]

    # The filters are the query's: Bo is the assignee of two; Ana first answered two.
    by_bo = export_rows(client, reader, database, settings, clock, users=[ids["bo"]])
    assert by_bo[1:] == [expected["handled"], expected["waiting"]]
    by_ana = export_rows(client, reader, database, settings, clock, users=[ids["ana"]])
    assert by_ana[1:] == [expected["handled"], expected["forgotten"]]


def test_an_export_of_more_than_ten_thousand_rows_has_every_row(
    client: TestClient, database: Database, settings: Settings, clock: FakeClock, reader: str
) -> None:
    ids = bulk_mentions(database, 10_500, DAY, "men_big")
    token = start(client, reader, "2026-11-20", "2026-11-20T23:59:59+00:00")
    run_jobs(database, settings, clock)
    done = status(client, reader, token, param="status")  # the reference's spelling
    assert done["status"] == "complete"
    assert done["rows"] == 10_500
    with database.unit_of_work(write=False) as session:
        chunks = session.execute(text("SELECT count(*) FROM activity_export_chunks")).scalar()
    assert chunks is not None
    assert chunks > 1
    rows = download_rows(client, done["url"])
    assert [row[0] for row in rows[1:]] == ids
    assert rows[1][11] == "0.00"
    assert rows[2][11] == "0.02"
    assert rows[1][12] == "No"


def test_the_job_memory_stays_flat_as_the_export_grows(
    client: TestClient, database: Database, clock: FakeClock, reader: str
) -> None:
    def peak_of(count: int, prefix: str) -> int:
        day = DAY - timedelta(days=count // 10_000)
        bulk_mentions(database, count, day, prefix)
        date = day.date().isoformat()
        token = start(client, reader, date, date)
        with database.unit_of_work(write=False) as session:
            row = session.scalars(
                select(ActivityExport).where(ActivityExport.token_hash == exports.hash_token(token))
            ).one()
            export_id = row.id
        tracemalloc.start()
        try:
            written = exports.write_export(database, export_id, now=clock.now)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert written is not None
        assert written[0] == count
        return peak

    small = peak_of(10_000, "men_small")
    large = peak_of(30_000, "men_large")
    # Proportional would be 3 times; a flat job stays near the same peak.
    assert large < small * 1.5, (small, large)


def test_links_refuse_bad_signatures_and_expire_and_exports_are_purged(
    client: TestClient,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    people: People,
    reader: str,
) -> None:
    handled_set(database, people)
    token = start(client, reader, "2026-11-20", "2026-11-20")
    run_jobs(database, settings, clock)
    url = local(status(client, reader, token)["url"])
    assert client.get(url).status_code == 200
    forged = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    refused = client.get(forged)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "bad_signature"
    stretched = url.replace("expires=", "expires=1")
    assert client.get(stretched).json()["error"]["code"] == "bad_signature"
    odd = url.split("&signature=")[0] + "&signature=%C3%A9t%C3%A9"
    assert client.get(odd).json()["error"]["code"] == "bad_signature"
    unsigned = client.get(url.split("&signature=")[0])
    assert unsigned.status_code == 422

    clock.advance(settings.export_link_seconds + 1)
    expired = client.get(url)
    assert expired.status_code == 403
    assert expired.json()["error"]["code"] == "link_expired"
    fresh = local(status(client, reader, token)["url"])  # asking again signs a new link
    assert client.get(fresh).status_code == 200

    clock.advance(settings.export_retention_hours * 3600)
    gone = client.get("/v1/activity/reports/status", params={"token": token}, headers=auth(reader))
    assert gone.status_code == 404
    with database.unit_of_work(write=False) as session:
        left = session.execute(text("SELECT count(*) FROM activity_export_chunks")).scalar()
    assert left == 0
    export_id = fresh.split("/")[-1].split(".csv")[0]
    expires = int(clock.now.timestamp()) + 60
    signed = exports.signature(settings.secret_key.get_secret_value(), export_id, expires)
    purged = client.get(
        f"/v1/activity/exports/{export_id}.csv?expires={expires}&signature={signed}"
    )
    assert purged.status_code == 404


def test_unknown_tokens_missing_tokens_and_scopes(
    client: TestClient, database: Database, reader: str
) -> None:
    unknown = client.get(
        "/v1/activity/reports/status", params={"token": "nope"}, headers=auth(reader)
    )
    assert unknown.status_code == 404
    missing = client.get("/v1/activity/reports/status", headers=auth(reader))
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["field"] == "token"
    other = make_token(database, "profiles:read", name="other")
    refused = client.get("/v1/activity/reports/status", params={"token": "x"}, headers=auth(other))
    assert refused.status_code == 403
    assert client.get("/v1/activity/reports/status", params={"token": "x"}).status_code == 401


def test_a_failed_job_shows_on_the_status(
    client: TestClient,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    reader: str,
) -> None:
    token = start(client, reader, "2026-11-20", "2026-11-20")
    params = {"date_from": DAY.isoformat(), "date_to": DAY.isoformat(), "zone": "Nowhere/Zone"}
    with database.unit_of_work() as session:
        session.execute(update(ActivityExport).values(params=params))
    run_jobs(database, settings, clock)
    failed = status(client, reader, token)
    assert failed["status"] == "failed"
    assert failed["url"] is None
    assert failed["rows"] is None
    assert "no longer reads" in failed["error"]


def test_the_token_is_never_stored_in_clear(
    client: TestClient, database: Database, settings: Settings, clock: FakeClock, reader: str
) -> None:
    token = start(client, reader, "2026-11-20", "2026-11-20")
    run_jobs(database, settings, clock)
    with database.unit_of_work(write=False) as session:
        exported = [
            " ".join(str(value) for value in row)
            for row in session.execute(text("SELECT * FROM activity_exports"))
        ]
        jobs = [str(row) for row in session.execute(text("SELECT * FROM jobs"))]
    assert len(exported) == 1
    assert token not in exported[0]
    assert all(token not in job for job in jobs)
    assert hashlib.sha256(token.encode()).hexdigest() in exported[0]
    assert status(client, reader, token)["rows"] == 0


def test_a_retry_starts_over(
    client: TestClient,
    database: Database,
    settings: Settings,
    clock: FakeClock,
    people: People,
    reader: str,
) -> None:
    ids = handled_set(database, people)
    token = start(client, reader, "2026-11-20", "2026-11-20")
    with database.unit_of_work(write=False) as session:
        export_id = session.scalars(select(ActivityExport.id)).one()
    # A first attempt that wrote part of the file, then crashed.
    assert exports.write_export(database, export_id, now=clock.now, batch=1, chunk_bytes=10)
    run_jobs(database, settings, clock)
    rows = download_rows(client, status(client, reader, token)["url"])
    assert [row[0] for row in rows[1:]] == [ids["handled"], ids["waiting"], ids["forgotten"]]


def test_cells_pure() -> None:
    assert exports_csv.minutes_cell(None) == ""
    assert exports_csv.minutes_cell(125.0) == "2.08"
    assert exports_csv.minutes_cell(0.0) == "0.00"
    assert exports_csv.minutes_cell(3599.8) == "60.00"
    assert [exports_csv.within_cell(v) for v in (None, True, False)] == ["", "No", "Yes"]
    assert exports_csv.time_cell(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "2026-01-02 03:04:05"
    )
    assert exports_csv.text_cell("+1 555") == "'+1 555"
    assert exports_csv.header_text().startswith("Mention ID,Published At (UTC),Account,")


def test_a_cancelled_export_shows_as_failed(
    client: TestClient, database: Database, admin_token: str, reader: str
) -> None:
    token = start(client, reader, "2026-11-20", "2026-11-20")
    with database.unit_of_work(write=False) as session:
        job_id = session.scalars(select(ActivityExport.job_id)).one()
    cancelled = client.post(f"/v1/jobs/{job_id}/cancel", headers=auth(admin_token))
    assert cancelled.status_code == 200, cancelled.text
    failed = status(client, reader, token)
    assert failed["status"] == "failed"
    assert "cancelled" in failed["error"]
