"""Posting one approved reply where its mention came from.

A helpdesk-origin mention (zendesk, gorgias, freshdesk) gets the reply as a PUBLIC comment on
its ticket, through its connector's credentials and request budget (pacing, 429 and
Retry-After); an API-origin mention's reply goes to the signed webhook destination named by
InboxSettings.reply_destination_id. What is needed is read in one short read-only
transaction; the network call happens after it ends (no transaction is held while waiting on
a remote service). The caller (the `inbox_reply_send` job) records the result.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from carebase import crypto
from carebase.activation import service as destinations
from carebase.activation.webhook import PACING as WEBHOOK_PACING
from carebase.activation.webhook_signing import SigningTransport
from carebase.connectors import replies as posting
from carebase.connectors.kinds import KINDS
from carebase.connectors.service import ClientOptions, get_connector, open_client
from carebase.db.session import Database
from carebase.errors import NotFound
from carebase.http.outbound import (
    OutboundClient,
    OutboundDeferred,
    OutboundError,
    OutboundInterrupted,
    OutboundRefused,
)
from carebase.inbox import helpdesk_repository as repository
from carebase.kit.pacing import SharedPacer
from carebase.models import Connector
from carebase.settings import Settings

# The reply webhook's request carries this id on every retry: receivers deduplicate by it.
REPLY_ID_HEADER = "X-Carebase-Reply-Id"
# One reply waits in place (pacing, backoff, Retry-After) at most this long before the job
# is rescheduled instead.
WEBHOOK_WAIT_LIMIT = 30.0


class ReplyFailed(Exception):
    """A reply could not be posted. `retryable`: another attempt may succeed (an outage, a
    429, a budget with no slot now; `retry_after` seconds, when known); otherwise it never
    will (no channel, a refusal, the ticket gone)."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """Where a reply went and its id there: the helpdesk comment's (message's, conversation's)
    id, or for the webhook the id the receiver answered with (else the response's id)."""

    channel: str  # zendesk | gorgias | freshdesk | webhook
    external_id: str


@dataclass(frozen=True, slots=True)
class _Helpdesk:
    connector: Connector
    target: posting.ReplyTarget
    body: str


@dataclass(frozen=True, slots=True)
class _Webhook:
    url: str
    secret: str
    destination_id: str
    payload: dict[str, Any]


def deliver(
    database: Database,
    response_id: str,
    *,
    settings: Settings,
    options: ClientOptions | None = None,
    now: datetime,
    stop: threading.Event | None = None,
) -> DeliveryResult:
    """Post one response (not private) to its mention's channel; the remote id, or
    ReplyFailed. Never holds a transaction during network I/O."""
    options = options or ClientOptions()
    plan = _plan(database, response_id, settings, now)
    try:
        if isinstance(plan, _Helpdesk):
            return _post_to_helpdesk(database, plan, settings, options, stop)
        return _post_to_webhook(database, plan, settings, options, stop, response_id)
    except OutboundDeferred as deferred:
        raise ReplyFailed(str(deferred), retryable=True, retry_after=deferred.retry_after) from None
    except OutboundRefused as refused:
        raise ReplyFailed(str(refused), retryable=False) from None
    except OutboundInterrupted as interrupted:
        raise ReplyFailed(str(interrupted), retryable=True) from None
    except OutboundError as error:
        # 429 and 5xx (and no answer at all) may succeed later; another 4xx never will.
        retryable = error.status is None or error.status == 429 or error.status >= 500
        raise ReplyFailed(str(error), retryable=retryable, retry_after=error.retry_after) from None


def _plan(database: Database, response_id: str, settings: Settings, now: datetime) -> Any:
    """What to post where, read in one read-only transaction."""
    with database.unit_of_work(write=False) as session:
        response = repository.get_response(session, response_id)
        if response is None:
            raise ReplyFailed(f"no response {response_id}", retryable=False)
        if response.private:
            raise ReplyFailed("a private note is never delivered", retryable=False)
        mention = repository.get_mention(session, response.mention_id)
        if mention is None:  # pragma: no cover - the foreign key cascades
            raise ReplyFailed(f"no mention {response.mention_id}", retryable=False)
        if mention.origin in KINDS:
            if not mention.conversation_ref:
                raise ReplyFailed("the mention names no helpdesk ticket", retryable=False)
            try:
                connector = get_connector(session, mention.origin_key)
            except NotFound:
                raise ReplyFailed(
                    "the mention's connector was deleted: the reply cannot be posted",
                    retryable=False,
                ) from None
            session.expunge(connector)
            author_key = mention.author_key or ""
            target = posting.ReplyTarget(
                ticket_id=mention.conversation_ref,
                customer_ref=author_key.rsplit("_", 1)[-1] if author_key else None,
                channel=mention.source_type,
                sender_email=_credential(connector, settings, "username"),
            )
            return _Helpdesk(connector, target, response.body)
        if mention.origin != "api":
            raise ReplyFailed(
                f"a {mention.origin} mention has no channel to reply through", retryable=False
            )
        destination = repository.reply_destination(session)
        if destination is None or destination.kind != "webhook":
            raise ReplyFailed(
                "no reply webhook: set the inbox settings' reply destination to a webhook "
                "destination",
                retryable=False,
            )
        try:
            secret = destinations.decrypt_secrets(settings, destination.secrets)
        except crypto.CannotDecrypt:
            raise ReplyFailed(
                "the reply destination's secret cannot be read: CAREBASE_SECRET_KEY changed",
                retryable=False,
            ) from None
        author = repository.get_user(session, response.author_id) if response.author_id else None
        payload = {
            "type": "inbox.reply",
            "response_id": response.id,
            "mention_id": mention.id,
            "dataset_id": mention.origin_key,
            "mention_external_id": mention.external_id,
            "conversation_ref": mention.conversation_ref,
            "thread_key": mention.thread_key,
            "profile_id": mention.profile_id,
            "author": {
                "user_id": response.author_id,
                "name": f"{author.first_name} {author.last_name}".strip()
                if author
                else response.agent_name,
            },
            "body": response.body,
            "sent_at": now.isoformat(),
        }
        return _Webhook(
            str(destination.config["url"]),
            secret.get("signing_secret", ""),
            destination.id,
            payload,
        )


def _credential(connector: Connector, settings: Settings, field: str) -> str | None:
    """One of the connector's credentials (Gorgias's account user, the message's sender)."""
    try:
        values = orjson.loads(
            crypto.decrypt(settings.secret_key.get_secret_value(), connector.credentials)
        )
    except crypto.CannotDecrypt:
        return None
    value = values.get(field)
    return str(value) if value else None


def _post_to_helpdesk(
    database: Database,
    plan: _Helpdesk,
    settings: Settings,
    options: ClientOptions,
    stop: threading.Event | None,
) -> DeliveryResult:
    kind = plan.connector.kind
    with open_client(plan.connector, settings, options, database=database, stop=stop) as client:
        external_id = posting.POSTERS[kind](client, plan.target, plan.body)
    return DeliveryResult(kind, external_id)


def _post_to_webhook(
    database: Database,
    plan: _Webhook,
    settings: Settings,
    options: ClientOptions,
    stop: threading.Event | None,
    response_id: str,
) -> DeliveryResult:
    if not plan.secret:
        raise ReplyFailed("the reply destination has no signing secret", retryable=False)
    allow_private = settings.allow_private_outbound
    if urlsplit(plan.url).scheme != "https" and not allow_private:
        raise ReplyFailed("webhooks are posted over https only", retryable=False)
    transport = SigningTransport(plan.secret, options.timer, options.transport)
    client = OutboundClient(
        plan.url,
        auth=None,
        pacing=WEBHOOK_PACING,
        allow_private=allow_private,
        pacer=SharedPacer(database, f"destination:{plan.destination_id}", WEBHOOK_PACING),
        transport=transport,
        sleep=options.sleep,
        clock=options.timer,
        wait_limit=WEBHOOK_WAIT_LIMIT,
        stop=stop,
        service="the reply webhook",
        headers={"User-Agent": "carebase-webhook"},
    )
    try:
        response = client.request(
            "POST",
            plan.url,
            json=plan.payload,
            headers={REPLY_ID_HEADER: response_id},
            # The reply id header lets the receiver drop a repeat.
            idempotent=True,
        )
    except OutboundError as error:
        if transport.refusal and error.status is not None and 400 <= error.status < 500:
            raise OutboundError(f"{error}: {transport.refusal}", status=error.status) from None
        raise
    finally:
        client.close()
    external_id = response_id
    try:
        answer = response.json() if response.content else None
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("id"), str | int) and answer["id"]:
        external_id = str(answer["id"])[:200]
    return DeliveryResult("webhook", external_id)
