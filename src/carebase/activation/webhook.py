"""A webhook URL as a destination: records POSTed as JSON batches, signed.

Each batch is `{"orchestration_id", "run_id", "batch_id", "mode", "records": [{"key",
"fields"}]}` with `X-Carebase-Timestamp`, `X-Carebase-Signature` (see `webhook_signing`) and
`X-Carebase-Batch-Id` (the same on every retry of a batch: receivers deduplicate by it).
Retries go through OutboundClient: 5xx, timeouts and 429 (`Retry-After`) with backoff.

A 2xx answer delivers every record, except those the receiver lists in `{"rejected": [{"key",
"code", "message"}]}`. Another 4xx rejects the whole batch's records with the receiver's
message, except 401, 403, 404 and 410: the endpoint itself is wrong, and the run fails.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from carebase.activation.channel import (
    Channel,
    ChannelContext,
    ChannelFailed,
    CheckStep,
    DestinationKind,
    Outcome,
    OutRecord,
    Submitted,
    WrittenFile,
)
from carebase.activation.sftp_format import plain_fields
from carebase.activation.webhook_signing import (
    BATCH_HEADER,
    MESSAGE_CHARS,
    TEST_HEADER,
    SigningTransport,
    new_secret,
    verify_signature,
)
from carebase.http.outbound import (
    CONNECT_TIMEOUT,
    OutboundClient,
    OutboundDeferred,
    OutboundError,
    OutboundRefused,
    Pacing,
    check_destination,
)
from carebase.kit.pacing import SharedPacer

# A receiver is asked at most this often (every process together, per destination).
PACING = Pacing(requests=20, seconds=1.0)
# One batch waits in place (pacing, backoff, Retry-After) at most this long; beyond, the run
# fails with the receiver's Retry-After and is retried later.
WAIT_LIMIT = 120.0
# An outage without a Retry-After: the run is tried again after this long.
OUTAGE_RETRY_AFTER = 300.0
# The endpoint itself is wrong (bad secret, gone): no record of this run can be delivered.
ENDPOINT_WRONG = frozenset({401, 403, 404, 410})


class WebhookConfig(BaseModel):
    """Where batches are posted, and how many records each carries."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000)
    batch_size: int = Field(default=500, ge=1, le=10_000)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in {"https", "http"} or not parts.hostname:
            raise ValueError("an https:// URL")
        if parts.username or parts.password:
            # Config is not encrypted: a secret does not belong in the URL.
            raise ValueError("no user or password in the URL (requests are signed instead)")
        if parts.fragment:
            raise ValueError("no #fragment in the URL")
        return value.strip()


class WebhookSecrets(BaseModel):
    """The HMAC signing secret; generated (and shown once) when not given."""

    model_config = ConfigDict(extra="forbid")

    signing_secret: str | None = Field(default=None, min_length=16, max_length=500)


