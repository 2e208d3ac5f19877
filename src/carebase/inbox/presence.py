"""Agents' presence: online while they work (the console's activity beat, `keep_alive`, or an
API heartbeat keeps them so), offline on sign-out, by hand, or after the idle timeout (30
minutes by default, InboxSettings.idle_offline_seconds). Going offline hands back the
mentions they claimed but have not started on. A customer reply goes to the agent who
answered the case last while that agent is online, else it waits in New."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from carebase.errors import NotFound, ValidationFailed
from carebase.inbox import mentions
from carebase.inbox import mentions_repository as repository
from carebase.inbox.workflow import ASSIGNED, NEW, Actor
from carebase.kit.jobs import JobContext, JobKind, JobSpec, RetryPolicy, enqueue
from carebase.models import AgentPresence, Mention
from carebase.settings import Settings

logger = logging.getLogger(__name__)

IDLE = JobSpec(
    "inbox_presence_idle", RetryPolicy(max_attempts=5, first_seconds=10.0, max_seconds=300.0)
)
PRESENCE = Actor.system("presence")
ROUTING = Actor.system("routing")
REASONS = frozenset({"sign_out", "manual", "idle"})
# The console's activity refreshes an online agent's `last_seen_at` at most this often: the
# idle timeout is counted in minutes, so a finer clock would only add writes.
KEEP_ALIVE_SECONDS = 60


def dedupe_key(user_id: int) -> str:
    """The key that keeps one idle check per agent queued."""
    return f"presence_idle:{user_id}"


def _row(session: Session, user_id: int, now: datetime) -> AgentPresence:
    """The user's presence row, locked; created (offline) on first use."""
    row = repository.lock_presence(session, user_id)
    if row is not None:
        return row
    user = repository.active_user(session, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    fresh = AgentPresence(user_id=user_id, online=False, last_seen_at=now, changed_at=now)
    # A concurrent first heartbeat may insert it first: then lock theirs.
    repository.insert_presence(session, fresh)
    row = repository.lock_presence(session, user_id)
    assert row is not None
    return row


def _schedule_idle_check(session: Session, user_id: int, at: datetime, now: datetime) -> None:
    enqueue(session, IDLE, {"user_id": user_id}, now=now, run_at=at, dedupe_key=dedupe_key(user_id))


def heartbeat(session: Session, user_id: int, now: datetime) -> None:
    """The agent is here: online, seen now; an idle check is queued for when they would
    have been idle long enough."""
    user = repository.active_user(session, user_id)
    if user is not None and user.archived:
        raise ValidationFailed.on("user_id", "is an archived user")
    row = _row(session, user_id, now)
    if not row.online:
        row.online = True
        row.changed_at = now
    row.last_seen_at = max(row.last_seen_at, now)
    session.flush()
    idle = repository.idle_offline_seconds(session)
    _schedule_idle_check(session, user_id, now + timedelta(seconds=idle), now)


def keep_alive(session: Session, user_id: int, now: datetime) -> bool:
    """The agent is at work in the console: an online agent is seen now (at most once a
    minute); an offline one stays offline (going online is their choice). Whether they are
    online."""
    row = repository.get_presence(session, user_id)
    if row is None or not row.online:
        return False
    if now - row.last_seen_at < timedelta(seconds=KEEP_ALIVE_SECONDS):
        return True
    row = repository.lock_presence(session, user_id)
    # Re-read under the lock: the idle job may have taken them offline meanwhile.
    if row is None or not row.online:
        return False
    row.last_seen_at = max(row.last_seen_at, now)
    session.flush()
    idle = repository.idle_offline_seconds(session)
    _schedule_idle_check(session, user_id, now + timedelta(seconds=idle), now)
    return True


def set_capacity(session: Session, user_id: int, capacity: int, now: datetime) -> None:
    """How many open mentions assignment by capacity may give the agent."""
    if capacity < 0 or capacity > 1000:
        raise ValidationFailed.on("capacity", "must be between 0 and 1000")
    row = _row(session, user_id, now)
    row.capacity = capacity
    session.flush()


def go_offline(session: Session, user_id: int, now: datetime, *, reason: str) -> list[str]:
    """The agent is away: offline, and the mentions they claimed but did not start on
    (still `assigned`) go back to New. Their ids."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    row = _row(session, user_id, now)
    if row.online:
        row.online = False
        row.changed_at = now
    session.flush()
    returned: list[str] = []
    for mention in repository.lock_mentions(session, repository.claimed_ids(session, user_id)):
        # Re-checked under the lock: it may have moved on since the ids were read.
        if mention.assignee_id != user_id or mention.state != ASSIGNED:
            continue
        mentions.set_state(session, mention, NEW, PRESENCE, now)
        returned.append(mention.id)
    if returned:
        logger.info("user %s offline (%s): %d mentions back to new", user_id, reason, len(returned))
    return returned


def on_sign_out(session: Session, user_id: int, now: datetime) -> list[str]:
    """The console's sign-out: an agent who has been online goes offline."""
    if repository.get_presence(session, user_id) is None:
        return []
    return go_offline(session, user_id, now, reason="sign_out")


def is_online(session: Session, user_id: int) -> bool:
    """Whether the agent is online."""
    row = repository.get_presence(session, user_id)
    return bool(row is not None and row.online)


def describe(session: Session, user_id: int) -> AgentPresence | None:
    """The agent's presence row (None before their first heartbeat)."""
    if repository.active_user(session, user_id) is None:
        raise NotFound(f"No user with id {user_id}.")
    return repository.get_presence(session, user_id)


def route_customer_reply(session: Session, mention: Mention, now: datetime) -> None:
    """A new customer message in a case (or group) an agent answered last: theirs if they
    are online (actor system `routing`), else it stays in New."""
    if mention.state != NEW or mention.assignee_id is not None:
        return
    agent = repository.last_responder(session, mention)
    if agent is None or not is_online(session, agent):
        return
    user = repository.active_user(session, agent)
    if user is None or user.archived:
        return
    mentions.assign(session, mention, ROUTING, now, user_id=agent)


def check_idle(session: Session, user_id: int, now: datetime) -> dict[str, Any]:
    """The idle job's work: offline when unseen for the idle timeout, else checked again
    when that would be."""
    row = repository.lock_presence(session, user_id)
    if row is None or not row.online:
        return {"idle": "offline"}
    due = row.last_seen_at + timedelta(seconds=repository.idle_offline_seconds(session))
    if due > now:
        _schedule_idle_check(session, user_id, due, now)
        return {"idle": "active", "next_check_at": due.isoformat()}
    returned = go_offline(session, user_id, now, reason="idle")
    return {"idle": "offline", "returned": len(returned)}


def job_kind(settings: Settings) -> JobKind:
    """The `inbox_presence_idle` job kind."""
    del settings  # nothing of them is needed; the signature matches the other kinds

    def handle(context: JobContext) -> dict[str, Any] | None:
        user_id = int(context.payload["user_id"])
        with context.database.unit_of_work() as session:
            # Completed first, in the work's transaction: the dedupe key is free for the
            # next check this one may queue.
            context.complete(session, {"user_id": user_id})
            return check_idle(session, user_id, context.clock())

    return JobKind(IDLE, handle)
