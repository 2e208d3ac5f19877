"""Outbound HTTP (helpdesk APIs, and next activation destinations): private addresses refused
unless configured, retries on 429 and 5xx honouring `Retry-After`, and pacing under each
service's documented rate limit.

A client either waits in place for as long as the service asks (a backfill, a command that
paces itself), or, given a `wait_limit`, never waits longer than that: a request whose budget
has no slot soon enough raises `OutboundDeferred` before anything is sent, and a failure that
would need a longer wait raises `OutboundError` carrying the service's `Retry-After`, so that a
job runner schedules the next attempt instead of sleeping on its thread. Waits end at once when
the client's `stop` event is set (`OutboundInterrupted`).

`OutboundClient` wraps an httpx client for reads and writes; tests hand it an
`httpx.MockTransport` or point it at a loopback fake (with `allow_private=True`), and a fake
`sleep` so that waiting costs nothing. Writes are retried only when that cannot apply them
twice: a 429 (refused, not applied), a connection never made, or an idempotent method.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import math
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
# A connection is made within this or the host counts as unreachable: a host that drops
# packets cannot hold a thread for the whole read timeout.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
# The longest Retry-After waited in place (a backfill), and the longest carried to a
# scheduled retry; a longer one is read as this.
MAX_RETRY_AFTER = 300.0
MAX_SCHEDULED_RETRY_AFTER = 3600.0
# After a connection failure, a client that schedules its retries holds its budget this long:
# the service's other waiting requests are deferred instead of each trying a host that is down.
UNREACHABLE_HOLD = 30.0


class OutboundError(Exception):
    """A call to a helpdesk failed; `status` is the HTTP status when there was one, and
    `retry_after` how many seconds the service asked to wait (a 429's or 503's
    `Retry-After`), when it said."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class OutboundRefused(OutboundError):
    """The destination is a private address and CAREBASE_ALLOW_PRIVATE_OUTBOUND is off."""


class OutboundDeferred(OutboundError):
    """Nothing was sent: the service's budget (its pace, or a hold after a 429 or an outage)
    has no slot within the client's `wait_limit`; the next is `retry_after` seconds away."""


class OutboundInterrupted(Exception):
    """The client's `stop` event was set: its caller is shutting down."""


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

    def reserve(self, now: float, max_wait: float = math.inf) -> float:
        """Book the next slot at or after `now`, unless it is more than `max_wait` seconds
        away; how many seconds away it is (booked or not)."""
        ...

    def hold(self, until: float) -> None:
        """Hand out no slot before `until` (the service asked for a pause, or is down)."""
        ...


