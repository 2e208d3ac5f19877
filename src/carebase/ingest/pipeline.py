"""One pipeline for every record type: decode → validate → suppress → resolve → store →
refresh attributes → log.

`prepare` is CPU only (validation and link normalisation), done before the transaction so
that SQLite's write lock is held only for the database work. `ingest` does the rest in the
caller's one transaction; what it does with a valid record is the record type's `kind`
(see `recordtypes.registry`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase import recordtypes
from carebase.attributes import service as attributes
from carebase.db import locks
from carebase.identity import service as identity
from carebase.identity.links import Link
from carebase.ids import new_id
from carebase.inbox import intake, queues
from carebase.ingest.schemas import IngestResult, Rejection
from carebase.ingest.service import IngestConfig, accept_batch, check_record_type, rejection
from carebase.models import Dataset
from carebase.records import lexer as lexer_records
from carebase.records import tickets as ticket_records
from carebase.records.rules import CREATED, UNCHANGED, UPDATED
from carebase.recordtypes import Parsed, RecordType


@dataclass(slots=True)
class Accepted:
    """A valid record: its index in the batch, what was parsed, and its links normalised
    (one group per link object; unify has several)."""

    index: int
    parsed: Parsed
    groups: list[list[Link]]

    @property
    def links(self) -> list[Link]:
        """Every link of the record."""
        return [link for group in self.groups for link in group]


@dataclass(slots=True)
class PreparedBatch:
    """A batch validated and normalised, before any database work."""

    record_type: RecordType
    events: list[Any]
    accepted: list[Accepted] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def natural_lock_keys(self, dataset_id: str) -> list[str]:
        """The batch's natural keys as lock names (`dataset:type:key`), sorted so that
        every writer takes them in one order; customer records are keyed by their link."""
        name = self.record_type.name
        keys = set()
        for item in self.accepted:
            key = item.parsed.key
            if key is None and self.record_type.kind == "customer":
                link = item.groups[0][0]
                key = f"{link.link_type}:{link.system_name}:{link.value}"
            if key is not None:
                keys.add(f"{dataset_id}:{name}:{key}")
        return sorted(keys)

    def links(self) -> list[Link]:
        """Every normalised link of the accepted records."""
        return [link for item in self.accepted for link in item.links]


def prepare(
    record_type: str, records: list[Any], *, config: IngestConfig, may_contain_nul: bool = True
) -> PreparedBatch:
    """Validate and normalise a batch: CPU only, before any transaction."""
    kind = recordtypes.get(record_type)
    normalise = config.normaliser.normalise
    unify = kind.kind == "unify"
    # Tickets always said "every link value", Lexer types "the value"; both are kept.
    blocked = "every link value is blocked" if kind.kind == "ticket" else "the value is blocked"
    batch = PreparedBatch(kind, records)
    for index, raw in enumerate(records):
        parsed = kind.parse(raw, may_contain_nul)
        if isinstance(parsed, list):
            batch.rejections.append(rejection(index, raw, parsed, kind.id_field))
            continue
        problems: list[dict[str, str]] = []
        groups: list[list[Link]] = []
        for position, link_object in enumerate(parsed.links):
            normalised = normalise(link_object)
            prefix = f"records[{position}]" if unify else "link"
            problems += [_moved(problem, prefix) for problem in normalised.errors]
            batch.warnings += [
                {"index": index, **_moved(warning, prefix)} for warning in normalised.warnings
            ]
            if not normalised.errors and not normalised.links:
                problems.append({"field": prefix, "reason": f"no usable link: {blocked}"})
            groups.append(normalised.links)
        if problems:
            batch.rejections.append(rejection(index, raw, problems, kind.id_field))
        else:
            batch.accepted.append(Accepted(index, parsed, groups))
    return batch


def _moved(problem: dict[str, str], prefix: str) -> dict[str, str]:
    name = problem["field"]
    if prefix != "link" and name.startswith("link"):
        return {**problem, "field": prefix + name[len("link") :]}
    return problem


@dataclass(slots=True)
class _Stored:
    outcomes: list[str]
    merges: list[identity.Merge] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)


def ingest(
    session: Session,
    dataset: Dataset,
    prepared: PreparedBatch,
    *,
    config: IngestConfig,
    token_id: str | None,
    source: str,
    now: datetime,
    started: float | None = None,
) -> IngestResult:
    """Suppress, resolve, store, refresh attributes and log a prepared batch, in the
    caller's transaction."""
    started = time.perf_counter() if started is None else started
    kind = prepared.record_type
    check_record_type(dataset, kind.name)
    log_id = new_id("log")
    # Before anything is read (suppressions, owners, stored versions): batches sharing a
    # link or a natural key queue here on PostgreSQL, in one sorted acquisition.
    locks.lock_keys(
        session,
        [
            *(link.lock_key() for link in prepared.links()),
            *(f"record:{key}" for key in prepared.natural_lock_keys(dataset.id)),
        ],
    )
    # Ingestion adds to the batch's rejections: work on a copy, so a unit of work run again
    # after a conflict starts from the prepared batch as it was.
    prepared = replace(prepared, rejections=list(prepared.rejections))
    accepted = _drop_suppressed(session, prepared) if kind.linked else prepared.accepted
    if kind.kind == "entity":
        records = [item.parsed for item in accepted]
        stored = _Stored(
            lexer_records.store_catalog(session, dataset.id, kind.name, records, now=now)
        )
    elif kind.kind == "forget":
        stored = _forget(session, accepted, now=now)
    elif kind.kind == "mention":
        stored = _mentions(session, dataset, prepared, accepted, config, now, log_id)
    else:
        stored = _resolve_and_store(session, dataset, kind, accepted, config, now, log_id)
    return accept_batch(
        session,
        dataset,
        log_id,
        received=len(prepared.events),
        outcomes=stored.outcomes,
        rejections=prepared.rejections,
        warnings=prepared.warnings + stored.warnings,
        merges=stored.merges,
        token_id=token_id,
        source=source,
        now=now,
        started=started,
    )


