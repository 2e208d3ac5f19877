"""The parser gate: user SQL becomes a checked, re-printed SELECT with a forced row cap.

Pure (no database): sqlglot parses the text in the engine's dialect; exactly one SELECT (or
UNION/INTERSECT/EXCEPT of SELECTs) over the published views passes, every column qualified
against the views' columns, every function on an allow-list. What runs is sqlglot's
re-printing of the checked tree inside `SELECT * FROM (…) LIMIT max_rows + 1`, never the
text as sent. The gate is the first layer; each engine enforces read-only access to the
views underneath it (`carebase.query.engines`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError, TokenError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from carebase.errors import SqlRefused, SqlSyntaxError
from carebase.query.functions import ALLOWED_FUNCTIONS, ALLOWED_SQLGLOT

DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}
MAX_SQL_CHARS = 20_000
_GENERATED_ALIAS = re.compile(r"^_col_\d+$")

# Statements and clauses that write, lock or change session state, wherever they appear.
_FORBIDDEN = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Pragma,
    exp.Attach,
    exp.Detach,
    exp.Set,
    exp.Into,
    exp.Lock,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Use,
    exp.Copy,
    exp.LoadData,
    exp.Analyze,
    exp.TruncateTable,
)


@dataclass(frozen=True, slots=True)
class CheckedQuery:
    """A query that passed the gate."""

    # What the engine runs: the checked query, re-printed, capped at max_rows + 1 rows.
    sql: str
    columns: tuple[str, ...]
    # Each column's type as sqlglot infers it ("TIMESTAMPTZ", "JSON", "UNKNOWN", …).
    types: tuple[str, ...]
    max_rows: int


def check(
    sql: str, *, dialect: str, schema: dict[str, dict[str, str]], max_rows: int
) -> CheckedQuery:
    """Check user SQL for `dialect` (`sqlite` or `postgresql`) against the views' schema;
    SqlRefused or SqlSyntaxError (400) naming why it does not pass."""
    if len(sql) > MAX_SQL_CHARS:
        raise SqlRefused(f"The SQL is longer than {MAX_SQL_CHARS} characters.")
    try:
        return _check(sql, DIALECTS[dialect], schema, max_rows)
    except (SqlRefused, SqlSyntaxError):
        raise
    except RecursionError as error:
        raise SqlRefused("The SQL is nested too deeply to check.") from error
    except Exception as error:
        # sqlglot met something it does not model: whatever it is, it is not run.
        reason = _first_line(str(error)) or type(error).__name__
        raise SqlRefused(f"The SQL could not be checked: {reason}.") from error


def _check(sql: str, read: str, schema: dict[str, dict[str, str]], max_rows: int) -> CheckedQuery:
    statement = _one_statement(sql, read)
    _refuse_writes(statement)
    if not isinstance(statement, exp.Select | exp.SetOperation):
        raise SqlRefused(f"Only SELECT is allowed, not {statement.key.upper()}.")
    tables = _mapping_schema(read, _schema_key(schema))
    ctes = _cte_names(statement, schema)
    _check_tables(statement, ctes, schema)
    _check_functions(statement)
    try:
        qualified = qualify(
            statement,
            schema=tables,
            dialect=read,
            validate_qualify_columns=True,
            quote_identifiers=False,
            identify=False,
        )
        typed = annotate_types(qualified, schema=tables, dialect=read)
    except OptimizeError as error:
        raise SqlRefused(_first_line(str(error))) from error
    except SqlglotError as error:
        raise SqlRefused(f"The SQL could not be checked: {_first_line(str(error))}") from error
    # Qualifying expands stars into columns: check the functions of what will run, too.
    _check_functions(typed)
    names, types = _outputs(typed, read)
    body = typed.sql(dialect=read)
    # The checked tree as sqlglot prints it, never the text as sent.
    capped = f"SELECT * FROM ({body}) AS carebase_query LIMIT {max_rows + 1}"  # noqa: S608
    return CheckedQuery(capped, names, types, max_rows)


SchemaKey = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]


def _schema_key(schema: dict[str, dict[str, str]]) -> SchemaKey:
    return tuple((view, tuple(columns.items())) for view, columns in schema.items())


@lru_cache(maxsize=8)
def _mapping_schema(read: str, key: SchemaKey) -> MappingSchema:
    """The views' schema as sqlglot's MappingSchema, built once per dialect: normalising
    every view's column names costs more than checking a query."""
    return MappingSchema({view: dict(columns) for view, columns in key}, dialect=read)


