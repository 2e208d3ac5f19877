"""The baseline for bench/profile_read.py: a bare ASGI app (no framework, no auth) answering
`GET /v1/profiles/by/email/{email}` with the same two indexed SELECTs carebase's read starts
with (link -> profile, profile -> support attributes), as JSON with a `Server-Timing` header.

    BARE_READ_DATABASE=/path/to/carebase.db uvicorn bench.bare_read:app --workers 2
"""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Any
from urllib.parse import unquote

import orjson

PREFIX = "/v1/profiles/by/email/"
_connection: sqlite3.Connection | None = None


def _database() -> sqlite3.Connection:
    # One connection per worker process, opened on first use (after uvicorn forks).
    global _connection
    if _connection is None:
        _connection = sqlite3.connect(
            os.environ["BARE_READ_DATABASE"], check_same_thread=False, isolation_level=None
        )
        _connection.execute("PRAGMA query_only = ON")
    return _connection


def lookup(email: str) -> dict[str, Any] | None:
    """The profile id, its link and its stored support attributes; None when unknown."""
    database = _database()
    found = database.execute(
        "SELECT profile_id FROM profile_links WHERE value = ? AND link_type = 'email' "
        "AND system_name = ''",
        (email,),
    ).fetchone()
    if found is None:
        return None
    cursor = database.execute("SELECT * FROM support_attributes WHERE profile_id = ?", found)
    row = cursor.fetchone()
    names = [column[0] for column in cursor.description]
    attributes = dict(zip(names, row, strict=True)) if row else {}
    for name in ("channel_types", "tags", "agents", "last_satisfaction_score"):
        if isinstance(attributes.get(name), str):
            attributes[name] = orjson.loads(attributes[name])
    return {
        "id": found[0],
        "links": [{"type": "email", "value": email, "system_name": None}],
        "attributes": attributes,
    }


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI callable."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    started = time.perf_counter()
    path: str = scope["path"]
    found = lookup(unquote(path[len(PREFIX) :])) if path.startswith(PREFIX) else None
    status, body = (200, orjson.dumps(found)) if found else (404, b'{"error":"not_found"}')
    elapsed_ms = (time.perf_counter() - started) * 1000
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"server-timing", f"app;dur={elapsed_ms:.2f}".encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
