"""Zendesk: the JWT of a signed URL, verified; the app's manifest and its package.

With `"signedUrls": true` in the manifest, Zendesk opens the app's iframe by POSTing a JWT
(form field `token`) to the app's URL, on the first load only. It is signed RS256 with the
app's key pair; carebase holds the public key and the installation's audience
(`CAREBASE_ZENDESK_AUDIENCE`, `CAREBASE_ZENDESK_PUBLIC_KEY`, optional `CAREBASE_ZENDESK_ISSUER`)
and accepts a token only when:

- its header names RS256 and the signature verifies with that key (`none`, HS256 - with the
  public key as an HMAC secret, the classic confusion - and every other algorithm refused);
- `aud` is the installation's audience, and `iss` the configured issuer when one is set;
- `exp` and `iat` are present, the token is not expired and was not issued in the future
  (`nbf` too when present), each with a minute of leeway for clocks.

The time checks run here against carebase's clock (PyJWT's own use the system time).
"""

from __future__ import annotations

import io
import ipaddress
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from carebase import __version__
from carebase.embeds.logo import logo_png
from carebase.settings import Settings

ALGORITHM = "RS256"
LEEWAY_SECONDS = 60
# Zendesk's tokens are small (a few hundred bytes); anything this large is not one.
MAX_TOKEN_LENGTH = 8192
APP_NAME = "carebase"


@dataclass(frozen=True, slots=True)
class Installation:
    """What a token must match: the installation's audience, the app's public key, and the
    issuer when one is configured."""

    audience: str
    public_key: RSAPublicKey
    issuer: str | None = None

    @classmethod
    def from_pem(cls, audience: str, pem: str, issuer: str | None = None) -> Installation:
        """An installation whose key is PEM text (RSA; ValueError otherwise)."""
        return cls(audience, _rsa_key(pem), issuer)


@cache
def _rsa_key(pem: str) -> RSAPublicKey:
    key = load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def installation(settings: Settings) -> Installation | None:
    """The configured installation, or None when the Zendesk embed is off."""
    if settings.zendesk_audience is None or settings.zendesk_public_key is None:
        return None
    return Installation.from_pem(
        settings.zendesk_audience, settings.zendesk_public_key, settings.zendesk_issuer
    )


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """The claims of a token that passed every check."""

    audience: str
    subject: str | None
    issuer: str | None
    issued_at: int
    expires_at: int
    location: str | None


