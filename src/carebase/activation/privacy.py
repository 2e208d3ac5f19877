"""What a run keeps of a record: its key, its status and the reason, never its fields — not
even inside a reason. A destination's message often quotes the value it refused ("Email:
ana@example.com is already being used by another user"); that value becomes its field's
name ("Email: [email] is already …") before the message is stored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Shorter values ("1", "no") would blank out ordinary words of a message.
SHORTEST = 3


def _texts(value: Any) -> list[str]:
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _texts(item)]
    return [str(value)]


def without_values(message: str, fields: Mapping[str, Any] | None) -> str:
    """The message with every field value of the record it quotes replaced by `[field]`
    (longest values first, so a value inside another is not half-replaced)."""
    if not message or not fields:
        return message
    pairs = [
        (text, name)
        for name, value in fields.items()
        for text in _texts(value)
        if len(text) >= SHORTEST
    ]
    for text, name in sorted(pairs, key=lambda pair: -len(pair[0])):
        if text in message:
            message = message.replace(text, f"[{name}]")
    return message
