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
from carebase.ids import new_id
from carebase.models import Classification, MentionClassification, Note, Response
from carebase.models.activity import ActivityExport
from carebase.models.identity import Profile
from carebase.settings import Settings
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
from tests.inbox.conftest import People, make_mention

DAY = datetime(2026, 11, 20, tzinfo=UTC)


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of the handled day."""
    return DAY.replace(hour=hour, minute=minute, second=second)


@pytest.fixture
def people(database: Database, settings: Settings, clock: FakeClock) -> People:
    """Builders for users and groups."""
    return People(database, settings, clock)


@pytest.fixture
def reader(database: Database) -> str:
    """A token with activity:read."""
    return make_token(database, "activity:read", name="activity")


def _response(mention_id: str, body: str, when: datetime, **fields: Any) -> Response:
    values: dict[str, Any] = {
        "id": new_id("rsp"),
        "mention_id": mention_id,
        "author_id": None,
        "body": body,
        "private": False,
        "status": "sent",
        "origin": "console",
        "origin_key": "",
        "submitted_at": when,
        "sent_at": when,
        "created_at": when,
        "updated_at": when,
    }
    values.update(fields)
    return Response(**values)


def handled_set(database: Database, people: People) -> dict[str, Any]:
    """Three mentions of 2026-11-20 (one handled, one waiting, one forgotten) and one of the
    next day; their ids and agents."""
    ana, bo = people.agent("Ana"), people.agent("Bo")
    with database.unit_of_work() as session:
        billing = Classification(name="Billing", colour="#00ff00", created_at=DAY, updated_at=DAY)
        refund = Classification(name="Refund", colour="#ff0000", created_at=DAY, updated_at=DAY)
        session.add_all([refund, billing])
        session.add(Profile(id="prf_kim", created_at=DAY, updated_at=DAY, merged_into_id=None))
        session.flush()
        for n, (body, deleted) in enumerate(
            [("@vip customer", None), ("prefers email", None), ("old", at(9))]
        ):
            session.add(
                Note(
                    id=f"not_{n}",
                    profile_id="prf_kim",
                    author_id=ana,
                    body=body,
                    created_at=at(8, n),
                    updated_at=at(8, n),
                    deleted_at=deleted,
                )
            )
        handled = make_mention(
            session,
            published_at=at(10),
            profile_id="prf_kim",
            author_username="kim",
            author_fullname="Kim Customer",
            body='=HYPERLINK("x")',
            assignee_id=bo,
            first_responder_id=ana,
            assigned_at=at(10, 4),
            first_response_at=at(10, 5, 30),
            state="closed",
            state_at=at(10, 20),
            queue_s=240.0,
            action_s=90.0,
            response_s=330.0,
            broke_sla=False,
            broke_action_sla=True,
        )
        waiting = make_mention(
            session,
            published_at=at(10, 30),
            author_username="lee",
            author_fullname="Lee",
            body="Hello?",
            assignee_id=bo,
            state="assigned",
            state_at=at(10, 31),
            queue_s=60.0,
        )
        forgotten = make_mention(
            session,
            published_at=at(11),
            profile_id="prf_kim",
            author_username=None,
            author_fullname=None,
            body="",
            forgotten=True,
            first_responder_id=ana,
            first_response_at=at(11, 2, 5),
            state="responded",
            state_at=at(11, 2, 5),
            response_s=125.0,
            broke_sla=True,
        )
        later = make_mention(session, published_at=DAY + timedelta(days=1))
        session.add_all(
            [
                _response(handled.id, "Anything else?", at(10, 10), author_id=ana),
                _response(handled.id, "Hi Kim, on its way", at(10, 5, 30), author_id=ana),
                _response(handled.id, "a draft", at(10, 1), status="draft", sent_at=None),
                _response(handled.id, "refund approved", at(10, 4), private=True),
                _response(handled.id, "checked the order", at(10, 3), private=True),
                _response(forgotten.id, "secret", at(11, 1), private=True),
            ]
        )
        for classification in (refund, billing):
            session.add(
                MentionClassification(
                    mention_id=handled.id,
                    classification_id=classification.id,
                    applied_by_type="user",
                    applied_by_user_id=ana,
                    applied_at=at(10, 6),
                )
            )
    return {
        "ana": ana,
        "bo": bo,
        "handled": handled.id,
        "waiting": waiting.id,
        "forgotten": forgotten.id,
        "later": later.id,
    }


def expected_rows(ids: dict[str, Any]) -> dict[str, list[str]]:
    """The rows of the handled set, worked out by hand (an `@handle` cell is kept as text,
    as a spreadsheet would read a leading `@` as a formula)."""
    return {
        "handled": [
            ids["handled"], "2026-11-20 10:00:00", "'@acme_help", "twitter", "kim",
            "Kim Customer", "Ana Test", "closed", "Billing | Refund", "4.00", "1.50", "5.50",
            "Yes", "No", "2026-11-20 10:05:30", "2026-11-20 10:20:00", "'=HYPERLINK(\"x\")",
            "Hi Kim, on its way", "checked the order | refund approved",
            "'@vip customer | prefers email",
        ],
        "waiting": [
            ids["waiting"], "2026-11-20 10:30:00", "'@acme_help", "twitter", "lee", "Lee",
            "Bo Test", "assigned", "", "1.00", "", "", "", "", "", "2026-11-20 10:31:00",
            "Hello?", "", "", "",
        ],
        "forgotten": [
            ids["forgotten"], "2026-11-20 11:00:00", "'@acme_help", "twitter", "", "",
            "Ana Test", "responded", "", "", "", "2.08", "No", "", "2026-11-20 11:02:05",
            "2026-11-20 11:02:05", "", "", "", "",
        ],
    }  # fmt: skip


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