class TokenRefused(Exception):
    """A token that is not Zendesk's for this installation, and why, in words for the page.
    `reason` is a stable code; `audience` the token's own audience when only that was wrong
    (its signature verified, so it is Zendesk's word: the value to configure)."""

    def __init__(self, reason: str, message: str, *, audience: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.audience = audience


def verify_token(
    token: str, install: Installation, *, now: datetime, leeway: int = LEEWAY_SECONDS
) -> VerifiedToken:
    """The token's claims when it is an RS256 JWT for `install`, valid at `now`;
    TokenRefused otherwise."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenRefused("malformed", "No signed token came with the request.")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise TokenRefused("malformed", "The token is not a JWT.") from error
    if header.get("alg") != ALGORITHM:
        raise TokenRefused(
            "algorithm",
            f"The token is signed with {header.get('alg')!r}; only {ALGORITHM} is accepted.",
        )
    options: dict[str, Any] = {
        "verify_signature": True,
        "verify_aud": True,
        "verify_iss": install.issuer is not None,
        # Checked below against carebase's clock.
        "verify_exp": False,
        "verify_iat": False,
        "verify_nbf": False,
        "require": ["aud", "exp", "iat"],
    }
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            install.public_key,
            algorithms=[ALGORITHM],
            audience=install.audience,
            issuer=install.issuer,
            options=options,  # type: ignore[arg-type]
        )
    except jwt.InvalidAlgorithmError as error:
        raise TokenRefused("algorithm", f"Only {ALGORITHM} tokens are accepted.") from error
    except jwt.InvalidSignatureError as error:
        raise TokenRefused(
            "signature", "The token's signature does not match the configured public key."
        ) from error
    except jwt.InvalidAudienceError as error:
        raise TokenRefused(
            "audience",
            "The token is for another app installation than the one configured.",
            audience=_verified_audience(token, install),
        ) from error
    except jwt.InvalidIssuerError as error:
        raise TokenRefused("issuer", "The token comes from another Zendesk account.") from error
    except jwt.MissingRequiredClaimError as error:
        raise TokenRefused("claims", f"The token has no {error.claim!r} claim.") from error
    except jwt.PyJWTError as error:
        raise TokenRefused("malformed", "The token could not be read.") from error
    moment = now.timestamp()
    expires_at, issued_at = _number(claims, "exp"), _number(claims, "iat")
    if moment > expires_at + leeway:
        raise TokenRefused("expired", "The token has expired; reload the page in Zendesk.")
    if issued_at > moment + leeway:
        raise TokenRefused("not_yet_valid", "The token was issued in the future; check clocks.")
    if "nbf" in claims and _number(claims, "nbf") > moment + leeway:
        raise TokenRefused("not_yet_valid", "The token is not valid yet; check clocks.")
    subject = claims.get("sub")
    issuer = claims.get("iss")
    context = claims.get("context")
    location = context.get("location") if isinstance(context, dict) else None
    return VerifiedToken(
        audience=install.audience,
        subject=str(subject) if subject is not None else None,
        issuer=str(issuer) if issuer is not None else None,
        issued_at=int(issued_at),
        expires_at=int(expires_at),
        location=location if isinstance(location, str) else None,
    )


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRefused("claims", f"The token's {name!r} claim is not a time.")
    return float(value)


def _verified_audience(token: str, install: Installation) -> str | None:
    """The audience of a token whose signature verified (only its audience was wrong)."""
    try:
        claims = jwt.decode(
            token,
            install.public_key,
            algorithms=[ALGORITHM],
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_iss": False,
            },
        )
    except jwt.PyJWTError:
        return None
    audience = claims.get("aud")
    if isinstance(audience, list):
        audience = ", ".join(str(item) for item in audience)
    return str(audience)[:500] if audience is not None else None


# The app package.

LOCATIONS = ("ticket_sidebar", "user_sidebar")
APP_PATH = "/embed/zendesk"


def manifest(settings: Settings) -> dict[str, Any]:
    """The app's manifest.json: a private app whose ticket and user sidebars load carebase
    from `CAREBASE_PUBLIC_URL`, with signed URLs."""
    url = settings.base_url + APP_PATH
    return {
        "name": APP_NAME,
        "author": {"name": "carebase", "email": _author_email(settings), "url": settings.base_url},
        "defaultLocale": "en",
        "private": True,
        "location": {
            "support": {
                "ticket_sidebar": {"url": url, "flexible": True},
                "user_sidebar": {"url": url},
            }
        },
        "version": __version__,
        "frameworkVersion": "2.0",
        "signedUrls": True,
    }


def _author_email(settings: Settings) -> str:
    """Where the app's users write for help (Zendesk requires one): carebase@ the public
    host when it is a domain name, else a reserved example address to edit before upload."""
    host = urlsplit(settings.base_url).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if "." in host:
            return f"carebase@{host}"
    return "carebase@example.com"


def translations() -> dict[str, Any]:
    """translations/en.json: the app's name and descriptions in the Zendesk admin."""
    return {
        "app": {
            "name": APP_NAME,
            "short_description": "The customer's carebase profile beside the ticket.",
            "long_description": (
                "Shows the requester's carebase profile in the ticket and user sidebars: "
                "identity, key attributes, open tickets, recent history and notes."
            ),
            "installation_instructions": (
                "Set CAREBASE_ZENDESK_AUDIENCE and CAREBASE_ZENDESK_PUBLIC_KEY on the carebase "
                "server to this installation's audience and the app's public key."
            ),
        }
    }


def app_zip(settings: Settings) -> bytes:
    """The app package to upload as a private app: manifest.json, translations/en.json and
    the logos Zendesk asks for (assets/logo.png 320 px, assets/logo-small.png 128 px)."""
    files = {
        "manifest.json": _json(manifest(settings)),
        "translations/en.json": _json(translations()),
        "assets/logo.png": logo_png(320),
        "assets/logo-small.png": logo_png(128),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            # A fixed time: the same settings give the same bytes.
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _json(value: dict[str, Any]) -> bytes:
    return (json.dumps(value, indent=2) + "\n").encode("utf-8")
