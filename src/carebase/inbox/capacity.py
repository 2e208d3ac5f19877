"""Assignment by group and capacity: which online member of a group gets the next mention."""

from __future__ import annotations

from sqlalchemy.orm import Session

from carebase.inbox import mentions_repository as repository


def pick_by_capacity(session: Session, group_id: int) -> int | None:
    """The online member of the group with the fewest open assigned mentions, under their
    capacity (ties: the lowest user id), or None."""
    members = repository.group_member_ids(session, group_id)
    online = repository.lock_online_presences(session, members)
    load = repository.open_load(session, [row.user_id for row in online])
    best: tuple[int, int] | None = None
    for row in online:
        count = load.get(row.user_id, 0)
        if count >= row.capacity:
            continue
        if best is None or count < best[0]:
            best = (count, row.user_id)
    return best[1] if best is not None else None
