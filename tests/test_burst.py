"""A burst of simultaneous requests against a real 2-worker server is served or refused
fast (503 with Retry-After), never answered 500 or left hanging, and the server serves
the next request at once. The pool is made small, and SQLite's busy timeout short, so that a
suite-sized burst is a burst."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import orjson
import pytest

from carebase.db.session import Database
from tests.conftest import make_token, test_settings
from tests.serverproc import RunningServer, running_server

pytestmark = pytest.mark.slow

BURST = 60
# Writes are cheaper to refuse than to serve, so it takes more of them to fill the queue.
WRITE_BURST = 120
CLIENT_TIMEOUT = 20.0


def _tickets(prefix: str, count: int, email: str) -> bytes:
    return orjson.dumps(
        [
            {
                "ticket_id": f"{prefix}-{n}",
                "action_at": f"2026-03-01T10:{n % 60:02d}:00+00:00",
                "link": {"email": email},
                "title": "Where is my order?",
                "status": "open",
                "timeline": {"created_at": "2026-03-01T09:00:00+00:00"},
            }
            for n in range(count)
        ]
    )


@pytest.fixture
def server(database_url: str) -> Iterator[tuple[RunningServer, dict[str, str], str]]:
    database = Database.from_settings(test_settings(database_url))
    token = make_token(database, "admin")
    database.dispose()
    # A busy timeout shorter than the burst: SQLite writers queued on the lock alone time out.
    env = {
        "CAREBASE_LOG_LEVEL": "WARNING",
        "CAREBASE_DB_POOL_SIZE": "2",
        "CAREBASE_SQLITE_BUSY_TIMEOUT_MS": "1000",
    }
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with running_server(database_url, workers=2, env=env) as running:
        with httpx.Client(base_url=running.url, headers=headers, timeout=60) as client:
            dataset = client.post("/v1/datasets", json={"name": "burst"}).json()["id"]
            path = f"/v1/datasets/{dataset}/customer_support_ticket"
            client.post(path, content=_tickets("seed", 100, "reader@example.com"))
        yield running, headers, path


async def _burst(
    url: str, headers: dict[str, str], method: str, paths: list[tuple[str, bytes]]
) -> Counter[str]:
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=len(paths) + 5, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=CLIENT_TIMEOUT
    ) as client:

        async def one(path: str, body: bytes) -> None:
            try:
                response = await asyncio.wait_for(
                    client.request(method, path, content=body or None), CLIENT_TIMEOUT
                )
            except (TimeoutError, httpx.HTTPError):
                statuses["unanswered"] += 1
                return
            statuses[str(response.status_code)] += 1
            if response.status_code == 503:
                assert response.headers.get("retry-after") == "1"
                assert response.json()["error"]["code"] in {"overloaded", "contended"}

        await asyncio.gather(*(one(path, body) for path, body in paths))
    return statuses


def _served_at_once(
    server: RunningServer, headers: dict[str, str], method: str, path: str, body: bytes | None
) -> None:
    begun = time.perf_counter()
    response = httpx.request(method, server.url + path, headers=headers, content=body, timeout=10)
    assert response.status_code == 200, response.text
    assert time.perf_counter() - begun < 2


def test_a_burst_of_reads_is_served_or_refused_fast(
    server: tuple[RunningServer, dict[str, str], str],
) -> None:
    running, headers, _ = server
    path = "/v1/profiles/by/email/reader@example.com?tickets=100"
    statuses = asyncio.run(_burst(running.url, headers, "GET", [(path, b"")] * BURST))
    assert set(statuses) <= {"200", "503"}, statuses
    assert statuses["200"] > 0, statuses
    _served_at_once(running, headers, "GET", path, None)


def test_a_burst_of_writes_queues_and_is_served_or_refused_fast(
    server: tuple[RunningServer, dict[str, str], str],
) -> None:
    running, headers, path = server
    bodies = [(path, _tickets(f"w{n}", 20, f"writer{n}@example.com")) for n in range(WRITE_BURST)]
    statuses = asyncio.run(_burst(running.url, headers, "POST", bodies))
    assert set(statuses) <= {"200", "503"}, statuses
    assert statuses["200"] > 0, statuses
    _served_at_once(running, headers, "POST", path, _tickets("after", 20, "after@example.com"))
