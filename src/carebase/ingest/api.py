"""The ingestion endpoints, one per record type of the registry, and ingestion logs; the
dataset admin routes (`datasets.api`) share the `/v1/datasets` prefix."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from carebase import recordtypes
from carebase.auth.scopes import INGEST
from carebase.auth.service import Principal
from carebase.datasets import api as datasets_api
from carebase.datasets import service as datasets
from carebase.datasets.schemas import LogPage
from carebase.errors import CarebaseError, UnsupportedMediaType
from carebase.http.deps import DbSession, Now, get_database, require_scope
from carebase.http.routing import JSONRoute, is_json_content_type
from carebase.ingest import pipeline, service
from carebase.ingest.schemas import IngestResult
from carebase.kit.pagination import Cursor
from carebase.recordtypes import RecordType

_routes = APIRouter(prefix="/v1/datasets", tags=["datasets"], route_class=JSONRoute)
DatasetIngest = Annotated[Principal, Depends(require_scope(INGEST, resource_param="dataset_id"))]


async def _raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


async def ingest_config(request: Request) -> service.IngestConfig:
    """The process's ingestion config (normaliser, guards)."""
    config: service.IngestConfig = request.app.state.ingest_config
    return config


Config = Annotated[service.IngestConfig, Depends(ingest_config)]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not valid JSON."},
    404: {"description": "No such dataset."},
    409: {"description": "The dataset holds another record type."},
    413: {"description": "The body is larger than CAREBASE_MAX_BODY_BYTES."},
    415: {"description": "The body is not application/json."},
    422: {"description": "The body is not an array of 1 to 1,000 records."},
}


def batch_components() -> dict[str, Any]:
    """Schemas the raw-body ingestion endpoints reference, for the OpenAPI document: every
    record type's, from the registry."""
    components: dict[str, Any] = {}
    for record_type in recordtypes.REGISTRY.values():
        components.update(record_type.openapi()[1])
    return components


def _description(record_type: RecordType) -> str:
    if record_type.kind == "ticket":
        return (
            "Post 1 to 1,000 ticket events. Valid events are stored even when others are "
            "rejected; the answer counts created, updated, unchanged and rejected events and "
            "lists each rejection."
        )
    return (
        f"Post 1 to 1,000 `{record_type.name}` records. {record_type.summary} Valid records "
        "are stored even when others are rejected; the answer lists each rejection."
    )


def _ingest_route(record_type: RecordType) -> None:
    name = record_type.name

    def ingest(
        dataset_id: str,
        request: Request,
        # The token and its scope before the body: dependencies are solved in order.
        principal: DatasetIngest,
        body: RawBody,
        session: DbSession,
        config: Config,
        now: Now,
    ) -> IngestResult:
        started = time.perf_counter()

        def refused(error: CarebaseError) -> CarebaseError:
            # Kept in its own transaction: the request's rolls back as the error propagates.
            session.rollback()
            return service.refuse(
                get_database(request),
                dataset_id,
                error,
                token_id=principal.token_id,
                source="api",
                now=now,
                started=started,
            )

        try:
            content_type = request.headers.get("content-type")
            if content_type is not None and not is_json_content_type(content_type):
                raise UnsupportedMediaType(details={"content_type": content_type})
            # Validation first: the transaction (and SQLite's write lock) starts at the
            # first query.
            prepared = pipeline.prepare(
                name,
                service.decode_batch(body),
                config=config,
                may_contain_nul=service.may_contain_nul(body),
            )
        except CarebaseError as error:
            raise refused(error) from None
        dataset = datasets.get_dataset(session, dataset_id)
        try:
            service.check_record_type(dataset, name)
        except CarebaseError as error:
            raise refused(error) from None
        return pipeline.ingest(
            session,
            dataset,
            prepared,
            config=config,
            token_id=principal.token_id,
            source="api",
            now=now,
            started=started,
        )

    ingest.__doc__ = _description(record_type)
    operation = record_type.operation
    _routes.add_api_route(
        f"/{{dataset_id}}/{name}",
        ingest,
        methods=["POST"],
        operation_id=operation,
        name=operation,
        # The handler reads the raw body (so one bad record cannot sink the batch); the
        # documented schema is still the record format's.
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": record_type.openapi()[0]}},
            }
        },
        response_model=IngestResult,
        responses=_RESPONSES,
    )


for _record_type in recordtypes.REGISTRY.values():
    _ingest_route(_record_type)


@_routes.get("/{dataset_id}/logs", operation_id="listIngestionLogs", response_model=LogPage)
def list_logs(
    dataset_id: str,
    _principal: DatasetIngest,
    session: DbSession,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[
        str | None, Query(max_length=512, deprecated=True, description="The S1 name of `cursor`.")
    ] = None,
) -> LogPage:
    """A dataset's ingestion log, newest first."""
    return datasets.log_page(session, dataset_id, limit=limit, cursor=cursor or before)


# What the app mounts: the dataset admin routes, then one ingestion route per record type.
router = APIRouter()
router.include_router(datasets_api.router)
router.include_router(_routes)
