"""A helpdesk ticket's conversation applied to the inbox, in the transaction that loads the
ticket (a webhook delivery's, a backfill page's): each customer message becomes a mention
(intake), each public agent reply a sent response that marks its mention responded, and
each status change a state change: to solved or closed, the ticket's open mentions close; back
to new, open, pending or hold, the mentions that this helpdesk's own close had closed re-open
(to assigned when they have an assignee, else new). A status change that neither closes nor
re-opens (pending or hold while the ticket is open) changes nothing: carebase has no
waiting-on-customer state, and the mention's work is the agent's to manage.

Applying the same conversation again changes nothing: mentions are keyed by their comment
id (intake), responses by theirs, and a status change older than a mention's current state
is history already applied; a re-open touches only mentions whose latest state change was
this helpdesk's close, so an agent's close in carebase (before or after the helpdesk's
re-open) is never undone. A reply carebase posted itself (the reply job stores the comment's
id it got back as the response's external_id) is recognised when the helpdesk sends it back;
so is one whose job has not recorded it yet (a response still `sending` on the ticket with
the same text).

Times are the helpdesk's: a mention is received, answered and closed at the times the
ticket's comments and audits say, so a backfilled ticket's history reads as it happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carebase.connectors.conversations import Conversation, Message, StatusChange
from carebase.errors import StaleMention, TransitionRefused
from carebase.inbox import helpdesk_repository as repository
from carebase.inbox import intake, mentions, replies
from carebase.inbox.workflow import ASSIGNED, CLOSED, CLOSED_STATES, NEW, Actor


@dataclass(slots=True)
class SyncSummary:
    """What applying one conversation did."""

    mentions_created: int = 0
    responses_created: int = 0
    echoes: int = 0
    closed: int = 0
    reopened: int = 0
    refused: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The figures, for a job's result or a backfill's summary."""
        return {
            "mentions_created": self.mentions_created,
            "responses_created": self.responses_created,
            "echoes": self.echoes,
            "closed": self.closed,
            "reopened": self.reopened,
            "refused": len(self.refused),
        }


def apply_conversation(
    session: Session,
    *,
    kind: str,
    connector_id: str,
    dataset_id: str,
    conversation: Conversation,
    channel: str | None = None,
    now: datetime,
) -> SyncSummary:
    """Apply a ticket's conversation (see the module's docstring). Does not commit."""
    summary = SyncSummary()
    ticket_id = conversation.ticket_id
    profile_id = repository.ticket_profile(session, dataset_id, ticket_id)
    # One timeline: what happened first is applied first (a reply answers the messages
    # before it; a solve closes the mentions that existed then).
    timeline: list[tuple[datetime, int, Message | StatusChange]] = [
        (m.at, 0, m) for m in conversation.messages
    ]
    timeline += [(c.at, 1, c) for c in conversation.status_changes]
    timeline.sort(key=lambda entry: (entry[0], entry[1]))
    for _at, _order, item in timeline:
        if isinstance(item, StatusChange):
            if item.closed:
                _close(session, kind, connector_id, ticket_id, item, summary)
            elif item.reopened:
                _reopen(session, kind, connector_id, ticket_id, item, summary)
        elif item.from_customer:
            _receive(session, kind, connector_id, ticket_id, item, profile_id, channel, summary)
        else:
            _respond(session, kind, connector_id, ticket_id, item, summary)
    # `now` is not used: every change is stamped with the helpdesk's own time.
    del now
    return summary


def _receive(
    session: Session,
    kind: str,
    connector_id: str,
    ticket_id: str,
    message: Message,
    profile_id: str | None,
    channel: str | None,
    summary: SyncSummary,
) -> None:
    item = intake.MentionIn(
        origin=kind,
        origin_key=connector_id,
        external_id=message.external_id,
        source_type=(message.channel or channel or "email").lower()[:40],
        body=message.body,
        published_at=message.at,
        author_key=f"{kind}_{message.author_ref}" if message.author_ref else None,
        author_username=message.author_email,
        author_fullname=message.author_name,
        thread_key=ticket_id,
        conversation_ref=ticket_id,
        profile_id=profile_id,
    )
    [received] = intake.receive(session, [item], message.at)
    summary.mentions_created += int(received.created)


