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
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, SqlglotError, TokenError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from carebase.errors import BadRequest

DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}
MAX_SQL_CHARS = 20_000
_GENERATED_ALIAS = re.compile(r"^_col_\d+$")

# Scalar, aggregate, window, date, string, math and JSON functions that read only their
# arguments. Anything else (set_config, pg_sleep, pg_read_file, load_extension, dblink, lo_*,
# txid/advisory-lock functions, randomblob's cousins…) is refused by name.
ALLOWED_FUNCTIONS = frozenset(
    """
    abs acos asin atan atan2 avg bool_and bool_or ceil ceiling char char_length
    character_length coalesce concat concat_ws cos count cume_dist current_date
    current_time current_timestamp date date_part date_trunc datetime day
    dense_rank div every exp extract first_value floor glob greatest group_concat
    hex hour iif ifnull initcap instr json json_array json_array_length json_build_array
    json_build_object json_each json_extract json_extract_path json_extract_path_text
    json_extract_scalar json_group_array json_group_object json_object json_quote
    json_type json_typeof json_valid jsonb_array_elements jsonb_array_elements_text
    jsonb_array_length jsonb_build_array jsonb_build_object jsonb_each jsonb_each_text
    jsonb_extract_path jsonb_extract_path_text jsonb_object_keys jsonb_typeof
    json_array_elements json_array_elements_text json_object_keys julianday lag
    last_value lead least left length like ln log log10 lower ltrim max md5 min
    minute mod month now nth_value ntile nullif octet_length percent_rank pi position
    power quote rank regexp_replace replace reverse right round row_number
    rtrim second sign sin split_part sqrt stddev stddev_pop stddev_samp
    strftime string_agg strpos substr substring sum tan time timezone to_char
    to_date to_timestamp total trim trunc typeof unicode unixepoch upper var_pop
    var_samp variance week year array_agg array_length unnest cardinality
    any_value approx_distinct bit_length btrim age make_date make_interval justify_days
    """.split()
)
# sqlglot's own names for expressions it models, that map onto allowed SQL functions or
# operators (printed back as the engine's spelling).
_ALLOWED_SQLGLOT = frozenset(
    """
    cast try_cast case if and or not anonymous column literal star paren alias
    jsonextract jsonextractscalar jsonbextract jsonbextractscalar jsonbcontains
    jsonformat jsonarraycontains parsejson arrayagg arraysize arrayconcat
    timestrtotime timestrtodate tsordstodate unixtotime timetostr strtotime
    currentdate currenttimestamp currenttime datediff dateadd datesub datestrtodate
    groupconcat stddevsamp stddevpop varpop variancepop countif logicaland logicalor
    dpipe safedivide regexplike timestamptrunc datetrunc dayofmonth dayofweek dayofyear
    lastday monthsbetween tochar stringtoarray split splitpart
    """.split()
)
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


class SqlRefused(BadRequest):
    """The SQL is not a single read of the published views; the message says why."""

    code = "sql_refused"
    default_message = "This SQL is not allowed."


class SqlSyntaxError(BadRequest):
    """The SQL does not parse; `details` gives the line and column when known."""

    code = "sql_syntax_error"
    default_message = "The SQL could not be parsed."


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
    read = DIALECTS[dialect]
    statement = _one_statement(sql, read)
    _refuse_writes(statement)
    if not isinstance(statement, exp.Select | exp.SetOperation):
        raise SqlRefused(f"Only SELECT is allowed, not {statement.key.upper()}.")
    ctes = _cte_names(statement, schema)
    _check_tables(statement, ctes, schema)
    _check_functions(statement)
    try:
        qualified = qualify(
            statement,
            schema=schema,
            dialect=read,
            validate_qualify_columns=True,
            quote_identifiers=False,
            identify=False,
        )
        typed = annotate_types(qualified, schema=schema, dialect=read)
    except OptimizeError as error:
        raise SqlRefused(_first_line(str(error))) from error
    except SqlglotError as error:
        raise SqlRefused(f"The SQL could not be checked: {_first_line(str(error))}") from error
    # Qualifying expands stars into columns: check the functions of what will run, too.
    _check_functions(typed)
    names, types = _outputs(typed, read)
    body = typed.sql(dialect=read)
    capped = f"SELECT * FROM ({body}) AS carebase_query LIMIT {max_rows + 1}"
    return CheckedQuery(capped, names, types, max_rows)


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
    return statements[0]


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
            node.key.lower() in _ALLOWED_SQLGLOT or name.replace("_", "") in _ALLOWED_SQLGLOT
        ):
            continue
        raise SqlRefused(f"The function {name}() is not allowed.")


def _outputs(typed: exp.Expression, read: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    select = typed
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
