"""Zendesk's signed-URL JWT, verified as a pure function with a test RSA key: only an RS256
token signed with the configured key, for the configured audience (and issuer), inside its
lifetime, passes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from carebase.embeds.zendesk import Installation, TokenRefused, verify_token
from tests.embeds.keys import AUDIENCE, ISSUER, private_key, public_pem, sign

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def install(issuer: str | None = None) -> Installation:
    return Installation.from_pem(AUDIENCE, public_pem(), issuer)


def refused(token: str, installation: Installation | None = None, now: datetime = NOW) -> str:
    with pytest.raises(TokenRefused) as caught:
        verify_token(token, installation or install(), now=now)
    return caught.value.reason


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_token_zendesk_signed_passes() -> None:
    verified = verify_token(sign(NOW), install(), now=NOW)
    assert verified.audience == AUDIENCE
    assert verified.subject == "zd-agent-42"
    assert verified.issuer == ISSUER
    assert verified.location == "ticket_sidebar"
    assert verified.expires_at == int(NOW.timestamp()) + 300


def test_the_issuer_is_checked_when_configured() -> None:
    assert verify_token(sign(NOW), install(ISSUER), now=NOW).issuer == ISSUER
    assert refused(sign(NOW, iss="other.zendesk.com"), install(ISSUER)) == "issuer"
    assert refused(sign(NOW, iss=None), install(ISSUER)) == "claims"
    # Not configured: any issuer (Zendesk's own) is fine.
    assert verify_token(sign(NOW, iss="other.zendesk.com"), install(), now=NOW)


def test_another_installations_audience_is_refused_and_named() -> None:
    other = AUDIENCE.replace("360001", "999")
    with pytest.raises(TokenRefused) as caught:
        verify_token(sign(NOW, aud=other), install(), now=NOW)
    assert caught.value.reason == "audience"
    # The signature verified, so the page may show the audience Zendesk used.
    assert caught.value.audience == other


def test_a_token_without_an_audience_is_refused() -> None:
    assert refused(sign(NOW, aud=None)) == "claims"


def test_expiry_and_issue_time_with_a_minute_of_leeway() -> None:
    token = sign(NOW)
    assert verify_token(token, install(), now=NOW + timedelta(seconds=300 + 59))
    assert refused(token, now=NOW + timedelta(seconds=300 + 61)) == "expired"
    assert verify_token(token, install(), now=NOW - timedelta(seconds=59))
    assert refused(token, now=NOW - timedelta(seconds=61)) == "not_yet_valid"
    later = sign(NOW + timedelta(minutes=10), nbf=None)
    assert refused(later) == "not_yet_valid"  # issued in the future
    assert refused(sign(NOW, exp=None)) == "claims"
    assert refused(sign(NOW, iat=None)) == "claims"
    assert refused(sign(NOW, exp="soon")) in {"claims", "malformed"}


def test_hs256_with_the_public_key_as_secret_is_refused() -> None:
    # The classic confusion: a verifier that takes the algorithm from the token would check
    # this HMAC with the public key - which anyone has - as the secret.
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"aud": AUDIENCE, "iat": 1, "exp": 2**40}).encode())
    mac = hmac.new(public_pem().encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    forged = f"{header}.{payload}.{b64(mac.digest())}"
    assert refused(forged) == "algorithm"


def test_the_none_algorithm_is_refused() -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"aud": AUDIENCE, "iat": 1, "exp": 2**40}).encode())
    assert refused(f"{header}.{payload}.") == "algorithm"
    unsigned = jwt.encode({"aud": AUDIENCE, "iat": 1, "exp": 2**40}, None, algorithm="none")
    assert refused(unsigned) == "algorithm"


def test_other_asymmetric_algorithms_are_refused() -> None:
    token = jwt.encode({"aud": AUDIENCE, "iat": 1, "exp": 2**40}, private_key(), algorithm="PS256")
    assert refused(token) == "algorithm"


def test_a_signature_by_another_key_is_refused() -> None:
    assert refused(sign(NOW, key="attacker")) == "signature"


def test_a_tampered_payload_is_refused() -> None:
    header, _, signature = sign(NOW).split(".")
    payload = b64(
        json.dumps(
            {
                "aud": AUDIENCE,
                "iat": int(NOW.timestamp()),
                "exp": int(NOW.timestamp()) + 300,
                "sub": "admin",
            }
        ).encode()
    )
    assert refused(f"{header}.{payload}.{signature}") == "signature"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b", "a.b.c", "x" * 9000])
def test_garbage_is_refused(token: str) -> None:
    assert refused(token) in {"malformed", "algorithm"}
