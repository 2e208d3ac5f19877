"""Profile search and lookup.

Search: what an agent types (an email, a mobile, a customer or external id, a name, or the
start of any of them) to the profiles it names, best match first.

Every candidate is a prefix range over a bytewise index (`kit/searchkey.py`): link values
as stored (emails lower-cased, mobiles in E.164, ids as given) and the folded name keys of
customer attributes. A query is tried as typed, lower-cased and, when it reads as a phone
number, as E.164 digits; names are folded (accents, case, spaces). Each range reads at most
`limit + 1` index entries, so a search costs the same on ten profiles or ten million.

Lookup (`identify`): the one profile a helpdesk's customer context names (the embed beside a
conversation), by external id, then email, then phone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from carebase.identity.links import normalise_email, normalise_mobile
from carebase.kit.searchkey import fold
from carebase.profiles import search_repository as repository

MAX_QUERY = 200
# What a match on each field says about the person, strongest first.
_RANK = {"email": 0, "mobile": 1, "customer_id": 2, "external_id": 3, "name": 4, "last_name": 5}
_NAME_FIELDS = {"name_key": "name", "last_name_key": "last_name"}
_PHONE = re.compile(r"\+?\d{3,}")
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One profile found, with what matched."""

    profile_id: str
    name: str | None
    email: str | None
    mobile: str | None
    customer_id: str | None
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Profiles found, best first; `truncated` when more matched than were returned."""

    hits: list[SearchHit]
    truncated: bool


def link_prefixes(query: str) -> list[str]:
    """The link values a query may be the start of: as typed, lower-cased (emails are
    stored so), and as E.164 when it reads as a phone number."""
    prefixes = [query, query.lower()]
    digits = _PHONE_PUNCTUATION.sub("", query)
    if _PHONE.fullmatch(digits):
        prefixes.append("+" + digits.lstrip("+"))
    return list(dict.fromkeys(prefixes))


def search(session: Session, query: str, *, limit: int = 20) -> SearchResult:
    """The profiles `query` names, best match first: exact before prefix, then by field
    (email, mobile, customer id, external id, name), then alphabetically."""
    text = query.strip()
    if not text:
        return SearchResult([], False)
    name = fold(text) if "@" not in text else None
    found = repository.matches(
        session, link_prefixes=link_prefixes(text), name_prefix=name, limit=limit + 1
    )
    best: dict[str, tuple[tuple[int, int, str], str, str]] = {}
    for profile_id, raw_field, value in found:
        field = _NAME_FIELDS.get(raw_field, raw_field)
        exact = value in (text, text.lower(), name)
        rank = (0 if exact else 1, _RANK.get(field, len(_RANK)), value)
        if profile_id not in best or rank < best[profile_id][0]:
            best[profile_id] = (rank, field, value)
    ordered = sorted(best.items(), key=lambda item: item[1][0])
    chosen = ordered[:limit]
    ids = [profile_id for profile_id, _ in chosen]
    shown = repository.display_fields(session, ids)
    # A profile's first email and mobile, for the many with no customer record to name them.
    links: dict[str, dict[str, str]] = {}
    for profile_id, link_type, value in repository.shown_links(session, ids):
        links.setdefault(profile_id, {}).setdefault(link_type, value)
    hits = []
    for profile_id, (_rank, field, value) in chosen:
        row = shown.get(profile_id, {})
        own = links.get(profile_id, {})
        full_name = " ".join(part for part in (row.get("first_name"), row.get("last_name")) if part)
        hits.append(
            SearchHit(
                profile_id=profile_id,
                name=full_name or None,
                email=row.get("email") or own.get("email"),
                mobile=row.get("mobile") or own.get("mobile"),
                customer_id=row.get("customer_id"),
                field=field,
                # A name matched on its key is shown as the person writes it.
                value=full_name if field in ("name", "last_name") and full_name else value,
            )
        )
    return SearchResult(hits, truncated=len(ordered) > limit)


@dataclass(frozen=True, slots=True)
class Identified:
    """The profile a helpdesk's context names, and which of its keys found it."""

    profile_id: str
    matched_by: str


# What an external id from a helpdesk may be in carebase: the brand's id for the customer.
_EXTERNAL_ID_TYPES = ("external_id", "customer_id")


def identify(
    session: Session,
    *,
    external_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    region: str | None = None,
) -> Identified | None:
    """The one profile a helpdesk's customer context names, trying its external id (as an
    external or customer id in any system), then its email, then its phone (E.164); None
    when no key names exactly one profile. The context is a lookup key, never a credential:
    the caller has already authenticated the viewer."""
    candidates: list[tuple[str, str | None, tuple[str, ...]]] = [
        ("external_id", (external_id or "").strip() or None, _EXTERNAL_ID_TYPES),
        ("email", normalise_email(email) if email else None, ("email",)),
        ("phone", normalise_mobile(phone, region) if phone else None, ("mobile",)),
    ]
    for matched_by, value, link_types in candidates:
        if value is None:
            continue
        owners = repository.owners_of(session, value, link_types)
        if len(owners) == 1:
            return Identified(owners[0], matched_by)
    return None
