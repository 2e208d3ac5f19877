"""Batch ingestion: decode, validate each record, resolve identities, store, recompute
attributes and log — all in the caller's one transaction."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from carebase.errors import CarebaseError, Conflict, MalformedJSON, ValidationFailed
from carebase.identity import service as identity
from carebase.identity.links import Link, LinkNormaliser
from carebase.ids import new_id
from carebase.ingest import repository
from carebase.ingest.schemas import IngestResult, Problem, Rejection
from carebase.ingest.tickets import RECORD_TYPE, ParsedTicket, parse_ticket
from carebase.models import Dataset
from carebase.profiles import service as profiles
from carebase.records import tickets as ticket_records
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
            details=[{"field": "body", "message": "must be a JSON array"}],
        )
    if not 1 <= len(events) <= MAX_BATCH:
        raise ValidationFailed(
            f"A batch holds 1 to {MAX_BATCH} events; this one has {len(events)}.",
            details=[{"field": "body", "message": f"must hold 1 to {MAX_BATCH} events"}],
        )


def check_record_type(dataset: Dataset, record_type: str) -> None:
    """Refuse records of a type the dataset does not hold."""
    if dataset.record_type != record_type:
        raise Conflict(
            f"Dataset {dataset.id} holds {dataset.record_type} records, not {record_type}.",
            details={"dataset_record_type": dataset.record_type, "record_type": record_type},
        )


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


@dataclass(slots=True)
class PreparedBatch:
    """A batch validated and normalised, before any database work."""

    events: list[Any]
    accepted: list[tuple[int, ParsedTicket, list[Link]]]
    rejections: list[Rejection]
    warnings: list[dict[str, Any]]


def prepare_tickets(
    events: list[Any], *, config: IngestConfig, may_contain_nul: bool = True
) -> PreparedBatch:
    """Validate each event and normalise its links: pure CPU work, done before the
    transaction starts so that SQLite's write lock is held only for the database work."""
    batch = PreparedBatch(events, [], [], [])
    for index, raw in enumerate(events):
        parsed = parse_ticket(raw, may_contain_nul=may_contain_nul)
        if isinstance(parsed, list):
            batch.rejections.append(rejection(index, raw, parsed))
            continue
        normalised = config.normaliser.normalise(parsed.event.link.model_dump())
        batch.warnings.extend({"index": index, **warning} for warning in normalised.warnings)
        if normalised.errors:
            batch.rejections.append(rejection(index, raw, normalised.errors))
        elif not normalised.links:
            problem = {"field": "link", "reason": "no usable link: every link value is blocked"}
            batch.rejections.append(rejection(index, raw, [problem]))
        else:
            batch.accepted.append((index, parsed, normalised.links))
    return batch


def ingest_tickets(
    session: Session,
    dataset: Dataset,
    events: list[Any] | PreparedBatch,
    *,
    config: IngestConfig,
    token_id: str | None,
    source: str,
    now: datetime,
    started: float | None = None,
    may_contain_nul: bool = True,
) -> IngestResult:
    """Ingest one batch of ticket events; valid events are stored, invalid ones reported."""
    started = time.perf_counter() if started is None else started
    check_record_type(dataset, RECORD_TYPE)
    log_id = new_id("log")
    batch = (
        events
        if isinstance(events, PreparedBatch)
        else prepare_tickets(events, config=config, may_contain_nul=may_contain_nul)
    )
    events, accepted = batch.events, batch.accepted
    rejections, warnings = batch.rejections, batch.warnings
    every_link = [link for _, _, links in accepted for link in links]
    suppressed = identity.suppressed_links(session, every_link)
    if suppressed:
        kept = []
        for index, parsed, links in accepted:
            if suppressed.intersection(links):
                problem = {"field": "link", "reason": "suppressed"}
                rejections.append(rejection(index, events[index], [problem]))
            else:
                kept.append((index, parsed, links))
        accepted = kept
    resolution = identity.resolve(
        session,
        [(index, links) for index, _, links in accepted],
        guards=config.guards,
        now=now,
        log_id=log_id,
    )
    warnings.extend(resolution.warnings)
    stored = ticket_records.store(
        session, dataset.id, [parsed for _, parsed, _ in accepted], resolution.profile_of, now=now
    )
    profiles.refresh(
        session,
        record_type=RECORD_TYPE,
        rebuild=stored.rebuild,
        added=stored.added,
        new_profiles=resolution.created_profiles,
        merged=resolution.merged,
        now=now,
    )
    return accept_batch(
        session,
        dataset,
        log_id,
        received=len(events),
        outcomes=stored.outcomes,
        rejections=rejections,
        warnings=warnings,
        merges=resolution.merges,
        token_id=token_id,
        source=source,
        now=now,
        started=started,
    )


def accept_batch(
    session: Session,
    dataset: Dataset,
    log_id: str,
    *,
    received: int,
    outcomes: list[str],
    rejections: list[Rejection],
    warnings: list[dict[str, Any]],
    merges: list[dict[str, Any]],
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
        created=outcomes.count(ticket_records.CREATED),
        updated=outcomes.count(ticket_records.UPDATED),
        unchanged=outcomes.count(ticket_records.UNCHANGED),
        rejected=len(rejections),
        rejections=sorted(rejections, key=lambda item: item.index),
        warnings=sorted(warnings, key=lambda warning: warning["index"]),
        merges=[
            {key: merge[key] for key in ("survivor_id", "merged_id", "rule", "links")}
            for merge in merges
        ],
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
        errors=[Problem(field=p["field"], reason=p["reason"]) for p in problems],
    )
