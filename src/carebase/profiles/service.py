"""Keeping attributes fresh, reading profiles, and forgetting them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from carebase.errors import NotFound
from carebase.identity import service as identity
from carebase.identity.links import Link
from carebase.models import CommerceAttributes, EngagementAttributes
from carebase.profiles import attributes, repository
from carebase.profiles import lexer_attributes as lexer
from carebase.records import lexer as lexer_records
from carebase.records import tickets as ticket_records

TICKETS = "customer_support_ticket"
# Each folded family: its table, its state, and the event types it is folded from.
_FAMILIES: tuple[tuple[repository.FoldedModel, Any, tuple[str, ...]], ...] = (
    (CommerceAttributes, lexer.CommerceState, lexer.COMMERCE_TYPES),
    (EngagementAttributes, lexer.EngagementState, lexer.ENGAGEMENT_TYPES),
)

ATTRIBUTE_NAMES = (
    "last_ticket_date",
    "last_satisfaction_score",
    "ticket_count",
    "channel_types",
    "tags",
    "agents",
    "first_ticket_date",
    "open_ticket_count",
    "tickets_last_30_days",
    "tickets_last_90_days",
    "avg_first_reply_time",
    "avg_duration",
    "last_ticket_status",
)


def update(
    session: Session,
    *,
    rebuild: Iterable[str],
    added: Mapping[str, Sequence[Mapping[str, Any]]],
    new_profiles: set[str],
    now: datetime,
) -> None:
    """Bring attributes up to date in this transaction.

    Profiles in `rebuild` are recomputed from all their tickets; for the others, the
    tickets in `added` (new to them) are folded into their stored state.
    """
    full = set(rebuild)
    states: dict[str, attributes.SupportState] = {}
    incremental = sorted(set(added) - full)
    stored = repository.attribute_rows(session, [p for p in incremental if p not in new_profiles])
    for profile_id in incremental:
        if profile_id in stored:
            states[profile_id] = attributes.SupportState.from_row(stored[profile_id])
        elif profile_id in new_profiles:
            states[profile_id] = attributes.SupportState()
        else:
            full.add(profile_id)  # no stored state to fold into: rebuild it
            continue
        for ticket in added[profile_id]:
            states[profile_id].fold(ticket)
    if full:
        by_profile: dict[str, list[Any]] = {profile_id: [] for profile_id in full}
        for stored_ticket in ticket_records.attribute_inputs(session, full):
            by_profile[stored_ticket["profile_id"]].append(stored_ticket)
        states.update({p: attributes.fold_all(tickets) for p, tickets in by_profile.items()})
    repository.replace_attributes(session, {p: state.row(now) for p, state in states.items()})


def _update_family(
    session: Session,
    model: repository.FoldedModel,
    state_class: Any,
    record_types: tuple[str, ...],
    full: set[str],
    added: Mapping[str, Sequence[Mapping[str, Any]]],
    new_profiles: set[str],
    now: datetime,
) -> None:
    states: dict[str, Any] = {}
    incremental = sorted(set(added) - full)
    stored = repository.folded_rows(
        session, model, [p for p in incremental if p not in new_profiles]
    )
    for profile_id in incremental:
        if profile_id in stored:
            states[profile_id] = state_class.from_row(stored[profile_id])
        elif profile_id in new_profiles:
            states[profile_id] = state_class()
        else:
            full.add(profile_id)  # nothing stored to fold into: rebuild it
            continue
        lexer.fold_all(states[profile_id], added[profile_id])
    if full:
        by_profile: dict[str, list[Any]] = {profile_id: [] for profile_id in full}
        for event in lexer_records.events_of(session, full, record_types):
            by_profile[event["profile_id"]].append(event)
        states.update({p: lexer.fold_all(state_class(), evs) for p, evs in by_profile.items()})
    repository.replace_folded(session, model, {p: state.row(now) for p, state in states.items()})


def refresh(
    session: Session,
    *,
    record_type: str,
    rebuild: Iterable[str],
    added: Mapping[str, Sequence[Mapping[str, Any]]],
    new_profiles: set[str],
    merged: Mapping[str, str],
    now: datetime,
) -> None:
    """Bring attributes up to date after a batch of `record_type` records was stored.

    `merged` maps each profile merged away to its survivor: a survivor gained another
    profile's records of every type, so every family of its attributes is rebuilt.
    """
    merged_away = set(merged)
    survivors = set(merged.values()) - merged_away
    skip = merged_away | survivors
    kept = {p: rows for p, rows in added.items() if p not in skip}
    changed = set(rebuild) - skip
    if record_type == TICKETS:
        update(session, rebuild=changed, added=kept, new_profiles=new_profiles, now=now)
    else:
        for model, state_class, record_types in _FAMILIES:
            if record_type in record_types:
                _update_family(
                    session, model, state_class, record_types, changed, kept, new_profiles, now
                )
    if survivors:
        update(session, rebuild=survivors, added={}, new_profiles=set(), now=now)
        for model, state_class, record_types in _FAMILIES:
            _update_family(
                session, model, state_class, record_types, set(survivors), {}, set(), now
            )


@dataclass(slots=True)
class ProfileView:
    """Everything the Profile Read API answers."""

    id: str
    requested_id: str
    created_at: datetime
    updated_at: datetime
    links: list[Link]
    attributes: dict[str, Any]
    tickets: Sequence[Any]
    customer: dict[str, Any]
    commerce: dict[str, Any]
    engagement: dict[str, Any]


def read(session: Session, profile_id: str, *, tickets: int, now: datetime) -> ProfileView:
    """A profile by id (a merged id answers with its survivor), or NotFound."""
    live_id = identity.lock_live_profile(session, profile_id)
    if live_id is None:
        raise NotFound(f"No profile with id {profile_id!r}.")
    return _view(session, live_id, profile_id, tickets=tickets, now=now)


def read_by_link(session: Session, link: Link, *, tickets: int, now: datetime) -> ProfileView:
    """The profile owning a link, or NotFound."""
    owner = identity.owner_of(session, link)
    if owner is None:
        raise NotFound(f"No profile has that {link.link_type}.")
    return _view(session, owner, owner, tickets=tickets, now=now)


def _view(
    session: Session, live_id: str, requested_id: str, *, tickets: int, now: datetime
) -> ProfileView:
    profile = identity.get_live_profile(session, live_id)
    stored = repository.get_attributes(session, live_id)
    values = attributes.SupportState().row(now)
    if stored is not None:
        values = {name: getattr(stored, name) for name in values}
    last_30, last_90 = ticket_records.window_counts(
        session, live_id, now - timedelta(days=30), now - timedelta(days=90)
    )
    values["tickets_last_30_days"], values["tickets_last_90_days"] = last_30, last_90
    return ProfileView(
        id=live_id,
        requested_id=requested_id,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
        links=identity.profile_links(session, live_id),
        attributes={name: values[name] for name in (*ATTRIBUTE_NAMES, "computed_at")},
        tickets=ticket_records.recent(session, live_id, tickets) if tickets else [],
        customer=lexer.customer_view(lexer_records.customer_records(session, live_id)),
        commerce=_commerce(session, live_id),
        engagement=lexer.engagement_view(
            lexer.EngagementState.from_row(row)
            if (row := repository.get_folded(session, EngagementAttributes, live_id))
            else lexer.EngagementState()
        ),
    )


def _commerce(session: Session, profile_id: str) -> dict[str, Any]:
    row = repository.get_folded(session, CommerceAttributes, profile_id)
    state = lexer.CommerceState.from_row(row) if row else lexer.CommerceState()
    categories: list[dict[str, Any]] = []
    if state.products:
        products = lexer_records.products(session, lexer.product_references(state.products))
        categories = lexer.top_categories(state.products, products)
    return lexer.commerce_view(state, categories)


def forget(session: Session, profile_id: str, *, now: datetime) -> tuple[str, int]:
    """Remove a profile everywhere and suppress its links; (profile id, links suppressed)."""
    live_id = identity.lock_live_profile(session, profile_id)
    if live_id is None:
        raise NotFound(f"No profile with id {profile_id!r}.")
    suppressed = identity.forget_profile(session, live_id, now=now, reason="forgotten profile")
    return live_id, suppressed
