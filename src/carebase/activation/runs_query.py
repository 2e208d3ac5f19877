"""A run's querying phase: read the source, prepare and hash each record, classify it
against the diff state, and write the run's work list.

The source is read in one read-only transaction (one snapshot) and the work list written in a
short transaction per chunk, so that on SQLite other writers (ingestion) wait at most one
chunk's insert, never the whole read. The phase ends in the caller's transaction, which
writes the counts and moves the run on; a crash before that leaves the run `querying`, and
the next attempt starts the phase again from an empty work list (`begin`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from carebase.activation import diff, sources
from carebase.activation import runs_repository as repository
from carebase.activation.channel import Channel, OutRecord, RecordInvalid
from carebase.activation.privacy import without_values
from carebase.db.session import Database
from carebase.models.activation import Orchestration
from carebase.settings import Settings

# Samples a dry run keeps per action.
SAMPLES = 5
MAX_MESSAGE = 1000


@dataclass(slots=True)
class Tally:
    """What the querying phase counted, and a dry run's sample items."""

    queried: int = 0
    invalid: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    samples: dict[str, list[int]] = field(
        default_factory=lambda: {"create": [], "update": [], "unchanged": [], "invalid": []}
    )

    def counts(self) -> dict[str, int]:
        """The run's columns for these counts."""
        return {
            "queried": self.queried,
            "invalid": self.invalid,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
        }

    def sample(self, bucket: str, seq: int) -> None:
        """Keep `seq` as a sample of `bucket` while it has room."""
        if len(self.samples[bucket]) < SAMPLES:
            self.samples[bucket].append(seq)


def begin(session: Session, run: Row[Any], orchestration: Orchestration) -> None:
    """Start (or start again) the phase: an empty work list, and for a full resync no diff
    state (a dry one leaves the state alone)."""
    repository.delete_items(session, run.id)
    if run.full_resync and not run.dry_run:
        repository.delete_states(session, orchestration.id)


def query_phase(
    database: Database,
    run: Row[Any],
    orchestration: Orchestration,
    channel: Channel,
    *,
    settings: Settings,
    check: Callable[[], None],
) -> Tally:
    """Build the run's items (after `begin`) and return the counts. Records are prepared by
    the channel (RecordInvalid: an `invalid` item with the reason, no fields); new, changed
    and retry records become `pending` items carrying their prepared fields; unchanged ones
    are counted only (kept, as `skipped`, in a dry run). `only_failed` keeps only the
    records whose last delivery failed."""
    tally = Tally()
    seen: set[str] = set()
    with database.unit_of_work(write=False) as reader:
        for chunk in sources.read(
            reader,
            database,
            source_type=orchestration.source_type,
            source_id=orchestration.source_id,
            attributes=orchestration.attributes,
            mapping=orchestration.mapping,
            settings=settings,
        ):
            check()
            items = _classify(reader, run, orchestration, channel, chunk, tally, seen)
            with database.unit_of_work() as writer:
                repository.add_items(writer, items)
    return tally


def _classify(
    session: Session,
    run: Row[Any],
    orchestration: Orchestration,
    channel: Channel,
    chunk: list[sources.SourceRecord],
    tally: Tally,
    seen: set[str],
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    valid: list[tuple[sources.SourceRecord, str, dict[str, Any], int]] = []

    def item(key: str, profile_id: str | None, **values: Any) -> None:
        row = {
            "run_id": run.id,
            "seq": tally.queried,
            "record_key": key[:500],
            "profile_id": profile_id,
            "payload": None,
            "payload_hash": "",
            "handle": None,
            "remote_id": None,
            "error_code": None,
            "message": None,
        }
        row.update(values)
        items.append(row)

    for record in chunk:
        tally.queried += 1
        if record.key is None:
            tally.invalid += 1
            tally.sample("invalid", tally.queried)
            item(
                f"row {tally.queried}",
                record.profile_id,
                action="invalid",
                status="invalid",
                error_code="missing_key",
                message="the record has no profile_id, external_id or email to key it by",
            )
            continue
        if record.key in seen:
            tally.invalid += 1
            tally.sample("invalid", tally.queried)
            item(
                record.key,
                record.profile_id,
                action="invalid",
                status="invalid",
                error_code="duplicate_key",
                message="another record of this run has the same key; only the first is sent",
            )
            continue
        seen.add(record.key)
        try:
            fields = channel.prepare(OutRecord(record.key, record.fields))
        except RecordInvalid as invalid:
            tally.invalid += 1
            tally.sample("invalid", tally.queried)
            where = f"{invalid.field}: " if invalid.field else ""
            item(
                record.key,
                record.profile_id,
                action="invalid",
                status="invalid",
                error_code=invalid.code[:120],
                message=(where + without_values(invalid.message, record.fields))[:MAX_MESSAGE],
            )
            continue
        valid.append((record, diff.fields_hash(fields), fields, tally.queried))
    # A full resync starts from nothing (a dry one too, though it leaves the state alone).
    keys = [record.key for record, *_ in valid if record.key]
    known = {} if run.full_resync else repository.states(session, orchestration.id, keys)
    for record, digest, fields, seq in valid:
        assert record.key is not None
        state = known.get(record.key)
        action = diff.classify(state, digest)
        if run.only_failed and action != "retry":
            # Only what failed last time is sent again: the rest is left as it is.
            tally.unchanged += 1
            continue
        if action == "unchanged":
            tally.unchanged += 1
            if run.dry_run:
                tally.sample("unchanged", seq)
                _put(items, run.id, seq, record, digest, fields, "unchanged", "skipped")
            continue
        if action == "new":
            tally.new += 1
            bucket = "create"
        else:
            tally.changed += 1
            bucket = "update"
        if run.dry_run:
            tally.sample(bucket, seq)
        status = "skipped" if run.dry_run else "pending"
        _put(items, run.id, seq, record, digest, fields, action, status)
    return items


def _put(
    items: list[dict[str, Any]],
    run_id: str,
    seq: int,
    record: sources.SourceRecord,
    digest: str,
    fields: dict[str, Any],
    action: str,
    status: str,
) -> None:
    assert record.key is not None
    items.append(
        {
            "run_id": run_id,
            "seq": seq,
            "record_key": record.key[:500],
            "profile_id": record.profile_id,
            "action": action,
            "payload": fields,
            "payload_hash": digest,
            "status": status,
            "handle": None,
            "remote_id": None,
            "error_code": None,
            "message": None,
        }
    )


def keep_dry_run_samples(session: Session, run_id: str, tally: Tally) -> dict[str, Any]:
    """A dry run keeps its samples (and invalid records) only; its details."""
    keep = [seq for bucket in ("create", "update", "unchanged") for seq in tally.samples[bucket]]
    repository.keep_samples(session, run_id, keep)
    return {
        "would_create": tally.new,
        "would_update": tally.changed,
        "unchanged": tally.unchanged,
        "invalid": tally.invalid,
        "sample_seqs": tally.samples,
    }
