"""Cases: a conversation with one customer (engage-anchors §1 and §4, Lexer's cases report).

- The key is the mention's profile, else its author (`author:<author_key>`; a message with
  neither is keyed by its group, `group:<group_key>`).
- A case exists from the first agent response: that response creates it, `opened_at` being
  the earliest customer mention of the key still unanswered and in no case; those mentions
  join it.
- While the case is open, the key's new customer mentions join it (Mention.case_id) and
  count as activity.
- It closes once `last_activity_at + timeout` (InboxSettings.case_timeout_seconds, 24 h)
  has passed AND every customer mention in it is in a closed state: a job
  `inbox_case_close` per case checks, and queues itself again while either is not yet so.
  An open case found due when the key's next message arrives is closed then, so the result
  never depends on when the job ran.
- A customer message after the case closed starts a new case when it is answered.
- A response to a mention of a closed case (an agent answering a closed mention) re-opens
  that case (`reopened_count`), unless the customer has a newer open case, which the
  response then counts in.
Responses and mentions record a `case` event (opened, joined, reopened, closed) with the case
id. Hooks never commit: they run in the caller's unit of work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from carebase.db.locks import lock_keys
from carebase.errors import NotFound
from carebase.ids import new_id
from carebase.inbox import cases_repository as repository
from carebase.inbox import events
from carebase.inbox.settings import case_timeout_seconds
from carebase.inbox.workflow import CLOSED_STATES, Actor
from carebase.kit.jobs import Defer, JobContext, JobKind, JobSpec, RetryPolicy, enqueue
from carebase.kit.stats import bin_of
from carebase.models import Case, Mention, Response
from carebase.settings import Settings

logger = logging.getLogger(__name__)

CLOSE = JobSpec(
    "inbox_case_close", RetryPolicy(max_attempts=5, first_seconds=10.0, max_seconds=300.0)
)
_ACTOR = Actor.system("cases")


def case_key(mention: Mention) -> str:
    """The customer a mention's case is about: its profile, else its author, else its group."""
    if mention.profile_id:
        return mention.profile_id
    if mention.author_key:
        return f"author:{mention.author_key}"[:300]
    return f"group:{mention.group_key}"[:300]


def dedupe_key(case_id: str) -> str:
    """The key that keeps one close check of a case queued at a time."""
    return f"case_close:{case_id}"


def as_utc(value: datetime) -> datetime:
    """A stored datetime as an aware UTC one."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _lock_key(session: Session, key: str) -> None:
    # Two responses (or a response and a message) for one customer at once must find or
    # create the same case: they queue on the key.
    lock_keys(session, [f"case:{key}"])


def _event(session: Session, mention_id: str, what: str, case_id: str, now: datetime) -> None:
    events.record(
        session, mention_id, "case", _ACTOR, now, to_value=what, detail={"case_id": case_id}
    )


def due_at(case: Case, timeout_seconds: int) -> datetime:
    """When a case may close, if every mention in it is closed by then."""
    return as_utc(case.last_activity_at) + timedelta(seconds=timeout_seconds)


def closable(session: Session, case: Case, now: datetime, timeout_seconds: int) -> bool:
    """Whether an open case may close now: inactive for the timeout, every mention closed."""
    if case.status != "open" or due_at(case, timeout_seconds) > now:
        return False
    return all(state in CLOSED_STATES for state in repository.mention_states(session, case.id))


def _close(session: Session, case: Case, now: datetime) -> None:
    case.status = "closed"
    case.closed_at = now
    case.updated_at = now
    for mention in repository.case_mentions(session, case.id):
        _event(session, mention.id, "closed", case.id, now)
    session.flush()


def schedule_close(session: Session, case: Case, now: datetime) -> None:
    """Queue (or bring forward) the case's close check for when it may first close."""
    run_at = max(due_at(case, case_timeout_seconds(session)), now)
    enqueue(
        session,
        CLOSE,
        {"case_id": case.id},
        now=now,
        run_at=run_at,
        dedupe_key=dedupe_key(case.id),
        sooner=True,
    )


