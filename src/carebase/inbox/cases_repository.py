"""Every SQL statement about cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from carebase.inbox.workflow import CLOSED_THREAD, OPEN_STATES
from carebase.models import Case, Mention, MentionClassification, Response

_CASE = Case.__table__.c
_MENTION = Mention.__table__.c
_RESPONSE = Response.__table__.c
_MC = MentionClassification.__table__.c


def key_filter(key: str) -> ColumnElement[bool]:
    """Mentions whose case key is `key` (profile id, `author:<key>`, or `group:<key>`)."""
    if key.startswith("author:"):
        return and_(_MENTION.profile_id.is_(None), _MENTION.author_key == key[len("author:") :])
    if key.startswith("group:"):
        return and_(
            _MENTION.profile_id.is_(None),
            _MENTION.author_key.is_(None),
            _MENTION.group_key == key[len("group:") :],
        )
    return _MENTION.profile_id == key


def open_case_keys(session: Session, keys: set[str]) -> set[str]:
    """The keys among `keys` that have an open case."""
    found: set[str] = set()
    ordered = sorted(keys)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found.update(
            key
            for key in session.scalars(
                select(_CASE.case_key).where(_CASE.case_key.in_(chunk), _CASE.status == "open")
            )
            if key is not None
        )
    return found


def open_case(session: Session, key: str) -> Case | None:
    """The key's open case, locked FOR UPDATE (the newest, should there be more)."""
    return session.execute(
        select(Case)
        .where(_CASE.case_key == key, _CASE.status == "open")
        .order_by(_CASE.opened_at.desc(), _CASE.id.desc())
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def lock_case(session: Session, case_id: str) -> Case | None:
    """One case, locked FOR UPDATE."""
    return session.execute(
        select(Case)
        .where(_CASE.id == case_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def get_case(session: Session, case_id: str) -> Case | None:
    """One case."""
    return session.get(Case, case_id)


def add_case(session: Session, case: Case) -> None:
    """Store a new case."""
    session.add(case)
    session.flush()


def last_closed_at(session: Session, key: str) -> datetime | None:
    """When the key's most recently closed case closed."""
    value: datetime | None = session.execute(
        select(func.max(_CASE.closed_at)).where(_CASE.case_key == key, _CASE.status == "closed")
    ).scalar_one()
    return value


def unanswered_mentions(
    session: Session, key: str, since: datetime | None, *, lock: bool = False
) -> list[Mention]:
    """The key's customer mentions in no case, not yet answered and still part of the
    conversation (open, or folded into a thread), published after `since`. With `lock`,
    those another transaction holds are skipped (FOR UPDATE SKIP LOCKED): that transaction
    (a response to one of them) joins its mention itself once it has the key's lock, and
    waiting for it here would deadlock with it."""
    statement = select(Mention).where(
        key_filter(key),
        _MENTION.case_id.is_(None),
        _MENTION.first_response_at.is_(None),
        _MENTION.state.in_(sorted(OPEN_STATES | {CLOSED_THREAD})),
    )
    if since is not None:
        statement = statement.where(_MENTION.published_at > since)
    statement = statement.order_by(_MENTION.published_at, _MENTION.id)
    if lock:
        statement = statement.with_for_update(skip_locked=True).execution_options(
            populate_existing=True
        )
    return list(session.execute(statement).scalars())


def mention_states(session: Session, case_id: str) -> list[str]:
    """The states of a case's mentions."""
    return list(
        session.execute(select(_MENTION.state).where(_MENTION.case_id == case_id)).scalars()
    )


def case_mentions(session: Session, case_id: str) -> list[Mention]:
    """A case's mentions, in time order."""
    return list(
        session.execute(
            select(Mention)
            .where(_MENTION.case_id == case_id)
            .order_by(_MENTION.published_at, _MENTION.id)
        ).scalars()
    )


def _case_responses(case_id: str) -> ColumnElement[bool]:
    in_case = select(_MENTION.id).where(_MENTION.case_id == case_id).scalar_subquery()
    return and_(
        or_(_RESPONSE.case_id == case_id, _RESPONSE.mention_id.in_(in_case)),
        _RESPONSE.status == "sent",
        _RESPONSE.private.is_(False),
    )


def case_responses(session: Session, case_id: str) -> list[Response]:
    """The agent responses sent in a case (private notes aside), in time order."""
    return list(
        session.execute(
            select(Response)
            .where(_case_responses(case_id))
            .order_by(_RESPONSE.sent_at, _RESPONSE.id)
        ).scalars()
    )


def set_response_case(session: Session, response_id: str, case_id: str) -> None:
    """Record the case a response belongs to."""
    session.execute(update(Response).where(_RESPONSE.id == response_id).values(case_id=case_id))


def reply_counts(session: Session, case_id: str) -> tuple[int, int]:
    """(public agent replies sent in the case, distinct agents who sent them)."""
    row = session.execute(
        select(func.count(), func.count(func.distinct(_RESPONSE.author_id))).where(
            _RESPONSE.case_id == case_id,
            _RESPONSE.private.is_(False),
            _RESPONSE.status == "sent",
        )
    ).one()
    return int(row[0]), int(row[1])


def classification_ids(session: Session, case_id: str) -> list[int]:
    """The classifications of a case: each once, whatever the number of its mentions that
    carry it."""
    return list(
        session.execute(
            select(_MC.classification_id)
            .join(Mention, _MENTION.id == _MC.mention_id)
            .where(_MENTION.case_id == case_id)
            .distinct()
            .order_by(_MC.classification_id)
        ).scalars()
    )


def case_classifications_query() -> Any:
    """A SELECT of distinct (case_id, classification_id): classifications counted once per
    case, for reports to join or aggregate."""
    return (
        select(_MENTION.case_id.label("case_id"), _MC.classification_id.label("classification_id"))
        .join(Mention, _MENTION.id == _MC.mention_id)
        .where(_MENTION.case_id.is_not(None))
        .distinct()
    )


def page(
    session: Session,
    *,
    status: str | None,
    profile_id: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Case]:
    """Cases, newest opened first (opened_at, then id), after a keyset."""
    statement = select(Case)
    if status is not None:
        statement = statement.where(_CASE.status == status)
    if profile_id is not None:
        statement = statement.where(_CASE.profile_id == profile_id)
    if after is not None:
        statement = statement.where(
            or_(
                _CASE.opened_at < after[0],
                and_(_CASE.opened_at == after[0], _CASE.id < after[1]),
            )
        )
    statement = statement.order_by(_CASE.opened_at.desc(), _CASE.id.desc()).limit(limit)
    return list(session.execute(statement).scalars())


def cases_with_status(session: Session, status: str) -> list[Case]:
    """Every case in `status`, in the order they closed (open ones: by id)."""
    statement = select(Case).where(Case.status == status).order_by(Case.closed_at, Case.id)
    return list(session.scalars(statement).all())
