"""A webhook receiver on 127.0.0.1, as a customer would write one from docs/destinations-webhook.md:
it verifies each request's signature (its own HMAC code, not carebase's: 401 when it does not
match or is stale), records batches, deduplicates them by `X-Carebase-Batch-Id` (counting
repeats), and fails on demand: a status some number of times (with a message or a
`Retry-After`), after recording or before, and per-record rejections."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/hooks/carebase"


@dataclass
class Delivery:
    """One accepted request: its headers, raw body and decoded batch."""

    headers: dict[str, str]
    body: bytes
    batch: dict[str, Any]

    @property
    def batch_id(self) -> str:
        """The `X-Carebase-Batch-Id` header."""
        return self.headers["x-carebase-batch-id"]


@dataclass
class Failure:
    """An answer given instead of the normal one; `after_recording`: the batch is recorded
    first (the receiver applied it, then its answer was lost)."""

    status: int
    message: str | None = None
    retry_after: str | None = None
    after_recording: bool = False


@dataclass
class Receiver:
    """The receiver's state; `url` once started."""

    secret: str
    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    requests: list[Delivery] = field(default_factory=list)
    duplicates: int = 0
    bad_signatures: int = 0
    rejections: dict[str, tuple[str, str]] = field(default_factory=dict)
    failures: deque[Failure] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        message: str | None = None,
        retry_after: str | None = None,
        after_recording: bool = False,
    ) -> None:
        """Answer the next `times` valid requests with `status`."""
        for _ in range(times):
            self.failures.append(Failure(status, message, retry_after, after_recording))

    def reject(self, key: str, code: str, message: str) -> None:
        """Reject this record key in every batch's answer."""
        self.rejections[key] = (code, message)

    def records(self) -> list[dict[str, Any]]:
        """Every record of every accepted batch (once per batch id)."""
        return [record for d in self.deliveries for record in d.batch["records"]]

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        """The receiver's own check: fresh timestamp, and a v1 HMAC-SHA256 that matches."""
        timestamp = headers.get("x-carebase-timestamp", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return False
        mac = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        given = [p.strip()[3:] for p in headers.get("x-carebase-signature", "").split(",")]
        return any(hmac.compare_digest(mac.hexdigest(), g) for g in given)

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """The answer to one POST: status, headers, body."""
        with self.lock:
            if not self.verify(headers, body):
                self.bad_signatures += 1
                return _json(401, {"message": "signature mismatch"})
            delivery = Delivery(headers, body, json.loads(body))
            self.requests.append(delivery)
            failure = self.failures.popleft() if self.failures else None
            if failure is not None and not failure.after_recording:
                return _failure(failure)
            if any(d.batch_id == delivery.batch_id for d in self.deliveries):
                self.duplicates += 1
            else:
                self.deliveries.append(delivery)
            if failure is not None:
                return _failure(failure)
            rejected = [
                {"key": r["key"], "code": code, "message": message}
                for r in delivery.batch["records"]
                if r["key"] in self.rejections
                for code, message in [self.rejections[r["key"]]]
            ]
            return _json(200, {"rejected": rejected} if rejected else {"ok": True})


def _json(status: int, answer: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(answer).encode()


def _failure(failure: Failure) -> tuple[int, dict[str, str], bytes]:
    status, headers, body = _json(failure.status, {"message": failure.message or "failing"})
    if failure.retry_after is not None:
        headers["Retry-After"] = failure.retry_after
    return status, headers, body


class RunningReceiver:
    """The receiver served over HTTP on a loopback port, in a thread."""

    def __init__(self, secret: str) -> None:
        self.state = Receiver(secret)
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path != PATH:
                    status, answer_headers, answer = _json(404, {"message": "no such hook"})
                else:
                    status, answer_headers, answer = state.handle(headers, body)
                self.send_response(status)
                for name, value in answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the tests assert on the recorded state

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        port = self.server.server_address[1]
        state.url = f"http://127.0.0.1:{port}{PATH}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
