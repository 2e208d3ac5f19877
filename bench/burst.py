"""A burst of simultaneous requests against a real server: is it served or refused fast?

Starts `carebase serve` (`--workers`, default 2) on a fresh database, seeds `--profiles`
profiles with 100 tickets each, then fires `--requests` simultaneous profile reads
(`GET /v1/profiles/by/email/…?tickets=100`), then as many simultaneous 20-event ticket
batches, each burst bounded by `--timeout` seconds per request. Prints, per burst, the
answers by status (`unanswered` = no answer within the timeout or connection failed),
p50/p99/max latency, and the latency of one ordinary request sent right after the burst.

Target: no 500, nothing unanswered, p99 <= 5 s, the request after the burst in normal time;
a refusal is a 503 with Retry-After.

    PYTHONPATH=src:. .venv/bin/python -m bench.burst [--engine sqlite|postgresql|both]
        [--requests 200] [--workers 2] [--timeout 60]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import orjson
import psycopg
from tests.conftest import make_token, test_settings
from tests.serverproc import running_server

from bench.data import tickets
from bench.ingest import durable_postgres
from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database

EVENTS_PER_BATCH = 20
SEED_TICKETS = 100


@dataclass
class Burst:
    """What one burst got back."""

    name: str
    statuses: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    without_retry_after: int = 0
    after_status: str = ""
    after_ms: float = 0.0
    elapsed: float = 0.0

    def report(self) -> str:
        """One paragraph of figures."""
        ordered = sorted(self.latencies) or [0.0]

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(len(ordered) * p))]

        counts = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        lines = [
            f"  {self.name}: {counts}  (burst took {self.elapsed:.1f} s)",
            f"    latency p50 {pct(0.5) * 1000:.0f} ms, p99 {pct(0.99) * 1000:.0f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms",
            f"    first request after the burst: {self.after_status} in {self.after_ms:.0f} ms",
        ]
        if self.without_retry_after:
            lines.append(f"    503 without Retry-After: {self.without_retry_after}")
        return "\n".join(lines)


async def _burst(
    name: str,
    count: int,
    seconds: float,
    send: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
    after: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    url: str,
    headers: dict[str, str],
) -> Burst:
    result = Burst(name)
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=seconds
    ) as client:
        start = asyncio.Event()

        async def one(index: int) -> None:
            await start.wait()
            begun = time.perf_counter()
            try:
                response = await asyncio.wait_for(send(client, index), seconds)
            except (TimeoutError, httpx.HTTPError):
                result.statuses["unanswered"] += 1
                return
            result.latencies.append(time.perf_counter() - begun)
            result.statuses[str(response.status_code)] += 1
            if response.status_code == 503 and "retry-after" not in response.headers:
                result.without_retry_after += 1

        tasks = [asyncio.create_task(one(i)) for i in range(count)]
        await asyncio.sleep(0.2)  # every task waits on the event: they start together
        begun = time.perf_counter()
        start.set()
        await asyncio.gather(*tasks)
        result.elapsed = time.perf_counter() - begun
        begun = time.perf_counter()
        try:
            response = await asyncio.wait_for(after(client), seconds)
            result.after_status = str(response.status_code)
        except (TimeoutError, httpx.HTTPError) as error:
            result.after_status = f"unanswered ({type(error).__name__})"
        result.after_ms = (time.perf_counter() - begun) * 1000
    return result


def _seed_batches(profiles: int) -> list[bytes]:
    bodies = []
    for number in range(profiles):
        events = list(tickets(SEED_TICKETS, 1, seed=number))
        for event in events:
            event["ticket_id"] = f"seed-{number}-{event['ticket_id']}"
            event["link"] = {"email": f"reader{number}@example.com"}
        bodies.append(orjson.dumps(events))
    return bodies


def _write_batches(count: int) -> list[bytes]:
    events = list(tickets(count * EVENTS_PER_BATCH, count * 5, seed=11))
    return [
        orjson.dumps(events[i : i + EVENTS_PER_BATCH])
        for i in range(0, len(events), EVENTS_PER_BATCH)
    ]


def run(url: str, args: argparse.Namespace, env: dict[str, str]) -> list[Burst]:
    """Seed a fresh database behind a fresh server, then burst reads and writes at it."""
    database = Database.from_settings(test_settings(url))
    migrate_to_head(database.engine)
    token = make_token(database, "admin")
    database.dispose()
    server_env = {"CAREBASE_LOG_LEVEL": "WARNING", **env}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with running_server(url, workers=args.workers, env=server_env) as server:
        with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
            dataset = client.post("/v1/datasets", json={"name": "burst"}).json()["id"]
            path = f"/v1/datasets/{dataset}/customer_support_ticket"
            for body in _seed_batches(args.profiles):
                client.post(path, content=body).raise_for_status()
        writes = _write_batches(args.requests)

        async def read(client: httpx.AsyncClient, index: int) -> httpx.Response:
            email = f"reader{index % args.profiles}@example.com"
            return await client.get(f"/v1/profiles/by/email/{email}", params={"tickets": 100})

        async def write(client: httpx.AsyncClient, index: int) -> httpx.Response:
            return await client.post(path, content=writes[index])

        async def after_read(client: httpx.AsyncClient) -> httpx.Response:
            return await read(client, 0)

        async def after_write(client: httpx.AsyncClient) -> httpx.Response:
            return await client.post(path, content=_seed_batches(1)[0])

        async def both() -> list[Burst]:
            return [
                await _burst(
                    "reads", args.requests, args.timeout, read, after_read, server.url, headers
                ),
                await _burst(
                    "writes", args.requests, args.timeout, write, after_write, server.url, headers
                ),
            ]

        results = asyncio.run(both())
        errors = [line for line in server.stderr if "Error" in line or "error" in line]
    if errors:
        print(f"  server log: {len(errors)} error line(s), e.g. {errors[-1][:300]}")
    return results


def main() -> None:
    """Burst each engine and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profiles", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    print(
        f"{args.requests} simultaneous requests per burst, {args.workers} worker(s), "
        f"timeout {args.timeout:.0f} s, {args.profiles} profiles x {SEED_TICKETS} tickets"
    )
    if args.engine in {"sqlite", "both"}:
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite")
            for burst in run(f"sqlite:///{tmp}/carebase.db", args, env):
                print(burst.report())
    if args.engine in {"postgresql", "both"}:
        with durable_postgres() as server:
            with psycopg.connect(server.dsn(), autocommit=True) as connection:
                connection.execute("CREATE DATABASE carebase_burst")
            print("PostgreSQL")
            for burst in run(server.url("carebase_burst"), args, env):
                print(burst.report())


if __name__ == "__main__":
    main()
