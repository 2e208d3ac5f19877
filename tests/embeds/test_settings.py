"""The embed settings: the Zendesk key is checked when the settings load, origins are
normalised, and the origins that may frame the embed are derived from them."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError

from carebase.settings import Settings
from tests.embeds.keys import AUDIENCE, CHATWOOT_ORIGIN, ISSUER, ZENDESK_ORIGIN, public_pem


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_nothing_is_embedded_by_default() -> None:
    plain = settings()
    assert plain.zendesk_audience is None
    assert plain.chatwoot_origin is None
    assert plain.embed_frame_ancestors == ()


def test_the_zendesk_origin_is_derived_from_the_audience_and_the_issuer() -> None:
    configured = settings(zendesk_audience=AUDIENCE, zendesk_public_key=public_pem())
    assert configured.zendesk_origins == (ZENDESK_ORIGIN,)
    by_issuer = settings(
        zendesk_audience="installation-360001",
        zendesk_public_key=public_pem(),
        zendesk_issuer=ISSUER,
    )
    assert by_issuer.zendesk_origins == (ZENDESK_ORIGIN,)


def test_an_audience_naming_no_origin_needs_one_given() -> None:
    with pytest.raises(ValidationError, match="CAREBASE_EMBED_FRAME_ORIGINS"):
        settings(zendesk_audience="installation-360001", zendesk_public_key=public_pem())
    given = settings(
        zendesk_audience="installation-360001",
        zendesk_public_key=public_pem(),
        embed_frame_origins="https://help.acme.com",
    )
    assert given.embed_frame_ancestors == ("https://help.acme.com",)


def test_every_framing_origin_once_in_order() -> None:
    configured = settings(
        zendesk_audience=AUDIENCE,
        zendesk_public_key=public_pem(),
        zendesk_issuer=ISSUER,
        chatwoot_origin="HTTPS://Chat.Brand.io/",
        embed_frame_origins=f"https://help.acme.com:443, {ZENDESK_ORIGIN},http://localhost:8080",
    )
    assert configured.chatwoot_origin == CHATWOOT_ORIGIN
    assert configured.embed_frame_ancestors == (
        ZENDESK_ORIGIN,
        CHATWOOT_ORIGIN,
        "https://help.acme.com",
        "http://localhost:8080",
    )


@pytest.mark.parametrize(
    "origin", ["chat.brand.io", "https://chat.brand.io/app", "ftp://chat.brand.io", "https://"]
)
def test_an_origin_is_only_a_scheme_and_a_host(origin: str) -> None:
    with pytest.raises(ValidationError, match="origin"):
        settings(chatwoot_origin=origin)


def test_audience_and_key_go_together() -> None:
    with pytest.raises(ValidationError, match="go together"):
        settings(zendesk_audience=AUDIENCE)
    with pytest.raises(ValidationError, match="go together"):
        settings(zendesk_public_key=public_pem())


def test_the_key_may_be_a_file_or_text_with_escaped_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "zendesk.pem"
    path.write_text(public_pem())
    from_file = settings(zendesk_audience=AUDIENCE, zendesk_public_key=str(path))
    escaped = public_pem().replace("\n", "\\n")
    from_env = settings(zendesk_audience=AUDIENCE, zendesk_public_key=escaped)
    assert from_file.zendesk_public_key == from_env.zendesk_public_key == public_pem()


def test_the_key_must_be_rsa_of_2048_bits(tmp_path: Path) -> None:
    def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
        return (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    with pytest.raises(ValidationError, match="RSA public key"):
        settings(
            zendesk_audience=AUDIENCE,
            zendesk_public_key=pem(ec.generate_private_key(ec.SECP256R1())),
        )
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    with pytest.raises(ValidationError, match="1024 bits"):
        settings(zendesk_audience=AUDIENCE, zendesk_public_key=pem(small))
    with pytest.raises(ValidationError, match="not a PEM public key"):
        settings(zendesk_audience=AUDIENCE, zendesk_public_key="-----BEGIN PUBLIC KEY-----\nnope")
    with pytest.raises(ValidationError, match="readable PEM file"):
        settings(zendesk_audience=AUDIENCE, zendesk_public_key=str(tmp_path / "missing.pem"))


def test_environment_variables_configure_the_embeds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAREBASE_ZENDESK_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("CAREBASE_ZENDESK_PUBLIC_KEY", public_pem().replace("\n", "\\n"))
    monkeypatch.setenv("CAREBASE_CHATWOOT_ORIGIN", CHATWOOT_ORIGIN)
    monkeypatch.setenv("CAREBASE_EMBED_FRAME_ORIGINS", "https://help.acme.com")
    loaded = Settings(_env_file=None)
    assert loaded.embed_frame_ancestors == (
        ZENDESK_ORIGIN,
        CHATWOOT_ORIGIN,
        "https://help.acme.com",
    )
