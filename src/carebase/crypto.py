"""Encrypting stored credentials with a key derived from CAREBASE_SECRET_KEY.

Fernet (AES-128-CBC + HMAC-SHA256, from the `cryptography` package) with its key derived by
HKDF-SHA256, so the secret key itself is never used directly and other purposes can derive
their own keys. Rotating CAREBASE_SECRET_KEY makes stored credentials unreadable: connectors
then answer with a clear error and must be given their credentials again.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"carebase/connector-credentials/v1"


class CannotDecrypt(ValueError):
    """The ciphertext was not made with the current CAREBASE_SECRET_KEY (or was altered)."""


@lru_cache(maxsize=8)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(secret_key: str, plaintext: bytes) -> str:
    """The ciphertext of `plaintext`, as text fit for a database column."""
    return _fernet(secret_key).encrypt(plaintext).decode("ascii")


def decrypt(secret_key: str, ciphertext: str) -> bytes:
    """The plaintext, or CannotDecrypt."""
    try:
        return _fernet(secret_key).decrypt(ciphertext.encode("ascii"))
    except (InvalidToken, ValueError) as error:
        raise CannotDecrypt("stored credentials cannot be read with this secret key") from error
