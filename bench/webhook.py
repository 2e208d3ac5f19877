"""Webhook receipt through a real server process: how fast a signed Zendesk event webhook is
acknowledged, and how fast acknowledged deliveries become tickets.

Processing fetches each ticket from the helpdesk, paced at Zendesk's documented budget
(200 requests a minute on the smallest plan), so the end-to-end rate is that pace by design;
the acknowledgement figures are what a burst of webhooks sees.

Starts a loopback Zendesk fake holding N tickets and `carebase serve` (SQLite, durable commits),
connects them, then posts N signed event webhooks (one per ticket) from one client. Prints the
acknowledgement latency (p50/p99; Zendesk gives up after ~10 s) and the end-to-end rate until
every delivery is `done`. The raw baseline, measured in the same run: verify the same HMAC and
insert the delivery row into a bare SQLite table, one durable (WAL, synchronous=FULL)
transaction per delivery.

    .venv/bin/python -m bench.webhook [--deliveries 300]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import sqlite3
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from tests.conftest import make_token, test_settings
from tests.connectors import fakes
from tests.serverproc import running_server

from carebase.connectors import zendesk
from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database

SECRET = "bench-signing-secret"


def event(ticket_id: int) -> bytes:
    """A Zendesk event webhook body for one ticket."""
    return orjson.dumps(
        {
            "type": "zen:event-type:ticket.status_changed",
            "id": f"evt-{ticket_id}",
            "subject": f"zen:ticket:{ticket_id}",
            "detail": {"id": str(ticket_id), "status": "OPEN"},
            "time": "2024-11-06T10:15:00Z",
        }
    )


def sign(timestamp: str, body: bytes) -> str:
    digest = hmac.new(SECRET.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def raw_baseline(bodies: list[bytes], path: Path) -> float:
    """Deliveries/s of HMAC verify + one durable insert each into a bare table."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE deliveries (key TEXT UNIQUE, ticket TEXT, body TEXT)")
    started = time.perf_counter()
    for body in bodies:
        stamp = "2024-11-06T10:15:00Z"
        assert hmac.compare_digest(sign(stamp, body), sign(stamp, body))
        payload = orjson.loads(body)
        connection.execute("BEGIN")
        connection.execute(
            "INSERT INTO deliveries VALUES (?, ?, ?)",
            (payload["id"], payload["detail"]["id"], body),
        )
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return len(bodies) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=300)
    args = parser.parse_args()
    count = args.deliveries
    tickets = {n: fakes.zendesk_ticket(n) for n in range(1, count + 1)}
    bodies = [event(n) for n in range(1, count + 1)]
    with tempfile.TemporaryDirectory() as tmp, fakes.serve(fakes.zendesk(tickets)) as fake:
        raw = raw_baseline(bodies, Path(tmp) / "raw.db")
        url = f"sqlite:///{tmp}/carebase.db"
        database = Database.from_settings(test_settings(url))
        migrate_to_head(database.engine)
        token = make_token(database, "admin")
        database.dispose()
        env = {
            "CAREBASE_LOG_LEVEL": "WARNING",
            "CAREBASE_ALLOW_PRIVATE_OUTBOUND": "true",
            "CAREBASE_RATE_LIMITS": "admin=unlimited",
        }
        with running_server(url, env=env) as server:
            admin = httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            )
            dataset = admin.post("/v1/datasets", json={"name": "zendesk"}).json()["id"]
            connector = admin.post(
                "/v1/connectors",
                json={
                    "kind": "zendesk",
                    "name": "bench",
                    "domain": fake.url,
                    "dataset_id": dataset,
                    "credentials": {"email": "admin@acme.com", "api_token": "zd-token"},
                    "signing_secret": SECRET,
                },
            ).json()["id"]
            latencies = []
            started = time.perf_counter()
            # A helpdesk opens a connection per delivery: no keep-alive here either.
            fresh = httpx.Limits(max_keepalive_connections=0)
            with httpx.Client(base_url=server.url, timeout=60, limits=fresh) as client:
                for body in bodies:
                    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                    begun = time.perf_counter()
                    response = client.post(
                        f"/v1/connectors/{connector}/webhook",
                        content=body,
                        headers={
                            "Content-Type": "application/json",
                            "X-Zendesk-Webhook-Signature": sign(stamp, body),
                            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                        },
                    )
                    latencies.append((time.perf_counter() - begun) * 1000)
                    assert response.status_code == 202, response.text
            acked = time.perf_counter() - started
            while True:
                counts = admin.get(f"/v1/connectors/{connector}").json()["deliveries"]
                if counts.get("done", 0) + counts.get("rejected", 0) >= count:
                    break
                time.sleep(0.05)
            finished = time.perf_counter() - started
            stored = admin.get(f"/v1/datasets/{dataset}").json()["records"]
    latencies.sort()
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]
    print(f"{count} signed Zendesk event webhooks, one client, one worker; {stored} tickets stored")
    print(f"acknowledged: {count / acked:8,.0f} deliveries/s   p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    pace = zendesk.PACING.requests / zendesk.PACING.seconds
    print(
        f"processed:    {count / finished:8,.1f} deliveries/s end to end (fetch, map, ingest), "
        f"paced at Zendesk's {pace:.1f} requests/s"
    )
    print(f"raw baseline (HMAC + one durable SQLite insert each): {raw:8,.0f} deliveries/s")
    print(f"ratio (acknowledged / raw): {count / acked / raw:.2f}")


if __name__ == "__main__":
    main()
