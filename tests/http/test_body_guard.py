"""BodyGuardMiddleware on its own: a body's size, pace and end, against an ASGI app that
reads the whole body, with no server in between."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from carebase.http.middleware import BodyGuardMiddleware, BodyTimedOut, ClientAborted


async def _read_all(scope: Scope, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _answer_at_once(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 401, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _scope(length: int | None) -> Scope:
    headers = [] if length is None else [(b"content-length", str(length).encode())]
    return {"type": "http", "method": "POST", "path": "/x", "headers": headers}


def _receiving(chunks: list[bytes], *, gap: float = 0.0, then: str = "") -> Receive:
    """A client sending `chunks` `gap` seconds apart, then (`then="disconnect"`) leaving."""
    queue = list(chunks)

    async def receive() -> Message:
        await asyncio.sleep(gap)
        if queue:
            body = queue.pop(0)
            more = bool(queue) or then == "disconnect"
            return {"type": "http.request", "body": body, "more_body": more}
        if then == "disconnect":
            return {"type": "http.disconnect"}
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    return receive


def _run(
    app: Callable[[Scope, Receive, Send], Awaitable[None]],
    scope: Scope,
    receive: Receive,
    **limits: float,
) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    options = {"max_bytes": 1000, "min_rate": 100.0, "grace": 0.2, **limits}
    guard = BodyGuardMiddleware(
        app,
        max_bytes=int(options["max_bytes"]),
        min_rate=options["min_rate"],
        grace=options["grace"],
    )
    asyncio.run(guard(scope, receive, send))
    return sent


def test_a_body_at_pace_is_read_whole() -> None:
    sent = _run(_read_all, _scope(30), _receiving([b"x" * 10] * 3, gap=0.05))
    assert sent[0]["status"] == 200
    assert (b"connection", b"close") not in sent[0]["headers"]


def test_a_trickled_body_times_out_once_the_grace_is_over() -> None:
    # 10 bytes every 0.15 s is ~67 bytes/s, under the 100 required after 0.2 s.
    with pytest.raises(BodyTimedOut):
        _run(_read_all, _scope(1000), _receiving([b"x" * 10] * 100, gap=0.15))


def test_a_client_that_leaves_mid_body_is_an_abort_not_an_error() -> None:
    with pytest.raises(ClientAborted):
        _run(_read_all, _scope(1000), _receiving([b"x" * 10], then="disconnect"))


def test_a_streamed_body_over_the_limit_is_413() -> None:
    with pytest.raises(HTTPException) as raised:
        _run(
            _read_all,
            _scope(None) | {"headers": [(b"transfer-encoding", b"chunked")]},
            _receiving([b"x" * 600, b"x" * 600]),
        )
    assert raised.value.status_code == 413


def test_an_answer_before_the_body_closes_the_connection() -> None:
    sent = _run(_answer_at_once, _scope(500), _receiving([b"x" * 500]))
    assert sent[0]["status"] == 401
    assert (b"connection", b"close") in sent[0]["headers"]


def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    sent = _run(_read_all, _scope(5000), _receiving([]))
    assert sent[0]["status"] == 413
    assert (b"connection", b"close") in sent[0]["headers"]
