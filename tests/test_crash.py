"""SIGKILL the server while batches are in flight: every acknowledged batch is fully
present after a restart, and no unacknowledged batch is partly present."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest
from sqlalchemy import text

from carebase.db.session import Database
from tests.conftest import make_token, test_settings
from tests.helpers import auth, ticket
from tests.serverproc import running_server, stop

pytestmark = pytest.mark.slow
BATCH = 50


def _batch(number: int) -> list[dict[str, object]]:
    return [
        ticket(f"b{number}-{i}", link={"email": f"c{number % 7}-{i % 5}@crash.test"})
        for i in range(BATCH)
    ]


def test_sigkill_leaves_only_whole_acknowledged_batches(database_url: str) -> None:
    database = Database.from_settings(test_settings(database_url))
    token = make_token(database, "admin")
    acknowledged: set[int] = set()
    sent: set[int] = set()
    counter = iter(range(1_000_000))
    lock = threading.Lock()

    with running_server(database_url, workers=2, env={"CAREBASE_LOG_LEVEL": "WARNING"}) as server:
        dataset_id = httpx.post(
            f"{server.url}/v1/datasets", json={"name": "crash"}, headers=auth(token)
        ).json()["id"]
        stop_event = threading.Event()

        def client() -> None:
            with httpx.Client(base_url=server.url, headers=auth(token), timeout=30) as http:
                while not stop_event.is_set():
                    with lock:
                        number = next(counter)
                        sent.add(number)
                    try:
                        response = http.post(
                            f"/v1/datasets/{dataset_id}/customer_support_ticket",
                            json=_batch(number),
                        )
                    except httpx.TransportError:
                        return
                    if response.status_code == 200:
                        with lock:
                            acknowledged.add(number)

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # kill while requests are mid-flight
        stop(server, signal.SIGKILL)
        stop_event.set()
        for thread in threads:
            thread.join(timeout=30)

    assert len(acknowledged) >= 10
    # A fresh start recovers the database (WAL replay / crash recovery) and serves it.
    with running_server(database_url, env={"CAREBASE_LOG_LEVEL": "WARNING"}) as server:
        assert httpx.get(f"{server.url}/v1/health").status_code == 200
    with database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT ticket_id FROM tickets WHERE dataset_id = :d"), {"d": dataset_id}
        ).scalars()
        per_batch: dict[int, int] = {}
        for ticket_id in rows:
            number = int(ticket_id.split("-")[0][1:])
            per_batch[number] = per_batch.get(number, 0) + 1
        logged = connection.execute(
            text(
                "SELECT count(*) FROM ingestion_logs WHERE dataset_id = :d AND status = 'accepted'"
            ),
            {"d": dataset_id},
        ).scalar_one()
    database.dispose()
    for number in acknowledged:
        assert per_batch.get(number) == BATCH, f"acknowledged batch {number} is not whole"
    partial = {n: count for n, count in per_batch.items() if count != BATCH}
    assert partial == {}, f"batches partly present: {partial}"
    assert set(per_batch) <= sent
    assert logged == len(per_batch)
