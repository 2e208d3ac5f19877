"""Builders for the export tests: many mentions inserted in bulk, the export started and run
through the real job runner, and the CSV downloaded through its signed URL."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import insert

from carebase.db.session import Database
from carebase.jobkinds import registry
from carebase.kit.jobs import Runner
from carebase.models import Mention
from carebase.settings import Settings
from tests.conftest import FakeClock
from tests.inbox.conftest import DEFAULT_SLA, ensure_default_queue


def bulk_mentions(database: Database, count: int, start: datetime, prefix: str) -> list[str]:
    """Insert `count` plain mentions one second apart from `start`; their ids."""
    ids = [f"{prefix}_{n:06d}" for n in range(count)]
    with database.unit_of_work() as session:
        queue_id = ensure_default_queue(session, start).id
        rows: list[dict[str, Any]] = []
        for n, mention_id in enumerate(ids):
            at = start + timedelta(seconds=n)
            rows.append(
                {
                    "id": mention_id,
                    "origin": "api",
                    "origin_key": "bulk",
                    "external_id": mention_id,
                    "source_type": "twitter",
                    "account": "@acme_help",
                    "author_key": f"twitter_{n}",
                    "author_username": f"user{n}",
                    "author_fullname": f"Customer {n}",
                    "body": f"Message number {n} about my order, which has not arrived yet.",
                    "forgotten": False,
                    "published_at": at,
                    "received_at": at,
                    "group_key": f"author:twitter_{n}",
                    "state": "responded",
                    "state_at": at,
                    "follow_up": False,
                    "queue_id": queue_id,
                    "sla": dict(DEFAULT_SLA),
                    "version": 1,
                    "response_s": float(n % 900),
                    "queue_s": 30.0,
                    "broke_sla": n % 3 == 0,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            if len(rows) == 5000:
                session.execute(insert(Mention), rows)
                rows = []
        if rows:
            session.execute(insert(Mention), rows)
    return ids


def auth(token: str) -> dict[str, str]:
    """The Activity API's header."""
    return {"Auth-Api-Token": token}


def start(client: TestClient, token: str, date_from: str, date_to: str, **extra: Any) -> str:
    """POST a mention_sla_export; the token it answers."""
    body = {"type": "mention_sla_export", "date_from": date_from, "date_to": date_to, **extra}
    answer = client.post("/v1/activity/reports", json=body, headers=auth(token))
    assert answer.status_code == 200, answer.text
    started = answer.json()
    assert started["status"] == "pending"
    assert started["url"] is None
    return str(started["token"])


def run_jobs(database: Database, settings: Settings, clock: FakeClock) -> None:
    """Run every due job at the clock's time, as a worker would."""
    Runner(database, registry(settings), clock=clock).run_due()


def status(client: TestClient, token: str, export_token: str, param: str = "token") -> Any:
    """GET the export's status (200 expected)."""
    answer = client.get(
        "/v1/activity/reports/status", params={param: export_token}, headers=auth(token)
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def local(url: str) -> str:
    """The signed URL's path and query, for the in-process client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def download_rows(client: TestClient, url: str) -> list[list[str]]:
    """Download the CSV (no token) and parse it."""
    answer = client.get(local(url))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8"), newline="")))
