"""The SFTP destination's pure parts: file names, values, keys and settings validation."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pydantic import ValidationError

from carebase.activation.channel import ChannelContext, OutRecord, RecordInvalid
from carebase.activation.sftp import SftpConfig, SftpSecrets, open_channel
from carebase.activation.sftp_format import (
    csv_cell,
    file_name,
    plain_value,
    safe_part,
    validate_file_name,
)
from carebase.activation.sftp_keys import (
    fingerprint,
    generate_private_key,
    load_private_key,
    parse_public_key,
    public_key_of,
)

KEY_LINE = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnGk+4IV1BHVvMUuNd7bRiD4dEKNjSJN1nprm41l8oL"


def test_file_name_fills_the_placeholders_from_the_run() -> None:
    started = datetime(2026, 11, 29, 23, 30, 1, tzinfo=UTC)
    name = file_name(
        "{orchestration}-{date}-{time}-{run}.{ext}",
        orchestration="VIPs / Sydney..",
        run_id="run_01",
        started_at=started,
        ext="ndjson",
    )
    assert name == "VIPs-Sydney-20261129-233001-run_01.ndjson"


def test_file_names_never_become_paths() -> None:
    assert safe_part("../../etc/passwd", "x") == "etc-passwd"
    assert safe_part("..", "fallback") == "fallback"
    for pattern in ("../{run}.csv", "a/{run}.csv", "a\\b.csv", "{run}.csv.part", ".hidden"):
        with pytest.raises(ValueError):  # noqa: PT011 - each says why in its own words
            validate_file_name(pattern)
    with pytest.raises(ValueError, match="unknown placeholder"):
        validate_file_name("{customer}.csv")
    with pytest.raises(ValueError, match="unknown placeholder"):
        validate_file_name("{run!r}.csv")
    with pytest.raises(ValidationError, match="file_name"):
        SftpConfig(host="h", username="u", file_name="../x.csv")


def test_values_are_made_plain_or_refused() -> None:
    assert plain_value(datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "f") == "2026-01-02T03:04:00+00:00"
    assert plain_value(date(2026, 1, 2), "f") == "2026-01-02"
    assert plain_value(Decimal("12.50"), "f") == 12.5
    assert plain_value(uuid.UUID(int=1), "f") == "00000000-0000-0000-0000-000000000001"
    assert plain_value({"a": (1, None)}, "f") == {"a": [1, None]}
    with pytest.raises(RecordInvalid) as invalid:
        plain_value(math.nan, "score")
    assert (invalid.value.code, invalid.value.field) == ("invalid_number", "score")
    with pytest.raises(RecordInvalid) as invalid:
        plain_value(b"raw", "blob")
    assert invalid.value.code == "unsupported_value"
    assert [csv_cell(v) for v in (None, True, 3, 1.5, ["a"], "x")] == [
        "",
        "true",
        "3",
        "1.5",
        '["a"]',
        "x",
    ]


def test_prepare_refuses_field_names_csv_cannot_hold() -> None:
    channel = open_channel(
        ChannelContext(config=SftpConfig(host="h", username="u").model_dump(), secrets={})
    )
    assert channel.prepare(OutRecord("k", {"when": date(2026, 1, 1)})) == {"when": "2026-01-01"}
    with pytest.raises(RecordInvalid) as invalid:
        channel.prepare(OutRecord("k", {"bad\nname": 1}))
    assert invalid.value.code == "invalid_field_name"


def test_public_key_lines_parse_and_fingerprint_as_openssh_does() -> None:
    kind, blob = parse_public_key(KEY_LINE + " admin@host")
    assert kind == "ssh-ed25519"
    assert parse_public_key(f"[sftp.example.com]:2222 {KEY_LINE}") == (kind, blob)
    # ssh-keygen -lf prints this for that key.
    assert fingerprint(blob).startswith("SHA256:")
    assert "=" not in fingerprint(blob)
    with pytest.raises(ValueError, match="not an OpenSSH public key"):
        parse_public_key("AAAAC3NzaC1lZDI1NTE5AAAAIBnGk")
    with pytest.raises(ValueError, match="not an ssh-rsa key"):
        parse_public_key(KEY_LINE.replace("ssh-ed25519", "ssh-rsa"))
    config = SftpConfig(host="h", username="u", host_key=KEY_LINE + " comment")
    assert config.host_key == KEY_LINE
    with pytest.raises(ValidationError, match="host_key"):
        SftpConfig(host="h", username="u", host_key="ssh-ed25519 not-base64!")


def test_private_keys_of_each_type_load_and_bad_ones_say_why() -> None:
    generated = generate_private_key()
    assert generated.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    line, printed = public_key_of(generated)
    assert line.startswith("ssh-ed25519 ")
    assert line.endswith(" carebase")
    assert printed == fingerprint(load_private_key(generated).asbytes())
    ecdsa = ec.generate_private_key(ec.SECP256R1())
    pem = ecdsa.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    assert load_private_key(pem).get_name() == "ecdsa-sha2-nistp256"
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - refused
    weak_text = weak.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    with pytest.raises(ValueError, match="1024 bits"):
        load_private_key(weak_text)
    encrypted = ecdsa.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    with pytest.raises(ValueError, match="encrypted"):
        load_private_key(encrypted)
    with pytest.raises(ValidationError) as invalid:
        SftpSecrets(private_key="-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n")
    assert "not a private key" in str(invalid.value)
    assert SftpSecrets(private_key="").private_key is None