def _first_line(message: str) -> str:
    return message.splitlines()[0] if message else "invalid SQL"


def _one_statement(sql: str, read: str) -> exp.Expression:
    if not sql.strip():
        raise SqlRefused("The SQL is empty.")
    try:
        statements = [each for each in sqlglot.parse(sql, read=read) if each is not None]
    except ParseError as error:
        found: dict[str, Any] = error.errors[0] if error.errors else {}
        details = {key: found[key] for key in ("line", "col") if found.get(key) is not None}
        message = found.get("description") or _first_line(str(error))
        raise SqlSyntaxError(f"The SQL could not be parsed: {message}.", details=details) from error
    except TokenError as error:
        raise SqlSyntaxError(f"The SQL could not be parsed: {error}.") from error
    if len(statements) != 1:
        raise SqlRefused(f"Only one statement is allowed; this SQL has {len(statements)}.")
    statement = statements[0]
    assert isinstance(statement, exp.Expression)
    return statement


def _refuse_writes(statement: exp.Expression) -> None:
    for node in statement.walk():
        if isinstance(node, _FORBIDDEN):
            if isinstance(node, exp.Command):
                word = str(node.this).upper()
                raise SqlRefused(f"Only SELECT is allowed; {word} is not.")
            if isinstance(node, exp.Into):
                raise SqlRefused("SELECT … INTO writes a table: writes are not allowed.")
            if isinstance(node, exp.Lock):
                raise SqlRefused("Locking reads (FOR UPDATE/SHARE) are not allowed.")
            kind = node.key.upper()
            raise SqlRefused(
                f"{kind} is not allowed: only one SELECT may run (writes, DDL, ATTACH, PRAGMA "
                "and session commands are refused)."
            )


def _cte_names(statement: exp.Expression, schema: dict[str, dict[str, str]]) -> set[str]:
    names = set()
    for cte in statement.find_all(exp.CTE):
        name = cte.alias_or_name.lower()
        if name in schema:
            raise SqlRefused(f"A WITH query may not take the name of the view {name!r}.")
        names.add(name)
    return names


def _check_tables(
    statement: exp.Expression, ctes: set[str], schema: dict[str, dict[str, str]]
) -> None:
    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            # A table function in FROM (json_each(…)): checked with the functions.
            continue
        name = table.name.lower()
        where = ".".join(part for part in (table.catalog, table.db) if part)
        if where:
            raise SqlRefused(
                f"Tables are read by name alone; {where}.{table.name} names a schema. "
                f"Published views: {', '.join(sorted(schema))}."
            )
        if name not in schema and name not in ctes:
            raise SqlRefused(
                f"{table.name!r} is not a published view; SQL may read only "
                f"{', '.join(sorted(schema))}."
            )


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _check_functions(statement: exp.Expression) -> None:
    for node in statement.find_all(exp.Func):
        name = _function_name(node)
        if name in ALLOWED_FUNCTIONS:
            continue
        if not isinstance(node, exp.Anonymous) and (
            node.key.lower() in ALLOWED_SQLGLOT or name.replace("_", "") in ALLOWED_SQLGLOT
        ):
            continue
        raise SqlRefused(f"The function {name}() is not allowed.")


def _outputs(typed: exp.Expression, read: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    select: Any = typed
    while isinstance(select, exp.SetOperation):
        select = select.left
    names, types = [], []
    for projection in select.selects if isinstance(select, exp.Select) else []:
        name = projection.alias_or_name
        if _GENERATED_ALIAS.match(name) and isinstance(projection, exp.Alias):
            # Unnamed by the user: named as written, like the engines name it.
            name = projection.this.sql(dialect=read)
        names.append(name)
        kind = projection.type
        types.append(kind.sql().upper() if kind is not None else "UNKNOWN")
    return tuple(names), tuple(types)
