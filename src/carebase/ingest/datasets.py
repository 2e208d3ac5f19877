"""Kept for callers outside ingestion (connectors): datasets live in `carebase.datasets`."""

from carebase.datasets.service import (
    RECORD_TYPES,
    create_dataset,
    describe,
    get_dataset,
    list_datasets,
    log_page,
)

__all__ = ["RECORD_TYPES", "create_dataset", "describe", "get_dataset", "list_datasets", "log_page"]
