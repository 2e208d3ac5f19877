"""Token secrets: `cb_` + 30 random base62 characters + a 6-character CRC32 checksum.

The checksum lets carebase (and secret scanners) reject a mistyped or truncated
token without a database lookup. Only the SHA-256 of a token is ever stored: the
secret has ~178 bits of entropy, so a fast hash is as safe as a slow one here.
"""

from __future__ import annotations

import hashlib
import secrets
import zlib

TOKEN_PREFIX = "cb_"  # noqa: S105 - a prefix, not a secret
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_LENGTH = 30
_CHECKSUM_LENGTH = 6
TOKEN_LENGTH = len(TOKEN_PREFIX) + _RANDOM_LENGTH + _CHECKSUM_LENGTH
DISPLAY_PREFIX_LENGTH = 8  # "cb_" and five random characters


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, remainder = divmod(number, 62)
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), _CHECKSUM_LENGTH)


def generate_token() -> str:
    """A new random token secret."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
    return f"{TOKEN_PREFIX}{body}{_checksum(body)}"


def is_well_formed(token: str) -> bool:
    """True when `token` has carebase's shape and a matching checksum."""
    if len(token) != TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        return False
    body = token[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + _RANDOM_LENGTH]
    if any(char not in _ALPHABET for char in body):
        return False
    return secrets.compare_digest(token[-_CHECKSUM_LENGTH:], _checksum(body))


def hash_token(token: str) -> str:
    """The hex SHA-256 stored in place of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
