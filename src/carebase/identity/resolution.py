"""Identity resolution: records find (or create) their profile by their links; a record
whose links belong to several profiles merges them into the oldest, within guards (identifier
caps, and pairs an undone merge keeps apart).

Other domains keep rows per profile (tickets, attributes…): `identity.owned` lists those
tables, so a merge moves (or drops) their rows in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.db import locks
from carebase.identity import merges_repository, repository
from carebase.identity.links import EMAIL, MOBILE, Link
from carebase.ids import new_id

# Which link decides the profile when a merge is stopped: the most trusted first.
_LINK_PRIORITY = {EMAIL: 0, MOBILE: 1}
RULE_SHARED_LINK = "shared_link"
# A `unify` record declared that its links belong to one person.
RULE_UNIFY = "unify"


@dataclass(frozen=True, slots=True)
class Guards:
    """Limits that stop runaway merges."""

    max_emails: int
    max_mobiles: int

    def cap_for(self, link_type: str) -> int | None:
        """The per-profile cap for one link type, or None when uncapped."""
        return {EMAIL: self.max_emails, MOBILE: self.max_mobiles}.get(link_type)


@dataclass(slots=True)
class Merge:
    """One merge a batch made: what the ledger records and the batch's answer reports."""

    id: str
    survivor_id: str
    merged_id: str
    rule: str
    links: list[dict[str, str]]  # the links that bridged the profiles, as the API shows them
    ingestion_log_id: str | None
    created_at: datetime
    # Every link the merged profile held at that moment: what an undo gives back.
    merged_links: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        """The merge as a batch's answer shows it."""
        return {
            "survivor_id": self.survivor_id,
            "merged_id": self.merged_id,
            "rule": self.rule,
            "links": self.links,
        }

    def row(self) -> dict[str, Any]:
        """The merge as the ledger stores it."""
        return {
            "id": self.id,
            "survivor_id": self.survivor_id,
            "merged_id": self.merged_id,
            "rule": self.rule,
            "links": self.links,
            "ingestion_log_id": self.ingestion_log_id,
            "created_at": self.created_at,
            "merged_links": self.merged_links,
        }


@dataclass(slots=True)
class Resolution:
    """Where each record landed and what resolution did on the way."""

    profile_of: list[str]
    created_profiles: set[str] = field(default_factory=set)
    merged: dict[str, str] = field(default_factory=dict)  # merged id -> survivor id
    merges: list[Merge] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def touched(self) -> set[str]:
        """Live profiles whose data changed."""
        return set(self.profile_of) | set(self.merged.values())


@dataclass(slots=True)
class _State:
    owner: dict[Link, str]
    created_at: dict[str, datetime]
    counts: dict[str, dict[str, int]]
    forward: dict[str, str] = field(default_factory=dict)
    new_links: dict[Link, str] = field(default_factory=dict)
    rule: str = RULE_SHARED_LINK
    # (profile, other, merge id): pairs an undone merge keeps apart.
    blocks: list[tuple[str, str, str]] = field(default_factory=list)

    def live(self, profile_id: str) -> str:
        while profile_id in self.forward:
            profile_id = self.forward[profile_id]
        return profile_id


def resolve(
    session: Session,
    records: Sequence[tuple[int, list[Link]]],
    *,
    guards: Guards,
    now: datetime,
    log_id: str | None,
    rule: str = RULE_SHARED_LINK,
) -> Resolution:
    """Resolve each record's links to a profile, creating and merging profiles as needed.

    `records` holds (index in batch, links); the result's `profile_of` follows that order.
    Records are resolved in order, so a later record sees what earlier ones created.
    `rule` is what the merge ledger records as the reason for the merges.
    """
    all_links = {link for _, links in records for link in links}
    # Concurrent batches that share a link queue here; the profiles owning the links are
    # then locked too, so no merge or forget elsewhere moves a link while we decide.
    locks.lock_keys(session, (link.lock_key() for link in all_links))
    owner = locks.read_with_profiles_locked(
        session, lambda: repository.link_owners(session, all_links), lambda found: found.values()
    )
    owners = set(owner.values())
    state = _State(
        owner,
        repository.profile_facts(session, owners),
        repository.link_type_counts(session, owners),
        rule=rule,
        blocks=merges_repository.blocks_among(session, owners),
    )
    result = Resolution(profile_of=[])
    for index, links in records:
        profile_id = _resolve_one(state, result, index, links, guards, now, log_id)
        result.profile_of.append(profile_id)
    result.profile_of = [state.live(profile_id) for profile_id in result.profile_of]
    _write(session, state, result, now)
    return result


