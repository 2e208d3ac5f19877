"""Destinations of each kind over HTTP, on both engines, against real edges: a webhook's
signing secret generated and shown once (stored encrypted), its connection test against the
loopback receiver (passing, then failing on demand); an SFTP destination's generated key pair
(the public key shown, the private key never), its connection test against a real sshd."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from carebase import crypto
from carebase.db.session import Database
from carebase.settings import Settings
from tests.activation.receiver import Receiver
from tests.activation.sshd import SshServer
from tests.conftest import make_token, test_settings
from tests.helpers import auth


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Loopback destinations allowed (the receiver and sshd listen on 127.0.0.1)."""
    return test_settings(database_url, allow_private_outbound=True)


@pytest.fixture
def writer(database: Database) -> str:
    """A token that may read and write activation."""
    return make_token(database, "activation:read", "activation:write", name="activation")


def stored_secrets(database: Database, settings: Settings, destination_id: str) -> Any:
    """The destination's secrets as stored: ciphertext, and what it decrypts to."""
    with database.unit_of_work(write=False) as session:
        cipher = session.execute(
            text("SELECT secrets FROM destinations WHERE id = :id"), {"id": destination_id}
        ).scalar_one()
    key = settings.secret_key.get_secret_value()
    return cipher, orjson.loads(crypto.decrypt(key, cipher))


def test_webhook_secret_is_shown_once_and_the_test_reaches_the_receiver(
    client: TestClient,
    writer: str,
    database: Database,
    settings: Settings,
    webhook_receiver: Receiver,
) -> None:
    generated = client.post(
        "/v1/destinations",
        json={"name": "Hook", "kind": "webhook", "config": {"url": webhook_receiver.url}},
        headers=auth(writer),
    )
    assert generated.status_code == 201, generated.text
    secret = generated.json()["shown_once"]["signing_secret"]
    assert len(secret) >= 16
    destination_id = generated.json()["id"]
    again = client.get(f"/v1/destinations/{destination_id}", headers=auth(writer))
    assert again.json()["shown_once"] is None
    assert secret not in again.text
    assert secret not in client.get("/v1/destinations", headers=auth(writer)).text
    cipher, plain = stored_secrets(database, settings, destination_id)
    assert secret not in cipher
    assert plain == {"signing_secret": secret}
    # The PUT without secrets keeps the generated one (and shows nothing).
    kept = client.put(
        f"/v1/destinations/{destination_id}",
        json={"name": "Hook", "config": {"url": webhook_receiver.url, "batch_size": 50}},
        headers=auth(writer),
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["shown_once"] is None
    assert stored_secrets(database, settings, destination_id)[1] == {"signing_secret": secret}

    # The receiver knows its own secret: given it, the signed test delivery is accepted.
    given = client.post(
        "/v1/destinations",
        json={
            "name": "Receiver",
            "kind": "webhook",
            "config": {"url": webhook_receiver.url},
            "secrets": {"signing_secret": webhook_receiver.secret},
        },
        headers=auth(writer),
    ).json()
    assert given["shown_once"] is None
    passed = client.post(f"/v1/destinations/{given['id']}/test", headers=auth(writer)).json()
    assert passed["ok"] is True, passed
    assert webhook_receiver.bad_signatures == 0
    # The generated secret is not the receiver's: the signature is refused, and said so.
    refused = client.post(f"/v1/destinations/{destination_id}/test", headers=auth(writer))
    assert refused.json()["ok"] is False
    assert webhook_receiver.bad_signatures >= 1
    webhook_receiver.fail_next(503, times=10, message="maintenance")
    down = client.post(f"/v1/destinations/{given['id']}/test", headers=auth(writer)).json()
    assert down["ok"] is False
    assert "503" in down["steps"][-1]["detail"]
    stored = client.get(f"/v1/destinations/{given['id']}", headers=auth(writer)).json()
    assert stored["check"] == down


def test_sftp_key_pair_and_the_test_against_a_real_sshd(
    client: TestClient, writer: str, database: Database, settings: Settings, sshd: SshServer
) -> None:
    config = {
        "host": sshd.host,
        "port": sshd.port,
        "username": sshd.username,
        "directory": str(sshd.root),
    }
    generated = client.post(
        "/v1/destinations",
        json={"name": "Generated", "kind": "sftp", "config": config},
        headers=auth(writer),
    )
    assert generated.status_code == 201, generated.text
    public = generated.json()["public"]["public_key"]
    assert public.startswith("ssh-ed25519 ")
    assert generated.json()["shown_once"] is None
    cipher, plain = stored_secrets(database, settings, generated.json()["id"])
    assert "PRIVATE KEY" in plain["private_key"]
    assert "PRIVATE KEY" not in cipher
    assert "PRIVATE KEY" not in generated.text

    # Nothing pinned: the test stops at the host key and shows the key the server offered.
    unpinned = client.post(
        f"/v1/destinations/{generated.json()['id']}/test", headers=auth(writer)
    ).json()
    assert [(s["name"], s["ok"]) for s in unpinned["steps"]] == [
        ("connect", True),
        ("host key", False),
    ]
    assert sshd.host_key in unpinned["steps"][-1]["detail"]

    pinned = client.post(
        "/v1/destinations",
        json={
            "name": "Pinned",
            "kind": "sftp",
            "config": {**config, "host_key": sshd.host_key},
            "secrets": {"private_key": sshd.client_key},
        },
        headers=auth(writer),
    )
    assert pinned.status_code == 201, pinned.text
    report = client.post(
        f"/v1/destinations/{pinned.json()['id']}/test", headers=auth(writer)
    ).json()
    assert report["ok"] is True, report
    assert [s["name"] for s in report["steps"]][:3] == ["connect", "host key", "authenticate"]