class Pacer:
    """Hands out request slots `pacing.interval` apart, within one process (a backfill, which
    paces itself against its own endpoint limits)."""

    def __init__(self, pacing: Pacing) -> None:
        self.pacing = pacing
        self._next = float("-inf")
        self._lock = threading.Lock()

    def reserve(self, now: float, max_wait: float = math.inf) -> float:
        """Book the next slot unless it is more than `max_wait` away; how far away it is."""
        with self._lock:
            slot = max(now, self._next)
            if slot - now <= max_wait:
                self._next = slot + self.pacing.interval
            return slot - now

    def hold(self, until: float) -> None:
        """No slot before `until`."""
        with self._lock:
            self._next = max(self._next, until)


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
        sleep: Sleep | None = None,
        clock: Callable[[], float] = time.time,
        attempts: int = 6,
        timeout: float = READ_TIMEOUT,
        connect_timeout: float = CONNECT_TIMEOUT,
        wait_limit: float | None = None,
        started_wait_limit: float | None = None,
        stop: threading.Event | None = None,
        service: str = "helpdesk",
        headers: dict[str, str] | None = None,
    ) -> None:
        """`sleep` (a test's fake) replaces waiting on `stop`. `wait_limit` is the most seconds
        one request may wait in place, pacing and retries together (None: as long as the
        service asks). Once the client has sent a request, a later one may wait up to
        `started_wait_limit` for its pacing slot: deferring it then would waste the requests
        already made (a Freshdesk ticket's fetch is four), and under a budget shared by many
        workers no fetch of several requests would ever finish."""
        check_destination(base_url, allow_private=allow_private)
        self.base_url = base_url.rstrip("/")
        self.pacer: Budget = pacer or Pacer(pacing)
        self.sleep, self.clock, self.attempts = sleep, clock, attempts
        self.wait_limit = wait_limit
        self.started_wait_limit = max(started_wait_limit or 0.0, wait_limit or 0.0)
        self.stop = stop or threading.Event()
        self.service = service
        self.requests = 0
        self.waited = 0.0
        self._client = httpx.Client(
            base_url=self.base_url,
            auth=auth,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
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

    def _check_stop(self) -> None:
        if self.stop.is_set():
            raise OutboundInterrupted(f"stopped while calling {self.service}")

    def _wait(self, seconds: float) -> float:
        """Wait `seconds` (ending early, with OutboundInterrupted, when stopped)."""
        if seconds > 0:
            self.waited += seconds
            if self.sleep is not None:
                self.sleep(seconds)
            else:
                self.stop.wait(seconds)
        self._check_stop()
        return max(seconds, 0.0)

    def _room(self, spent: float, *, for_slot: bool = False) -> float:
        """How much longer this request may wait in place (for its pacing slot, or to retry)."""
        if self.wait_limit is None:
            return math.inf
        started = for_slot and self.requests > 0
        return (self.started_wait_limit if started else self.wait_limit) - spent

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
        scheduled = self.wait_limit is not None
        cap = MAX_SCHEDULED_RETRY_AFTER if scheduled else MAX_RETRY_AFTER
        spent = 0.0
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            self._check_stop()
            room = self._room(spent, for_slot=True)
            wait = self.pacer.reserve(self.clock(), room)
            if wait > room:
                raise OutboundDeferred(
                    f"{name}'s request budget has no slot for {wait:.1f} s", retry_after=wait
                )
            spent += self._wait(wait)
            self.requests += 1
            try:
                response = self._client.request(
                    method, path_or_url, params=params, json=json, headers=headers
                )
            except httpx.TransportError as error:
                self._check_stop()
                if scheduled:
                    self.pacer.hold(self.clock() + UNREACHABLE_HOLD)
                # A connection never made sent nothing; any other failure may have been applied.
                never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                pause = _backoff(attempt)
                if last or not (never_sent or safe_to_repeat) or pause > self._room(spent):
                    raise OutboundError(f"{name} unreachable: {error}") from error
                spent += self._wait(pause)
                continue
            status = response.status_code
            asked = _retry_after(response, cap)
            pause = asked if asked is not None else _backoff(attempt)
            if status == 429 or (status == 503 and asked is not None):
                # The service's budget is spent (or it is down for a while): no request of
                # this budget, in any process, goes before it said.
                self.pacer.hold(self.clock() + pause)
            retryable = status == 429 or (status >= 500 and safe_to_repeat)
            if retryable and not last and pause <= self._room(spent):
                spent += self._wait(pause)
                continue
            if status == 429 or status >= 500:
                times = f" {attempt} times" if retryable and attempt > 1 else ""
                raise OutboundError(
                    f"{name} answered {status}{times}", status=status, retry_after=asked
                )
            if status >= 400:
                path = urlsplit(str(response.url)).path
                raise OutboundError(f"{name} answered {status} for {path}", status=status)
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


def _backoff(attempt: int) -> float:
    return min(2.0**attempt, 60.0)


def _retry_after(response: httpx.Response, cap: float) -> float | None:
    """The response's `Retry-After` in seconds (delay or HTTP date), at most `cap`; None
    when it gives none that can be read."""
    header = response.headers.get("Retry-After")
    if header is None:
        return None
    try:
        seconds = float(header)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(header).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), cap)
