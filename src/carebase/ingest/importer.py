"""Bulk import: stream NDJSON, a JSON array or CSV through the batch service, 1,000 at a time.

Memory stays flat whatever the file size: records are read one at a time and only
one batch is held. Records that cannot be parsed or are rejected are written, with
their reasons, to `FILE.rejects.ndjson`.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ijson
import orjson

from carebase import recordtypes
from carebase.datasets import service as datasets
from carebase.db.session import Database
from carebase.ingest import csvfile
from carebase.ingest.batch import load_batch
from carebase.ingest.service import (
    MAX_BATCH,
    IngestConfig,
    may_contain_nul,
)

Progress = Callable[[int], None]  # called with the bytes read so far


@dataclass(slots=True)
class ImportSummary:
    """Totals of one import."""

    received: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    batches: int = 0
    seconds: float = 0.0
    rejects_path: Path | None = None
    log_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Item:
    """One record read from the file, or why it could not be read."""

    line: int | None
    record: Any = None
    error: str | None = None
    raw_text: str | None = None
    may_contain_nul: bool = True


def _ndjson(handle: IO[bytes]) -> Iterator[_Item]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            yield _Item(number, orjson.loads(line), may_contain_nul=may_contain_nul(line))
        except orjson.JSONDecodeError as error:
            text = line.decode("utf-8", errors="replace").rstrip("\n")
            yield _Item(number, error=f"not valid JSON: {error}", raw_text=text[:10_000])


def _json_array(handle: IO[bytes]) -> Iterator[_Item]:
    for record in ijson.items(handle, "item", use_float=True):
        yield _Item(None, record)


def _csv(handle: IO[bytes], record_type: str) -> Iterator[_Item]:
    schema = recordtypes.get(record_type).schema()
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    try:
        for line, record in csvfile.rows(text, schema):
            yield _Item(line, record)  # may_contain_nul stays True: tickets get scanned
    finally:
        text.detach()  # the caller owns the file: don't close it with the wrapper


def is_csv(path: Path) -> bool:
    """Whether a file is read as CSV (by its name: .csv, .csv.txt…)."""
    return ".csv" in path.name.lower()


def _records(handle: IO[bytes]) -> Iterator[_Item]:
    start = handle.read(64).lstrip()
    handle.seek(0)
    if start.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark, as spreadsheets write
        handle.seek(3)
        start = start[3:]
    yield from (_json_array(handle) if start.startswith(b"[") else _ndjson(handle))


def import_file(
    database: Database,
    path: Path,
    dataset_id: str,
    *,
    config: IngestConfig,
    batch_size: int = MAX_BATCH,
    progress: Progress | None = None,
    source: str = "import",
) -> ImportSummary:
    """Import every record in `path` into a dataset; one transaction per batch."""
    started = time.perf_counter()
    with database.unit_of_work(write=False) as session:
        record_type = datasets.get_dataset(session, dataset_id).record_type
    summary = ImportSummary()
    rejects_path = path.with_name(path.name + ".rejects.ndjson")
    rejects_path.unlink(missing_ok=True)
    rejects: IO[bytes] | None = None

    def reject(item: _Item, index: int, errors: list[dict[str, str]]) -> None:
        nonlocal rejects
        if rejects is None:
            rejects = rejects_path.open("wb")
        entry: dict[str, Any] = {"index": index, "line": item.line, "errors": errors}
        entry["record"] = item.record if item.error is None else item.raw_text
        rejects.write(orjson.dumps(entry) + b"\n")

    def flush(batch: list[tuple[int, _Item]]) -> None:
        # Validate before the transaction, as the API does, to keep the write lock short.
        result = load_batch(
            database,
            dataset_id,
            record_type,
            [item.record for _, item in batch],
            config=config,
            source=source,
            may_contain_nul=any(item.may_contain_nul for _, item in batch),
        )
        summary.batches += 1
        summary.log_ids.append(result.log_id)
        summary.created += result.created
        summary.updated += result.updated
        summary.unchanged += result.unchanged
        summary.rejected += result.rejected
        for rejection in result.rejections:
            index, item = batch[rejection.index]
            reject(item, index, [problem.model_dump() for problem in rejection.errors])

    try:
        with path.open("rb") as handle:
            batch: list[tuple[int, _Item]] = []
            items = _csv(handle, record_type) if is_csv(path) else _records(handle)
            for index, item in enumerate(items):
                summary.received += 1
                if item.error is not None:
                    summary.rejected += 1
                    reject(item, index, [{"field": "(record)", "reason": item.error}])
                else:
                    batch.append((index, item))
                if len(batch) >= batch_size:
                    flush(batch)
                    batch = []
                    if progress:
                        progress(handle.tell())
            if batch:
                flush(batch)
            if progress:
                progress(handle.tell())
    finally:
        if rejects is not None:
            rejects.close()
    summary.rejects_path = rejects_path if rejects_path.exists() else None
    summary.seconds = time.perf_counter() - started
    return summary
