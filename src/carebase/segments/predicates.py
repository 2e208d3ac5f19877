"""One operator on one value, as SQL that runs on both engines.

JSON differs by engine, so a few expressions are built twice and `PerDialect` picks one when
the statement is compiled: on SQLite JSON is text (list membership through `json_each`, with
an `instr` prefilter on the stored text, which orjson encodes deterministically), on
PostgreSQL it is JSONB (`@>` containment, JSONB equality, `jsonb_typeof`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement

from carebase.segments import fields as f
from carebase.segments.values import timestamp_of

Predicate = ColumnElement[bool]


class PerDialect(ColumnElement[Any]):
    """An expression written once per engine; the statement's dialect picks one."""

    inherit_cache = False

    def __init__(self, sqlite: ColumnElement[Any], postgresql: ColumnElement[Any]) -> None:
        self.sqlite = sqlite
        self.postgresql = postgresql
        self.type = sqlite.type

    @property
    def _from_objects(self) -> list[Any]:
        return list(self.sqlite._from_objects)

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        # Group each branch as itself: a comparison stays a plain `column = ?` on SQLite
        # (not `(column = ?) = 1`, which the planner cannot match to an index).
        return PerDialect(self.sqlite.self_group(against), self.postgresql.self_group(against))


@compiles(PerDialect)
def _compile_per_dialect(element: PerDialect, compiler: SQLCompiler, **kw: Any) -> str:
    chosen = element.postgresql if compiler.dialect.name == "postgresql" else element.sqlite
    return compiler.process(chosen, **kw)


def per_dialect(sqlite: ColumnElement[Any], postgresql: ColumnElement[Any]) -> Predicate:
    """A boolean expression written once per engine."""
    return PerDialect(sqlite, postgresql)


def not_true(predicate: Predicate) -> Predicate:
    """True where `predicate` is false or NULL (a missing value never matches a test)."""
    return sa.not_(sa.func.coalesce(predicate, sa.false(), type_=sa.Boolean))


@dataclass(frozen=True, slots=True)
class Value:
    """Where a field's value lives: a typed column, or a JSON column (and a path inside it).

    `json` columns hold a scalar (string-or-number), a list of strings, or a money object
    `{currency: amount}`; `default` stands in for a missing JSON key (engagement counts).
    """

    column: ColumnElement[Any]
    kind: str
    path: tuple[str, ...] = ()
    default: Any = None
    # Money only: the column of per-currency order counts that divides it (average order).
    divisor: ColumnElement[Any] | None = None


def predicate(value: Value, op: str, operand: Any, *, now: datetime) -> Predicate:
    """`value op operand` (an operand validated by the definition) as SQL."""
    kind = value.kind
    if kind == f.STRING_LIST:
        return _list_predicate(value.column, op, operand)
    if kind == f.STRING_OR_NUMBER:
        return _scalar_json_predicate(value, op, operand)
    if kind == f.MONEY:
        return _money_predicate(value, op, operand)
    expression = _typed(value)
    return compare(expression, kind, op, operand, now=now)


def _typed(value: Value) -> ColumnElement[Any]:
    """A column, or a typed read of a JSON path (with the attribute's default)."""
    if not value.path:
        return value.column
    element = value.column[value.path]
    if value.kind == f.INTEGER:
        read = element.as_integer()
    elif value.kind == f.NUMBER:
        read = element.as_float()
    elif value.kind == f.BOOLEAN:
        read = element.as_boolean()
    else:
        read = element.as_string()
    if value.default is not None:
        return sa.func.coalesce(read, value.default, type_=read.type)
    return cast(ColumnElement[Any], read)


def compare(
    expression: ColumnElement[Any], kind: str, op: str, operand: Any, *, now: datetime
) -> Predicate:
    """A scalar column (string, number, timestamp, date, boolean) against an operand."""
    if op == f.IS_SET:
        return expression.is_not(None)
    if op == f.IS_NOT_SET:
        return expression.is_(None)
    if op == f.WITHIN_LAST_DAYS:
        since = now - timedelta(days=int(operand))
        if kind == f.DATE:
            return sa.and_(
                expression >= since.date().isoformat(), expression <= now.date().isoformat()
            )
        return sa.and_(expression >= since, expression <= now)
    bound = _bind(kind, operand)
    if op == f.EQ:
        return cast(Predicate, expression == bound)
    if op == f.NE:
        return sa.and_(expression.is_not(None), expression != bound)
    if op == f.IN:
        return expression.in_(bound)
    if op == f.CONTAINS:
        return expression.icontains(bound, autoescape=True)
    if op == f.BETWEEN:
        return expression.between(bound[0], bound[1])
    return _ordered(expression, op, bound)


def _ordered(expression: ColumnElement[Any], op: str, bound: Any) -> Predicate:
    if op == f.GT:
        return cast(Predicate, expression > bound)
    if op == f.GTE:
        return cast(Predicate, expression >= bound)
    if op == f.LT:
        return cast(Predicate, expression < bound)
    if op == f.LTE:
        return cast(Predicate, expression <= bound)
    raise ValueError(f"operator {op!r} on a scalar")  # pragma: no cover - validated before


def _bind(kind: str, operand: Any) -> Any:
    if isinstance(operand, list):
        return [_bind(kind, each) for each in operand]
    if kind == f.TIMESTAMP:
        return timestamp_of(operand)
    if kind == f.DATE:
        return date.fromisoformat(operand).isoformat()
    return operand


