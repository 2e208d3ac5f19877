"""Queues, rules and ignored senders over HTTP: read with `inbox:read`, change with
`inbox:write`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response

from carebase.auth.scopes import INBOX_READ, INBOX_WRITE
from carebase.auth.service import Principal
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.routing import JSONRoute
from carebase.inbox import ignored, queues
from carebase.inbox import rules_service as rules
from carebase.inbox.intake_schemas import (
    IgnoredCreate,
    IgnoredOut,
    IgnoredUpdate,
    QueueCreate,
    QueueOut,
    QueueUpdate,
    RuleActions,
    RuleConditions,
    RuleCreate,
    RuleList,
    RuleOrder,
    RuleOut,
    RuleUpdate,
)
from carebase.models import IgnoredSender, InboxRule, Queue

router = APIRouter(tags=["inbox"], route_class=JSONRoute)
Reader = Annotated[Principal, Depends(require_scope(INBOX_READ))]
Writer = Annotated[Principal, Depends(require_scope(INBOX_WRITE))]
QueueId = Annotated[str, Path(min_length=1, max_length=40, description="The queue's id.")]
RuleId = Annotated[str, Path(min_length=1, max_length=40, description="The rule's id.")]
SenderId = Annotated[str, Path(min_length=1, max_length=40, description="The pattern's id.")]
_TAKEN: dict[int | str, dict[str, Any]] = {409: {"description": "The name is taken."}}
_IN_USE: dict[int | str, dict[str, Any]] = {
    409: {"description": "The default queue, or a queue holding mentions (`in_use`)."}
}


def queue_out(row: Queue) -> QueueOut:
    """A queue's API shape."""
    return QueueOut(
        id=row.id,
        name=row.name,
        description=row.description,
        sla_policy_id=row.sla_policy_id,
        is_default=row.is_default,
        archived=row.archived_at is not None,
        archived_at=row.archived_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def rule_out(row: InboxRule) -> RuleOut:
    """A rule's API shape."""
    return RuleOut(
        id=row.id,
        queue_id=row.queue_id,
        name=row.name,
        position=row.position,
        enabled=row.enabled,
        stop=row.stop,
        conditions=RuleConditions.model_validate(row.conditions),
        actions=RuleActions.model_validate(row.actions),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def ignored_out(row: IgnoredSender) -> IgnoredOut:
    """An ignored sender's API shape."""
    return IgnoredOut(
        id=row.id, pattern=row.pattern, comment=row.comment, created_at=row.created_at
    )


@router.get("/v1/queues", operation_id="listQueues", response_model=list[QueueOut])
def list_queues(
    _reader: Reader,
    session: DbSession,
    now: Now,
    include_archived: Annotated[bool, Query(description="Archived queues too.")] = False,
) -> list[QueueOut]:
    """Every queue, the default first (created on first use)."""
    queues.default_queue(session, now)
    return [queue_out(q) for q in queues.list_queues(session, include_archived=include_archived)]


@router.post(
    "/v1/queues",
    status_code=201,
    operation_id="createQueue",
    response_model=QueueOut,
    responses=_TAKEN,
)
def create_queue(body: QueueCreate, _writer: Writer, session: DbSession, now: Now) -> QueueOut:
    """A new queue."""
    row = queues.create_queue(
        session,
        body.name,
        now,
        description=body.description,
        sla_policy_id=body.sla_policy_id,
        is_default=body.is_default,
    )
    return queue_out(row)


@router.get("/v1/queues/{queue_id}", operation_id="getQueue", response_model=QueueOut)
def get_queue(queue_id: QueueId, _reader: Reader, session: DbSession) -> QueueOut:
    """One queue."""
    return queue_out(queues.get_queue(session, queue_id))


@router.patch(
    "/v1/queues/{queue_id}", operation_id="updateQueue", response_model=QueueOut, responses=_TAKEN
)
def update_queue(
    queue_id: QueueId, body: QueueUpdate, _writer: Writer, session: DbSession, now: Now
) -> QueueOut:
    """Change a queue's name, description or SLA policy, or make it the default."""
    row = queues.update_queue(
        session,
        queue_id,
        now,
        name=body.name,
        description=body.description,
        sla_policy_id=body.sla_policy_id,
        clear_sla_policy=body.clear_sla_policy,
        make_default=bool(body.is_default),
    )
    return queue_out(row)


@router.post(
    "/v1/queues/{queue_id}/archive",
    operation_id="archiveQueue",
    response_model=QueueOut,
    responses=_IN_USE,
)
def archive_queue(queue_id: QueueId, _writer: Writer, session: DbSession, now: Now) -> QueueOut:
    """Archive a queue: mentions can no longer name it."""
    return queue_out(queues.archive_queue(session, queue_id, now))


@router.post(
    "/v1/queues/{queue_id}/unarchive", operation_id="unarchiveQueue", response_model=QueueOut
)
def unarchive_queue(queue_id: QueueId, _writer: Writer, session: DbSession, now: Now) -> QueueOut:
    """Bring an archived queue back."""
    return queue_out(queues.unarchive_queue(session, queue_id, now))


@router.delete(
    "/v1/queues/{queue_id}", status_code=204, operation_id="deleteQueue", responses=_IN_USE
)
def delete_queue(queue_id: QueueId, _writer: Writer, session: DbSession) -> Response:
    """Delete a queue that never held a mention (its rules go with it)."""
    queues.delete_queue(session, queue_id)
    return Response(status_code=204)


@router.get("/v1/rules", operation_id="listRules", response_model=RuleList)
def list_rules(
    _reader: Reader,
    session: DbSession,
    queue_id: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
) -> RuleList:
    """A queue's rules in run order (every queue's, by queue, without `queue_id`)."""
    return RuleList(items=[rule_out(r) for r in rules.list_rules(session, queue_id)])


@router.post("/v1/rules", status_code=201, operation_id="createRule", response_model=RuleOut)
def create_rule(body: RuleCreate, _writer: Writer, session: DbSession, now: Now) -> RuleOut:
    """A new rule for a queue."""
    row = rules.create_rule(
        session,
        body.queue_id,
        body.name,
        body.conditions.model_dump(),
        body.actions.as_dict(),
        now,
        enabled=body.enabled,
        stop=body.stop,
        position=body.position,
    )
    return rule_out(row)


@router.post("/v1/rules/reorder", operation_id="reorderRules", response_model=RuleList)
def reorder_rules(body: RuleOrder, _writer: Writer, session: DbSession, now: Now) -> RuleList:
    """Set the order a queue's rules run in (every rule of the queue, once)."""
    ordered = rules.reorder(session, body.queue_id, body.rule_ids, now)
    return RuleList(items=[rule_out(r) for r in ordered])


@router.get("/v1/rules/{rule_id}", operation_id="getRule", response_model=RuleOut)
def get_rule(rule_id: RuleId, _reader: Reader, session: DbSession) -> RuleOut:
    """One rule."""
    return rule_out(rules.get_rule(session, rule_id))


@router.patch("/v1/rules/{rule_id}", operation_id="updateRule", response_model=RuleOut)
def update_rule(
    rule_id: RuleId, body: RuleUpdate, _writer: Writer, session: DbSession, now: Now
) -> RuleOut:
    """Change a rule."""
    row = rules.update_rule(
        session,
        rule_id,
        now,
        name=body.name,
        conditions=body.conditions.model_dump() if body.conditions is not None else None,
        actions=body.actions.as_dict() if body.actions is not None else None,
        enabled=body.enabled,
        stop=body.stop,
    )
    return rule_out(row)


@router.post("/v1/rules/{rule_id}/enable", operation_id="enableRule", response_model=RuleOut)
def enable_rule(rule_id: RuleId, _writer: Writer, session: DbSession, now: Now) -> RuleOut:
    """Run the rule on new mentions."""
    return rule_out(rules.set_enabled(session, rule_id, True, now))


@router.post("/v1/rules/{rule_id}/disable", operation_id="disableRule", response_model=RuleOut)
def disable_rule(rule_id: RuleId, _writer: Writer, session: DbSession, now: Now) -> RuleOut:
    """Stop running the rule (it keeps its place)."""
    return rule_out(rules.set_enabled(session, rule_id, False, now))


@router.delete("/v1/rules/{rule_id}", status_code=204, operation_id="deleteRule")
def delete_rule(rule_id: RuleId, _writer: Writer, session: DbSession, now: Now) -> Response:
    """Delete a rule."""
    rules.delete_rule(session, rule_id, now)
    return Response(status_code=204)


@router.get(
    "/v1/ignored-senders", operation_id="listIgnoredSenders", response_model=list[IgnoredOut]
)
def list_ignored(_reader: Reader, session: DbSession) -> list[IgnoredOut]:
    """Every ignored-sender pattern."""
    return [ignored_out(row) for row in ignored.list_ignored(session)]


@router.post(
    "/v1/ignored-senders",
    status_code=201,
    operation_id="createIgnoredSender",
    response_model=IgnoredOut,
    responses={409: {"description": "The pattern is ignored already."}},
)
def add_ignored(body: IgnoredCreate, _writer: Writer, session: DbSession, now: Now) -> IgnoredOut:
    """Ignore a sender from now on: their messages arrive as irrelevant."""
    return ignored_out(ignored.add_ignored(session, body.pattern, now, comment=body.comment))


@router.patch(
    "/v1/ignored-senders/{sender_id}",
    operation_id="updateIgnoredSender",
    response_model=IgnoredOut,
    responses={409: {"description": "The pattern is ignored already."}},
)
def update_ignored(
    sender_id: SenderId, body: IgnoredUpdate, _writer: Writer, session: DbSession
) -> IgnoredOut:
    """Change a pattern or its comment."""
    row = ignored.update_ignored(session, sender_id, pattern=body.pattern, comment=body.comment)
    return ignored_out(row)


@router.delete(
    "/v1/ignored-senders/{sender_id}", status_code=204, operation_id="deleteIgnoredSender"
)
def remove_ignored(sender_id: SenderId, _writer: Writer, session: DbSession) -> Response:
    """Stop ignoring a pattern."""
    ignored.remove_ignored(session, sender_id)
    return Response(status_code=204)
