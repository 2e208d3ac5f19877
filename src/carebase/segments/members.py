"""A segment's members with chosen catalogue attributes: for a page, and as a streamed CSV."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.attributes import catalogue
from carebase.attributes import read as attribute_read
from carebase.db.session import Database
from carebase.errors import ValidationFailed
from carebase.kit.csvtext import csv_lines, spreadsheet_cell
from carebase.segments import repository

# What a member list shows when no attributes are asked for.
DEFAULT_ATTRIBUTES = ("email", "first_name", "last_name")
# Members read (and written out) per round of the CSV export.
CSV_CHUNK = 1000
# The Profile Read API section holding each attribute (attributes.read.SECTIONS).
_SECTION = {
    attribute.name: attribute_read.SECTIONS.get(attribute.family, attribute.family)
    for attribute in catalogue.catalogue()
}


def attribute_names(asked: Sequence[str] | None) -> list[str]:
    """The catalogue attributes asked for (each item may be comma-separated; the default
    when none); 422 naming `attributes` for a name the catalogue lacks."""
    if asked is None:
        return list(DEFAULT_ATTRIBUTES)
    names = [name.strip() for item in asked for name in item.split(",") if name.strip()]
    unknown = sorted({name for name in names if name not in _SECTION})
    if unknown:
        raise ValidationFailed.on("attributes", f"not catalogue attributes: {', '.join(unknown)}")
    return list(dict.fromkeys(names))


def attribute_values(
    session: Session, profile_ids: Sequence[str], names: Sequence[str], *, now: datetime
) -> dict[str, dict[str, Any]]:
    """{profile id: {attribute: value}} as the Profile Read API shows them (a few queries
    for the whole set)."""
    if not names:
        return {profile_id: {} for profile_id in profile_ids}
    sections = attribute_read.sections(session, profile_ids, now=now)
    return {
        profile_id: {name: sections[profile_id][_SECTION[name]].get(name) for name in names}
        for profile_id in profile_ids
    }


def stream_csv(
    database: Database, segment_id: str, names: Sequence[str], *, now: datetime
) -> Iterator[str]:
    """CSV text chunks of the current version's members, read in one snapshot (REPEATABLE
    READ on PostgreSQL), so a refresh finishing meanwhile never cuts the file short."""
    yield csv_lines([["profile_id", *names]])
    with database.unit_of_work(write=False) as session:
        if database.dialect == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        row = repository.get_segment(session, segment_id)
        if row is None or row.current_version is None:
            return
        after: str | None = None
        while True:
            ids = repository.member_ids(
                session, segment_id, row.current_version, after=after, limit=CSV_CHUNK
            )
            if not ids:
                return
            values = attribute_values(session, ids, names, now=now)
            yield csv_lines(
                [[each, *(spreadsheet_cell(values[each][name]) for name in names)] for each in ids]
            )
            if len(ids) < CSV_CHUNK:
                return
            after = ids[-1]
