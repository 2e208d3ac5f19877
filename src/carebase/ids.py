"""Prefixed, time-ordered identifiers (`tok_01JD…`), safe to expose and to shard on."""

from __future__ import annotations

from ulid import ULID


def new_id(prefix: str) -> str:
    """A new id such as `tok_01JDQ3R8N4V6X9ZB2C5E7G1H3K`."""
    return f"{prefix}_{ULID()}"