def _open_case_for(session: Session, key: str, now: datetime) -> Case | None:
    """The key's open case, closing it first if it is due (then None)."""
    case = repository.open_case(session, key)
    if case is not None and closable(session, case, now, case_timeout_seconds(session)):
        _close(session, case, now)
        return None
    return case


def keys_with_open_cases(session: Session, keys: set[str]) -> set[str]:
    """Which of these customers' keys have an open case, with every key locked first (in one
    sorted call) so that no response opens a case for one of them until this transaction
    ends: a batch of messages asks once instead of once per message."""
    if not keys:
        return set()
    lock_keys(session, sorted(f"case:{key}" for key in keys))
    return repository.open_case_keys(session, keys)


def on_customer_mention(session: Session, mention: Mention, now: datetime) -> None:
    """A new customer mention: it joins its key's open case, if any (else it waits for an
    agent's response to start one)."""
    session.flush()
    if mention.case_id is not None:
        return
    key = case_key(mention)
    _lock_key(session, key)
    case = _open_case_for(session, key, now)
    if case is None:
        return
    mention.case_id = case.id
    activity = min(as_utc(mention.published_at), now)
    case.last_activity_at = max(as_utc(case.last_activity_at), activity)
    case.updated_at = now
    _event(session, mention.id, "joined", case.id, now)
    session.flush()


def on_agent_response(
    session: Session, mention: Mention, response: Response, now: datetime
) -> Case:
    """A sent public response to `mention`: creates its case (the first response), re-opens
    a closed one, and records the response in it (first reply, last agent, activity)."""
    session.flush()
    key = case_key(mention)
    _lock_key(session, key)
    at = as_utc(response.sent_at) if response.sent_at is not None else now
    case: Case | None = None
    if mention.case_id is not None:
        case = repository.lock_case(session, mention.case_id)
        if case is not None and case.status == "closed":
            newer = repository.open_case(session, key)
            if newer is not None:
                case = newer
            else:
                case.status = "open"
                case.closed_at = None
                case.reopened_count = (case.reopened_count or 0) + 1
                _event(session, mention.id, "reopened", case.id, now)
    if case is None:
        case = _open_case_for(session, key, now)
        if case is None:
            case = _create(session, key, mention, at, now)
        elif mention.case_id is None:
            mention.case_id = case.id
            _event(session, mention.id, "joined", case.id, now)
    if case.first_reply_at is None:
        case.first_reply_at = at
    if case.last_agent_response_at is None or as_utc(case.last_agent_response_at) <= at:
        case.last_agent_response_at = at
        case.last_agent_id = response.author_id
    case.last_activity_at = max(as_utc(case.last_activity_at), at)
    case.updated_at = now
    session.flush()
    repository.set_response_case(session, response.id, case.id)
    response.case_id = case.id
    measure(session, case)
    schedule_close(session, case, now)
    return case


def measure(session: Session, case: Case) -> None:
    """Store the case's reply counts and first-reply and resolution times (and their bins),
    which the Activity case reports read instead of counting responses per case."""
    case.agent_replies, case.agents_involved = repository.reply_counts(session, case.id)
    opened = as_utc(case.opened_at)
    if case.first_reply_at is not None:
        case.first_reply_s = max((as_utc(case.first_reply_at) - opened).total_seconds(), 0.0)
        case.first_reply_bin = bin_of(case.first_reply_s)
    if case.last_agent_response_at is not None:
        case.resolution_s = max((as_utc(case.last_agent_response_at) - opened).total_seconds(), 0.0)
        case.resolution_bin = bin_of(case.resolution_s)


def _create(session: Session, key: str, mention: Mention, at: datetime, now: datetime) -> Case:
    since = repository.last_closed_at(session, key)
    # Timed from the earliest unanswered message, even one another transaction holds (it
    # joins the case itself once this one commits); those this one can lock join now.
    waiting = repository.unanswered_mentions(session, key, since)
    members = {m.id: m for m in repository.unanswered_mentions(session, key, since, lock=True)}
    members[mention.id] = mention
    opened = min(as_utc(m.published_at) for m in [*waiting, *members.values()])
    case = Case(
        id=new_id("cas"),
        case_key=key,
        profile_id=mention.profile_id,
        status="open",
        opened_at=opened,
        first_reply_at=None,
        last_agent_response_at=None,
        last_agent_id=None,
        last_activity_at=max(opened, min(at, now)),
        closed_at=None,
        reopened_count=0,
        created_at=now,
        updated_at=now,
    )
    repository.add_case(session, case)
    for member in sorted(members.values(), key=lambda m: (as_utc(m.published_at), m.id)):
        member.case_id = case.id
        _event(session, member.id, "opened" if member.id == mention.id else "joined", case.id, now)
    session.flush()
    return case


