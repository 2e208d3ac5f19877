"""PostgreSQL: the role user SQL runs as, and the function that runs it.

`carebase_sql` may use schema `sql_api` and read its views, nothing else. Queries run through
`sql_api.carebase_run(text)`, a SECURITY DEFINER function owned by that role: inside such a
function PostgreSQL refuses every change of role (`SET ROLE`, `set_config('role', …)`), which
a member of the role could otherwise make from within the query to read as carebase's own
user. The function answers each row as a JSON array of its values, in column order.
"""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import Connection, text

from carebase.db.views import VIEW_SCHEMA

logger = logging.getLogger(__name__)

PG_SCHEMA = VIEW_SCHEMA
PG_ROLE = "carebase_sql"
RUNNER = f"{PG_SCHEMA}.carebase_run"
# json_each over a json (not jsonb) object keeps its keys' order and repeats: the row's
# values in column order, even when two columns share a name.
_RUNNER_DDL = f"""CREATE FUNCTION {RUNNER}(query text) RETURNS SETOF json
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {PG_SCHEMA}, pg_temp AS $carebase$
BEGIN
  RETURN QUERY EXECUTE 'SELECT (SELECT json_agg(e.value) FROM json_each(row_to_json(r)) AS e) '
    || 'FROM (' || query || ') AS r';
END
$carebase$"""  # noqa: S608 - constants only
_RUNNER_DIGEST = "carebase runner " + hashlib.sha256(_RUNNER_DDL.encode()).hexdigest()[:32]


def grant(connection: Connection) -> None:
    """Create `carebase_sql` when it is missing and this user may; grant it the views only;
    (re)create the runner function it owns."""
    exists = connection.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": PG_ROLE}
    ).first()
    privileged = connection.execute(
        text("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
    ).one()
    if exists is None:
        if not (privileged.rolsuper or privileged.rolcreaterole):
            logger.warning(
                "role %s is missing and this database user may not create it: SQL queries "
                "answer 503 until an operator runs the commands in docs/query.md",
                PG_ROLE,
            )
            return
        connection.execute(text(f"CREATE ROLE {PG_ROLE} NOLOGIN"))
    if not privileged.rolsuper:
        member = connection.execute(
            text("SELECT pg_has_role(current_user, :role, 'MEMBER')"), {"role": PG_ROLE}
        ).scalar_one()
        if not member and privileged.rolcreaterole:
            connection.execute(text(f"GRANT {PG_ROLE} TO CURRENT_USER"))
    connection.execute(text(f"GRANT USAGE ON SCHEMA {PG_SCHEMA} TO {PG_ROLE}"))
    connection.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {PG_SCHEMA} TO {PG_ROLE}"))
    _runner(connection)


def _runner(connection: Connection) -> None:
    found = connection.execute(
        text(
            "SELECT obj_description(p.oid, 'pg_proc'), pg_get_userbyid(p.proowner) "
            "FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace "
            "WHERE n.nspname = :schema AND p.proname = 'carebase_run'"
        ),
        {"schema": PG_SCHEMA},
    ).first()
    if found is not None and tuple(found) == (_RUNNER_DIGEST, PG_ROLE):
        return
    connection.execute(text(f"DROP FUNCTION IF EXISTS {RUNNER}(text)"))
    connection.exec_driver_sql(_RUNNER_DDL)
    connection.exec_driver_sql(f"COMMENT ON FUNCTION {RUNNER}(text) IS '{_RUNNER_DIGEST}'")
    connection.execute(text(f"REVOKE ALL ON FUNCTION {RUNNER}(text) FROM PUBLIC"))
    # A new owner needs CREATE on the schema at the moment it takes the function, never after.
    connection.execute(text(f"GRANT CREATE ON SCHEMA {PG_SCHEMA} TO {PG_ROLE}"))
    connection.execute(text(f"ALTER FUNCTION {RUNNER}(text) OWNER TO {PG_ROLE}"))
    connection.execute(text(f"REVOKE CREATE ON SCHEMA {PG_SCHEMA} FROM {PG_ROLE}"))
