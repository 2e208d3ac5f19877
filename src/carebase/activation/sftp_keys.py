"""SSH keys for the SFTP destination: the client's private key (read, or generated), its
public line to authorise on the server, and the server's host key as pinned (an OpenSSH
public key line), compared by the key itself and shown by its SHA256 fingerprint."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import struct

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

# Host key types a pin may name, and the algorithms that make the server show that key
# (an RSA key is signed with SHA-2; plain ssh-rsa is SHA-1, accepted last for old servers).
HOST_KEY_ALGORITHMS: dict[str, tuple[str, ...]] = {
    "ssh-ed25519": ("ssh-ed25519",),
    "ecdsa-sha2-nistp256": ("ecdsa-sha2-nistp256",),
    "ecdsa-sha2-nistp384": ("ecdsa-sha2-nistp384",),
    "ecdsa-sha2-nistp521": ("ecdsa-sha2-nistp521",),
    "ssh-rsa": ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"),
}
PUBLIC_KEY_COMMENT = "carebase"


def fingerprint(blob: bytes) -> str:
    """The key's SHA256 fingerprint as OpenSSH prints it (`SHA256:…`, unpadded base64)."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return f"SHA256:{digest}"


def parse_public_key(line: str) -> tuple[str, bytes]:
    """An OpenSSH public key line (`ssh-ed25519 AAAA… comment`, or a known_hosts line with the
    host first) as (key type, key blob); ValueError saying what is wrong."""
    tokens = line.strip().split()
    for index, token in enumerate(tokens[:-1]):
        if token not in HOST_KEY_ALGORITHMS:
            continue
        try:
            blob = base64.b64decode(tokens[index + 1], validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"the {token} key is not valid base64") from error
        if _first_string(blob) != token.encode():
            raise ValueError(f"the key data is not an {token} key")
        return token, blob
    known = ", ".join(HOST_KEY_ALGORITHMS)
    raise ValueError(f"not an OpenSSH public key line (expected one of {known}, then the key)")


def _first_string(blob: bytes) -> bytes | None:
    # An SSH key blob starts with its type as a length-prefixed string.
    if len(blob) < 4:
        return None
    (length,) = struct.unpack(">I", blob[:4])
    return blob[4 : 4 + length] if len(blob) >= 4 + length else None


def key_line(key: paramiko.PKey) -> str:
    """A key as an OpenSSH public key line (type and base64, no comment)."""
    return f"{key.get_name()} {key.get_base64()}"


def load_private_key(text: str) -> paramiko.PKey:
    """The client's private key (Ed25519, ECDSA or RSA; OpenSSH or PEM text, unencrypted);
    ValueError saying what is wrong (never echoing the key)."""
    data = text.strip().encode() + b"\n"
    loaded: object
    try:
        try:
            loaded = serialization.load_ssh_private_key(data, password=None)
        except ValueError:
            loaded = serialization.load_pem_private_key(data, password=None)
    except TypeError as error:
        # cryptography's way of saying "this key needs a passphrase".
        raise ValueError("the private key is encrypted: give it without a passphrase") from error
    except (ValueError, binascii.Error) as error:
        raise ValueError("not a private key in OpenSSH or PEM format") from error
    key_class: type[paramiko.PKey]
    if isinstance(loaded, ed25519.Ed25519PrivateKey):
        key_class = paramiko.Ed25519Key
    elif isinstance(loaded, ec.EllipticCurvePrivateKey):
        key_class = paramiko.ECDSAKey
    elif isinstance(loaded, rsa.RSAPrivateKey):
        if loaded.key_size < 2048:
            raise ValueError(f"the RSA key has {loaded.key_size} bits: at least 2048 are needed")
        key_class = paramiko.RSAKey
    else:
        raise ValueError("unsupported key type: use Ed25519, ECDSA or RSA")
    try:
        return key_class.from_private_key(io.StringIO(data.decode()))
    except paramiko.SSHException as error:
        raise ValueError(f"the private key cannot be read: {error}") from error


def generate_private_key() -> str:
    """A new Ed25519 private key, as OpenSSH text."""
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_of(private_key: str) -> tuple[str, str]:
    """The public key line to authorise on the server (`ssh-ed25519 AAAA… carebase`) and its
    SHA256 fingerprint."""
    key = load_private_key(private_key)
    return f"{key_line(key)} {PUBLIC_KEY_COMMENT}", fingerprint(key.asbytes())