def on_mention_closed(session: Session, mention: Mention, now: datetime) -> None:
    """A mention moved to a closed state: check its case for closing when it may."""
    session.flush()
    if mention.case_id is None:
        return
    case = repository.get_case(session, mention.case_id)
    if case is not None and case.status == "open":
        schedule_close(session, case, now)


@dataclass(frozen=True, slots=True)
class CloseCheck:
    """What a close check did: closed the case, or when to look again (seconds)."""

    result: dict[str, Any]
    again_in: float | None = None


def close_check(session: Session, case_id: str, now: datetime) -> CloseCheck:
    """Close the case if it may close now (see the module's docstring), else say when to
    look again: at its due time, or a timeout later while some mention is still open (a
    mention closing also brings the check forward)."""
    case = repository.lock_case(session, case_id)
    if case is None:
        return CloseCheck({"case": "gone"})
    if case.status != "open":
        return CloseCheck({"case": "closed already"})
    timeout = case_timeout_seconds(session)
    due = due_at(case, timeout)
    if due > now:
        return CloseCheck({"case": "not due"}, (due - now).total_seconds())
    if not closable(session, case, now, timeout):
        return CloseCheck({"case": "mentions open"}, float(timeout))
    _close(session, case, now)
    return CloseCheck({"case": "closed", "case_id": case.id})


def job_kind(settings: Settings) -> JobKind:
    """The `inbox_case_close` job kind."""
    del settings  # nothing of them is needed; the signature matches the other kinds

    def handle(context: JobContext) -> dict[str, Any] | None:
        case_id = str(context.payload["case_id"])
        with context.database.unit_of_work() as session:
            check = close_check(session, case_id, context.clock())
            if check.again_in is None:
                context.complete(session, check.result)
                return check.result
        # Nothing was written: queued again for when the case may close.
        raise Defer(f"case {check.result['case']}", after=max(check.again_in, 1.0))

    return JobKind(CLOSE, handle)


def get_case(session: Session, case_id: str) -> Case:
    """One case, or NotFound."""
    case = repository.get_case(session, case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    return case


def classifications(session: Session, case_id: str) -> list[int]:
    """The ids of a case's classifications, each counted once (over all its mentions)."""
    return repository.classification_ids(session, case_id)


def case_classifications_query() -> Any:
    """For reports (S11): a SELECT of distinct (case_id, classification_id) pairs, so a
    classification on several mentions of a case counts once."""
    return repository.case_classifications_query()


@dataclass(frozen=True, slots=True)
class CaseDetail:
    """A case with its mentions, responses and the figures the cases report shows."""

    case: Case
    mentions: list[Mention]
    responses: list[Response]
    classification_ids: list[int]

    @property
    def interactions(self) -> int:
        """Agent responses sent in the case."""
        return len(self.responses)

    @property
    def agents_involved(self) -> list[int]:
        """Distinct users who responded, in order of their first response."""
        seen: list[int] = []
        for response in self.responses:
            if response.author_id is not None and response.author_id not in seen:
                seen.append(response.author_id)
        return seen

    @property
    def resolution_seconds(self) -> float | None:
        """last_agent_response_at - opened_at."""
        if self.case.last_agent_response_at is None:
            return None
        return (
            as_utc(self.case.last_agent_response_at) - as_utc(self.case.opened_at)
        ).total_seconds()


def detail(session: Session, case_id: str) -> CaseDetail:
    """A case with everything the case page and the API show."""
    case = get_case(session, case_id)
    return CaseDetail(
        case,
        repository.case_mentions(session, case_id),
        repository.case_responses(session, case_id),
        repository.classification_ids(session, case_id),
    )