# ---- string lists ------------------------------------------------------------------------


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def list_has(column: ColumnElement[Any], item: str) -> Predicate:
    """The JSON list in `column` holds `item` exactly."""
    items = sa.func.json_each(column).table_valued("value")
    exact = sa.exists(sa.select(sa.literal(1)).select_from(items).where(items.c.value == item))
    # orjson writes a string one way only, so the quoted item occurs in the stored text of
    # every list holding it: a byte search discards most rows before json_each parses them.
    sqlite = sa.and_(sa.func.instr(column, _json_text(item)) > 0, exact)
    postgresql = column.op("@>", is_comparison=True)(sa.cast(sa.literal(_json_text([item])), JSONB))
    return per_dialect(sqlite, postgresql)


def _list_predicate(column: ColumnElement[Any], op: str, operand: Any) -> Predicate:
    if op == f.CONTAINS:
        return list_has(column, operand)
    if op == f.IN:
        return sa.or_(*(list_has(column, item) for item in operand))
    non_empty = per_dialect(
        sa.func.json_array_length(column) > 0,
        column.op("!=", is_comparison=True)(sa.cast(sa.literal("[]"), JSONB)),
    )
    if op == f.IS_SET:
        return sa.and_(column.is_not(None), non_empty)
    if op == f.IS_NOT_SET:
        return not_true(non_empty)
    raise ValueError(f"operator {op!r} on a list")  # pragma: no cover - validated before


# ---- string-or-number JSON scalars -------------------------------------------------------


def _sqlite_path(path: Sequence[str]) -> str:
    # Field keys are restricted to [A-Za-z0-9_-] (fields.attribute_field), so quoting is safe.
    return "$" + "".join(f'."{key}"' for key in path)


def _pg_path(path: Sequence[str]) -> ColumnElement[Any]:
    return sa.cast(sa.literal("{" + ",".join(path) + "}"), ARRAY(sa.Text))


def _scalar_json_predicate(value: Value, op: str, operand: Any) -> Predicate:
    column, path = value.column, value.path
    sqlite_value = sa.func.json_extract(column, _sqlite_path(path))
    sqlite_type = sa.func.json_type(column, _sqlite_path(path))
    pg_json: ColumnElement[Any] = (
        column.op("#>", return_type=JSONB)(_pg_path(path)) if path else column
    )
    pg_type = sa.func.jsonb_typeof(pg_json)
    if op in (f.IS_SET, f.IS_NOT_SET):
        present = per_dialect(
            sa.func.coalesce(sqlite_type, "null") != "null",
            sa.func.coalesce(pg_type, "null") != "null",
        )
        return present if op == f.IS_SET else not_true(present)
    if op in (f.EQ, f.NE, f.IN):
        items = operand if op == f.IN else [operand]
        equal = sa.or_(*(_json_equals(value, item) for item in items))
        if op == f.NE:
            return sa.and_(
                per_dialect(
                    sa.func.coalesce(sqlite_type, "null") != "null",
                    sa.func.coalesce(pg_type, "null") != "null",
                ),
                not_true(equal),
            )
        return equal
    # Ordering compares numeric scores only; a text score never matches.
    sqlite_number = sa.case((sqlite_type.in_(("integer", "real")), sqlite_value), else_=sa.null())
    pg_number = sa.case(
        (pg_type == "number", sa.cast(pg_json.op("#>>")(_pg_path(())), sa.Float)),
        else_=sa.null(),
    )
    number = PerDialect(sqlite_number, pg_number)
    if op == f.BETWEEN:
        return number.between(operand[0], operand[1])
    return _ordered(number, op, operand)


def _json_equals(value: Value, item: Any) -> Predicate:
    """The JSON scalar equals `item` (a string equals only a string, a number a number)."""
    column, path = value.column, value.path
    text = _json_text(item)
    if path:
        sqlite_value = sa.func.json_extract(column, _sqlite_path(path))
        sqlite_type = sa.func.json_type(column, _sqlite_path(path))
        wanted = ("text",) if isinstance(item, str) else ("integer", "real")
        sqlite = sa.and_(sqlite_type.in_(wanted), sqlite_value == item)
        pg_json: ColumnElement[Any] = column.op("#>", return_type=JSONB)(_pg_path(path))
    else:
        if isinstance(item, str):
            # The whole column is the scalar, stored as orjson text: compare the bytes.
            sqlite = column.op("=", is_comparison=True)(sa.literal(text))
        else:
            sqlite = sa.and_(
                sa.func.json_type(column, "$").in_(("integer", "real")),
                sa.func.json_extract(column, "$") == item,
            )
        pg_json = column
    postgresql = pg_json.op("=", is_comparison=True)(sa.cast(sa.literal(text), JSONB))
    return per_dialect(sqlite, postgresql)


# ---- money per currency ------------------------------------------------------------------


def _money_predicate(value: Value, op: str, operand: Any) -> Predicate:
    column = value.column
    if op in (f.IS_SET, f.IS_NOT_SET):
        non_empty = per_dialect(
            sa.func.coalesce(sa.func.json_extract(column, "$"), "{}") != "{}",
            column.op("!=", is_comparison=True)(sa.cast(sa.literal("{}"), JSONB)),
        )
        return non_empty if op == f.IS_SET else not_true(non_empty)
    items = operand if op == f.BETWEEN else [operand]
    amount = money_amount(value, items[0]["currency"])
    if op == f.BETWEEN:
        return amount.between(items[0]["amount"], items[1]["amount"])
    return _ordered(amount, op, operand["amount"])


def money_amount(value: Value, currency: str) -> ColumnElement[Any]:
    """The amount in one currency: a sum counts a missing currency as 0; an average (divided
    by the orders in that currency) has none."""
    amount = value.column[(currency,)].as_float()
    if value.divisor is None:
        return sa.func.coalesce(amount, 0.0, type_=sa.Float)
    orders = value.divisor[(currency,)].as_float()
    return cast(ColumnElement[Any], amount / sa.func.nullif(orders, 0.0))
