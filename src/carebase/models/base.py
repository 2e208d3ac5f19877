"""Declarative base, naming conventions and column types shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, String, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator, TypeEngine

# Stable constraint names, so migrations can alter them on both engines.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def to_sqlite_text(value: datetime) -> str:
    """A UTC datetime as the fixed-width text SQLite columns hold."""
    # isoformat of an aware UTC value ends in "+00:00"; the first 26 characters are the time.
    return value.isoformat(sep=" ", timespec="microseconds")[:26]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both engines.

    PostgreSQL stores `timestamptz`. SQLite has no date type: carebase stores fixed-width
    UTC text (`2024-11-06 08:00:00.000000`), which sorts and compares correctly as text,
    and converts it with the C `isoformat`/`fromisoformat` rather than SQLAlchemy's
    per-value Python formatting, which dominated bulk inserts.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(26))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a timezone")
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return to_sqlite_text(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Every carebase table derives from this."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware."""
    return datetime.now(UTC)


def table(model: type[Base]) -> Table:
    """A model's Core table (for bulk statements that skip the ORM's per-row work)."""
    result = model.__table__
    assert isinstance(result, Table)
    return result