def _drop_suppressed(session: Session, prepared: PreparedBatch) -> list[Accepted]:
    suppressed = identity.suppressed_links(session, prepared.links())
    if not suppressed:
        return prepared.accepted
    kept = []
    id_field = prepared.record_type.id_field
    for item in prepared.accepted:
        if any(suppressed.intersection(links) for links in item.groups):
            problem = {"field": "link", "reason": "suppressed"}
            raw = prepared.events[item.index]
            prepared.rejections.append(rejection(item.index, raw, [problem], id_field))
        else:
            kept.append(item)
    return kept


def _resolve_and_store(
    session: Session,
    dataset: Dataset,
    kind: RecordType,
    accepted: list[Accepted],
    config: IngestConfig,
    now: datetime,
    log_id: str,
) -> _Stored:
    every = [(item.index, item.links) for item in accepted]
    unify = kind.kind == "unify"
    # For unify outcomes: which links each record found already owned, and by whom.
    owners = identity.owners_of(session, {link for _, ls in every for link in ls}) if unify else {}
    resolution = identity.resolve(
        session,
        every,
        guards=config.guards,
        now=now,
        log_id=log_id,
        rule=identity.RULE_UNIFY if unify else identity.RULE_SHARED_LINK,
    )
    records = [item.parsed for item in accepted]
    profile_of = resolution.profile_of
    rebuild: set[str] = set()
    added: dict[str, list[dict[str, Any]]] = {}
    if kind.kind == "ticket":
        result = ticket_records.store(session, dataset.id, records, profile_of, now=now)
        outcomes, rebuild, added = result.outcomes, result.rebuild, result.added
    elif kind.kind == "event":
        result = lexer_records.store_events(
            session, dataset.id, kind.name, records, profile_of, now=now
        )
        outcomes, rebuild, added = result.outcomes, result.rebuild, result.added
    elif kind.kind == "customer":
        # A customer record is keyed by its one link (the first: derived hashes follow it).
        keyed = [(item.parsed, item.groups[0][0]) for item in accepted]
        result = lexer_records.store_customer_records(
            session, dataset.id, keyed, profile_of, now=now
        )
        outcomes, rebuild = result.outcomes, result.rebuild
    else:
        outcomes = [_unify_outcome(links, owners) for _, links in every]
    attributes.refresh(
        session,
        record_type=kind.name,
        rebuild=rebuild,
        added=added,
        new_profiles=resolution.created_profiles,
        merged=resolution.merged,
        now=now,
    )
    return _Stored(outcomes, resolution.merges, resolution.warnings)


