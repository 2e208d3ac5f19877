"""Builders for the replies tests: a channel that posts each reply to a loopback webhook
receiver (tests/activation/receiver.py), signed, the reply's id as the batch id so the
receiver counts repeats; and a worker pass running due reply jobs in this thread."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from carebase.activation.webhook_signing import signature
from carebase.connectors.service import ClientOptions
from carebase.db.session import Database
from carebase.inbox import reply_jobs
from carebase.kit.jobs import Registry, Runner, RunSummary
from carebase.models import Job, MentionEvent, Response
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
