"""An orchestration's source, read as records in chunks: a saved segment's current members
with chosen customer_360 columns, or a saved query's rows.

Segment: each member's `profile_id` and the `attributes` (customer_360 column names); the
record key is the profile id. A segment never computed fails the run.

Saved query: run through the same gate and read-only engine layers as `POST /v1/query`,
without the row cap (`query.service.stream_query`). Column names are the destination's
field names; `mapping` {destination field: source column} renames those that differ. The
record key is the `profile_id` column when selected, else `external_id`, else `email`; a row
with none of them is invalid (`missing_key`). The record's profile is the `profile_id`
column, else the key when it names a live profile (checked in bulk), so forgetting that
profile removes the record from pending runs and the diff state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from carebase.activation import runs_repository as repository
from carebase.db.session import Database
from carebase.errors import NotFound
from carebase.query import service as queries
from carebase.query.values import rows_json_safe
from carebase.query.views import schema_for_gate
from carebase.segments import repository as segments
from carebase.settings import Settings

CHUNK = 500
# Which column keys a query's record, in order of preference.
KEY_COLUMNS = ("profile_id", "external_id", "email")


class SourceFailed(Exception):
    """The source cannot be read at all (a segment never computed, a query gone)."""


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record read from a source: its key (None: it has none), the profile it belongs to
    when known, and its fields named as the destination names them."""

    key: str | None
    profile_id: str | None
    fields: dict[str, Any]


def apply_mapping(row: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """The row's columns renamed by `mapping` {destination field: source column}; a renamed
    column is not also sent under its own name (unless another entry maps it)."""
    away = {source for target, source in mapping.items() if source != target}
    fields = {name: value for name, value in row.items() if name not in away or name in mapping}
    for target, source in mapping.items():
        if source in row:
            fields[target] = row[source]
    return fields


def record_key(row: Mapping[str, Any], fields: Mapping[str, Any]) -> str | None:
    """The record's key: profile_id, else external_id, else email (the row's own
    `profile_id` counts even when it is not sent); None when all are empty."""
    for name in KEY_COLUMNS:
        for source in (fields, row):
            value = source.get(name)
            if value is not None and str(value).strip():
                return str(value).strip()
    return None


def read(
    session: Session,
    database: Database,
    *,
    source_type: str,
    source_id: str,
    attributes: Sequence[str],
    mapping: Mapping[str, str],
    settings: Settings,
    chunk: int = CHUNK,
) -> Iterator[list[SourceRecord]]:
    """The source's records in chunks. `session` reads the segment (in the caller's
    transaction) and checks profiles; a saved query runs on its own read-only connection."""
    if source_type == "segment":
        return _segment(session, source_id, attributes, mapping, chunk)
    if source_type == "query":
        return _query(session, database, source_id, mapping, settings, chunk)
    raise SourceFailed(f"unknown source type {source_type!r}")


def _segment(
    session: Session,
    segment_id: str,
    attributes: Sequence[str],
    mapping: Mapping[str, str],
    chunk: int,
) -> Iterator[list[SourceRecord]]:
    row = segments.get_segment(session, segment_id)
    if row is None:
        raise SourceFailed(f"the segment {segment_id} no longer exists")
    if row.current_version is None:
        raise SourceFailed(
            f"the segment {row.name!r} has never been computed: refresh it, then run again"
        )
    types = schema_for_gate()["customer_360"]
    unknown = [name for name in attributes if name not in types]
    if unknown:
        raise SourceFailed(f"not customer_360 columns: {', '.join(unknown)}")
    columns = [name for name in dict.fromkeys(attributes) if name != "profile_id"]
    kinds = [types["profile_id"], *(types[name] for name in columns)]
    stored_text = session.get_bind().dialect.name == "sqlite"
    version = row.current_version

    def chunks() -> Iterator[list[SourceRecord]]:
        after: str | None = None
        while True:
            ids = segments.member_ids(session, segment_id, version, after=after, limit=chunk)
            if not ids:
                return
            found = repository.customer_360_rows(session, ids, columns)
            values = rows_json_safe([tuple(each) for each in found], kinds, stored_text=stored_text)
            by_id = {str(each[0]): each for each in values}
            records = []
            for profile_id in ids:
                if profile_id not in by_id:
                    # Forgotten or merged away since the segment was computed.
                    continue
                source = dict(zip(["profile_id", *columns], by_id[profile_id], strict=True))
                records.append(SourceRecord(profile_id, profile_id, apply_mapping(source, mapping)))
            yield records
            if len(ids) < chunk:
                return
            after = ids[-1]

    return chunks()


def _query(
    session: Session,
    database: Database,
    query_id: str,
    mapping: Mapping[str, str],
    settings: Settings,
    chunk: int,
) -> Iterator[list[SourceRecord]]:
    try:
        sql = queries.get_query(session, query_id)["sql"]
    except NotFound as gone:
        raise SourceFailed(f"the saved query {query_id} no longer exists") from gone
    stream = queries.stream_query(database, sql, settings=settings, chunk=chunk)

    def chunks() -> Iterator[list[SourceRecord]]:
        for part in stream:
            rows = [dict(zip(part.columns, values, strict=False)) for values in part.rows]
            mapped = [apply_mapping(row, mapping) for row in rows]
            keys = [record_key(row, fields) for row, fields in zip(rows, mapped, strict=True)]
            # A key that is a profile id (external_id = profile_id) ties the record to it.
            guesses = {
                key
                for row, key in zip(rows, keys, strict=True)
                if key is not None and not row.get("profile_id") and key.startswith("prf_")
            }
            live = repository.existing_profiles(session, sorted(guesses))
            records = []
            for row, fields, key in zip(rows, mapped, keys, strict=True):
                profile = row.get("profile_id")
                profile_id = str(profile) if profile else (key if key in live else None)
                records.append(SourceRecord(key, profile_id, fields))
            yield records

    return chunks()
