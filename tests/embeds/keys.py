"""A test RSA key pair and Zendesk-style tokens signed with it (never a real Zendesk key)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SUBDOMAIN = "acme"
INSTALLATION = 360001
AUDIENCE = f"https://{SUBDOMAIN}.zendesk.com/api/v2/apps/installations/{INSTALLATION}.json"
ISSUER = f"{SUBDOMAIN}.zendesk.com"
ZENDESK_ORIGIN = f"https://{SUBDOMAIN}.zendesk.com"
CHATWOOT_ORIGIN = "https://chat.brand.io"


@cache
def private_key(name: str = "zendesk") -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key made for this test run (one per name)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(name: str = "zendesk") -> str:
    """The public half of `private_key(name)`, as PEM text."""
    return (
        private_key(name)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def claims(now: datetime, **changes: Any) -> dict[str, Any]:
    """The claims Zendesk puts in a signed URL's JWT, valid for five minutes from `now`;
    a change to None drops the claim."""
    at = int(now.timestamp())
    values: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": at,
        "nbf": at,
        "exp": at + 300,
        "sub": "zd-agent-42",
        "qsh": "ignored",
        "context": {"product": "support", "location": "ticket_sidebar"},
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def sign(now: datetime, *, key: str = "zendesk", **changes: Any) -> str:
    """A token signed RS256 with the test key, as Zendesk signs one."""
    return jwt.encode(claims(now, **changes), private_key(key), algorithm="RS256")
