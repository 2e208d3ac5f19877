"""Batch ingestion of Lexer's record types, with S2's contract: each record validated on
its own, valid ones kept, every rejection reported, one transaction, replay-safe.

What each kind does once validated:
- events (purchase, return, email_*, sms_*) and customer records: resolve the link to a
  profile (creating or merging), store by natural key, refresh attributes;
- products and categories: store by natural key (no profile);
- forget: forget the profile owning the link and suppress the link, even when no profile
  holds it yet, so a later record cannot bring the person back;
- unify: resolve all the links together: one profile, merged through the guarded merge,
  recorded in the ledger with the rule `unify`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.identity import service as identity
from carebase.identity.links import Link
from carebase.ids import new_id
from carebase.ingest import lexer
from carebase.ingest.lexer import ParsedRecord
from carebase.ingest.schemas import IngestResult, Rejection
from carebase.ingest.service import IngestConfig, accept_batch, check_record_type, rejection
from carebase.models import Dataset
from carebase.profiles import service as profiles
from carebase.records import lexer as lexer_records
from carebase.records.tickets import CREATED, UNCHANGED, UPDATED

_LINKED = frozenset({"event", "customer", "unify"})


@dataclass(slots=True)
class PreparedRecords:
    """A batch validated and its links normalised, before any database work."""

    record_type: str
    events: list[Any]
    # (index in batch, record, normalised links of each of its link objects)
    accepted: list[tuple[int, ParsedRecord, list[list[Link]]]]
    rejections: list[Rejection]
    warnings: list[dict[str, Any]]


def _id_field(record_type: str) -> str | None:
    spec = lexer.SPECS[record_type]
    return "product_id" if record_type == "product" else spec.key_field


def prepare_records(
    record_type: str, events: list[Any], *, config: IngestConfig
) -> PreparedRecords:
    """Validate each record and normalise its links: CPU only, before the transaction."""
    kind = lexer.SPECS[record_type].kind
    id_field = _id_field(record_type)
    batch = PreparedRecords(record_type, events, [], [], [])
    for index, raw in enumerate(events):
        parsed = lexer.parse(record_type, raw)
        if isinstance(parsed, list):
            batch.rejections.append(rejection(index, raw, parsed, id_field))
            continue
        problems: list[dict[str, str]] = []
        normalised_links: list[list[Link]] = []
        for position, link_object in enumerate(parsed.links):
            normalised = config.normaliser.normalise(link_object)
            prefix = f"records[{position}]" if kind == "unify" else "link"
            problems += [_moved(problem, prefix) for problem in normalised.errors]
            batch.warnings += [
                {"index": index, **_moved(warning, prefix)} for warning in normalised.warnings
            ]
            if not normalised.errors and not normalised.links:
                problems.append({"field": prefix, "reason": "no usable link: the value is blocked"})
            normalised_links.append(normalised.links)
        if problems:
            batch.rejections.append(rejection(index, raw, problems, id_field))
        else:
            batch.accepted.append((index, parsed, normalised_links))
    return batch


def _moved(problem: dict[str, str], prefix: str) -> dict[str, str]:
    field = problem["field"]
    if prefix != "link" and field.startswith("link"):
        field = prefix + field[len("link") :]
    return {**problem, "field": field}


@dataclass(slots=True)
class _Outcome:
    outcomes: list[str]
    merges: list[dict[str, Any]]
    warnings: list[dict[str, Any]]


def ingest_records(
    session: Session,
    dataset: Dataset,
    batch: PreparedRecords,
    *,
    config: IngestConfig,
    token_id: str | None,
    source: str,
    now: datetime,
    started: float | None = None,
) -> IngestResult:
    """Ingest one prepared batch of a Lexer record type into its dataset."""
    started = time.perf_counter() if started is None else started
    record_type = batch.record_type
    check_record_type(dataset, record_type)
    kind = lexer.SPECS[record_type].kind
    log_id = new_id("log")
    accepted = batch.accepted
    if kind in _LINKED:
        accepted = _drop_suppressed(session, batch, _id_field(record_type))
    records = [parsed for _, parsed, _ in accepted]
    if kind == "entity":
        outcome = _Outcome(
            lexer_records.store_catalog(session, dataset.id, record_type, records, now=now), [], []
        )
    elif kind == "forget":
        outcome = _forget(session, accepted, now=now)
    else:
        outcome = _resolve_and_store(session, dataset, batch, accepted, config, now, log_id)
    return accept_batch(
        session,
        dataset,
        log_id,
        received=len(batch.events),
        outcomes=outcome.outcomes,
        rejections=batch.rejections,
        warnings=batch.warnings + outcome.warnings,
        merges=outcome.merges,
        token_id=token_id,
        source=source,
        now=now,
        started=started,
    )


def _drop_suppressed(
    session: Session, batch: PreparedRecords, id_field: str | None
) -> list[tuple[int, ParsedRecord, list[list[Link]]]]:
    every_link = [link for _, _, groups in batch.accepted for links in groups for link in links]
    suppressed = identity.suppressed_links(session, every_link)
    if not suppressed:
        return batch.accepted
    kept = []
    for index, parsed, groups in batch.accepted:
        if any(suppressed.intersection(links) for links in groups):
            problem = {"field": "link", "reason": "suppressed"}
            batch.rejections.append(rejection(index, batch.events[index], [problem], id_field))
        else:
            kept.append((index, parsed, groups))
    return kept


def _resolve_and_store(
    session: Session,
    dataset: Dataset,
    batch: PreparedRecords,
    accepted: list[tuple[int, ParsedRecord, list[list[Link]]]],
    config: IngestConfig,
    now: datetime,
    log_id: str,
) -> _Outcome:
    kind = lexer.SPECS[batch.record_type].kind
    every = [(index, [link for links in groups for link in links]) for index, _, groups in accepted]
    # For unify outcomes: which links each record found already owned, and by whom.
    owners = (
        identity.owners_of(session, {link for _, links in every for link in links})
        if kind == "unify"
        else {}
    )
    resolution = identity.resolve(
        session,
        every,
        guards=config.guards,
        now=now,
        log_id=log_id,
        rule=identity.RULE_UNIFY if kind == "unify" else identity.RULE_SHARED_LINK,
    )
    records = [parsed for _, parsed, _ in accepted]
    rebuild: set[str] = set()
    added: dict[str, list[dict[str, Any]]] = {}
    if kind == "event":
        stored = lexer_records.store_events(
            session, dataset.id, batch.record_type, records, resolution.profile_of, now=now
        )
        outcomes, rebuild, added = stored.outcomes, stored.rebuild, stored.added
    elif kind == "customer":
        # A customer record is keyed by its one link (the first: derived hashes follow it).
        keyed = [(parsed, groups[0][0]) for _, parsed, groups in accepted]
        outcomes = lexer_records.store_customer_records(
            session, dataset.id, keyed, resolution.profile_of, now=now
        )
    else:
        outcomes = [_unify_outcome(links, owners) for _, links in every]
    profiles.refresh(
        session,
        record_type=batch.record_type,
        rebuild=rebuild,
        added=added,
        new_profiles=resolution.created_profiles,
        merged=resolution.merged,
        now=now,
    )
    return _Outcome(outcomes, resolution.merges, resolution.warnings)


def _unify_outcome(links: list[Link], owners: dict[Link, str]) -> str:
    """created: none of the links was known; unchanged: one profile held them all already;
    updated: profiles were merged or links added."""
    owned = {owners[link] for link in links if link in owners}
    if not owned:
        return CREATED
    if len(owned) == 1 and all(link in owners for link in links):
        return UNCHANGED
    return UPDATED


def _forget(
    session: Session,
    accepted: list[tuple[int, ParsedRecord, list[list[Link]]]],
    *,
    now: datetime,
) -> _Outcome:
    outcomes: list[str] = []
    for _, _, groups in accepted:
        links = groups[0]
        owner = identity.owner_of(session, links[0])
        if owner is not None:
            owner = identity.lock_live_profile(session, owner)
        if owner is not None:
            identity.forget_profile(session, owner, now=now, reason="forget record")
            outcomes.append(UPDATED)
        else:
            added = identity.suppress_links(session, links, now=now, reason="forget record")
            outcomes.append(CREATED if added else UNCHANGED)
    return _Outcome(outcomes, [], [])
