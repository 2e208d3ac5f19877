"""Column types shared by tables."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB

# JSONB on PostgreSQL (indexable, queryable by segments and SQL); JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigIntegerKey = BigInteger().with_variant(Integer(), "sqlite")

# Text compared bytewise on both engines (SQLite's default BINARY; "C" on PostgreSQL, whose
# database collation may be linguistic): a prefix is then an index range (`kit/searchkey.py`).
SearchKey = Text().with_variant(Text(collation="C"), "postgresql")


def bytewise(length: int) -> String:
    """A VARCHAR(length) compared bytewise on both engines, as `SearchKey`."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")