def _resolve_one(
    state: _State,
    result: Resolution,
    index: int,
    links: list[Link],
    guards: Guards,
    now: datetime,
    log_id: str | None,
) -> str:
    found = sorted({state.live(state.owner[link]) for link in links if link in state.owner})
    if not found:
        profile_id = new_id("prf")
        state.created_at[profile_id] = now
        state.counts[profile_id] = {}
        result.created_profiles.add(profile_id)
    elif len(found) == 1:
        profile_id = found[0]
    else:
        profile_id = _merge_or_stop(state, result, index, links, found, guards, now, log_id)
    email_refused = False
    for link in links:
        if link in state.owner:
            continue
        if link.derived:
            if email_refused:
                continue
            # Hashes of an email the record carries: they follow the email, uncounted.
            state.owner[link] = profile_id
            state.new_links[link] = profile_id
            continue
        cap = guards.cap_for(link.link_type)
        held = state.counts[profile_id].get(link.link_type, 0)
        if cap is not None and held >= cap:
            result.warnings.append(
                {
                    "index": index,
                    "field": f"link.{link.link_type}",
                    "reason": "link_not_added",
                    "detail": f"the profile already holds {held} {link.link_type} links "
                    f"(max_{link.link_type}s_per_profile)",
                }
            )
            email_refused = email_refused or link.link_type == EMAIL
            continue
        state.owner[link] = profile_id
        state.new_links[link] = profile_id
        state.counts[profile_id][link.link_type] = held + 1
    return profile_id


def _merge_or_stop(
    state: _State,
    result: Resolution,
    index: int,
    links: list[Link],
    found: list[str],
    guards: Guards,
    now: datetime,
    log_id: str | None,
) -> str:
    combined: dict[str, int] = {}
    for profile_id in found:
        for link_type, count in state.counts[profile_id].items():
            combined[link_type] = combined.get(link_type, 0) + count
    for link_type in (EMAIL, MOBILE):
        cap = guards.cap_for(link_type)
        if cap is not None and combined.get(link_type, 0) > cap:
            # Stopped: the record goes to the profile of its most trusted link.
            chosen = _most_trusted(state, links)
            result.warnings.append(
                {
                    "index": index,
                    "reason": "merge_stopped",
                    "profiles": found,
                    "detail": f"merging would give one profile {combined[link_type]} "
                    f"{link_type} links (max {cap})",
                }
            )
            return state.live(state.owner[chosen])
    for one, other, merge_id in state.blocks:
        if state.live(one) in found and state.live(other) in found:
            if state.live(one) == state.live(other):
                continue
            # An undone merge keeps these profiles apart: stopped like a cap.
            result.warnings.append(
                {
                    "index": index,
                    "reason": "merge_blocked",
                    "profiles": found,
                    "detail": f"merge {merge_id} between these profiles was undone; "
                    "they are kept apart",
                }
            )
            return state.live(state.owner[_most_trusted(state, links)])
    survivor = min(found, key=lambda profile_id: (state.created_at[profile_id], profile_id))
    # The links that joined the profiles: an email's derived hashes only when the plain
    # email was not itself known (the match was made through the hash).
    email_known = any(link.link_type == EMAIL and link in state.owner for link in links)
    bridge = [
        link.as_dict()
        for link in links
        if link in state.owner and (not link.derived or not email_known)
    ]
    for merged in found:
        if merged == survivor:
            continue
        state.forward[merged] = survivor
        for link_type, count in state.counts.pop(merged, {}).items():
            held = state.counts[survivor].get(link_type, 0)
            state.counts[survivor][link_type] = held + count
        result.merged[merged] = survivor
        result.merges.append(
            Merge(new_id("mrg"), survivor, merged, state.rule, bridge, log_id, now)
        )
    # state.owner keeps pointing at merged ids; every reader goes through state.live().
    return survivor


def _most_trusted(state: _State, links: list[Link]) -> Link:
    """The record's most trusted owned link: it decides the profile when a merge stops."""
    return min(
        (link for link in links if link in state.owner),
        key=lambda link: (_LINK_PRIORITY.get(link.link_type, 9), link),
    )


def _merged_links(session: Session, state: _State, result: Resolution) -> None:
    """Give each merge the links its merged profile held at that moment (what an undo
    gives back): its stored links, links it gained earlier in this batch, and the links of
    profiles merged into it earlier in this batch."""
    stored = repository.links_of_many(session, [merge.merged_id for merge in result.merges])
    held: dict[str, list[Link]] = {pid: list(links) for pid, links in stored.items()}
    for link, profile_id in state.new_links.items():
        held.setdefault(profile_id, []).append(link)
    for merge in result.merges:  # in the order they happened
        links = held.pop(merge.merged_id, [])
        merge.merged_links = [link.as_record() for link in sorted(links)]
        held.setdefault(merge.survivor_id, []).extend(links)


def _write(session: Session, state: _State, result: Resolution, now: datetime) -> None:
    repository.insert_profiles(
        session,
        [
            {"id": p, "created_at": now, "updated_at": now, "merged_into_id": None}
            for p in sorted(result.created_profiles)
        ],
    )
    repository.insert_links(
        session,
        [
            {
                "profile_id": state.live(profile_id),
                "link_type": link.link_type,
                "system_name": link.system_name,
                "value": link.value,
                "derived": link.derived,
                "created_at": now,
            }
            for link, profile_id in sorted(state.new_links.items())
        ],
    )
    if result.merges:
        _merged_links(session, state, result)
    pairs = []
    for merge in result.merges:
        merged, survivor = merge.merged_id, state.live(merge.survivor_id)
        merge.survivor_id = survivor
        result.merged[merged] = survivor
        pairs.append((merged, survivor))
    if pairs:
        repository.move_links(session, pairs)
        repository.move_owned(session, pairs)
        merges_repository.move_blocks(session, pairs, now)
        repository.tombstone(session, pairs, now)
    repository.record_merges(session, [merge.row() for merge in result.merges])
    repository.touch_profiles(session, result.touched - result.created_profiles, now)