def _respond(
    session: Session,
    kind: str,
    connector_id: str,
    ticket_id: str,
    message: Message,
    summary: SyncSummary,
) -> None:
    asked = repository.ticket_mentions(session, kind, connector_id, ticket_id)
    responses = repository.ticket_responses(session, [m.id for m in asked])
    known = next((r for r in responses if r.external_id == message.external_id), None)
    if known is not None:
        # Applied already, or carebase's own reply coming back.
        summary.echoes += int(known.origin != kind)
        return
    body = message.body.strip()
    if any(r.status == "sending" and r.body.strip() == body and body for r in responses):
        # carebase's reply, posted, whose job has not stored the comment id yet.
        summary.echoes += 1
        return
    answered = [m for m in asked if m.published_at <= message.at]
    if not answered:
        return  # the agent wrote first (an outbound ticket): nothing was asked yet
    mention = mentions.lock_mention(session, answered[-1].id)
    author = repository.active_user_by_email(session, message.author_email or "")
    response = replies.sent_reply(
        mention,
        at=message.at,
        body=message.body,
        author_id=author.id if author else None,
        agent_name=None if author else (message.author_name or f"{kind} agent")[:300],
        origin=kind,
        origin_key=connector_id,
        external_id=message.external_id,
    )
    try:
        # A concurrent delivery of the same ticket may have stored it a moment ago.
        with session.begin_nested():
            repository.add_response(session, response)
    except IntegrityError:
        return
    summary.responses_created += 1
    actor = Actor.user(author.id) if author else Actor("helpdesk", ref=kind)
    mentions.mark_responded(session, mention, response, actor, message.at)


def _close(
    session: Session,
    kind: str,
    connector_id: str,
    ticket_id: str,
    change: StatusChange,
    summary: SyncSummary,
) -> None:
    actor = Actor("helpdesk", ref=kind)
    for listed in repository.ticket_mentions(session, kind, connector_id, ticket_id):
        if listed.published_at > change.at or listed.state in CLOSED_STATES:
            continue
        mention = mentions.lock_mention(session, listed.id)
        # Its state changed after this change (an agent re-opened it later, say): the change
        # is history already applied. A reply at the same instant ("submit as solved") is not.
        if mention.state_at > change.at or mention.state in CLOSED_STATES:
            continue
        try:
            mentions.set_state(session, mention, CLOSED, actor, change.at)
        except (TransitionRefused, StaleMention) as refused:
            # e.g. a reply awaiting approval: the agent's work decides, not the helpdesk.
            summary.refused.append(f"{mention.id}: {refused}")
            continue
        summary.closed += 1


def _reopen(
    session: Session,
    kind: str,
    connector_id: str,
    ticket_id: str,
    change: StatusChange,
    summary: SyncSummary,
) -> None:
    actor = Actor("helpdesk", ref=kind)
    for listed in repository.ticket_mentions(session, kind, connector_id, ticket_id):
        # Only `closed` (the state a helpdesk close sets): never closed_thread, irrelevant…
        if listed.state != CLOSED or listed.state_at > change.at:
            continue
        mention = mentions.lock_mention(session, listed.id)
        # Closed after this change (an agent closed it again in carebase): history applied.
        if mention.state != CLOSED or mention.state_at > change.at:
            continue
        # Closed by an agent in carebase, not by this helpdesk: the agent's close stands.
        if not repository.closed_by_helpdesk(session, mention.id, kind):
            continue
        target = ASSIGNED if mention.assignee_id is not None else NEW
        try:
            mentions.set_state(session, mention, target, actor, change.at)
        except (TransitionRefused, StaleMention) as refused:
            summary.refused.append(f"{mention.id}: {refused}")
            continue
        summary.reopened += 1
