"""Diffing, pure: what a record's prepared fields hash to, and what a run does with it given
what the orchestration last delivered for its key.

The hash is SHA-256 over the fields as canonical JSON (orjson, keys sorted, non-string keys
made strings), so the same fields hash the same in every process and on every engine; a
record is re-sent when its hash differs from the one the destination last acknowledged, or
when its last delivery failed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Literal, Protocol

import orjson

Action = Literal["new", "changed", "unchanged", "retry"]
# Actions that put the record on the run's work list.
TO_SEND: frozenset[str] = frozenset({"new", "changed", "retry"})


class StateRow(Protocol):
    """What the diff needs of an `activation_state` row."""

    @property
    def payload_hash(self) -> str: ...

    @property
    def status(self) -> str: ...


def canonical(fields: Mapping[str, Any]) -> bytes:
    """The fields as canonical JSON bytes: sorted keys, no whitespace, dates in ISO 8601."""
    return orjson.dumps(
        dict(fields), option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str
    )


def fields_hash(fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the fields' canonical JSON."""
    return hashlib.sha256(canonical(fields)).hexdigest()


def classify(state: StateRow | None, payload_hash: str) -> Action:
    """new (never delivered, or reset by a full resync), retry (its last delivery failed),
    changed (delivered with other fields), unchanged (delivered exactly so)."""
    if state is None:
        return "new"
    if state.status != "succeeded":
        return "retry"
    return "unchanged" if state.payload_hash == payload_hash else "changed"
