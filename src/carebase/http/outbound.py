"""Outbound HTTP (helpdesk APIs, and next activation destinations): private addresses refused
unless configured, retries on 429 and 5xx honouring `Retry-After`, and pacing under each
service's documented rate limit.

`OutboundClient` wraps an httpx client for reads and writes; tests hand it an
`httpx.MockTransport` or point it at a loopback fake (with `allow_private=True`), and a fake
`sleep` so that waiting costs nothing. Writes are retried only when that cannot apply them
twice: a 429 (refused, not applied), a connection never made, or an idempotent method.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

import certifi
import httpx

logger = logging.getLogger(__name__)
Sleep = Callable[[float], None]
MAX_RETRY_AFTER = 300.0


class OutboundError(Exception):
    """A call to a helpdesk failed; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class OutboundRefused(OutboundError):
    """The destination is a private address and CAREBASE_ALLOW_PRIVATE_OUTBOUND is off."""


def check_destination(url: str, *, allow_private: bool) -> None:
    """Refuse URLs whose host resolves to a private, loopback, link-local or reserved address."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise OutboundRefused(f"not an http(s) URL: {url!r}")
    if allow_private:
        return
    if parts.scheme != "https":
        raise OutboundRefused("helpdesk APIs are called over https only")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except socket.gaierror as error:
        raise OutboundError(f"cannot resolve {parts.hostname}: {error}") from error
    for address in addresses:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
        if not ip.is_global:
            raise OutboundRefused(
                f"{parts.hostname} resolves to a non-public address ({ip}); "
                "set CAREBASE_ALLOW_PRIVATE_OUTBOUND=true to allow it"
            )


@dataclass
class Pacing:
    """At most `requests` per `seconds`, spread evenly (a helpdesk's documented limit)."""

    requests: int
    seconds: float

    @property
    def interval(self) -> float:
        """The minimum gap between two requests."""
        return self.seconds / self.requests


class Budget(Protocol):
    """Where a client books its request slots: in-process (`Pacer`) or shared by every
    process through the database (`carebase.kit.pacing.SharedPacer`)."""

    def reserve(self, now: float) -> float:
        """Book the next slot at or after `now`; how many seconds to wait for it."""
        ...


class Pacer:
    """Hands out request slots `pacing.interval` apart, within one process (a backfill, which
    paces itself against its own endpoint limits)."""

    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing
        self._next = float("-inf")
        self._lock = threading.Lock()

    def reserve(self, now: float) -> float:
        """Book the next slot; how many seconds to wait for it."""
        with self._lock:
            slot = max(now, self._next)
            self._next = slot + self.pacing.interval
            return slot - now


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle costs ~20 ms: do it once per process, not once per client.
    return ssl.create_default_context(cafile=certifi.where())


IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class OutboundClient:
    """Calls one service's HTTP API (reads and writes), politely."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: tuple[str, str] | None,
        pacing: Pacing,
        allow_private: bool,
        pacer: Budget | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.time,
        attempts: int = 6,
        timeout: float = 30.0,
        service: str = "helpdesk",
        headers: dict[str, str] | None = None,
    ) -> None:
        check_destination(base_url, allow_private=allow_private)
        self.base_url = base_url.rstrip("/")
        self.pacer: Budget = pacer or Pacer(pacing)
        self.sleep, self.clock, self.attempts = sleep, clock, attempts
        self.service = service
        self.requests = 0
        self.waited = 0.0
        self._client = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            transport=transport,
            timeout=timeout,
            verify=_tls(),
            headers={
                "Accept": "application/json",
                "User-Agent": "carebase-connector",
                **(headers or {}),
            },
            follow_redirects=False,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def __enter__(self) -> OutboundClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.waited += seconds
            self.sleep(seconds)

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send with pacing and retries; the 2xx response, or OutboundError. A POST is retried
        on a 5xx or a timeout only when the caller says it is `idempotent` (an idempotency
        key, an upsert): otherwise the service may have applied it already."""
        method = method.upper()
        safe_to_repeat = method in IDEMPOTENT if idempotent is None else idempotent
        # A URL the service gave (a next page) must stay on the service's host.
        absolute = path_or_url.startswith("http")
        if absolute and urlsplit(path_or_url).netloc != urlsplit(self.base_url).netloc:
            raise OutboundRefused("a URL from the service pointed at another host")
        name = self.service
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            self._wait(self.pacer.reserve(self.clock()))
            self.requests += 1
            try:
                response = self._client.request(
                    method, path_or_url, params=params, json=json, headers=headers
                )
            except httpx.TransportError as error:
                # A connection never made sent nothing; any other failure may have been applied.
                never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                if last or not (never_sent or safe_to_repeat):
                    raise OutboundError(f"{name} unreachable: {error}") from error
                self._wait(min(2.0**attempt, 60.0))
                continue
            retryable = response.status_code == 429 or (
                response.status_code >= 500 and safe_to_repeat
            )
            if retryable and not last:
                self._wait(_retry_after(response, attempt))
                continue
            if response.status_code == 429 or response.status_code >= 500:
                times = f" {attempt} times" if retryable else ""
                raise OutboundError(
                    f"{name} answered {response.status_code}{times}", status=response.status_code
                )
            if response.status_code >= 400:
                path = urlsplit(str(response.url)).path
                raise OutboundError(
                    f"{name} answered {response.status_code} for {path}",
                    status=response.status_code,
                )
            return response
        raise OutboundError("unreachable")  # pragma: no cover - the loop returns or raises

    def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET with pacing and retries; the 2xx response, or OutboundError."""
        return self.request("GET", path_or_url, params=params)

    def get_json(self, path_or_url: str, params: dict[str, Any] | None = None) -> Any:
        """GET and decode JSON."""
        return _json(self.get(path_or_url, params), self.service)

    def post_json(
        self,
        path: str,
        body: Any,
        *,
        idempotent: bool = False,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """POST a JSON body; the decoded JSON answer (None when empty)."""
        response = self.request("POST", path, json=body, idempotent=idempotent, headers=headers)
        return _json(response, self.service)

    def put_json(self, path: str, body: Any, *, headers: dict[str, str] | None = None) -> Any:
        """PUT a JSON body; the decoded JSON answer (None when empty)."""
        return _json(self.request("PUT", path, json=body, headers=headers), self.service)


# Connectors call it by what it calls.
HelpdeskClient = OutboundClient


def _json(response: httpx.Response, service: str) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as error:
        raise OutboundError(f"{service} answered with something that is not JSON") from error


def _retry_after(response: httpx.Response, attempt: int) -> float:
    header = response.headers.get("Retry-After")
    if header is not None:
        try:
            return min(max(float(header), 0.0), MAX_RETRY_AFTER)
        except ValueError:
            pass
    return min(2.0**attempt, 60.0)
