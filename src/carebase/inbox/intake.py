"""Intake: every inbound customer message, whatever its origin (the `mention` record type,
helpdesk conversation sync, the console), becomes a mention here: idempotent on its origin,
queued, measured against its queue's SLA, grouped, screened against ignored senders and run
through its queue's rules, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from carebase.db import locks
from carebase.errors import ValidationFailed
from carebase.ids import new_id
from carebase.inbox import events, hooks, ignored, queues
from carebase.inbox import intake_repository as repository
from carebase.inbox import rules as rulebook
from carebase.inbox.workflow import ASSIGNED, IRRELEVANT, NEW, Actor
from carebase.models import IgnoredSender, Mention

INTAKE = Actor.system("intake")


@dataclass
class MentionIn:
    """One inbound customer message, whatever its origin."""

    origin: str
    origin_key: str
    external_id: str
    source_type: str
    body: str
    published_at: datetime
    account: str | None = None
    author_key: str | None = None
    author_username: str | None = None
    author_fullname: str | None = None
    author_avatar: str | None = None
    author_url: str | None = None
    thread_key: str | None = None
    conversation_ref: str | None = None
    queue_id: str | None = None
    profile_id: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes it the same message when it is sent again."""
        return (self.origin, self.origin_key, self.external_id)


@dataclass(frozen=True, slots=True)
class Received:
    """A message's mention, and whether this call created it (False: it was known)."""

    mention_id: str
    created: bool


def group_key(item: MentionIn, mention_id: str) -> str:
    """How messages group (Lexer: by author first, then thread): one group is claimed and
    answered together. A message with neither stands alone."""
    if item.author_key:
        return f"author:{item.source_type}:{item.author_key}"[:700]
    if item.thread_key:
        return f"thread:{item.origin}:{item.origin_key}:{item.thread_key}"[:700]
    return f"mention:{mention_id}"


def _case_key(item: MentionIn) -> str:
    """The case key the message's mention will have (cases.case_key of it)."""
    probe = Mention(
        profile_id=item.profile_id,
        author_key=_fit(item.author_key, 300),
        group_key=group_key(item, ""),
    )
    return hooks.case_key(probe)


def _lock_key(key: tuple[str, str, str]) -> str:
    return "mention:" + ":".join(key)


def receive(session: Session, items: list[MentionIn], now: datetime) -> list[Received]:
    """Make each message a mention (idempotent on origin, origin_key, external_id: a message
    sent again changes nothing), in the order given. Does not commit."""
    if not items:
        return []
    # Two writers receiving the same message queue here; the second then finds it stored.
    locks.lock_keys(session, sorted({_lock_key(item.key) for item in items}))
    locks.lock_profiles(session, {item.profile_id for item in items if item.profile_id})
    known = repository.existing_mentions(session, [item.key for item in items])
    # Asked once for the whole batch: most messages join no case and route to nobody, and
    # asking per message was most of the cost of receiving one.
    fresh = [item for item in items if item.key not in known]
    open_keys = hooks.keys_with_open_cases(session, {_case_key(item) for item in fresh})
    answered = repository.groups_with_replies(
        session, {group_key(item, "") for item in fresh if item.author_key or item.thread_key}
    )
    patterns = repository.ignored_senders(session)
    rules_by_queue: dict[str, list[rulebook.RuleView]] = {}
    sla_by_queue: dict[str, dict[str, Any]] = {}
    default_id: str | None = None
    out: list[Received] = []
    for item in items:
        existing = known.get(item.key)
        if existing is not None:
            out.append(Received(existing, False))
            continue
        queue_id = item.queue_id
        if queue_id is None:
            if default_id is None:
                default_id = queues.default_queue(session, now).id
            queue_id = default_id
        if queue_id not in rules_by_queue:
            queues.get_queue(session, queue_id)  # NotFound for an unknown queue
            rules_by_queue[queue_id] = _rule_views(session, queue_id)
            sla_by_queue[queue_id] = hooks.sla_snapshot(session, queue_id, now)
        mention = _create(
            session,
            item,
            queue_id,
            rules_by_queue[queue_id],
            patterns,
            now,
            sla=dict(sla_by_queue[queue_id]),
            open_keys=open_keys,
            answered=answered,
        )
        known[item.key] = mention.id
        out.append(Received(mention.id, True))
    return out


def _rule_views(session: Session, queue_id: str) -> list[rulebook.RuleView]:
    return [
        rulebook.RuleView(rule.id, rule.conditions, rule.actions, rule.stop)
        for rule in repository.rules_of(session, queue_id)
        if rule.enabled
    ]


def _fit(value: str | None, size: int) -> str | None:
    """A display field cut to its column (a helpdesk may send longer names)."""
    return value[:size] if value is not None else None


