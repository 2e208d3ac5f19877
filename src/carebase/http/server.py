"""How `carebase serve` holds client connections: uvicorn's httptools protocol with the two
guards it lacks for clients on an open network.

- **A deadline for request headers.** uvicorn waits for headers for ever: a client that
  trickles them (or connects and says nothing) holds a connection indefinitely. After
  CAREBASE_HEADER_TIMEOUT_SECONDS without complete headers the connection is answered 408
  and closed. (Between requests on a keep-alive connection uvicorn's own idle timeout
  applies; a body's pace is guarded by `BodyGuardMiddleware`.)
- **A cap on open connections.** Beyond CAREBASE_MAX_CONNECTIONS per process a new
  connection is answered 503 `overloaded` with Retry-After and closed before anything is
  read. uvicorn's `limit_concurrency` would answer only after reading the headers, in
  plain text; this answers in the one error shape and costs nothing to refuse.
"""

from __future__ import annotations

import asyncio
import logging
import time
from http import HTTPStatus
from typing import Any

import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from carebase.errors import CarebaseError, Overloaded, RequestTimeout
from carebase.http.errors import error_body
from carebase.settings import get_settings

logger = logging.getLogger("carebase.http")

# What `uvicorn.run(http=...)` imports in each worker process.
PROTOCOL = "carebase.http.server:GuardedHttpProtocol"


def raw_error_response(error: CarebaseError) -> bytes:
    """A whole HTTP/1.1 error response in the one error shape, closing the connection."""
    payload = orjson.dumps(error_body(error.code, error.message, error.details))
    lines = [
        f"HTTP/1.1 {error.status_code} {HTTPStatus(error.status_code).phrase}",
        "content-type: application/json",
        f"content-length: {len(payload)}",
        "connection: close",
        *(f"{name.lower()}: {value}" for name, value in error.headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


class _RefusalLog:
    """Logs refused connections at most once every `every` seconds, with how many: a flood
    of connections must not become a flood of log lines."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self._refused = 0
        self._logged_at = float("-inf")

    def count(self, open_connections: int) -> None:
        self._refused += 1
        now = time.monotonic()
        if now - self._logged_at >= self.every:
            logger.warning(
                "refused %s connection(s): %s open (CAREBASE_MAX_CONNECTIONS)",
                self._refused,
                open_connections,
            )
            self._refused, self._logged_at = 0, now


_REFUSALS = _RefusalLog()


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and a connection cap."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.header_timeout = settings.header_timeout_seconds
        self.max_connections = settings.max_connections
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Accept, or refuse at once when the process holds its maximum of connections."""
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            _REFUSALS.count(len(self.connections) - 1)
            self._answer_and_close(Overloaded(headers={"Retry-After": "1"}))
            return
        # A connection that never sends a request is as slow as one that trickles it.
        self._start_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the deadline with the connection."""
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        """A request's first byte: its headers must now arrive within the deadline."""
        super().on_message_begin()
        self._start_header_deadline()

    def on_headers_complete(self) -> None:
        """The headers arrived in time."""
        self._cancel_header_deadline()
        super().on_headers_complete()

    def _start_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(
                self.header_timeout, self._headers_too_slow
            )

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if self.transport.is_closing():
            return
        logger.info(
            "closed a connection whose request headers took over %ss "
            "(CAREBASE_HEADER_TIMEOUT_SECONDS)",
            self.header_timeout,
        )
        if self.cycle is not None and not self.cycle.response_complete:
            # An answer to an earlier, pipelined request is still being written.
            self.transport.close()
            return
        self._answer_and_close(RequestTimeout("The request headers arrived too slowly."))

    def _answer_and_close(self, error: CarebaseError) -> None:
        self.transport.write(raw_error_response(error))
        self.transport.close()
