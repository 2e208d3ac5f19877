"""Outbound HTTP to helpdesks: private addresses refused unless configured, retries on 429 and
5xx honouring `Retry-After`, and pacing under each helpdesk's documented rate limit.

`HelpdeskClient` wraps an httpx client; tests hand it an `httpx.MockTransport` or point it at a
loopback fake (with `allow_private=True`), and a fake `sleep` so that waiting costs nothing.
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
from typing import Any
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


class Pacer:
    """Hands out request slots `pacing.interval` apart; shared by every client of one helpdesk
    account in a process, so concurrent webhook fetches stay under its limit together."""

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


class HelpdeskClient:
    """GETs JSON from one helpdesk, politely."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: tuple[str, str],
        pacing: Pacing,
        allow_private: bool,
        pacer: Pacer | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        attempts: int = 6,
        timeout: float = 30.0,
    ) -> None:
        check_destination(base_url, allow_private=allow_private)
        self.base_url = base_url.rstrip("/")
        self.pacer = pacer or Pacer(pacing)
        self.sleep, self.clock, self.attempts = sleep, clock, attempts
        self.requests = 0
        self.waited = 0.0
        self._client = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            transport=transport,
            timeout=timeout,
            verify=_tls(),
            headers={"Accept": "application/json", "User-Agent": "carebase-connector"},
            follow_redirects=False,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()

    def __enter__(self) -> HelpdeskClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.waited += seconds
            self.sleep(seconds)

    def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET with pacing and retries; the 2xx response, or OutboundError."""
        # A next-page URL the helpdesk gave must stay on the helpdesk's host.
        absolute = path_or_url.startswith("http")
        if absolute and urlsplit(path_or_url).netloc != urlsplit(self.base_url).netloc:
            raise OutboundRefused("a pagination URL pointed at another host")
        for attempt in range(1, self.attempts + 1):
            self._wait(self.pacer.reserve(self.clock()))
            self.requests += 1
            try:
                response = self._client.get(path_or_url, params=params)
            except httpx.TransportError as error:
                if attempt == self.attempts:
                    raise OutboundError(f"helpdesk unreachable: {error}") from error
                self._wait(min(2.0**attempt, 60.0))
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == self.attempts:
                    raise OutboundError(
                        f"helpdesk answered {response.status_code} {attempt} times",
                        status=response.status_code,
                    )
                self._wait(_retry_after(response, attempt))
                continue
            if response.status_code >= 400:
                path = urlsplit(str(response.url)).path
                raise OutboundError(
                    f"helpdesk answered {response.status_code} for {path}",
                    status=response.status_code,
                )
            return response
        raise OutboundError("unreachable")  # pragma: no cover - the loop returns or raises

    def get_json(self, path_or_url: str, params: dict[str, Any] | None = None) -> Any:
        """GET and decode JSON."""
        response = self.get(path_or_url, params)
        try:
            return response.json()
        except ValueError as error:
            raise OutboundError("helpdesk answered with something that is not JSON") from error


def _retry_after(response: httpx.Response, attempt: int) -> float:
    header = response.headers.get("Retry-After")
    if header is not None:
        try:
            return min(max(float(header), 0.0), MAX_RETRY_AFTER)
        except ValueError:
            pass
    return min(2.0**attempt, 60.0)
