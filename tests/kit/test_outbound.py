"""Outbound HTTP: writes against a loopback server (retried only when that cannot apply them
twice), the private-address guard, helpdesk budgets shared by every process, and a client
that tells its caller when to try again instead of waiting."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from carebase.db.session import Database
from carebase.http.outbound import (
    UNREACHABLE_HOLD,
    OutboundClient,
    OutboundDeferred,
    OutboundError,
    OutboundInterrupted,
    OutboundRefused,
    Pacer,
    Pacing,
)
from carebase.kit.pacing import SharedPacer
from carebase.settings import Settings
from tests.pg import free_port


@dataclass
class Destination:
    """A loopback API: records each call; answers `failures` first, then 200 with an id."""

    url: str = ""
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    failures: list[tuple[int, str | None]] = field(default_factory=list)


@contextmanager
def destination() -> Iterator[Destination]:
    state = Destination()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = orjson.loads(self.rfile.read(length)) if length else None
            state.calls.append((self.command, self.path, body))
            status, retry_after = state.failures.pop(0) if state.failures else (200, None)
            payload = orjson.dumps({"id": len(state.calls), "echo": body})
            self.send_response(status)
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = do_PUT = do_GET = _answer  # noqa: N815

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def client(url: str, sleeps: list[float]) -> OutboundClient:
    return OutboundClient(
        url,
        auth=("u", "p"),
        pacing=Pacing(1000, 1),
        allow_private=True,
        sleep=sleeps.append,
        service="destination",
    )


def test_post_and_put_send_json_and_read_the_answer() -> None:
    sleeps: list[float] = []
    with destination() as api, client(api.url, sleeps) as outbound:
        created = outbound.post_json("/api/v2/users", {"user": {"email": "a@b.co"}})
        updated = outbound.put_json("/api/v2/users/1", {"user": {"name": "A"}})
    assert created == {"id": 1, "echo": {"user": {"email": "a@b.co"}}}
    assert updated["id"] == 2
    assert [(m, p) for m, p, _ in api.calls] == [
        ("POST", "/api/v2/users"),
        ("PUT", "/api/v2/users/1"),
    ]


def test_a_refused_write_is_retried_but_a_failed_post_is_not_repeated() -> None:
    sleeps: list[float] = []
    with destination() as api, client(api.url, sleeps) as outbound:
        api.failures = [(429, "7")]
        assert outbound.post_json("/users", {"n": 1})["id"] == 2, "a 429 applied nothing"
        assert 7.0 in sleeps
        api.failures = [(500, None)]
        with pytest.raises(OutboundError) as failed:
            outbound.post_json("/users", {"n": 2})
        assert failed.value.status == 500
        assert len(api.calls) == 3, "the 500 may have been applied: not sent again"
        api.failures = [(502, None)]
        assert outbound.put_json("/users/1", {"n": 3})["id"] == 5, "a PUT is repeatable"
        api.failures = [(503, None)]
        outbound.post_json("/users", {"n": 4}, idempotent=True, headers={"Idempotency-Key": "k"})
        assert len(api.calls) == 7


def test_writes_to_private_addresses_are_refused_unless_allowed() -> None:
    for url in ("https://127.0.0.1:9/hook", "https://10.0.0.8/hook", "https://[::1]/hook"):
        with pytest.raises(OutboundRefused, match="non-public address"):
            OutboundClient(url, auth=None, pacing=Pacing(1, 1), allow_private=False)
    with pytest.raises(OutboundRefused, match="https only"):
        OutboundClient("http://example.com", auth=None, pacing=Pacing(1, 1), allow_private=False)
    sleeps: list[float] = []
    with destination() as api, client(api.url, sleeps) as outbound:
        with pytest.raises(OutboundRefused):
            outbound.request("POST", "https://evil.example/steal", json={})
        assert api.calls == []


def test_two_processes_share_one_helpdesk_budget(settings: Settings) -> None:
    # Two Database instances on one database are what two processes are.
    first, second = Database.from_settings(settings), Database.from_settings(settings)
    pacing = Pacing(requests=4, seconds=2)  # one every 0.5 s
    a = SharedPacer(first, "helpdesk:con_1", pacing)
    b = SharedPacer(second, "helpdesk:con_1", pacing)
    other = SharedPacer(second, "helpdesk:con_2", pacing)
    try:
        assert a.reserve(10.0) == 0.0
        assert b.reserve(10.0) == 0.5, "the other process waits its turn"
        assert a.reserve(10.2) == pytest.approx(0.8)
        assert other.reserve(10.2) == 0.0, "another connector has its own budget"
        assert b.reserve(20.0) == 0.0, "an idle budget refills"
        waits: list[float] = []
        lock = threading.Lock()

        def book(pacer: SharedPacer) -> None:
            for _ in range(10):
                wait = pacer.reserve(100.0)
                with lock:
                    waits.append(wait)

        threads = [threading.Thread(target=book, args=(p,)) for p in (a, b, a, b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(waits) == pytest.approx([n * 0.5 for n in range(40)]), "no slot twice"
    finally:
        first.dispose()
        second.dispose()


def test_a_client_with_a_wait_limit_raises_when_to_retry_instead_of_waiting() -> None:
    sleeps: list[float] = []
    with destination() as api:
        outbound = OutboundClient(
            api.url,
            auth=None,
            pacing=Pacing(1, 10),  # one request every 10 s
            allow_private=True,
            sleep=sleeps.append,
            wait_limit=1.0,
        )
        with outbound:
            outbound.get_json("/a")
            with pytest.raises(OutboundDeferred) as deferred:
                outbound.get_json("/b")
            assert 9 < (deferred.value.retry_after or 0) <= 10
            assert len(api.calls) == 1, "nothing was sent"
        sleeps.clear()
        pacer = Pacer(Pacing(1000, 1))
        outbound = OutboundClient(
            api.url,
            auth=None,
            pacing=pacer.pacing,
            pacer=pacer,
            allow_private=True,
            sleep=sleeps.append,
            wait_limit=1.0,
        )
        with outbound:
            api.failures = [(429, "30")]
            with pytest.raises(OutboundError) as limited:
                outbound.get_json("/c")
            assert (limited.value.status, limited.value.retry_after) == (429, 30.0)
            assert sleeps == [], "the Retry-After is the caller's to schedule"
            with pytest.raises(OutboundDeferred) as held:
                outbound.get_json("/d")
            assert 29 < (held.value.retry_after or 0) <= 30, "the 429 holds the budget"
            assert len(api.calls) == 2
    assert sleeps == []


def test_a_short_retry_after_waits_in_place_and_a_refused_connection_holds_the_budget() -> None:
    sleeps: list[float] = []
    now = [100.0]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    pacer = Pacer(Pacing(1000, 1))
    with destination() as api:
        outbound = OutboundClient(
            api.url,
            auth=None,
            pacing=pacer.pacing,
            pacer=pacer,
            allow_private=True,
            sleep=sleep,
            clock=lambda: now[0],
            wait_limit=1.0,
        )
        with outbound:
            api.failures = [(503, "1")]
            assert outbound.get_json("/a")["id"] == 2
        assert sleeps == [1.0]
    now[0] += 10
    closed = OutboundClient(
        f"http://127.0.0.1:{free_port()}",
        auth=None,
        pacing=pacer.pacing,
        pacer=pacer,
        allow_private=True,
        sleep=sleep,
        clock=lambda: now[0],
        wait_limit=1.0,
        service="Freshdesk",
    )
    with closed, pytest.raises(OutboundError, match="Freshdesk unreachable") as failed:
        closed.get_json("/tickets/1")
    assert failed.value.retry_after is None, "the job's backoff decides"
    assert sleeps == [1.0], "a refused connection is not retried in place"
    assert pacer.reserve(now[0], max_wait=1.0) == UNREACHABLE_HOLD, "nor tried by the others"


def test_a_stopped_client_ends_its_wait_at_once() -> None:
    stop = threading.Event()
    with destination() as api:
        outbound = OutboundClient(
            api.url, auth=None, pacing=Pacing(1, 60), allow_private=True, stop=stop
        )
        with outbound:
            outbound.get_json("/a")
            threading.Timer(0.1, stop.set).start()
            started = time.monotonic()
            with pytest.raises(OutboundInterrupted):
                outbound.get_json("/b")  # its slot is a minute away
            assert time.monotonic() - started < 1.0
    assert len(api.calls) == 1


def test_a_shared_budget_books_nothing_beyond_the_wait_allowed_and_can_be_held(
    settings: Settings,
) -> None:
    first, second = Database.from_settings(settings), Database.from_settings(settings)
    pacing = Pacing(requests=4, seconds=2)  # one every 0.5 s
    a = SharedPacer(first, "helpdesk:con_1", pacing)
    b = SharedPacer(second, "helpdesk:con_1", pacing)
    try:
        assert a.reserve(10.0, max_wait=0.2) == 0.0
        assert a.reserve(10.0, max_wait=0.2) == 0.5, "too far: told, not booked"
        assert b.reserve(10.0) == 0.5, "so the slot is still free"
        b.hold(40.0)
        assert a.reserve(20.0, max_wait=1.0) == 20.0, "held by the other process"
        b.hold(30.0)
        assert a.reserve(40.0, max_wait=1.0) == 0.0, "a shorter hold does not shorten it"
        assert SharedPacer(first, "helpdesk:con_2", pacing).reserve(20.0, max_wait=0) == 0.0
    finally:
        first.dispose()
        second.dispose()


def test_a_started_call_waits_for_its_later_slots_rather_than_waste_its_first_requests() -> None:
    """A fetch of several requests (a Freshdesk ticket is four) on a budget other workers
    share: deferring its second request would throw the first away, and under steady sharing
    no such fetch would ever finish; so a later request waits for its slot in place."""
    sleeps: list[float] = []
    pacer = Pacer(Pacing(1, 2))  # one request every 2 s

    def client_on_the_budget(api: Destination) -> OutboundClient:
        return OutboundClient(
            api.url,
            auth=None,
            pacing=pacer.pacing,
            pacer=pacer,
            allow_private=True,
            sleep=sleeps.append,
            clock=lambda: 100.0,
            wait_limit=1.0,
            started_wait_limit=30.0,
        )

    with destination() as api:
        with client_on_the_budget(api) as fetch:
            fetch.get_json("/tickets/1")
            fetch.get_json("/tickets/1/conversations")
        assert sleeps == [2.0]
        with client_on_the_budget(api) as another, pytest.raises(OutboundDeferred):
            another.get_json("/tickets/2")  # nothing sent yet: deferred, not waited for
        assert len(api.calls) == 2
