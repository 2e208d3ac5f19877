"""A unit of work that meets a transient conflict is run again whole, its body replayed, and
after the last attempt answers 503 `contended` — never a 500."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from carebase.db.retry import is_retryable
from carebase.http.middleware import ConflictRetryMiddleware


@pytest.fixture
def anyio_backend() -> str:
    """The event loop these tests run on (anyio's pytest plugin)."""
    return "asyncio"


class _DriverError(Exception):
    """What psycopg raises: an error with its SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _conflict(sqlstate: str = "40P01") -> OperationalError:
    return OperationalError("UPDATE …", {}, _DriverError(sqlstate))


def _app(failures: int, seen: list[bytes], error: Exception | None = None) -> httpx.AsyncClient:
    async def endpoint(request: Request) -> JSONResponse:
        seen.append(await request.body())
        if len(seen) <= failures:
            raise error or _conflict()
        return JSONResponse({"attempts": len(seen)})

    # Placed as carebase places it: inside the server-error middleware, around the router.
    app = Starlette(
        routes=[Route("/write", endpoint, methods=["POST"])],
        middleware=[Middleware(ConflictRetryMiddleware, attempts=3)],
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


@pytest.mark.parametrize("sqlstate", ["40P01", "40001", "23505"])
def test_only_transient_conflicts_are_retryable(sqlstate: str) -> None:
    assert is_retryable(_conflict(sqlstate))
    assert not is_retryable(_conflict("42P01"))  # undefined table: a bug, not a conflict
    assert not is_retryable(ValueError("x"))
    assert is_retryable(IntegrityError("INSERT …", {}, _DriverError("23505")))


@pytest.mark.anyio
async def test_a_conflict_is_retried_with_the_body_replayed() -> None:
    seen: list[bytes] = []
    async with _app(failures=2, seen=seen) as client:
        response = await client.post("/write", content=b'{"batch": 1}')
    assert response.status_code == 200
    assert response.json() == {"attempts": 3}
    assert seen == [b'{"batch": 1}'] * 3


@pytest.mark.anyio
async def test_conflicts_on_every_attempt_answer_503_contended() -> None:
    seen: list[bytes] = []
    async with _app(failures=10, seen=seen) as client:
        response = await client.post("/write", content=b"{}")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "contended"
    assert len(seen) == 3


@pytest.mark.anyio
async def test_other_errors_are_not_retried() -> None:
    seen: list[bytes] = []
    async with _app(failures=1, seen=seen, error=RuntimeError("bug")) as client:
        with pytest.raises(RuntimeError):
            await client.post("/write", content=b"{}")
    assert len(seen) == 1
