"""Connectors: configuration, helpdesk API clients, webhook authentication and receipt.

A webhook is stored (deduplicated by its key) in the request's transaction and acknowledged;
a job to process it is queued in the same transaction. The job (`deliveries.py`, run by the job
runner) fetches the ticket whole from the helpdesk's API, maps it, and ingests it through the
ticket service in one transaction with the delivery's (and the job's) completion. A failure is
retried with backoff; a crash mid-way leaves the job to be taken again when its lease lapses.
So an acknowledged delivery is never lost, nor applied twice.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy.orm import Session

from carebase import crypto, jsonutil
from carebase.auth import ratelimit
from carebase.auth.secrets import hash_token
from carebase.connectors import repository
from carebase.connectors.kinds import KINDS, Kind
from carebase.connectors.mapping import MappingError
from carebase.connectors.zendesk import verify_signature
from carebase.datasets import service as datasets
from carebase.db.session import Database
from carebase.errors import (
    CarebaseError,
    MalformedJSON,
    NotFound,
    RateLimited,
    ServiceUnavailable,
    ValidationFailed,
    WebhookUnauthenticated,
    problem,
)
from carebase.http.outbound import HelpdeskClient, OutboundError, Pacing, Sleep
from carebase.ids import new_id
from carebase.ingest import service as ingest
from carebase.kit import jobs, pagination
from carebase.kit.pacing import SharedPacer
from carebase.models import Connector, utcnow
from carebase.settings import RateLimit, Settings

SECRET_HEADER = "x-carebase-webhook-secret"  # noqa: S105 - a header name, not a secret
# Processing one stored delivery: 8 attempts, 1 min doubling to at most 1 h apart.
WEBHOOK_DELIVERY = jobs.JobSpec(
    "webhook_delivery", jobs.RetryPolicy(max_attempts=8, first_seconds=60, max_seconds=3600)
)


# A delivery's fetch waits in place at most this long (a pacing slot, a short Retry-After);
# a longer wait defers or schedules the job instead of holding a worker thread. Once its first
# request is sent, a later one of the same fetch waits up to STARTED_SLOT_WAIT for its slot.
IN_PLACE_WAIT = 1.0
STARTED_SLOT_WAIT = 30.0


@dataclass(slots=True)
class ClientOptions:
    """How connectors reach helpdesks and tell the time: the real network, waits and clock
    by default; tests inject fakes."""

    # None: really wait, ending early when the client is stopped (a worker shutting down).
    sleep: Sleep | None = None
    # What `sleep` advances: pacing is measured on it. Wall-clock seconds, because the pacing
    # of webhook fetches is shared through the database by every process.
    timer: Callable[[], float] = time.time
    transport: httpx.BaseTransport | None = None
    clock: Callable[[], datetime] = utcnow


def kind_of(name: str) -> Kind:
    """A helpdesk kind, or a 422 naming the field."""
    if name not in KINDS:
        raise ValidationFailed(details=[problem("kind", "must be one of " + ", ".join(KINDS))])
    return KINDS[name]


def create_connector(
    session: Session,
    *,
    kind: str,
    name: str,
    domain: str,
    dataset_id: str,
    credentials: Mapping[str, str],
    signing_secret: str | None,
    settings: Settings,
    now: datetime,
) -> tuple[Connector, str | None]:
    """Create a connector; (connector, the webhook secret carebase generated, shown once)."""
    helpdesk = kind_of(kind)
    missing = [f for f in helpdesk.credential_fields if not str(credentials.get(f) or "").strip()]
    if missing:
        raise ValidationFailed(
            details=[problem(f"credentials.{f}", "is required") for f in missing]
        )
    unknown = sorted(set(credentials) - set(helpdesk.credential_fields))
    if unknown:
        raise ValidationFailed(
            details=[problem(f"credentials.{f}", "is not used by " + kind) for f in unknown]
        )
    if helpdesk.signed and not (signing_secret or "").strip():
        raise ValidationFailed(
            details=[
                problem(
                    "signing_secret", "Zendesk signs webhooks: give the webhook's signing secret"
                )
            ]
        )
    dataset = datasets.get_dataset(session, dataset_id)
    if dataset.record_type != "customer_support_ticket":
        raise ValidationFailed(
            details=[problem("dataset_id", "must be a customer_support_ticket dataset")]
        )
    key = settings.secret_key.get_secret_value()
    generated = None if helpdesk.signed else "cbw_" + secrets.token_urlsafe(30)
    connector = Connector(
        id=new_id("con"),
        kind=kind,
        name=name.strip(),
        base_url=helpdesk.base_url(domain),
        dataset_id=dataset_id,
        credentials=crypto.encrypt(
            key, orjson.dumps({k: credentials[k] for k in helpdesk.credential_fields})
        ),
        signing_secret=crypto.encrypt(key, signing_secret.encode()) if signing_secret else None,
        webhook_secret_hash=hash_token(generated) if generated else None,
        backfill_state=None,
        created_at=now,
    )
    repository.add_connector(session, connector)
    return connector, generated


def get_connector(session: Session, connector_id: str) -> Connector:
    """One connector, or NotFound."""
    connector = repository.get_connector(session, connector_id)
    if connector is None:
        raise NotFound(f"No connector with id {connector_id!r}.")
    return connector


def list_connectors(session: Session) -> list[Connector]:
    """Every connector."""
    return list(repository.list_connectors(session))


def delete_connector(session: Session, connector_id: str) -> None:
    """Delete a connector and its deliveries (the tickets it brought stay)."""
    if not repository.delete_connector(session, connector_id):
        raise NotFound(f"No connector with id {connector_id!r}.")


def delivery_counts(session: Session, connector_id: str) -> dict[str, int]:
    """{status: count} of a connector's deliveries."""
    return repository.delivery_counts(session, connector_id)


