"""The profile a helpdesk's customer context names, condensed for a 260 px sidebar.

The context is a lookup key, never a credential: the caller has authenticated the viewer.
Keys are tried in the order the embedding contract fixes - external id (Zendesk's
`externalId`, Chatwoot's `identifier`), then email, then phone (E.164) - by
`profiles.search.identify`; none naming exactly one profile is an empty state, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.attributes.support import CLOSED_STATUSES
from carebase.notes import service as notes_service
from carebase.profiles import history as profile_history
from carebase.profiles import service as profiles
from carebase.profiles.history import HistoryItem
from carebase.profiles.search import identify
from carebase.profiles.service import ProfileView

MAX_KEY_LENGTH = 320
# What the panel shows of each list; the full profile (a link away) has the rest.
RECENT_TICKETS = 20
OPEN_TICKETS_SHOWN = 5
HISTORY_SHOWN = 5
NOTES_SHOWN = 5


def _clean(value: str | None) -> str | None:
    """A key as given, or None when empty, too long, or holding control characters (a
    helpdesk's context is not trusted input)."""
    if value is None:
        return None
    text = value.strip()
    if not text or len(text) > MAX_KEY_LENGTH or any(ord(char) < 0x20 for char in text):
        return None
    return text


@dataclass(frozen=True, slots=True)
class LookupKeys:
    """What a helpdesk said about the customer: each key may be missing."""

    external_id: str | None = None
    email: str | None = None
    phone: str | None = None

    @classmethod
    def of(
        cls, external_id: str | None = None, email: str | None = None, phone: str | None = None
    ) -> LookupKeys:
        """Keys from untrusted text (a query string, a postMessage)."""
        return cls(_clean(external_id), _clean(email), _clean(phone))

    @property
    def empty(self) -> bool:
        """Whether the context named no key at all."""
        return not (self.external_id or self.email or self.phone)

    def described(self) -> list[tuple[str, str]]:
        """(label, value) of each key given, in lookup order, for the empty state."""
        labels = (("External id", self.external_id), ("Email", self.email), ("Phone", self.phone))
        return [(label, value) for label, value in labels if value]

    @property
    def search_text(self) -> str | None:
        """What to type into profile search for these keys: the email, else the phone, else
        the external id."""
        return self.email or self.phone or self.external_id

    def as_query(self) -> dict[str, str]:
        """The keys as query parameters (given ones only)."""
        values = {"external_id": self.external_id, "email": self.email, "phone": self.phone}
        return {name: value for name, value in values.items() if value}


@dataclass(slots=True)
class CompactProfile:
    """What the sidebar shows of one profile."""

    view: ProfileView
    matched_by: str | None
    name: str | None
    emails: list[str]
    mobiles: list[str]
    identifiers: list[tuple[str, str]]
    place: str | None
    open_tickets: list[Any]
    history: list[HistoryItem]
    history_more: bool
    notes: list[dict[str, Any]]
    notes_more: bool
    spend: list[tuple[str, float]] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The live profile's id."""
        return self.view.id

    @property
    def open_ticket_count(self) -> int:
        """Open tickets, as the support attributes count them."""
        count: int = self.view.attributes.get("open_ticket_count") or 0
        return max(count, len(self.open_tickets))


def find(
    session: Session, keys: LookupKeys, *, now: datetime, region: str | None
) -> CompactProfile | None:
    """The profile the keys name, condensed; None when no key names exactly one."""
    if keys.empty:
        return None
    found = identify(
        session, external_id=keys.external_id, email=keys.email, phone=keys.phone, region=region
    )
    if found is None:
        return None
    return condense(session, found.profile_id, now=now, matched_by=found.matched_by)


def condense(
    session: Session, profile_id: str, *, now: datetime, matched_by: str | None = None
) -> CompactProfile:
    """One profile (a merged id: its survivor) as the sidebar shows it; NotFound when none."""
    view = profiles.read(session, profile_id, tickets=RECENT_TICKETS, now=now)
    _, items, next_history = profile_history.read(
        session, view.id, types=(), newest_first=True, cursor=None, limit=HISTORY_SHOWN
    )
    notes, next_notes = notes_service.list_notes(session, view.id, cursor=None, limit=NOTES_SHOWN)
    customer = view.customer
    name = " ".join(
        part for part in (customer.get("first_name"), customer.get("last_name")) if part
    )
    return CompactProfile(
        view=view,
        matched_by=matched_by,
        name=name or None,
        emails=_link_values(view, "email"),
        mobiles=_link_values(view, "mobile"),
        identifiers=_identifiers(view),
        place=", ".join(
            str(part)
            for part in (customer.get("city"), customer.get("state"), customer.get("country"))
            if part
        )
        or None,
        open_tickets=[row for row in view.tickets if _is_open(row)][:OPEN_TICKETS_SHOWN],
        history=items,
        history_more=next_history is not None,
        notes=notes,
        notes_more=next_notes is not None,
        spend=_amounts(view.commerce.get("total_spend") or {}),
    )


def _link_values(view: ProfileView, link_type: str) -> list[str]:
    return list(dict.fromkeys(link.value for link in view.links if link.link_type == link_type))


def _identifiers(view: ProfileView) -> list[tuple[str, str]]:
    """(system or kind, value) of the profile's ids in other systems."""
    shown = []
    for link in view.links:
        if link.link_type in {"email", "mobile"}:
            continue
        label = link.system_name or link.link_type.replace("_", " ")
        shown.append((label, link.value))
    return shown


def _amounts(by_currency: Mapping[str, float]) -> list[tuple[str, float]]:
    """Spend per currency, largest first."""
    return sorted(by_currency.items(), key=lambda item: (-item[1], item[0]))


def _is_open(ticket: Any) -> bool:
    """As `open_ticket_count` counts: no closed time, and a status that is not closed."""
    if getattr(ticket, "closed_at", None) is not None:
        return False
    status = getattr(ticket, "status", None) or ""
    return status.strip().lower() not in CLOSED_STATUSES
