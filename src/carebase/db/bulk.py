"""Bulk inserts and IN-list selects for the ingestion hot path.

SQLAlchemy runs a Python processor per value and builds an object per row; for a
1,000-event batch that costs more than the SQL itself. Here each column's conversion is
chosen once per dialect and the driver gets (or gives) plain tuples. Only for plain
inserts of complete rows and selects by one key column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session

from carebase import jsonutil
from carebase.models.base import UTCDateTime, to_sqlite_text

Converter = Callable[[Any], Any]
# Converts a whole column at once: a loop in one frame costs far less than a call per value.
ColumnConverter = Callable[[Sequence[Any]], Sequence[Any]]
_cache: dict[tuple[str, str], tuple[str, list[str], list[ColumnConverter | None]]] = {}


# Formatted instants, shared by every insert: a batch repeats its `now` on every row, and
# a ticket's dates are written again as its profile's attributes. Bounded by clearing.
_TEXTS: dict[datetime, str] = {}
_TEXTS_MAX = 100_000


def _sqlite_datetimes(values: Sequence[datetime | None]) -> list[str | None]:
    if len(_TEXTS) > _TEXTS_MAX:
        _TEXTS.clear()
    texts = _TEXTS
    out: list[str | None] = []
    append = out.append
    for value in values:
        if value is None:
            append(None)
            continue
        text = texts.get(value)  # equal instants in any zone are one key, one UTC text
        if text is None:
            utc = value if value.tzinfo is UTC else value.astimezone(UTC)
            text = texts[value] = to_sqlite_text(utc)
        append(text)
    return out


def _json_texts(values: Sequence[Any]) -> list[str | None]:
    dumps = orjson.dumps
    try:
        return [None if value is None else dumps(value).decode() for value in values]
    except (orjson.JSONEncodeError, TypeError):
        # A value orjson refuses (an integer beyond 64 bits): jsonutil's fallback, per value.
        return [None if value is None else jsonutil.dumps_text(value) for value in values]


def _jsonbs(values: Sequence[Any]) -> list[Any]:
    return [None if value is None else Jsonb(value, dumps=jsonutil.dumps_text) for value in values]


def _plan(table: Table, dialect: str) -> tuple[str, list[str], list[ColumnConverter | None]]:
    key = (table.name, dialect)
    if key in _cache:
        return _cache[key]
    names, converters = [], []
    for column in table.columns:
        if column.autoincrement is True and column.primary_key:
            continue
        names.append(column.name)
        converter: ColumnConverter | None = None
        if isinstance(column.type, UTCDateTime) and dialect == "sqlite":
            converter = _sqlite_datetimes
        elif isinstance(column.type, JSON) or isinstance(getattr(column.type, "impl", None), JSON):
            converter = _jsonbs if dialect == "postgresql" else _json_texts
        converters.append(converter)
    marker = "?" if dialect == "sqlite" else "%s"
    placeholders = ", ".join([marker] * len(names))
    # Table and column names come from carebase's own metadata, never from input.
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})"  # noqa: S608
    _cache[key] = (sql, names, converters)
    return _cache[key]


# Bound parameters per IN list: well under SQLite's and PostgreSQL's limits.
IN_LIST_SIZE = 500


def _decoder(column: Any, dialect: str) -> Converter | None:
    if isinstance(column.type, UTCDateTime):
        return _sqlite_read_datetime if dialect == "sqlite" else _utc
    is_json = isinstance(column.type, JSON) or isinstance(getattr(column.type, "impl", None), JSON)
    if is_json and dialect == "sqlite":
        return _json_read
    return None


# The other way: stored texts parsed once (attribute rows read back the instants a batch
# wrote; datetimes are immutable, so sharing them is safe). Bounded by clearing.
_INSTANTS: dict[str, datetime] = {}


def _sqlite_read_datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    instant = _INSTANTS.get(value)
    if instant is None:
        if len(_INSTANTS) > _TEXTS_MAX:
            _INSTANTS.clear()
        instant = _INSTANTS[value] = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return instant


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _json_read(value: Any) -> Any:
    return None if value is None else jsonutil.loads(value)


def select_in(
    session: Session,
    table: Table,
    columns: Sequence[str],
    key: str,
    values: Sequence[Any],
    *,
    where: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Rows of `table` whose `key` is in `values` (and whose `where` columns match: equal to a
    value, or in a tuple of values), as dicts."""
    connection = session.connection()
    dialect = connection.dialect.name
    marker = "?" if dialect == "sqlite" else "%s"
    decoders = [(name, _decoder(table.c[name], dialect)) for name in columns]
    conditions: list[str] = []
    fixed: list[Any] = []
    for name, wanted in (where or {}).items():
        if isinstance(wanted, tuple):
            conditions.append(f"{name} IN ({', '.join([marker] * len(wanted))})")
            fixed.extend(wanted)
        else:
            conditions.append(f"{name} = {marker}")
            fixed.append(wanted)
    found: list[dict[str, Any]] = []
    for chunk in chunks(sorted(set(values))):
        in_list = f"{key} IN ({', '.join([marker] * len(chunk))})"
        # Names come from carebase's own metadata; every value is a bound parameter.
        sql = (
            f"SELECT {', '.join(columns)} FROM {table.name} "  # noqa: S608
            f"WHERE {' AND '.join([*conditions, in_list])}"
        )
        for row in connection.exec_driver_sql(sql, (*fixed, *chunk)):
            found.append(
                {
                    name: value if decode is None else decode(value)
                    for (name, decode), value in zip(decoders, row, strict=True)
                }
            )
    return found


def chunks(items: Sequence[Any], size: int = IN_LIST_SIZE) -> Iterator[Sequence[Any]]:
    """Consecutive slices of `items`, for IN lists of bounded length."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert complete rows (every column but an auto-increment key) in one executemany."""
    if not rows:
        return
    connection = session.connection()
    sql, names, converters = _plan(table, connection.dialect.name)
    # Column-wise: pick every value with one C-level itemgetter per row, then convert
    # only the columns that need it (timestamps, JSON), each in one pass.
    pick = itemgetter(*names)
    columns: list[Any] = list(zip(*map(pick, rows), strict=True))
    for position, convert in enumerate(converters):
        if convert is not None:
            columns[position] = convert(columns[position])
    connection.exec_driver_sql(sql, list(zip(*columns, strict=True)))
