"""Every SQL statement of the helpdesk conversation sync and of the reply channels."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carebase.models import (
    Destination,
    InboxSettings,
    Mention,
    MentionEvent,
    Response,
    Ticket,
    User,
)


def get_response(session: Session, response_id: str) -> Response | None:
    """One response."""
    return session.get(Response, response_id)


def get_mention(session: Session, mention_id: str) -> Mention | None:
    """One mention."""
    return session.get(Mention, mention_id)


def get_user(session: Session, user_id: int) -> User | None:
    """One user."""
    return session.get(User, user_id)


def reply_destination(session: Session) -> Destination | None:
    """The destination InboxSettings names for replies to API-origin mentions, if any."""
    row = session.get(InboxSettings, 1)
    if row is None or row.reply_destination_id is None:
        return None
    return session.get(Destination, row.reply_destination_id)


def ticket_profile(session: Session, dataset_id: str, ticket_id: str) -> str | None:
    """The profile a ticket record of the dataset belongs to (its requester's)."""
    return session.scalar(
        select(Ticket.profile_id).where(
            Ticket.dataset_id == dataset_id, Ticket.ticket_id == ticket_id
        )
    )


def active_user_by_email(session: Session, email: str) -> User | None:
    """The carebase user (not archived) with this email, case-insensitively."""
    return session.scalars(
        select(User).where(
            func.lower(User.email) == email.strip().lower(), User.archived.is_(False)
        )
    ).first()


def mention_by_origin(
    session: Session, origin: str, origin_key: str, external_id: str
) -> Mention | None:
    """The mention a helpdesk message became, if it did."""
    return session.scalars(
        select(Mention).where(
            Mention.origin == origin,
            Mention.origin_key == origin_key,
            Mention.external_id == external_id,
        )
    ).first()


def ticket_mentions(
    session: Session, origin: str, origin_key: str, ticket_id: str
) -> Sequence[Mention]:
    """The mentions of one helpdesk ticket, oldest first."""
    return session.scalars(
        select(Mention)
        .where(
            Mention.origin == origin,
            Mention.origin_key == origin_key,
            Mention.conversation_ref == ticket_id,
        )
        .order_by(Mention.published_at, Mention.id)
    ).all()


def ticket_responses(session: Session, mention_ids: Sequence[str]) -> Sequence[Response]:
    """Every response to these mentions (carebase's own and those synced from the helpdesk)."""
    if not mention_ids:
        return []
    return session.scalars(select(Response).where(Response.mention_id.in_(list(mention_ids)))).all()


def closed_by_helpdesk(session: Session, mention_id: str, kind: str) -> bool:
    """Whether the mention's latest state change was this helpdesk closing it."""
    latest = session.scalars(
        select(MentionEvent)
        .where(MentionEvent.mention_id == mention_id, MentionEvent.kind == "state")
        .order_by(MentionEvent.id.desc())
        .limit(1)
    ).first()
    return (
        latest is not None
        and latest.to_value == "closed"
        and (latest.actor_type, latest.actor_ref) == ("helpdesk", kind)
    )


def add_response(session: Session, response: Response) -> None:
    """Insert a response."""
    session.add(response)
    session.flush()
