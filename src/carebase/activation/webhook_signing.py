"""Webhook signatures: `X-Carebase-Signature: v1=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`
with `X-Carebase-Timestamp` (unix seconds), and the transport that signs each attempt as it
goes out (so a retry carries a fresh timestamp, and what is signed is exactly the bytes sent)
and keeps what a refusing receiver said."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import ssl
from collections.abc import Callable
from functools import lru_cache

import certifi
import httpx

TIMESTAMP_HEADER = "X-Carebase-Timestamp"
SIGNATURE_HEADER = "X-Carebase-Signature"
BATCH_HEADER = "X-Carebase-Batch-Id"
TEST_HEADER = "X-Carebase-Test"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
# A receiver refuses a signature older (or newer) than this: a captured request cannot be
# replayed later.
TOLERANCE_SECONDS = 300
# What of a refusing receiver's answer is kept as the records' message.
MESSAGE_CHARS = 500


def new_secret() -> str:
    """A new signing secret: `whsec_` and 32 random bytes, URL-safe base64."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Carebase-Signature` value for one request: `v1=` and the hex HMAC-SHA256 of
    `"{timestamp}."` followed by the raw body, keyed with the secret."""
    message = timestamp.encode("ascii") + b"." + body
    return "v1=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    *,
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> bool:
    """Whether a delivery is genuine: its timestamp within `tolerance` seconds of `now`, and
    one of the header's `v1=` signatures (comma-separated) the HMAC of this body."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    expected = signature(secret, timestamp, body).removeprefix("v1=")
    for part in header.split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return True
    return False


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


class SigningTransport(httpx.BaseTransport):
    """Signs every request as it is sent, and keeps the body of the last 4xx answer (the
    receiver's reason, which OutboundClient's error does not carry)."""

    def __init__(
        self, secret: str, clock: Callable[[], float], inner: httpx.BaseTransport | None
    ) -> None:
        self.secret, self.clock = secret, clock
        self.inner = inner or httpx.HTTPTransport(verify=_tls())
        self.refusal: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Sign, send, and keep a refusal's text."""
        body = request.read()
        timestamp = str(int(self.clock()))
        request.headers[TIMESTAMP_HEADER] = timestamp
        request.headers[SIGNATURE_HEADER] = signature(self.secret, timestamp, body)
        self.refusal = None
        response = self.inner.handle_request(request)
        if 400 <= response.status_code < 500:
            response.read()
            self.refusal = refusal_message(response)
        return response

    def close(self) -> None:
        """Close the underlying transport."""
        self.inner.close()


def refusal_message(response: httpx.Response) -> str:
    """What a receiver said when it refused: its JSON `message` or `error` when it answered
    JSON, else its text; at most MESSAGE_CHARS characters."""
    text = response.text
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        for key in ("message", "error", "detail"):
            if isinstance(answer.get(key), str):
                text = answer[key]
                break
    return text.strip()[:MESSAGE_CHARS]
