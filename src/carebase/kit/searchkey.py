"""Search keys: text folded so that a prefix typed by a person finds it, on both engines.

A key is NFKD-decomposed with its combining marks dropped, case-folded and its whitespace
collapsed, so "Zoë  O'Brien" and "zoe o'brien" are the same key. Keys are compared bytewise
(SQLite's BINARY, PostgreSQL's "C" collation), so a prefix is a range: `key >= p AND key <
p + PREFIX_END`.
"""

from __future__ import annotations

import unicodedata

# The greatest code point: every string starting with p sorts before p + PREFIX_END.
PREFIX_END = "\U0010ffff"


def fold(text: str) -> str:
    """`text` as a search key: accents dropped, case folded, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def name_key(first_name: str | None, last_name: str | None) -> str | None:
    """The key of a person's full name ("first last"), or None when they have neither."""
    key = fold(f"{first_name or ''} {last_name or ''}")
    return key or None


def prefix_range(prefix: str) -> tuple[str, str]:
    """The bounds of every key starting with `prefix`: `low <= key < high`."""
    return prefix, prefix + PREFIX_END
