"""Reading profiles (one, or a page of them), keeping their attributes fresh, forgetting them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.attributes import read as attribute_read
from carebase.errors import NotFound
from carebase.identity import service as identity
from carebase.identity.links import Link
from carebase.profiles import repository
from carebase.profiles.schemas import (
    CommerceOut,
    CustomerOut,
    EngagementOut,
    LinkOut,
    ProfileOut,
    SupportAttributesOut,
    TicketOut,
)
from carebase.records import tickets as ticket_records


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

    def out(self) -> ProfileOut:
        """The Profile Read API body."""
        return ProfileOut(
            id=self.id,
            resolved_from=self.requested_id if self.requested_id != self.id else None,
            created_at=self.created_at,
            updated_at=self.updated_at,
            links=[LinkOut(**link.as_dict()) for link in self.links],
            attributes=SupportAttributesOut(**self.attributes),
            customer=CustomerOut(**self.customer),
            commerce=CommerceOut(**self.commerce),
            engagement=EngagementOut(**self.engagement),
            tickets=[TicketOut.from_row(row) for row in self.tickets],
        )


def read(session: Session, profile_id: str, *, tickets: int, now: datetime) -> ProfileView:
    """A profile by id (a merged id answers with its survivor), or NotFound."""
    near, far = attribute_read.windows(now)
    whole = repository.whole_profile(session, profile_id, near, far)
    if whole is not None and whole.merged_into_id is not None:
        whole = repository.whole_profile(session, whole.merged_into_id, near, far)
        # A survivor merged on in turn is not followed (as identity.live_profile_id).
        if whole is not None and whole.merged_into_id is not None:
            whole = None
    if whole is None:
        raise NotFound(f"No profile with id {profile_id!r}.")
    return _view(session, whole, profile_id, tickets=tickets, now=now)


def read_by_link(session: Session, link: Link, *, tickets: int, now: datetime) -> ProfileView:
    """The profile owning a link, or NotFound. Three statements: the profile with its
    attributes and ticket windows, its links, its recent tickets (none when `tickets` is 0),
    and a product lookup only for a profile that bought something."""
    whole = repository.whole_profile_by_link(session, link, *attribute_read.windows(now))
    if whole is None:
        raise NotFound(f"No profile has that {link.link_type}.")
    # Links move to the survivor on a merge, so a link's owner is live.
    assert whole.merged_into_id is None
    return _view(session, whole, whole.id, tickets=tickets, now=now)


def _view(
    session: Session,
    whole: repository.WholeProfile,
    requested_id: str,
    *,
    tickets: int,
    now: datetime,
) -> ProfileView:
    rows = attribute_read.by_family(whole.families)
    products = attribute_read.products_bought(session, [rows])
    return ProfileView(
        id=whole.id,
        requested_id=requested_id,
        created_at=whole.created_at,
        updated_at=whole.updated_at,
        links=repository.shown_links_of(session, whole.id),
        tickets=ticket_records.recent(session, whole.id, tickets) if tickets else [],
        **attribute_read.assemble(rows, whole.windows, products, now),
    )


def read_many(
    session: Session, profile_ids: Sequence[str], *, now: datetime, tickets: int = 0
) -> list[ProfileOut]:
    """Profiles by id, in the order asked, as `read` answers each (a merged id answers with
    its survivor); ids of no profile are left out. A few queries for the whole page."""
    found = repository.profiles_by_id(session, profile_ids)
    survivors = repository.profiles_by_id(
        session, sorted({row.merged_into_id for row in found.values() if row.merged_into_id})
    )
    live: dict[str, Any] = {}
    for requested in profile_ids:
        row = found.get(requested)
        if row is not None and row.merged_into_id is not None:
            row = survivors.get(row.merged_into_id)
        if row is not None and row.merged_into_id is None:
            live[requested] = row
    live_ids = sorted({row.id for row in live.values()})
    links = repository.shown_links(session, live_ids)
    recent = repository.recent_tickets(session, live_ids, tickets) if tickets else {}
    sections = attribute_read.sections(session, live_ids, now=now)
    return [
        ProfileView(
            id=row.id,
            requested_id=requested,
            created_at=row.created_at,
            updated_at=row.updated_at,
            links=links.get(row.id, []),
            tickets=recent.get(row.id, []),
            **sections[row.id],
        ).out()
        for requested, row in live.items()
    ]


def forget(session: Session, profile_id: str, *, now: datetime) -> tuple[str, int]:
    """Remove a profile everywhere and suppress its links; (profile id, links suppressed)."""
    live_id = identity.lock_live_profile(session, profile_id)
    if live_id is None:
        raise NotFound(f"No profile with id {profile_id!r}.")
    suppressed = identity.forget_profile(session, live_id, now=now, reason="forgotten profile")
    return live_id, suppressed
