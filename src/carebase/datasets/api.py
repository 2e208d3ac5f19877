"""Datasets (admin): create, list, read; served with the ingestion routes (`ingest.api`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from carebase.auth.scopes import ADMIN
from carebase.auth.service import Principal
from carebase.datasets import service as datasets
from carebase.datasets.schemas import DatasetCreate, DatasetList, DatasetOut
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.routing import JSONRoute

router = APIRouter(prefix="/v1/datasets", tags=["datasets"], route_class=JSONRoute)
Admin = Annotated[Principal, Depends(require_scope(ADMIN))]


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
