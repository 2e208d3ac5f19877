"""Sending one reply, as a job (`inbox_reply_send`, payload {response_id}): read the reply in a
short transaction, post it through its mention's channel with no transaction open, then
record it sent and the mention responded in one transaction with the job's completion.

A failure another attempt may fix (an outage, a 429) is retried with the policy's backoff (or
the channel's Retry-After when longer); one no retry fixes, or the last attempt's, ends the
reply `failed` with the reason and leaves the mention in progress, so its author can edit and
submit it again. A crash after the channel accepted the reply and before the commit sends it
again on the next attempt: the webhook carries the reply's id for receivers to deduplicate.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from carebase.connectors.service import ClientOptions
from carebase.db.session import Database
from carebase.inbox import mentions, reply_channels
from carebase.inbox import replies_repository as repository
from carebase.inbox.workflow import Actor
from carebase.kit.jobs import (
    Failure,
    GiveUp,
    JobContext,
    JobKind,
    JobSpec,
    RetryLater,
    RetryPolicy,
    enqueue,
)
from carebase.kit.jobs.runner import GIVEN_BACK
from carebase.settings import Settings

SEND = JobSpec(
    "inbox_reply_send", RetryPolicy(max_attempts=5, first_seconds=30.0, max_seconds=1800.0)
)
MAX_ERROR = 2000


class Delivered(Protocol):
    """What a channel answers for a posted reply: its id there."""

    @property
    def external_id(self) -> str: ...


class Deliver(Protocol):
    """Posts one reply, as inbox/reply_channels.deliver does: raises ReplyFailed (or any
    exception carrying `retryable` and `retry_after`: a test's channel) when it cannot."""

    def __call__(
        self,
        database: Database,
        response_id: str,
        *,
        settings: Settings,
        options: ClientOptions | None = None,
        now: datetime,
        stop: threading.Event | None = None,
    ) -> Delivered: ...


def dedupe_key(response_id: str) -> str:
    """The key that keeps one live send job per reply."""
    return f"reply_send:{response_id}"


def queue_send(session: Session, response_id: str, *, now: datetime) -> str:
    """Queue the reply's send job in the caller's transaction; its id."""
    job_id, _ = enqueue(
        session,
        SEND,
        {"response_id": response_id},
        now=now,
        dedupe_key=dedupe_key(response_id),
        concurrency_key="inbox_reply_send",
    )
    return job_id


def job_kind(
    settings: Settings, options: ClientOptions | None = None, *, deliver: Deliver | None = None
) -> JobKind:
    """The `inbox_reply_send` job kind, bound to this process's settings (tests may pass the
    channel: a loopback receiver's)."""
    client_options = options or ClientOptions()

    def handle(context: JobContext) -> dict[str, Any] | None:
        return send(context, settings, client_options, deliver or reply_channels.deliver)

    return JobKind(SEND, handle, on_failure=_mirror_failure)


def send(
    context: JobContext, settings: Settings, options: ClientOptions, deliver: Deliver
) -> dict[str, Any] | None:
    """One attempt at sending a reply."""
    database = context.database
    response_id = str(context.payload["response_id"])
    with database.unit_of_work() as session:
        response = repository.lock(session, response_id)
        if response is None or response.status != "sending" or response.private:
            # Discarded meanwhile, or recorded by an attempt whose job update was lost.
            outcome = "gone" if response is None else response.status
            context.complete(session, {"reply": outcome})
            return None
    context.check()
    try:
        with context.waiting_elsewhere():
            delivered = deliver(
                database,
                response_id,
                settings=settings,
                options=options,
                now=context.clock(),
                stop=context.interrupted,
            )
    except Exception as error:
        retryable = getattr(error, "retryable", None)
        if retryable is None:
            raise
        message = str(getattr(error, "message", None) or error)[:MAX_ERROR]
        if not retryable:
            raise GiveUp(message) from error
        raise RetryLater(message, after=getattr(error, "retry_after", None)) from error
    with database.unit_of_work() as session:
        now = context.clock()
        mention_id = repository.mention_id_of(session, response_id)
        mention = mentions.lock_mention(session, mention_id) if mention_id else None
        response = repository.lock(session, response_id)
        if mention is None or response is None or response.status != "sending":
            context.complete(session, {"reply": "gone" if response is None else response.status})
            return None
        repository.set_fields(
            session,
            response_id,
            status="sent",
            sent_at=now,
            external_id=delivered.external_id[:200],
            origin_key=mention.origin_key[:40],
            error=None,
            updated_at=now,
        )
        response = repository.lock(session, response_id)
        assert response is not None
        actor = Actor.user(response.author_id) if response.author_id else Actor.system("reply")
        mentions.mark_responded(session, mention, response, actor, now)
        if response.case_id is None and mention.case_id is not None:
            # The first response opens the mention's case: the reply belongs to it.
            repository.set_fields(session, response_id, case_id=mention.case_id)
        result = {"reply": "sent", "external_id": response.external_id}
        context.complete(session, result)
        return result


def _mirror_failure(session: Session, payload: dict[str, Any], failure: Failure) -> None:
    """The reply follows its job: `failed` with the reason when the job ends so (the mention
    stays in progress); while it will be retried it shows the error and stays `sending`."""
    if failure.error == GIVEN_BACK:
        return
    response_id = str(payload["response_id"])
    response = repository.lock(session, response_id)
    if response is None or response.status != "sending":
        return
    if failure.final:
        repository.set_fields(
            session,
            response_id,
            status="failed",
            error=failure.error[:MAX_ERROR],
            updated_at=failure.at,
        )
    else:
        repository.set_fields(session, response_id, error=f"retrying: {failure.error}"[:MAX_ERROR])
