"""Safe SQL API: run read-only SQL over the published views; saved queries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from carebase.auth.scopes import QUERY_RUN, QUERY_WRITE
from carebase.auth.service import Principal
from carebase.http.deps import DbSession, Now, get_database, get_settings, require_scope
from carebase.http.middleware import read_only_post
from carebase.http.routing import JSONRoute
from carebase.kit.pagination import Cursor
from carebase.query import service
from carebase.query.schemas import (
    ColumnOut,
    QueryIn,
    QueryOut,
    RunIn,
    SavedQueryIn,
    SavedQueryOut,
    SavedQueryPage,
    ViewList,
    ViewOut,
)

router = APIRouter(tags=["query"], route_class=JSONRoute)
Runner = Annotated[Principal, Depends(require_scope(QUERY_RUN))]
Writer = Annotated[Principal, Depends(require_scope(QUERY_WRITE))]
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The result (CSV with `format: csv`)."},
    400: {
        "description": "`sql_refused` (naming why: a table, a function, a write, several "
        "statements…), `sql_syntax_error` (with line and column), `sql_error` (the engine "
        "could not run it) or `query_timeout`."
    },
}
_SAVES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The SQL does not pass the gate (`sql_refused`, `sql_syntax_error`)."},
    409: {"description": "Another saved query has this name."},
}
# Running SQL only reads: it takes no turn of SQLite's single writer.
read_only_post(r"/v1/query")
read_only_post(r"/v1/queries/[^/]+/run")


def _answer(result: service.QueryResult, format_: str) -> Response | QueryOut:
    if format_ == "csv":
        return StreamingResponse(
            result.csv(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="query.csv"',
                "Carebase-Truncated": "true" if result.truncated else "false",
            },
        )
    return QueryOut(
        columns=result.columns,
        rows=result.rows,
        truncated=result.truncated,
        elapsed_ms=result.elapsed_ms,
    )


# Sync handlers: FastAPI runs them on a worker thread, so a long query never blocks the
# event loop and other requests are answered meanwhile.
@router.post("/v1/query", operation_id="runQuery", response_model=QueryOut, responses=_ANSWERS)
def run_query(body: QueryIn, request: Request, _runner: Runner) -> Response | QueryOut:
    """Run one read-only SELECT over the published views (`GET /v1/query/views`)."""
    result = service.run_query(
        get_database(request), body.sql, settings=get_settings(request), max_rows=body.limit
    )
    return _answer(result, body.format)


@router.get("/v1/query/views", operation_id="listQueryViews", response_model=ViewList)
def list_views(_runner: Runner) -> ViewList:
    """The views SQL may read, with every column's name, type and meaning."""
    return ViewList(
        items=[
            ViewOut(
                name=view.name,
                description=view.description,
                columns=[
                    ColumnOut(name=c.name, type=c.type, description=c.description)
                    for c in service.view_columns(view)
                ],
            )
            for view in service.published_views()
        ]
    )


@router.post(
    "/v1/queries",
    status_code=201,
    operation_id="createSavedQuery",
    response_model=SavedQueryOut,
    responses=_SAVES,
)
def create_query(
    body: SavedQueryIn, request: Request, writer: Writer, session: DbSession, now: Now
) -> SavedQueryOut:
    """Save a named query; its SQL must pass the gate (400 naming why when not)."""
    row = service.create_query(
        session,
        name=body.name,
        description=body.description,
        sql=body.sql,
        dialect=get_database(request).dialect,
        created_by=writer.token_id,
        now=now,
    )
    return SavedQueryOut(**row)


@router.get("/v1/queries", operation_id="listSavedQueries", response_model=SavedQueryPage)
def list_queries(
    _runner: Runner,
    session: DbSession,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SavedQueryPage:
    """Saved queries by name."""
    rows, following = service.list_queries(session, cursor=cursor, limit=limit)
    return SavedQueryPage(items=[SavedQueryOut(**row) for row in rows], next_cursor=following)


@router.get("/v1/queries/{query_id}", operation_id="getSavedQuery", response_model=SavedQueryOut)
def get_query(query_id: str, _runner: Runner, session: DbSession) -> SavedQueryOut:
    """One saved query."""
    return SavedQueryOut(**service.get_query(session, query_id))


@router.put(
    "/v1/queries/{query_id}",
    operation_id="updateSavedQuery",
    response_model=SavedQueryOut,
    responses=_SAVES,
)
def update_query(
    query_id: str,
    body: SavedQueryIn,
    request: Request,
    _writer: Writer,
    session: DbSession,
    now: Now,
) -> SavedQueryOut:
    """Replace a saved query's name, description and SQL."""
    row = service.update_query(
        session,
        query_id,
        name=body.name,
        description=body.description,
        sql=body.sql,
        dialect=get_database(request).dialect,
        now=now,
    )
    return SavedQueryOut(**row)


@router.delete("/v1/queries/{query_id}", status_code=204, operation_id="deleteSavedQuery")
def delete_query(query_id: str, _writer: Writer, session: DbSession) -> Response:
    """Delete a saved query."""
    service.delete_query(session, query_id)
    return Response(status_code=204)


@router.post(
    "/v1/queries/{query_id}/run",
    operation_id="runSavedQuery",
    response_model=QueryOut,
    responses=_ANSWERS,
)
def run_saved_query(
    query_id: str, request: Request, _runner: Runner, body: RunIn | None = None
) -> Response | QueryOut:
    """Run a saved query; the answer is `POST /v1/query`'s."""
    options = body or RunIn()
    result = service.run_saved_query(
        get_database(request), query_id, settings=get_settings(request), max_rows=options.limit
    )
    return _answer(result, options.format)
