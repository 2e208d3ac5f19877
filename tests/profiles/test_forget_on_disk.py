"""A forget leaves no copy of the person anywhere carebase writes: database files (SQLite's
main file, WAL, shared memory, counters), tables (PostgreSQL), ingestion logs, and logs."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from carebase.settings import Settings
from tests.helpers import Brand, auth, ticket
from tests.pg import PostgresServer

EMAIL = "kim.victim@example.org"
MOBILE = "+61412345678"
CUSTOMER_ID = "cust-kim-7731"
# The mobile as a person types it (raw), and the national digits any normalised form holds.
FORGOTTEN = (EMAIL, MOBILE, "0412 345 678", "412345678", CUSTOMER_ID)


def _ingest_the_person(brand: Brand) -> str:
    person = {"email": EMAIL, "mobile": MOBILE}
    body = brand.post(
        "customer_support_ticket",
        ticket("t-1", link=person),
        ticket("t-2", link={"email": EMAIL}, description=f"call me on 0412 345 678, {EMAIL}"),
        # Rejected (a NUL in a value) under a key that is the person's email: the rejection's
        # field path used to carry the key into the ingestion log.
        ticket("t-3", link={"email": EMAIL}, custom_fields={EMAIL: "bad\x00value"}),
    )
    assert (body["created"], body["rejected"]) == (2, 1)
    body = brand.post(
        "customer_record",
        {
            "link": {"email": EMAIL},
            "email": EMAIL,
            "mobile": MOBILE,
            "customer_id": CUSTOMER_ID,
            "first_name": "Kim",
            "custom_fields": {"note": f"prefers {MOBILE}"},
        },
    )
    assert body["created"] == 1, body
    body = brand.post(
        "purchase",
        {
            "link": {"email": EMAIL},
            "action_at": "2026-11-01T12:00:00Z",
            "purchase_id": "p-kim-1",
            "type": "ecommerce",
            "currency": "AUD",
            "products": [{"price_paid": 9.95, "quantity": 2}],
        },
    )
    assert body["created"] == 1, body
    profile_id: str = brand.profile("email", EMAIL)["id"]
    return profile_id


def _sqlite_copies(settings: Settings) -> dict[str, list[str]]:
    path = settings.sqlite_path
    assert path is not None
    found: dict[str, list[str]] = {}
    for file in sorted(path.parent.iterdir()):
        if file.is_file():
            data = file.read_bytes()
            hits = [value for value in FORGOTTEN if value.encode() in data]
            if hits:
                found[file.name] = hits
    return found


def _postgres_copies(server: PostgresServer, database_url: str) -> dict[str, list[str]]:
    name = database_url.rsplit("/", 1)[1]
    found: dict[str, list[str]] = {}
    with psycopg.connect(server.dsn(name), autocommit=True) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public'"
            " AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY')"
        ).fetchall()
        for table_name, column in columns:
            for value in FORGOTTEN:
                query = sql.SQL("SELECT 1 FROM {} WHERE {}::text LIKE %s LIMIT 1").format(
                    sql.Identifier(table_name), sql.Identifier(column)
                )
                hit = conn.execute(
                    query,
                    (f"%{value}%",),
                ).fetchone()
                if hit:
                    found.setdefault(f"{table_name}.{column}", []).append(value)
    log = server.data_dir.parent / "server.log"
    text = log.read_text(errors="replace")
    hits = [value for value in FORGOTTEN if value in text]
    if hits:
        found["server.log"] = hits
    return found


def test_a_forget_leaves_no_copy_anywhere(
    client: TestClient,
    admin_token: str,
    settings: Settings,
    database_url: str,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    brand = Brand(client, admin_token)
    profile_id = _ingest_the_person(brand)
    # The test sees the values before the forget, so an empty result after means something.
    if settings.is_sqlite:
        assert _sqlite_copies(settings)
    logs = client.get(
        f"/v1/datasets/{brand.datasets['customer_support_ticket']}/logs", headers=auth(admin_token)
    )
    assert logs.status_code == 200

    forgotten = client.delete(f"/v1/profiles/{profile_id}", headers=auth(admin_token))
    assert forgotten.status_code == 200, forgotten.text

    if settings.is_sqlite:
        assert _sqlite_copies(settings) == {}
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        assert _postgres_copies(server, database_url) == {}
    # Nor through the API: the ingestion logs of every dataset.
    for dataset_id in brand.datasets.values():
        page = client.get(f"/v1/datasets/{dataset_id}/logs", headers=auth(admin_token)).text
        assert not [value for value in FORGOTTEN if value in page], page
    # httpx is the test client's own logger (it logs the URLs the test asks for).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert not [value for value in FORGOTTEN if value in logged]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_old_wal_frames_are_truncated_after_a_forget(
    client: TestClient, admin_token: str, settings: Settings
) -> None:
    """The WAL (SQLite's) is empty after a forget, even though frames before it held the
    person."""
    brand = Brand(client, admin_token)
    profile_id = _ingest_the_person(brand)
    path = settings.sqlite_path
    assert path is not None
    wal = path.with_name(path.name + "-wal")
    assert EMAIL.encode() in wal.read_bytes()
    assert client.delete(f"/v1/profiles/{profile_id}", headers=auth(admin_token)).status_code == 200
    assert wal.stat().st_size == 0
    assert EMAIL.encode() not in Path(path).read_bytes()
