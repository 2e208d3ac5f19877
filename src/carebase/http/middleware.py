"""ASGI middleware: request ids, access log without PII, rate-limit headers, NUL guard,
body guard (size, pace, aborts), admission control, conflict retries."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carebase.db import retry
from carebase.errors import (
    CLIENT_CLOSED_REQUEST,
    BadRequest,
    CarebaseError,
    Contended,
    Overloaded,
    PayloadTooLarge,
    RequestTimeout,
    ValidationFailed,
    problem,
)
from carebase.http.errors import error_body, html_response_for

access_log = logging.getLogger("carebase.access")

REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
# Set by the auth dependency in scope["state"]; added to whatever response follows.
RESPONSE_HEADERS_STATE_KEY = "response_headers"
# In scope["state"]: how many times this request has been run again after a conflict.
RETRY_STATE_KEY = "conflict_retries"


class RequestContextMiddleware:
    """Give every request an id (echoed as X-Request-Id) and log one line per request.

    The access log names the route template (`/v1/profiles/{profile_id}`), never the
    raw path or query, because those can carry emails and phone numbers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                elapsed_ms = (time.perf_counter() - started) * 1000
                extra: dict[str, str] = {
                    REQUEST_ID_HEADER: request_id,
                    # Time spent in carebase before the first byte: what a client cannot see.
                    "Server-Timing": f"app;dur={elapsed_ms:.2f}",
                }
                extra.update(state.get(RESPONSE_HEADERS_STATE_KEY, {}))
                for name, value in extra.items():
                    if name.lower().encode() not in names:
                        headers.append((name.encode("latin-1"), value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            route = scope.get("route")
            status = status_holder["status"]
            access_log.info(
                "%s %s %s %.1fms request_id=%s%s",
                scope["method"],
                getattr(route, "path", "<unmatched>"),
                status,
                (time.perf_counter() - started) * 1000,
                request_id,
                " (client closed the request)" if status == CLIENT_CLOSED_REQUEST else "",
            )


# A query parameter name safe to name in an error; any other is reported as `query`.
_SAFE_PARAMETER = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,64}$")


class NulGuardMiddleware:
    """Answer 422 for a NUL character (raw, or `%00` once decoded) in the path, a query
    parameter's name or value, or a header value, before any route or database work.

    PostgreSQL cannot store or compare NUL in text, so such a value reaching a query was a
    500; nothing legitimate sends it. Checked here once for every route, including the
    tokenless webhook. Bodies are checked by `JSONRoute` (admin) and per record (ingestion).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        field = _nul_field(scope)
        if field is None:
            await self.app(scope, receive, send)
            return
        refusal = ValidationFailed(
            "The request holds a NUL character.",
            details=[problem(field, "contains a NUL character")],
        )
        await send_error(send, refusal, scope=scope)


def _nul_field(scope: Scope) -> str | None:
    """Where the request holds a NUL character (`path`, `query.<name>`, `header.<name>`)."""
    raw_path = scope.get("raw_path") or b""
    if "\x00" in scope.get("path", "") or b"\x00" in raw_path or b"%00" in raw_path:
        return "path"
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    if "\x00" in query or "%00" in query:
        for name, value in parse_qsl(query, keep_blank_values=True):
            if "\x00" in name or "\x00" in value:
                return f"query.{name}" if _SAFE_PARAMETER.match(name) else "query"
        return None if "\x00" not in query else "query"
    for name, value in scope.get("headers", []):
        if b"\x00" in value:
            header = bytes(name).decode("latin-1").lower()
            return f"header.{header}" if _SAFE_PARAMETER.match(header) else "header"
    return None


class BodyTimedOut(HTTPException):
    """The body arrived slower than the minimum rate (408). An HTTPException, because
    FastAPI's body reader passes those through untouched to the one error handler."""

    def __init__(self) -> None:
        super().__init__(408, detail=RequestTimeout.default_message)


class ClientAborted(HTTPException):
    """The client closed the connection before its body arrived whole: nothing to answer."""

    def __init__(self) -> None:
        super().__init__(CLIENT_CLOSED_REQUEST, detail="The client closed the request.")


class BodyGuardMiddleware:
    """Guard the request body before any handler holds it:

    - over `max_bytes`: 413, at once by Content-Length, or as soon as the stream passes it;
    - slower than `min_rate` bytes a second on average after `grace` seconds: 408 (a
      trickled body would otherwise hold a connection and a request slot for ever);
    - the client gone mid-body: `ClientAborted`, one access-log line, no traceback;
    - an answer sent before the body was read whole (a 401, a 404) closes the connection,
      so the rest of the body is never received.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, *, min_rate: float, grace: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.min_rate, self.grace = min_rate, grace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._reject(scope, send, bad_length=not declared.isdigit())
            return
        chunked = "chunked" in (_header(scope, b"transfer-encoding") or "").lower()
        if not chunked and declared in (None, "0"):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        started: float | None = None
        received = 0
        complete = False

        async def guarded_receive() -> Message:
            nonlocal received, complete, started
            if complete:
                # After the body only a disconnect can come, whenever it comes.
                return await receive()
            if started is None:
                # The client's clock starts when the app first asks for the body: time the
                # server spent before that (a busy database, a session lookup) is not theirs.
                started = loop.time()
            # The body so far must have come at `min_rate` since the grace period ended.
            deadline = started + self.grace + received / self.min_rate
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.0))
            except TimeoutError:
                raise BodyTimedOut() from None
            if message["type"] == "http.disconnect":
                raise ClientAborted()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, detail=self._too_large_message)
                complete = not message.get("more_body", False)
            return message

        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not complete:
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, guarded_receive, closing_send)

    @property
    def _too_large_message(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."

    async def _reject(self, scope: Scope, send: Send, *, bad_length: bool) -> None:
        refusal: CarebaseError = (
            BadRequest("Content-Length is not a number.")
            if bad_length
            else PayloadTooLarge(self._too_large_message, details={"max_bytes": self.max_bytes})
        )
        # The body was not read: close the connection rather than leave it to drain.
        await send_error(send, refusal, scope=scope, connection_close=True)


def _replaying(replay: list[Message], receive: Receive) -> Receive:
    """A receive that gives the recorded messages first, then reads on."""

    async def replaying_receive() -> Message:
        if replay:
            return replay.pop(0)
        return await receive()

    return replaying_receive


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class ConflictRetryMiddleware:
    """Run a request again, whole, when its unit of work met a transient conflict with a
    concurrent transaction (a PostgreSQL deadlock, serialization failure or unique
    violation) before any byte of the answer was sent. The failed attempt was rolled
    back, so it left nothing behind. After the last attempt the answer is 503
    `contended` with Retry-After, never a 500.

    The request body is recorded as the app reads it and replayed to each new attempt.
    """

    def __init__(self, app: ASGIApp, attempts: int = retry.ATTEMPTS) -> None:
        self.app = app
        self.attempts = attempts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        recorded: list[Message] = []
        started = False

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                recorded.append(message)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        state: dict[str, Any] = scope.setdefault("state", {})
        for attempt in range(self.attempts):
            try:
                replay = _replaying(list(recorded), recording_receive)
                # The same scope each attempt: outer middleware reads what routing wrote in it.
                await self.app(scope, replay, tracking_send)
                return
            except Exception as error:
                if started or not retry.is_retryable(error):
                    raise
                if attempt == self.attempts - 1:
                    break
                state[RETRY_STATE_KEY] = attempt + 1
                await asyncio.sleep(retry.backoff(attempt))
        await send_error(send, Contended(headers={"Retry-After": "1"}), scope=scope)


_ALWAYS_ADMITTED = frozenset({"/v1/health"})
# POST routes that only read (a query, a count): they take no turn of the single writer, so
# a slow read never holds up ingestion on SQLite. Their handlers must not write.
READ_ONLY_POSTS: list[re.Pattern[str]] = []


def read_only_post(pattern: str) -> None:
    """Declare the POST paths matching `pattern` (a regular expression) read-only."""
    READ_ONLY_POSTS.append(re.compile(pattern))


def reads_only(method: str, path: str) -> bool:
    """True for a request that never writes: a safe method, or a declared read-only POST."""
    if method in _SAFE_METHODS:
        return True
    return method == "POST" and any(pattern.fullmatch(path) for pattern in READ_ONLY_POSTS)


class AdmissionMiddleware:
    """Work on at most `max_in_flight` requests at once; the rest wait in a first-come,
    first-served queue for at most `queue_timeout` seconds, then answer 503 `overloaded`
    with Retry-After. With `one_writer` (SQLite: one writer at a time anyway), requests
    that may write also queue, in order, for the process's single writing turn.

    Bounding the requests in hand to the pool size means a request never waits for a
    pooled connection that another request holds while it waits for something else: a
    burst is served at the rate the database allows, or refused at once, and the
    process is healthy the moment it ends. `/v1/health` is never queued.
    """

    def __init__(
        self, app: ASGIApp, max_in_flight: int, queue_timeout: float, *, one_writer: bool = False
    ) -> None:
        self.app = app
        self.queue_timeout = queue_timeout
        # asyncio.Semaphore wakes its waiters in the order they came (FIFO).
        self._slots = asyncio.Semaphore(max_in_flight)
        self._writer = asyncio.Semaphore(1) if one_writer else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _ALWAYS_ADMITTED:
            await self.app(scope, receive, send)
            return
        # One deadline for both queues: the wait a client sees is bounded once.
        deadline = asyncio.get_running_loop().time() + self.queue_timeout
        if not await _acquire(self._slots, deadline):
            await _overloaded(scope, send)
            return
        try:
            writer = None if reads_only(scope["method"], scope["path"]) else self._writer
            if writer is None:
                await self.app(scope, receive, send)
                return
            if not await _acquire(writer, deadline):
                await _overloaded(scope, send)
                return
            try:
                await self.app(scope, receive, send)
            finally:
                writer.release()
        finally:
            self._slots.release()


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _acquire(semaphore: asyncio.Semaphore, deadline: float) -> bool:
    """Take a turn from `semaphore`, waiting in line until `deadline` at most."""
    remaining = deadline - asyncio.get_running_loop().time()
    if not semaphore.locked():
        await semaphore.acquire()
        return True
    if remaining <= 0:
        return False
    try:
        await asyncio.wait_for(semaphore.acquire(), remaining)
    except TimeoutError:
        return False
    return True


async def _overloaded(scope: Scope, send: Send) -> None:
    await send_error(send, Overloaded(headers={"Retry-After": "1"}), scope=scope)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


async def send_error(
    send: Send,
    error: CarebaseError,
    *,
    scope: Scope | None = None,
    connection_close: bool = False,
) -> None:
    """Answer an error in the one error shape, from middleware that runs outside FastAPI's
    exception handlers (they would otherwise render it); with the request's `scope`, as the
    console's error page when a person asked (a browser, outside the API)."""
    if scope is not None and (page := html_response_for(scope, error)) is not None:
        if connection_close:
            page.headers["Connection"] = "close"
        await page(scope, _no_body, send)
        return
    payload = orjson.dumps(error_body(error.code, error.message, error.details))
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in error.headers.items()
        ),
    ]
    if connection_close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
