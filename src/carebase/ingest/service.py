"""What every batch shares, whatever its record type: the config, decoding the body, the
batch's shape, refusals, rejections and the ingestion log entry. The pipeline itself is
`ingest.pipeline`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from carebase import jsonutil
from carebase.datasets import repository
from carebase.datasets.service import get_dataset
from carebase.db.session import Database
from carebase.errors import CarebaseError, Conflict, MalformedJSON, ValidationFailed, problem
from carebase.identity import service as identity
from carebase.identity.links import LinkNormaliser
from carebase.identity.service import Merge
from carebase.ids import new_id
from carebase.ingest.schemas import IngestResult, Problem, Rejection
from carebase.models import Dataset
from carebase.records.rules import CREATED, UNCHANGED, UPDATED
from carebase.recordtypes.redact import safe_field
from carebase.settings import Settings

MAX_BATCH = 1000


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """What ingestion needs from the settings, built once per process."""

    normaliser: LinkNormaliser
    guards: identity.Guards

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestConfig:
        """Normaliser and guards from CAREBASE_* settings."""
        return cls(
            LinkNormaliser(
                blocked_values=settings.blocked_link_values,
                default_region=settings.default_phone_region,
            ),
            identity.Guards(settings.max_emails_per_profile, settings.max_mobiles_per_profile),
        )


def decode_batch(body: bytes) -> list[Any]:
    """The events of a request body: a JSON array of 1 to 1,000 items, or a 4xx error."""
    jsonutil.check_value_count(body)
    try:
        events = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise MalformedJSON(details={"position": error.pos}) from error
    check_batch_shape(events)
    assert isinstance(events, list)
    return events


def may_contain_nul(body: bytes) -> bool:
    """False when the raw JSON cannot hold a NUL character (it has no `\\u0000` escape)."""
    return b"\\u0000" in body or b"\x00" in body


def check_batch_shape(events: Any) -> None:
    """Refuse anything but a list of 1 to 1,000 items."""
    if not isinstance(events, list):
        raise ValidationFailed(
            "The body must be a JSON array of events.",
            details=[problem("body", "must be a JSON array")],
        )
    if not 1 <= len(events) <= MAX_BATCH:
        raise ValidationFailed(
            f"A batch holds 1 to {MAX_BATCH} events; this one has {len(events)}.",
            details=[problem("body", f"must hold 1 to {MAX_BATCH} events")],
        )


def check_record_type(dataset: Dataset, record_type: str) -> None:
    """Refuse records of a type the dataset does not hold."""
    if dataset.record_type != record_type:
        raise Conflict(
            f"Dataset {dataset.id} holds {dataset.record_type} records, not {record_type}.",
            details={"dataset_record_type": dataset.record_type, "record_type": record_type},
        )


def refuse(
    database: Database,
    dataset_id: str,
    error: CarebaseError,
    *,
    token_id: str | None,
    source: str,
    now: datetime,
    started: float,
) -> CarebaseError:
    """Log a batch refused whole in its own committed transaction, and give back the error
    for the caller to raise: the refusal is kept though the request's unit of work rolls
    back. NotFound instead when the dataset does not exist (nothing to log it on)."""
    with database.unit_of_work() as session:
        dataset = get_dataset(session, dataset_id)
        log_refusal(
            session, dataset, error, token_id=token_id, source=source, now=now, started=started
        )
    return error


def log_refusal(
    session: Session,
    dataset: Dataset,
    error: CarebaseError,
    *,
    token_id: str | None,
    source: str,
    now: datetime,
    started: float,
) -> str:
    """Record a batch refused whole; the log id."""
    log_id = new_id("log")
    write_log(
        session,
        log_id,
        dataset,
        status="refused",
        token_id=token_id,
        source=source,
        now=now,
        started=started,
        message=f"{error.code}: {error.message}",
    )
    return log_id


def accept_batch(
    session: Session,
    dataset: Dataset,
    log_id: str,
    *,
    received: int,
    outcomes: list[str],
    rejections: list[Rejection],
    warnings: list[dict[str, Any]],
    merges: list[Merge],
    token_id: str | None,
    source: str,
    now: datetime,
    started: float,
) -> IngestResult:
    """The answer to an accepted batch, written to the ingestion log in its transaction."""
    result = IngestResult(
        dataset_id=dataset.id,
        log_id=log_id,
        received=received,
        created=outcomes.count(CREATED),
        updated=outcomes.count(UPDATED),
        unchanged=outcomes.count(UNCHANGED),
        rejected=len(rejections),
        rejections=sorted(rejections, key=lambda item: item.index),
        warnings=sorted(warnings, key=lambda warning: warning["index"]),
        merges=[merge.public() for merge in merges],
    )
    write_log(
        session,
        log_id,
        dataset,
        status="accepted",
        token_id=token_id,
        source=source,
        now=now,
        started=started,
        result=result,
    )
    return result


def write_log(
    session: Session,
    log_id: str,
    dataset: Dataset,
    *,
    status: str,
    token_id: str | None,
    source: str,
    now: datetime,
    started: float,
    result: IngestResult | None = None,
    message: str | None = None,
) -> None:
    """Append the batch's ingestion log entry (in the batch's transaction)."""
    counts = ("received", "created", "updated", "unchanged", "rejected")
    repository.add_log(
        session,
        {
            "id": log_id,
            "dataset_id": dataset.id,
            "token_id": token_id,
            "source": source,
            "status": status,
            "received_at": now,
            "duration_ms": (time.perf_counter() - started) * 1000,
            **{name: getattr(result, name) if result else 0 for name in counts},
            "message": message,
            "rejections": [r.model_dump() for r in result.rejections] if result else [],
            # The log outlives a forget, so merges are logged without their links.
            "warnings": [
                *(result.warnings if result else []),
                *(
                    {"merge": {k: merge[k] for k in ("survivor_id", "merged_id", "rule")}}
                    for merge in (result.merges if result else [])
                ),
            ],
        },
    )


def rejection(
    index: int, raw: Any, problems: list[dict[str, str]], id_field: str | None = "ticket_id"
) -> Rejection:
    """A rejected record: its index, its id when it has a readable one, and its problems."""
    record_id = raw.get(id_field) if isinstance(raw, dict) and id_field else None
    if isinstance(record_id, int) and not isinstance(record_id, bool):
        record_id = str(record_id)
    if not isinstance(record_id, str) or "\x00" in record_id:
        record_id = None
    if record_id is not None:
        record_id = record_id[:255]
    return Rejection(
        index=index,
        ticket_id=record_id if id_field == "ticket_id" else None,
        record_id=record_id,
        # The log outlives a forget: no record key that may be personal goes into it.
        errors=[Problem(field=safe_field(p["field"], raw), reason=p["reason"]) for p in problems],
    )
