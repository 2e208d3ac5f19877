"""The SQL page (`/sql`, managers only): the published views and their columns, an editor,
the result as a table (with the `truncated` notice and the time it took), refusals and
timeouts in words, the result as CSV, and saved queries (save, open, run again, delete).

Who may: **managers**. SQL reads `customer_360` for every customer at once — a bulk read
of personal data, where an agent's work is one customer at a time; the API keeps it to the
`query:run` scope in the same spirit. Every query goes through `query.service.run_query`:
the gate, then the engine's read-only enforcement and deadline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from carebase.errors import BadRequest, CarebaseError, Conflict, ValidationFailed
from carebase.query import service
from carebase.query.gate import MAX_SQL_CHARS
from carebase.query.service import QueryResult
from carebase.web.actions import (
    Toast,
    database_of,
    field_messages,
    now_of,
    read,
    settings_of,
    write,
)
from carebase.web.forms import Form, read_form
from carebase.web.pages.segments import SEGMENT_HEAD
from carebase.web.render import is_htmx, render
from carebase.web.routing import page_router
from carebase.web.session import Manager

router = page_router()

SHOWN_ROWS = 100
CSV_ROWS = service.MAX_ROWS
SAVED_SHOWN = 100
RESULT_TARGET = "sql-result"
EXAMPLE = (
    "SELECT c.profile_id, c.full_name, c.email, c.ticket_count\n"
    "FROM customer_360 AS c\n"
    "WHERE c.ticket_count >= 3\n"
    "ORDER BY c.ticket_count DESC"
)
QueryId = Annotated[str | None, Query(alias="query", max_length=64)]


class SqlForm(BaseModel):
    """The editor as posted: the SQL, the button pressed, and a name when saving."""

    sql: str = Field(default="", max_length=MAX_SQL_CHARS)
    action: str = Field(default="run", max_length=20)
    name: str = Field(default="", max_length=service.NAME_MAX)
    description: str = Field(default="", max_length=service.DESCRIPTION_MAX)
    query_id: str = Field(default="", max_length=64)


@dataclass(frozen=True)
class Outcome:
    """A run: its result, or why there is none (the error's code and words)."""

    result: QueryResult | None = None
    code: str | None = None
    message: str | None = None


ERROR_TITLES = {
    "sql_refused": "Refused",
    "sql_syntax_error": "The SQL could not be read",
    "query_timeout": "Stopped at the deadline",
    "sql_error": "The database could not run it",
}


def _message(error: CarebaseError) -> str:
    details = error.details
    if isinstance(details, dict) and details.get("line"):
        return f"{error.message} (line {details['line']}, column {details.get('column', '?')})"
    return error.message


async def _run(request: Request, sql: str, max_rows: int) -> Outcome:
    database, settings = database_of(request), settings_of(request)
    if not sql.strip():
        return Outcome(code="empty", message="Write a query first, for example the one below.")
    try:
        result = await run_in_threadpool(
            service.run_query, database, sql, settings=settings, max_rows=max_rows
        )
    except (BadRequest, ValidationFailed) as refused:
        return Outcome(code=refused.code, message=_message(refused))
    return Outcome(result=result)


def _saved(session: Session) -> list[dict[str, Any]]:
    rows, _ = service.list_queries(session, limit=SAVED_SHOWN)
    return rows


def cell(value: Any) -> str:
    """A result value as text: JSON for lists and objects, the value otherwise."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _page(
    request: Request,
    *,
    saved: list[dict[str, Any]],
    sql: str,
    outcome: Outcome | None = None,
    opened: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    toast: Toast | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "views": service.published_views(),
        "saved": saved,
        "sql": sql,
        "outcome": outcome,
        "opened": opened,
        "values": values or {},
        "errors": errors or {},
        "toast": toast,
        "error_titles": ERROR_TITLES,
        "cell": cell,
        "shown_rows": SHOWN_ROWS,
        "csv_rows": CSV_ROWS,
        "example": EXAMPLE,
        "segment_head": SEGMENT_HEAD,
    }
    if is_htmx(request) and request.headers.get("hx-target") == RESULT_TARGET:
        return render(request, "partials/sql_result.html", context, status_code=status_code)
    return render(request, "pages/sql.html", context, status_code=status_code)


@router.get("/sql")
async def sql_page(
    request: Request,
    _manager: Manager,
    query_id: QueryId = None,
    run: Annotated[bool, Query()] = False,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """The editor, empty or holding a saved query (run at once with `run=1`)."""

    def work(session: Session) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        opened = service.get_query(session, query_id) if query_id else None
        return _saved(session), opened

    saved, opened = await read(request, work)
    sql = opened["sql"] if opened else ""
    outcome = await _run(request, sql, SHOWN_ROWS) if opened and run else None
    words = {"saved": "Saved {name}.", "deleted": "Deleted the saved query."}
    toast = (
        Toast(words[done].format(name=opened["name"] if opened else "")) if done in words else None
    )
    return _page(request, saved=saved, sql=sql, outcome=outcome, opened=opened, toast=toast)


@router.post("/sql")
async def sql_submit(request: Request, manager: Manager) -> Response:
    """Run the SQL (the table; with htmx, the result alone), download it as CSV, or save it."""
    form: Form[SqlForm] = await read_form(request, SqlForm)
    data = form.data or SqlForm()
    saved, opened = await read(
        request,
        lambda session: (
            _saved(session),
            service.get_query(session, data.query_id) if data.query_id else None,
        ),
    )
    if not form.valid:
        return _page(
            request,
            saved=saved,
            sql=form.values.get("sql", ""),
            opened=opened,
            values=form.values,
            errors=form.errors,
            status_code=422,
        )
    if data.action == "csv":
        outcome = await _run(request, data.sql, CSV_ROWS)
        if outcome.result is not None:
            return Response(
                "".join(outcome.result.csv()),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": 'attachment; filename="query.csv"'},
            )
        return _page(
            request, saved=saved, sql=data.sql, outcome=outcome, opened=opened, status_code=400
        )
    if data.action == "save":
        return await _save(request, manager.user.id, data, saved=saved, opened=opened)
    outcome = await _run(request, data.sql, SHOWN_ROWS)
    return _page(request, saved=saved, sql=data.sql, outcome=outcome, opened=opened)


async def _save(
    request: Request,
    user_id: int,
    data: SqlForm,
    *,
    saved: list[dict[str, Any]],
    opened: dict[str, Any] | None,
) -> Response:
    now = now_of(request)
    dialect = database_of(request).dialect

    def work(session: Session) -> dict[str, Any]:
        if opened is not None:
            return service.update_query(
                session,
                opened["id"],
                name=data.name,
                description=data.description,
                sql=data.sql,
                dialect=dialect,
                now=now,
            )
        return service.create_query(
            session,
            name=data.name,
            description=data.description,
            sql=data.sql,
            dialect=dialect,
            created_by=f"user:{user_id}",
            now=now,
        )

    values = {"name": data.name, "description": data.description}
    try:
        stored = await write(request, work)
    except (ValidationFailed, Conflict) as invalid:
        # A taken name is the name field's problem, as a bad one is.
        errors = (
            field_messages(invalid)
            if isinstance(invalid, ValidationFailed)
            else {"name": invalid.message}
        )
        return _page(
            request,
            saved=saved,
            sql=data.sql,
            opened=opened,
            values=values,
            errors=errors,
            status_code=422,
        )
    except BadRequest as refused:
        outcome = Outcome(code=refused.code, message=_message(refused))
        errors = {"__form__": "Only SQL that passes the checks can be saved; see why below."}
        return _page(
            request,
            saved=saved,
            sql=data.sql,
            opened=opened,
            values=values,
            errors=errors,
            outcome=outcome,
            status_code=422,
        )
    return RedirectResponse(
        f"/sql?{urlencode({'query': stored['id'], 'done': 'saved'})}", status_code=303
    )


@router.post("/sql/queries/{query_id}/delete")
async def delete_saved(query_id: str, request: Request, _manager: Manager) -> RedirectResponse:
    """Delete a saved query."""
    await write(request, lambda session: service.delete_query(session, query_id))
    return RedirectResponse("/sql?done=deleted", status_code=303)
