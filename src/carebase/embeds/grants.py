"""The read-only grant a verified helpdesk request leaves in the browser.

Zendesk proves itself once per frame, with the JWT it posts on the first load; the frame's
next requests (the lookup, a link inside the panel) carry no token. So a verified POST sets a
grant: a small signed value in the embed's partitioned cookie saying "this frame was opened by
the Zendesk installation X until T". A grant reads profiles in the embed, never writes.

It is stateless - `base64url(payload) "." base64url(HMAC-SHA256(CAREBASE_SECRET_KEY,
"embed-grant:" + payload))` - so no table is needed for a value every ticket view re-issues.
It ends at its expiry, or at once when the installation it names is no longer the configured
one (another `CAREBASE_ZENDESK_AUDIENCE`, or the embed turned off).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_PURPOSE = b"embed-grant:"
MAX_LENGTH = 1024


@dataclass(frozen=True, slots=True)
class Grant:
    """A helpdesk's word that this browser frame is one of its agents'."""

    host: str
    installation: str
    subject: str | None
    expires_at: datetime


def installation_id(audience: str) -> str:
    """A short fingerprint of an installation's audience, stored in its grants."""
    return hashlib.sha256(audience.encode("utf-8")).hexdigest()[:24]


def _mac(secret_key: str, payload: bytes) -> bytes:
    return hmac.new(secret_key.encode("utf-8"), _PURPOSE + payload, hashlib.sha256).digest()


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(
    secret_key: str,
    *,
    host: str,
    audience: str,
    subject: str | None,
    now: datetime,
    lifetime: timedelta,
) -> str:
    """A signed grant for the cookie."""
    body: dict[str, Any] = {
        "h": host,
        "i": installation_id(audience),
        "s": subject[:200] if subject else None,
        "e": int((now + lifetime).timestamp()),
    }
    payload = _b64(json.dumps(body, separators=(",", ":")).encode("utf-8"))
    return (payload + b"." + _b64(_mac(secret_key, payload))).decode("ascii")


def read(
    secret_key: str, value: str | None, *, audience: str | None, now: datetime
) -> Grant | None:
    """The grant `value` holds when its signature is carebase's, it has not expired, and it
    names the installation configured now (`audience`); None otherwise."""
    if not value or audience is None or len(value) > MAX_LENGTH or not value.isascii():
        return None
    if value.count(".") != 1:
        return None
    payload, _, signature = value.partition(".")
    try:
        presented = _unb64(signature)
        body = json.loads(_unb64(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(presented, _mac(secret_key, payload.encode("ascii"))):
        return None
    if not isinstance(body, dict) or body.get("i") != installation_id(audience):
        return None
    expires = body.get("e")
    if not isinstance(expires, int) or now.timestamp() >= expires:
        return None
    subject = body.get("s")
    return Grant(
        host=str(body.get("h")),
        installation=str(body["i"]),
        subject=subject if isinstance(subject, str) else None,
        expires_at=datetime.fromtimestamp(expires, UTC),
    )