class WebhookChannel:
    """Posts batches of records to one URL, signed."""

    max_in_flight = 1
    whole_file = False

    def __init__(self, context: ChannelContext) -> None:
        self.context = context
        self.config = WebhookConfig.model_validate(context.config)
        self.batch_size = self.config.batch_size
        self.secret = context.secrets.get("signing_secret") or ""
        self._client: OutboundClient | None = None
        self._transport: SigningTransport | None = None

    def _refuse_scheme(self) -> None:
        if urlsplit(self.config.url).scheme != "https" and not self.context.allow_private:
            raise OutboundError("webhooks are posted over https only")

    def _open(self, *, attempts: int = 6) -> tuple[OutboundClient, SigningTransport]:
        """A client that signs with the destination's secret (refusing private addresses)."""
        if not self.secret:
            raise ChannelFailed("the destination has no signing secret")
        self._refuse_scheme()
        context = self.context
        transport = SigningTransport(self.secret, context.timer, context.transport)
        pacer = None
        if context.database is not None:
            bucket = f"destination:{context.destination_id}"
            pacer = SharedPacer(context.database, bucket, PACING)
        client = OutboundClient(
            self.config.url,
            auth=None,
            pacing=PACING,
            allow_private=context.allow_private,
            pacer=pacer,
            transport=transport,
            sleep=context.sleep,
            clock=context.timer,
            attempts=attempts,
            wait_limit=WAIT_LIMIT,
            stop=context.stop,
            service="the webhook",
            headers={"User-Agent": "carebase-webhook"},
        )
        return client, transport

    def _body(self, batch_id: str, records: Sequence[OutRecord]) -> dict[str, Any]:
        context = self.context
        return {
            "orchestration_id": context.orchestration_id,
            "run_id": context.run_id,
            "batch_id": batch_id,
            "mode": context.mode,
            "records": [{"key": r.key, "fields": plain_fields(r.fields)} for r in records],
        }

    def check(self) -> list[CheckStep]:
        """Resolve and connect to the URL's host, then post a signed, empty test batch (with
        `X-Carebase-Test: 1`) that the receiver must accept."""
        parts = urlsplit(self.config.url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        try:
            self._refuse_scheme()
            check_destination(self.config.url, allow_private=self.context.allow_private)
            if self.context.transport is None:
                socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
        except (OutboundError, OSError) as error:
            detail = str(error) if isinstance(error, OutboundError) else _os_reason(error)
            return [CheckStep("resolve and connect", False, f"{host}:{port}: {detail}")]
        steps = [CheckStep("resolve and connect", True, f"connected to {host}:{port}")]
        name = "signed test delivery accepted"
        batch_id = f"test-{uuid.uuid4().hex}"
        try:
            client, transport = self._open(attempts=1)
        except (ChannelFailed, OutboundError) as error:
            return [*steps, CheckStep(name, False, str(error))]
        try:
            response = client.request(
                "POST",
                self.config.url,
                json=self._body(batch_id, []),
                headers={BATCH_HEADER: batch_id, TEST_HEADER: "1"},
                idempotent=True,
            )
        except OutboundError as error:
            said = f": {transport.refusal}" if transport.refusal else ""
            hint = " (does it use this destination's signing secret?)"
            hint = hint if error.status in {401, 403} else ""
            return [*steps, CheckStep(name, False, f"{error}{hint}{said}")]
        finally:
            client.close()
        if not response.is_success:
            return [*steps, CheckStep(name, False, _unexpected(response))]
        return [*steps, CheckStep(name, True, f"the receiver answered {response.status_code}")]

    def prepare(self, record: OutRecord) -> dict[str, Any]:
        """The record's fields as sent (JSON values), or RecordInvalid."""
        return plain_fields(record.fields)

    def submit(self, records: Sequence[OutRecord], *, batch_id: str) -> Submitted:
        """Post one batch; an outcome per record, or ChannelFailed."""
        if self._client is None or self._transport is None:
            try:
                self._client, self._transport = self._open()
            except OutboundRefused as error:
                raise ChannelFailed(str(error)) from error
            except OutboundError as error:
                # The host did not resolve: DNS may answer later.
                raise ChannelFailed(str(error), retry_after=OUTAGE_RETRY_AFTER) from error
        client, transport = self._client, self._transport
        try:
            response = client.request(
                "POST",
                self.config.url,
                json=self._body(batch_id, records),
                headers={BATCH_HEADER: batch_id},
                # Receivers deduplicate by batch id: a repeat is harmless.
                idempotent=True,
            )
        except OutboundDeferred as error:
            raise ChannelFailed(str(error), retry_after=error.retry_after) from error
        except OutboundError as error:
            status = error.status
            said = transport.refusal or ""
            if status is not None and 400 <= status < 500 and status != 429:
                if status in ENDPOINT_WRONG:
                    raise ChannelFailed(_with(str(error), said)) from error
                message = said or f"the webhook answered {status}"
                rejected = Outcome(ok=False, error_code=f"http_{status}", message=message)
                return Submitted(outcomes=[rejected] * len(records))
            raise ChannelFailed(
                str(error), retry_after=error.retry_after or OUTAGE_RETRY_AFTER
            ) from error
        if not response.is_success:
            raise ChannelFailed(_unexpected(response))
        return Submitted(outcomes=outcomes_from(response, records))

    def poll(self, handles: Sequence[str]) -> Mapping[str, list[Outcome] | str | None]:
        """Nothing to follow: a receiver answers each batch at once."""
        return {}

    def write_file(self, records: Iterable[OutRecord]) -> WrittenFile:
        """Not used: a webhook takes batches (`submit`)."""
        raise TypeError("a webhook takes batches: call submit")

    def close(self) -> None:
        """Release the connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = self._transport = None


def outcomes_from(response: httpx.Response, records: Sequence[OutRecord]) -> list[Outcome]:
    """Each record's outcome from a 2xx answer: delivered, unless listed in its `rejected`."""
    try:
        answer = response.json() if response.content else None
    except ValueError:
        answer = None
    rejected: dict[str, Outcome] = {}
    listed = answer.get("rejected") if isinstance(answer, dict) else None
    for item in listed if isinstance(listed, list) else []:
        if isinstance(item, dict) and isinstance(item.get("key"), str):
            code = item.get("code")
            message = item.get("message")
            rejected[item["key"]] = Outcome(
                ok=False,
                error_code=str(code)[:100] if code else "rejected",
                message=str(message)[:MESSAGE_CHARS] if message else "rejected by the receiver",
            )
    delivered = Outcome(ok=True, action="delivered")
    return [rejected.get(record.key, delivered) for record in records]


def _unexpected(response: httpx.Response) -> str:
    """A 1xx or 3xx answer: redirects are not followed (the signed request would go
    elsewhere), so the URL must be the receiver's own."""
    where = response.headers.get("Location")
    to = f" to {where[:200]}" if where else ""
    return (
        f"the webhook answered {response.status_code}{to}: redirects are not followed, "
        "set the destination's url to the final address"
    )


def _with(message: str, said: str) -> str:
    return f"{message}: {said}" if said else message


def _os_reason(error: OSError) -> str:
    if isinstance(error, TimeoutError):
        return f"no connection within {CONNECT_TIMEOUT:g} s"
    return error.strerror or str(error)


def open_channel(context: ChannelContext) -> Channel:
    """A channel to the webhook URL."""
    return WebhookChannel(context)


def complete_secrets(given: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A new signing secret when none is given, shown once to the creator."""
    if given.get("signing_secret"):
        return given, {}
    secret = new_secret()
    return {**given, "signing_secret": secret}, {"signing_secret": secret}


KIND = DestinationKind(
    name="webhook",
    title="Webhook",
    config_model=WebhookConfig,
    secrets_model=WebhookSecrets,
    modes=("upsert", "update_only"),
    open=open_channel,
    complete_secrets=complete_secrets,
    fields=(("any field", "sent as is in each record's `fields`"),),
)

# Receivers' helper, importable from here too.
__all__ = ["KIND", "WebhookConfig", "WebhookSecrets", "outcomes_from", "verify_signature"]
