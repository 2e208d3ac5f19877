"""Where a profile read's CPU goes: cProfile over an in-process loop of by-email reads.

Seeds `--profiles` profiles the way bench/profile_read.py does (one email, one ticket, its
support attributes each) into a temporary SQLite file, then reads `--reads` random ones
through the whole ASGI app in this process (middleware, routing, auth, the read,
serialising) under cProfile, and prints the top functions by own time and by cumulative
time, and the SQL statements one read ran.

The app is called as uvicorn calls it, on an event loop in this thread, not through
TestClient: TestClient runs the app on a portal thread cProfile does not see, and its own
httpx work would be most of the profile. The read's queries run on an anyio worker thread,
which gets a profiler of its own; both profiles are printed as one.

    .venv/bin/python -m bench.profile_read_inprocess [--profiles 20000] [--reads 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import FastAPI
from sqlalchemy import event
from tests.conftest import make_token, test_settings

from bench.profile_read import seed
from carebase.app import create_app
from carebase.db.session import Database


def main() -> None:
    """Seed, warm up, then profile the read loop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=20_000)
    parser.add_argument("--reads", type=int, default=5000)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument(
        "--rate-limit", default="unlimited", help="the profiles:read policy, e.g. 100000/1m"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "carebase.db"
        seed(path, args.profiles)
        settings = test_settings(
            f"sqlite:///{path}",
            rate_limits={"profiles:read": args.rate_limit},
            in_process_worker=False,
            log_level="WARNING",
        )
        database = Database.from_settings(settings)
        token = make_token(database, "profiles:read")
        app = create_app(settings, database=database)
        statements: list[str] = []
        profilers = cProfile.Profile(), cProfile.Profile()

        def count(*_args: Any) -> None:
            statements.append(_args[2])

        async def run() -> float:
            rng = random.Random(1)
            for _ in range(200):  # warm up: compiled-statement caches, imports
                await _read(app, token, rng.randrange(args.profiles))
            event.listen(database.engine, "before_cursor_execute", count)
            await _read(app, token, rng.randrange(args.profiles))
            event.remove(database.engine, "before_cursor_execute", count)
            # Sequential reads reuse one idle worker thread: profile it there.
            await to_thread.run_sync(profilers[1].enable)
            started = time.perf_counter()
            profilers[0].enable()
            for _ in range(args.reads):
                await _read(app, token, rng.randrange(args.profiles))
            profilers[0].disable()
            elapsed = time.perf_counter() - started
            await to_thread.run_sync(profilers[1].disable)
            return elapsed

        elapsed = asyncio.run(run())
        database.dispose()
    print(
        f"{args.reads:,} reads in {elapsed:.2f} s under cProfile "
        f"({args.reads / elapsed:,.0f}/s); {len(statements)} SQL statements per read:"
    )
    for sql in statements:
        print("   ", " ".join(sql.split())[:110])
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profilers[0], stream=out)
        stats.add(profilers[1])
        stats.sort_stats(order).print_stats(args.top)
        print(out.getvalue())


async def _read(app: FastAPI, token: str, number: int) -> None:
    path = f"/v1/profiles/by/email/customer{number}@example.com"
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"auth-api-token", token.encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("bench", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200, sent


if __name__ == "__main__":
    main()