def _check(item: MentionIn) -> None:
    # What the columns hold: a longer key would fail on PostgreSQL (and be cut on SQLite).
    if not item.origin or len(item.origin) > 20:
        raise ValidationFailed.on("origin", "must be 1 to 20 characters")
    if len(item.origin_key) > 40:
        raise ValidationFailed.on("origin_key", "must be at most 40 characters")
    if not item.external_id or len(item.external_id) > 200:
        raise ValidationFailed.on("external_id", "must be 1 to 200 characters")


def _create(
    session: Session,
    item: MentionIn,
    queue_id: str,
    rules: list[rulebook.RuleView],
    patterns: list[IgnoredSender],
    now: datetime,
    *,
    sla: dict[str, Any],
    open_keys: set[str],
    answered: set[str],
) -> Mention:
    _check(item)
    message = rulebook.Message(
        body=item.body,
        source_type=item.source_type,
        author_key=_fit(item.author_key, 300),
        author_username=_fit(item.author_username, 300),
        author_fullname=_fit(item.author_fullname, 300),
    )
    matched = rulebook.plan(rules, message)
    # Redaction happens before the first write: the original text is never stored, not
    # even in a row version a later UPDATE would leave behind.
    redactions = [(rule, list(rule.actions.get("redact") or [])) for rule in matched]
    body = item.body
    for _, kinds in redactions:
        if kinds:
            body = rulebook.redact(body, kinds)
    redacted = body != item.body
    mention_id = new_id("men")
    mention = Mention(
        id=mention_id,
        queue_id=queue_id,
        origin=item.origin,
        origin_key=item.origin_key,
        external_id=item.external_id,
        conversation_ref=_fit(item.conversation_ref, 200),
        source_type=item.source_type.strip().lower()[:40],
        account=_fit(item.account, 300),
        author_key=_fit(item.author_key, 300),
        author_username=_fit(item.author_username, 300),
        author_fullname=_fit(item.author_fullname, 300),
        author_avatar=item.author_avatar,
        author_url=item.author_url,
        profile_id=item.profile_id,
        body=body,
        redacted_at=now if redacted else None,
        forgotten=False,
        published_at=item.published_at,
        received_at=now,
        thread_key=_fit(item.thread_key, 300),
        group_key=group_key(item, mention_id),
        state=NEW,
        state_at=now,
        follow_up=False,
        assignee_id=None,
        assigned_group_id=None,
        sla=sla,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(mention)
    session.flush()
    events.record(session, mention_id, "received", INTAKE, now, to_value=queue_id)
    if redacted:
        for rule, kinds in redactions:
            if kinds:
                events.record(
                    session,
                    mention_id,
                    "redact",
                    Actor("rule", ref=rule.id),
                    now,
                    detail={"kinds": kinds},
                )
    names = ignored.sender_names(item.author_key, item.author_username)
    hit = ignored.first_match(patterns, names)
    if hit is not None:
        hooks.set_state(session, mention, IRRELEVANT, Actor.system(hit.id), now)
    assigned = _run_actions(session, mention, matched, now, ignored=hit is not None)
    if hooks.case_key(mention) in open_keys:
        hooks.on_customer_mention(session, mention, now)
    if not assigned and mention.state == NEW and (mention.case_id or mention.group_key in answered):
        hooks.route_customer_reply(session, mention, now)
    return mention


def _run_actions(
    session: Session,
    mention: Mention,
    matched: list[rulebook.RuleView],
    now: datetime,
    *,
    ignored: bool,
) -> bool:
    """Each matched rule's classify, state and assign actions, in order; True when a rule
    assigned it. An ignored sender's mention is classified but keeps its state."""
    assigned = False
    for rule in matched:
        actor = Actor("rule", ref=rule.id)
        actions: dict[str, Any] = dict(rule.actions)
        for classification_id in actions.get("classify") or []:
            hooks.rule_action(
                session,
                mention,
                rule.id,
                "classify",
                hooks.classify,
                session,
                mention,
                int(classification_id),
                actor,
                now,
            )
        if ignored:
            continue
        state = actions.get("state")
        if state and hooks.may_move(mention.state, state):
            hooks.rule_action(
                session,
                mention,
                rule.id,
                "state",
                hooks.set_state,
                session,
                mention,
                state,
                actor,
                now,
            )
        assign = actions.get("assign")
        if assign and mention.state in (NEW, ASSIGNED):
            ran = hooks.rule_action(
                session, mention, rule.id, "assign", _assign, session, mention, actor, now, assign
            )
            assigned = assigned or (ran and mention.assignee_id is not None)
    return assigned


def _assign(
    session: Session, mention: Mention, actor: Actor, now: datetime, target: dict[str, Any]
) -> None:
    hooks.assign(
        session, mention, actor, now, user_id=target.get("user_id"), group_id=target.get("group_id")
    )
