"""Datasets (admin), the Custom Events ingestion endpoint, and ingestion logs."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from carebase.auth.scopes import ADMIN, INGEST
from carebase.auth.service import Principal
from carebase.errors import CarebaseError, UnsupportedMediaType
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.errors import error_response
from carebase.http.routing import JSONRoute, is_json_content_type
from carebase.ingest import batch, datasets, lexer, service
from carebase.ingest.schemas import DatasetCreate, DatasetList, DatasetOut, IngestResult, LogPage
from carebase.ingest.tickets import RECORD_TYPE, batch_json_schema

router = APIRouter(prefix="/v1/datasets", tags=["datasets"], route_class=JSONRoute)
Admin = Annotated[Principal, Depends(require_scope(ADMIN))]
DatasetIngest = Annotated[Principal, Depends(require_scope(INGEST, resource_param="dataset_id"))]


async def _raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


async def ingest_config(request: Request) -> service.IngestConfig:
    """The process's ingestion config (normaliser, guards)."""
    config: service.IngestConfig = request.app.state.ingest_config
    return config


Config = Annotated[service.IngestConfig, Depends(ingest_config)]


@router.post("", status_code=201, operation_id="createDataset", response_model=DatasetOut)
def create_dataset(body: DatasetCreate, _admin: Admin, session: DbSession, now: Now) -> DatasetOut:
    """Create a dataset of one record type."""
    dataset = datasets.create_dataset(
        session, name=body.name, record_type=body.record_type, now=now
    )
    return datasets.describe(session, dataset)


@router.get("", operation_id="listDatasets", response_model=DatasetList)
def list_datasets(_admin: Admin, session: DbSession) -> DatasetList:
    """Every dataset with its totals."""
    return DatasetList(
        datasets=[datasets.describe(session, item) for item in datasets.list_datasets(session)]
    )


@router.get("/{dataset_id}", operation_id="getDataset", response_model=DatasetOut)
def get_dataset(dataset_id: str, _admin: Admin, session: DbSession) -> DatasetOut:
    """One dataset with its totals: records, profiles, batches, last ingest."""
    return datasets.describe(session, datasets.get_dataset(session, dataset_id))


_BATCH_SCHEMA, BATCH_COMPONENTS = batch_json_schema()
_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body is not valid JSON."},
    404: {"description": "No such dataset."},
    409: {"description": "The dataset holds another record type."},
    413: {"description": "The body is larger than CAREBASE_MAX_BODY_BYTES."},
    415: {"description": "The body is not application/json."},
    422: {"description": "The body is not an array of 1 to 1,000 records."},
}


def _batch_schema(record_type: str) -> dict[str, Any]:
    if record_type == RECORD_TYPE:
        return _BATCH_SCHEMA
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": 1000,
        "title": f"{record_type} batch",
        "items": {"$ref": f"#/components/schemas/lexer_{record_type}"},
    }


def batch_components() -> dict[str, Any]:
    """Schemas the raw-body ingestion endpoints reference, for the OpenAPI document: the
    ticket event's and each Lexer record type's published JSON Schema."""
    components = dict(BATCH_COMPONENTS)
    for name in lexer.SPECS:
        components.update(lexer.openapi_components(name))
    return components


def _ingest_route(record_type: str) -> None:
    def ingest(
        dataset_id: str,
        request: Request,
        body: RawBody,
        principal: DatasetIngest,
        session: DbSession,
        config: Config,
        now: Now,
    ) -> IngestResult | JSONResponse:
        started = time.perf_counter()
        refusal: CarebaseError | None = None
        prepared = None
        try:
            content_type = request.headers.get("content-type")
            if content_type is not None and not is_json_content_type(content_type):
                raise UnsupportedMediaType(details={"content_type": content_type})
            events = service.decode_batch(body)
            # Validation first: the transaction (and SQLite's write lock) starts at the
            # first query.
            prepared = batch.prepare(
                record_type, events, config=config, may_contain_nul=service.may_contain_nul(body)
            )
        except CarebaseError as error:
            refusal = error
        dataset = datasets.get_dataset(session, dataset_id)
        try:
            if refusal is not None:
                raise refusal
            service.check_record_type(dataset, record_type)
        except CarebaseError as error:
            # Answer instead of raising, so the unit of work commits the log entry.
            service.log_refusal(
                session,
                dataset,
                error,
                token_id=principal.token_id,
                source="api",
                now=now,
                started=started,
            )
            return error_response(error.status_code, error.code, error.message, error.details)
        assert prepared is not None
        return batch.ingest(
            session,
            dataset,
            prepared,
            config=config,
            token_id=principal.token_id,
            source="api",
            now=now,
            started=started,
        )

    spec = lexer.SPECS.get(record_type)
    ingest.__doc__ = (
        "Post 1 to 1,000 ticket events. Valid events are stored even when others are "
        "rejected; the answer counts created, updated, unchanged and rejected events and "
        "lists each rejection."
        if spec is None
        else f"Post 1 to 1,000 `{record_type}` records. {spec.summary} Valid records are "
        "stored even when others are rejected; the answer lists each rejection."
    )
    camel = "".join(part.title() for part in record_type.split("_"))
    operation = "ingestSupportTickets" if spec is None else f"ingest{camel}"
    router.add_api_route(
        f"/{{dataset_id}}/{record_type}",
        ingest,
        methods=["POST"],
        operation_id=operation,
        name=operation,
        # The handler reads the raw body (so one bad record cannot sink the batch); the
        # documented schema is still the record format's.
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _batch_schema(record_type)}},
            }
        },
        response_model=IngestResult,
        responses=_RESPONSES,
    )


for _record_type in datasets.RECORD_TYPES:
    _ingest_route(_record_type)


@router.get("/{dataset_id}/logs", operation_id="listIngestionLogs", response_model=LogPage)
def list_logs(
    dataset_id: str,
    _principal: DatasetIngest,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[str | None, Query(max_length=40, description="next_cursor of a page")] = None,
) -> LogPage:
    """A dataset's ingestion log, newest first."""
    return datasets.log_page(session, dataset_id, limit=limit, before=before)
