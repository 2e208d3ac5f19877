"""Builders for the replies tests: a channel that posts each reply to a loopback webhook
receiver (tests/activation/receiver.py), signed, the reply's id as the batch id so the
receiver counts repeats; and a worker pass running due reply jobs in this thread."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from carebase.activation import service as destinations
from carebase.activation.schemas import DestinationIn
from carebase.activation.webhook_signing import signature, verify_signature
from carebase.connectors.service import ClientOptions
from carebase.db.session import Database
from carebase.inbox import reply_jobs
from carebase.kit.jobs import Registry, Runner, RunSummary
from carebase.models import InboxSettings, Job, MentionEvent, Response
from carebase.settings import Settings
from tests.activation.receiver import Receiver
from tests.conftest import FakeClock


class LoopbackFailed(Exception):
    """A refusal from the receiver, shaped like the channels' ReplyFailed."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.message, self.retryable, self.retry_after = message, retryable, retry_after


@dataclass(frozen=True)
class Posted:
    """The receiver's id for a reply."""

    external_id: str


class LoopbackChannel:
    """Posts a reply's id and text to the receiver, as the reply webhook does."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def __call__(
        self,
        database: Database,
        response_id: str,
        *,
        settings: Settings,
        options: ClientOptions | None = None,
        now: datetime,
        stop: threading.Event | None = None,
    ) -> Posted:
        with database.unit_of_work(write=False) as session:
            response = session.get(Response, response_id)
            assert response is not None
            assert not response.private, "a private note reached the channel"
            records = [
                {"key": response.id, "mention_id": response.mention_id, "body": response.body}
            ]
        body = orjson.dumps({"records": records})
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Carebase-Timestamp": stamp,
            "X-Carebase-Signature": signature(self.receiver.secret, stamp, body),
            "X-Carebase-Batch-Id": response_id,
        }
        answer = httpx.post(self.receiver.url, content=body, headers=headers, timeout=5)
        if answer.status_code >= 400:
            retryable = answer.status_code == 429 or answer.status_code >= 500
            raise LoopbackFailed(f"HTTP {answer.status_code}", retryable=retryable)
        return Posted(external_id=f"hook-{response_id}")


def run_replies(
    database: Database, settings: Settings, clock: FakeClock, channel: LoopbackChannel
) -> RunSummary:
    """Run every due reply job once, in this thread."""
    registry = Registry([reply_jobs.job_kind(settings, deliver=channel)])
    return Runner(database, registry, clock=clock).run_due()


def reply_jobs_of(database: Database) -> list[Any]:
    """Every inbox_reply_send job."""
    with database.unit_of_work(write=False) as session:
        return list(session.execute(select(Job).where(Job.kind == "inbox_reply_send")).all())


def events_of(
    database: Database, mention_id: str
) -> list[tuple[str, str | None, str | None, int | None]]:
    """A mention's events: (kind, from, to, acting user), in order."""
    with database.unit_of_work(write=False) as session:
        rows = session.scalars(
            select(MentionEvent)
            .where(MentionEvent.mention_id == mention_id)
            .order_by(MentionEvent.at, MentionEvent.id)
        )
        return [(e.kind, e.from_value, e.to_value, e.actor_user_id) for e in rows]


class ReplyHook:
    """A reply webhook on a loopback port, as a customer would write one for the `inbox.reply`
    payload: it checks each request's signature, records replies once by their
    `X-Carebase-Reply-Id` (counting repeats), answers with its own id, fails on demand."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.replies: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.repeats = 0
        self.failures: list[int] = []
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = hook.handle({k.lower(): v for k, v in self.headers.items()}, body)
                data = orjson.dumps(answer)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/replies"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """One POST's status and answer."""
        with self.lock:
            self.requests += 1
            genuine = verify_signature(
                self.secret,
                headers.get("x-carebase-timestamp", ""),
                body,
                headers.get("x-carebase-signature", ""),
                now=time.time(),
            )
            if not genuine:
                return 401, {"message": "bad signature"}
            if self.failures:
                return self.failures.pop(0), {"message": "failing on purpose"}
            reply_id = headers["x-carebase-reply-id"]
            if reply_id in self.replies:
                self.repeats += 1
            else:
                self.replies[reply_id] = orjson.loads(body)
            return 200, {"id": f"msg-{list(self.replies).index(reply_id) + 1}"}

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def use_reply_hook(database: Database, settings: Settings, hook: ReplyHook, now: datetime) -> str:
    """A webhook destination posting to `hook`, named in the inbox settings as the reply
    destination; its id."""
    body = DestinationIn.model_validate(
        {
            "name": "Replies",
            "kind": "webhook",
            "config": {"url": hook.url},
            "secrets": {"signing_secret": hook.secret},
        }
    )
    with database.unit_of_work() as session:
        made = destinations.create_destination(
            session, body, settings=settings, now=now, created_by="test"
        )
        row = session.get(InboxSettings, 1)
        if row is None:
            session.add(InboxSettings(id=1, reply_destination_id=made.id, updated_at=now))
        else:
            row.reply_destination_id = made.id
        return made.id


def run_real(database: Database, settings: Settings, clock: FakeClock) -> RunSummary:
    """Run every due reply job once through the real reply channels."""
    registry = Registry([reply_jobs.job_kind(settings)])
    return Runner(database, registry, clock=clock).run_due()