def _unify_outcome(links: list[Link], owners: dict[Link, str]) -> str:
    """created: none of the links was known; unchanged: one profile held them all already;
    updated: profiles were merged or links added."""
    owned = {owners[link] for link in links if link in owners}
    if not owned:
        return CREATED
    if len(owned) == 1 and all(link in owners for link in links):
        return UNCHANGED
    return UPDATED


def _mentions(
    session: Session,
    dataset: Dataset,
    prepared: PreparedBatch,
    accepted: list[Accepted],
    config: IngestConfig,
    now: datetime,
    log_id: str,
) -> _Stored:
    """Resolve the messages' links, then hand them to the agent inbox in this transaction."""
    kind = prepared.record_type
    queue_ids: dict[str, str | None] = {}
    kept: list[Accepted] = []
    for item in accepted:
        name = item.parsed.columns["queue"] if item.parsed.columns else None
        if name is not None and name not in queue_ids:
            queue = queues.find_by_name(session, name)
            queue_ids[name] = queue.id if queue is not None and queue.archived_at is None else None
        if name is not None and queue_ids[name] is None:
            problem = {"field": "queue", "reason": "no such queue (or it is archived)"}
            raw = prepared.events[item.index]
            prepared.rejections.append(rejection(item.index, raw, [problem], kind.id_field))
        else:
            kept.append(item)
    # A message without a link has no profile (resolving no links would make one).
    linked = [(item.index, item.links) for item in kept if item.links]
    resolution = identity.resolve(session, linked, guards=config.guards, now=now, log_id=log_id)
    profile_of = dict(zip((index for index, _ in linked), resolution.profile_of, strict=True))
    items = []
    for item in kept:
        columns = item.parsed.columns or {}
        author = columns.get("author") or {}
        items.append(
            intake.MentionIn(
                origin="api",
                origin_key=dataset.id,
                external_id=columns["mention_id"],
                source_type=columns["source_type"],
                body=columns["text"],
                published_at=columns["published_at"],
                account=columns.get("account"),
                author_key=author.get("id"),
                author_username=author.get("username"),
                author_fullname=author.get("fullname"),
                author_avatar=author.get("avatar"),
                author_url=author.get("url"),
                thread_key=columns.get("thread_id"),
                conversation_ref=columns.get("conversation_id"),
                queue_id=queue_ids.get(columns["queue"]) if columns.get("queue") else None,
                profile_id=profile_of.get(item.index),
            )
        )
    received = intake.receive(session, items, now)
    attributes.refresh(
        session,
        record_type=kind.name,
        rebuild=set(),
        added={},
        new_profiles=resolution.created_profiles,
        merged=resolution.merged,
        now=now,
    )
    outcomes = [CREATED if each.created else UNCHANGED for each in received]
    return _Stored(outcomes, resolution.merges, resolution.warnings)


def _forget(session: Session, accepted: list[Accepted], *, now: datetime) -> _Stored:
    outcomes: list[str] = []
    for item in accepted:
        links = item.groups[0]
        owner = identity.owner_of(session, links[0])
        if owner is not None:
            owner = identity.lock_live_profile(session, owner)
        if owner is not None:
            identity.forget_profile(session, owner, now=now, reason="forget record")
            outcomes.append(UPDATED)
        else:
            added = identity.suppress_links(session, links, now=now, reason="forget record")
            outcomes.append(CREATED if added else UNCHANGED)
    return _Stored(outcomes)