def deliveries(
    session: Session, connector_id: str, status: str | None, *, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """A page of a connector's deliveries, most recent first, and the next page's cursor."""
    get_connector(session, connector_id)
    after = pagination.decode(cursor, datetime, str) if cursor else None
    rows = repository.deliveries_page(session, connector_id, status, after, limit + 1)
    return pagination.split(rows, limit, lambda row: pagination.encode(row.received_at, row.id))


def open_client(
    connector: Connector,
    settings: Settings,
    options: ClientOptions,
    *,
    database: Database | None = None,
    backfill: bool = False,
    stop: threading.Event | None = None,
    pacing: Pacing | None = None,
) -> HelpdeskClient:
    """An API client for the connector's helpdesk, with its credentials decrypted; given the
    database, its requests book slots in the connector's budget shared by every process.

    A backfill's client waits in place for as long as the helpdesk asks. Any other (a
    delivery's) waits at most IN_PLACE_WAIT per request (STARTED_SLOT_WAIT for the pacing
    slot of a request after its first): beyond that it raises, carrying when to try again,
    for the job runner to schedule; and its waits end when `stop` is set."""
    helpdesk = KINDS[connector.kind]
    try:
        credentials = orjson.loads(
            crypto.decrypt(settings.secret_key.get_secret_value(), connector.credentials)
        )
    except crypto.CannotDecrypt as error:
        raise OutboundError(
            "the connector's credentials cannot be decrypted: CAREBASE_SECRET_KEY changed; "
            "create the connector again"
        ) from error
    return HelpdeskClient(
        connector.base_url,
        auth=helpdesk.auth(credentials),
        pacing=pacing or (helpdesk.backfill_pacing if backfill else helpdesk.pacing),
        allow_private=settings.allow_private_outbound,
        # Webhook fetches of one connector share its budget across deliveries, workers and
        # machines; a backfill (its own endpoint limits) paces itself.
        pacer=(
            SharedPacer(database, f"helpdesk:{connector.id}", helpdesk.pacing)
            if database is not None and not backfill
            else None
        ),
        transport=options.transport,
        sleep=options.sleep,
        clock=options.timer,
        wait_limit=None if backfill else IN_PLACE_WAIT,
        started_wait_limit=None if backfill else STARTED_SLOT_WAIT,
        stop=stop,
    )


@dataclass(slots=True)
class Receipt:
    """What a webhook call was answered."""

    delivery_id: str
    ticket_id: str
    duplicate: bool


def count_webhook_call(
    database: Database, connector: Connector, settings: Settings, now: datetime
) -> None:
    """Count a webhook call against the connector's limit; RateLimited (429) when over."""
    with database.counters() as counters:
        decision = ratelimit.check(
            counters,
            f"webhook:{connector.id}",
            RateLimit.parse(settings.webhook_rate_limit),
            now.timestamp(),
        )
    if decision is not None and not decision.allowed:
        raise RateLimited(
            f"More than {decision.limit} webhook calls in {decision.period_seconds} s for this "
            f"connector; retry in {decision.retry_after_seconds} s.",
            headers=decision.headers(),
        )


def authenticate_webhook(
    connector: Connector, headers: Mapping[str, str], body: bytes, settings: Settings, now: datetime
) -> None:
    """Raise WebhookUnauthenticated (401) unless the delivery proves it comes from the helpdesk."""
    if connector.signing_secret is not None:
        try:
            secret = crypto.decrypt(
                settings.secret_key.get_secret_value(), connector.signing_secret
            )
        except crypto.CannotDecrypt as error:
            raise ServiceUnavailable(
                "The connector's signing secret cannot be read: CAREBASE_SECRET_KEY changed "
                "since it was created. Create the connector again."
            ) from error
        problem = verify_signature(
            secret.decode("utf-8"),
            headers.get("x-zendesk-webhook-signature"),
            headers.get("x-zendesk-webhook-signature-timestamp"),
            body,
            now=now,
            tolerance=timedelta(seconds=settings.webhook_tolerance_seconds),
        )
        if problem is not None:
            raise WebhookUnauthenticated(f"Webhook signature rejected: {problem}.")
        return
    offered = headers.get(SECRET_HEADER) or _basic_password(headers.get("authorization"))
    expected = connector.webhook_secret_hash or ""
    if not offered or not secrets.compare_digest(hash_token(offered), expected):
        raise WebhookUnauthenticated(
            f"Webhook secret missing or wrong: send it in {SECRET_HEADER} or as the Basic "
            "auth password."
        )


def _basic_password(header: str | None) -> str | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.split(":", 1)[1] if ":" in decoded else None


def receive_webhook(
    session: Session, connector: Connector, body: bytes, *, now: datetime
) -> Receipt:
    """Store an authenticated delivery (once per key) and queue the job that processes it, in
    the caller's transaction; processing follows the answer."""
    jsonutil.check_value_count(body)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedJSON(details={"position": error.pos}) from error
    try:
        event = KINDS[connector.kind].parse_webhook(payload, body)
    except MappingError as error:
        raise ValidationFailed(
            f"The webhook body cannot be mapped: {error}.",
            details=[problem("body", str(error))],
        ) from error
    delivery_id, added = repository.add_delivery(
        session,
        {
            "id": new_id("dlv"),
            "connector_id": connector.id,
            "delivery_key": event.delivery_key,
            "ticket_id": event.ticket_id[:255],
            "event_type": event.event_type,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "received_at": now,
            "processed_at": None,
            "log_id": None,
            "error": None,
        },
    )
    if not added and not event.delivery_key.startswith("event:"):
        # Only Zendesk's event webhooks carry an id of the event itself. Other bodies are
        # keyed by their content, and a template body ({"ticket_id": …}) is the same for
        # every change of a ticket: it collapses with a twin still waiting, but once that
        # one has been processed it announces a new change, and is taken in hand again.
        added = repository.rearm_delivery(session, delivery_id, now)
    if added:
        jobs.enqueue(
            session,
            WEBHOOK_DELIVERY,
            {"delivery_id": delivery_id},
            now=now,
            # One helpdesk's deliveries take at most half of a worker's threads.
            concurrency_key=f"connector:{connector.id}",
        )
    return Receipt(delivery_id, event.ticket_id, duplicate=not added)


def refuse_webhook(
    session: Session, connector: Connector, error: CarebaseError, *, now: datetime, started: float
) -> None:
    """Record a refused webhook in the connector's dataset log."""
    dataset = datasets.get_dataset(session, connector.dataset_id)
    ingest.log_refusal(
        session,
        dataset,
        error,
        token_id=None,
        source=f"webhook:{connector.kind}",
        now=now,
        started=started,
    )


def describe_secret_use(kind: str) -> dict[str, Any]:
    """How a helpdesk's webhook authenticates, for the API answer."""
    if KINDS[kind].signed:
        return {"signature": "X-Zendesk-Webhook-Signature (HMAC-SHA256 of timestamp + body)"}
    return {"header": SECRET_HEADER, "or": "Basic auth with the secret as password"}
