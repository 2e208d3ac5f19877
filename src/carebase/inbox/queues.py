"""Queues: where mentions wait. Mentions that name no queue land in the default queue,
created on first use; rules run per queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from carebase.db import locks
from carebase.errors import InUse, NameTaken, NotFound, ValidationFailed
from carebase.ids import new_id
from carebase.inbox import intake_repository as repository
from carebase.models import Queue

DEFAULT_NAME = "Inbox"
_DEFAULT_LOCK = "inbox:default_queue"


def default_queue(session: Session, now: datetime) -> Queue:
    """The default queue, created on first use (once, whatever the concurrency)."""
    found = repository.default_queue(session)
    if found is not None:
        return found
    # Two first mentions at once must not make two default queues.
    locks.lock_keys(session, [_DEFAULT_LOCK])
    found = repository.default_queue(session)
    if found is not None:
        return found
    name = DEFAULT_NAME
    if repository.queue_by_name(session, name) is not None:
        name = f"{DEFAULT_NAME} ({now:%Y-%m-%d})"
    queue = Queue(
        id=new_id("que"),
        name=name,
        description="Mentions that name no queue.",
        sla_policy_id=None,
        is_default=True,
        archived_at=None,
        created_at=now,
        updated_at=now,
    )
    repository.add(session, queue)
    return queue


def get_queue(session: Session, queue_id: str, *, lock: bool = False) -> Queue:
    """One queue, or NotFound."""
    queue = repository.queue(session, queue_id, lock=lock)
    if queue is None:
        raise NotFound(f"No queue with id {queue_id!r}.")
    return queue


def find_by_name(session: Session, name: str) -> Queue | None:
    """The queue of that name, if any."""
    return repository.queue_by_name(session, name)


def list_queues(session: Session, *, include_archived: bool = False) -> list[Queue]:
    """Every queue, the default first."""
    return repository.queues(session, include_archived=include_archived)


def _check_name(session: Session, name: str, *, own_id: str | None) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise ValidationFailed.on("name", "must not be blank")
    other = repository.queue_by_name(session, cleaned)
    if other is not None and other.id != own_id:
        raise NameTaken(f"A queue named {cleaned!r} exists.", details={"field": "name"})
    return cleaned


def _check_policy(session: Session, sla_policy_id: str | None) -> None:
    # Imported here: the SLA policies are another helper's module (inbox-sla).
    from carebase.models import SlaPolicy

    if sla_policy_id is not None and session.get(SlaPolicy, sla_policy_id) is None:
        raise ValidationFailed.on("sla_policy_id", "no such SLA policy")


def create_queue(
    session: Session,
    name: str,
    now: datetime,
    *,
    description: str = "",
    sla_policy_id: str | None = None,
    is_default: bool = False,
) -> Queue:
    """A new queue; `is_default` makes it the default (and no other)."""
    locks.lock_keys(session, [_DEFAULT_LOCK, f"inbox:queue_name:{name.strip().lower()}"])
    cleaned = _check_name(session, name, own_id=None)
    _check_policy(session, sla_policy_id)
    queue = Queue(
        id=new_id("que"),
        name=cleaned,
        description=description,
        sla_policy_id=sla_policy_id,
        is_default=is_default,
        archived_at=None,
        created_at=now,
        updated_at=now,
    )
    repository.add(session, queue)
    if is_default:
        repository.clear_default(session, queue.id)
    return queue


def update_queue(
    session: Session,
    queue_id: str,
    now: datetime,
    *,
    name: str | None = None,
    description: str | None = None,
    sla_policy_id: str | None = None,
    clear_sla_policy: bool = False,
    make_default: bool = False,
) -> Queue:
    """Change a queue's name, description, SLA policy, or make it the default."""
    if make_default:
        locks.lock_keys(session, [_DEFAULT_LOCK])
    queue = get_queue(session, queue_id, lock=True)
    if name is not None:
        queue.name = _check_name(session, name, own_id=queue.id)
    if description is not None:
        queue.description = description
    if clear_sla_policy:
        queue.sla_policy_id = None
    elif sla_policy_id is not None:
        _check_policy(session, sla_policy_id)
        queue.sla_policy_id = sla_policy_id
    if make_default:
        if queue.archived_at is not None:
            raise ValidationFailed.on("is_default", "an archived queue cannot be the default")
        queue.is_default = True
        repository.clear_default(session, queue.id)
    queue.updated_at = now
    session.flush()
    return queue


def archive_queue(session: Session, queue_id: str, now: datetime) -> Queue:
    """Archive a queue: no new mentions may name it. The default queue cannot be archived."""
    queue = get_queue(session, queue_id, lock=True)
    if queue.is_default:
        raise InUse("The default queue cannot be archived: make another queue the default first.")
    if queue.archived_at is None:
        queue.archived_at = now
        queue.updated_at = now
    session.flush()
    return queue


def unarchive_queue(session: Session, queue_id: str, now: datetime) -> Queue:
    """Bring an archived queue back."""
    queue = get_queue(session, queue_id, lock=True)
    if queue.archived_at is not None:
        queue.archived_at = None
        queue.updated_at = now
    session.flush()
    return queue


def delete_queue(session: Session, queue_id: str) -> None:
    """Delete a queue that holds no mentions (its rules go with it)."""
    queue = get_queue(session, queue_id, lock=True)
    if queue.is_default:
        raise InUse("The default queue cannot be deleted.")
    if repository.mentions_in_queue(session, queue_id):
        raise InUse("The queue holds mentions: archive it instead.")
    session.delete(queue)
    session.flush()
