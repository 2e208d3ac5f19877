"""The sshd fixture itself: a real server that takes the client key and serves SFTP."""

from __future__ import annotations

import io
import socket

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.activation.sshd import SshServer


def test_sshd_serves_sftp_to_the_authorised_key_only(sshd: SshServer) -> None:
    sock = socket.create_connection((sshd.host, sshd.port), timeout=5)
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=5)
        offered = transport.get_remote_server_key()
        assert f"{offered.get_name()} {offered.get_base64()}" == sshd.host_key
        stranger = paramiko.Ed25519Key.from_private_key(io.StringIO(_other_key()))
        with pytest.raises(paramiko.AuthenticationException):
            transport.auth_publickey(sshd.username, stranger)
        key = paramiko.Ed25519Key.from_private_key(io.StringIO(sshd.client_key))
        transport.auth_publickey(sshd.username, key)
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        with sftp.open(f"{sshd.root}/hello.txt", "w") as handle:
            handle.write(b"hello")
        assert (sshd.root / "hello.txt").read_bytes() == b"hello"
        sftp.remove(f"{sshd.root}/hello.txt")
    finally:
        transport.close()


def _other_key() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        .decode()
    )
