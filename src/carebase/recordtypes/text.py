"""Helpers for the one-line history summaries."""

from __future__ import annotations

from typing import Any


def clip(text: Any, size: int = 80) -> str:
    """`text` cut to `size` characters, with an ellipsis when it was longer."""
    value = str(text)
    return value if len(value) <= size else value[: size - 1] + "…"
