"""Admission control: at most N requests in hand, the rest queue in order for a bounded
time and are then refused with 503 `overloaded` and Retry-After; health never queues; on
SQLite writers take turns one at a time."""

from __future__ import annotations

import sqlite3

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from carebase.db.retry import is_retryable
from carebase.http.errors import install_error_handlers
from carebase.http.middleware import AdmissionMiddleware


@pytest.fixture
def anyio_backend() -> str:
    """The event loop these tests run on (anyio's pytest plugin)."""
    return "asyncio"


class _App:
    """A Starlette app whose endpoints wait until released, recording who ran when."""

    def __init__(self, max_in_flight: int, queue_timeout: float, one_writer: bool) -> None:
        self.release = anyio.Event()
        self.started: list[str] = []
        self.in_hand = 0
        self.most_in_hand = 0

        async def work(request: Request) -> JSONResponse:
            self.started.append(request.query_params.get("n", ""))
            self.in_hand += 1
            self.most_in_hand = max(self.most_in_hand, self.in_hand)
            try:
                await self.release.wait()
            finally:
                self.in_hand -= 1
            return JSONResponse({"ok": True})

        async def health(_request: Request) -> JSONResponse:
            return JSONResponse({"status": "ok"})

        app = Starlette(
            routes=[
                Route("/work", work, methods=["GET", "POST"]),
                Route("/v1/health", health),
            ],
            middleware=[
                Middleware(
                    AdmissionMiddleware,
                    max_in_flight=max_in_flight,
                    queue_timeout=queue_timeout,
                    one_writer=one_writer,
                )
            ],
        )
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.mark.anyio
async def test_requests_beyond_the_queue_timeout_answer_503_overloaded_at_once() -> None:
    app = _App(max_in_flight=2, queue_timeout=0.2, one_writer=False)
    responses: list[httpx.Response] = []
    three_refused = anyio.Event()

    async def call(n: int) -> None:
        responses.append(await app.client.get("/work", params={"n": n}))
        if len(responses) == 3:
            three_refused.set()

    async with anyio.create_task_group() as group:
        for n in range(5):
            group.start_soon(call, n)
        with anyio.fail_after(2):
            await three_refused.wait()
        app.release.set()
    assert sorted(r.status_code for r in responses) == [200, 200, 503, 503, 503]
    refused = [r for r in responses if r.status_code == 503]
    assert all(r.headers["retry-after"] == "1" for r in refused)
    assert refused[0].json()["error"]["code"] == "overloaded"
    assert app.most_in_hand == 2


@pytest.mark.anyio
async def test_queued_requests_are_served_in_arrival_order() -> None:
    app = _App(max_in_flight=1, queue_timeout=5, one_writer=False)

    async def call(n: int) -> None:
        assert (await app.client.get("/work", params={"n": n})).status_code == 200

    async with anyio.create_task_group() as group:
        for n in range(6):
            group.start_soon(call, n)
            await anyio.sleep(0.02)  # arrive in order
        await anyio.sleep(0.05)
        app.release.set()
    assert app.started == ["0", "1", "2", "3", "4", "5"]


@pytest.mark.anyio
async def test_health_answers_while_every_slot_is_taken() -> None:
    app = _App(max_in_flight=1, queue_timeout=5, one_writer=False)
    async with anyio.create_task_group() as group:
        group.start_soon(app.client.get, "/work")
        await anyio.sleep(0.05)
        with anyio.fail_after(1):
            assert (await app.client.get("/v1/health")).status_code == 200
        app.release.set()


@pytest.mark.anyio
async def test_one_writer_at_a_time_while_reads_go_on() -> None:
    app = _App(max_in_flight=10, queue_timeout=5, one_writer=True)
    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(app.client.post, "/work?n=w")
        await anyio.sleep(0.05)
        assert app.started == ["w"]  # the other writers queue
        for n in range(3):
            group.start_soon(app.client.get, f"/work?n=r{n}")
        await anyio.sleep(0.05)
        assert sorted(app.started) == ["r0", "r1", "r2", "w"]
        app.release.set()
    assert app.started.count("w") == 3


def test_sqlite_database_is_locked_is_retryable() -> None:
    locked = OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
    assert is_retryable(locked)
    other = OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x"))
    assert not is_retryable(other)


@pytest.mark.anyio
async def test_a_pool_checkout_timeout_answers_503_overloaded() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/read")
    async def read() -> None:
        raise PoolTimeout("QueuePool limit of size 2 overflow 2 reached")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/read")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "overloaded"
