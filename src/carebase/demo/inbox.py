"""The demo brand's inbox: agents in two groups, classifications, an NPS survey, and three
months of customer messages worked through the inbox's own services in the order things
happen (assigned, answered, classified, closed; cases closing after their timeout; surveys
sent and answered), so that the inbox, profiles and the Activity dashboard have real work
to show. Deterministic for a seed and anchor day."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from carebase.datasets import service as datasets
from carebase.db.session import Database
from carebase.demo.generate import AGENTS, SUBJECTS, Person, people
from carebase.errors import CarebaseError
from carebase.inbox import (
    cases,
    cases_repository,
    classifications,
    forms,
    mentions,
    mentions_repository,
    replies,
    surveys,
    tagging,
)
from carebase.inbox.settings import case_timeout_seconds
from carebase.inbox.workflow import Actor
from carebase.ingest.batch import load_batch
from carebase.ingest.service import MAX_BATCH, IngestConfig
from carebase.models import Mention
from carebase.settings import Settings
from carebase.users import service as users

DATASET = "Demo · mention"
ACTIONS_PER_COMMIT = 500
DAYS = 90
# Messages older than this are all worked to a close (answered, or found irrelevant).
RECENT_DAYS = 3
GROUPS = {"Social care": "Public posts and DMs", "Email & chat": "Email, chat and web forms"}
CLASSIFICATIONS = {
    "shipping": "#2563eb",
    "refund": "#b45309",
    "sizing": "#7c3aed",
    "complaint": "#dc2626",
    "praise": "#15803d",
    "exchange": "#0e7490",
}
# (source type, account, group): public posts and comments, DMs, email and chat.
CHANNELS = [
    ("twitter", "@demobrand", "Social care"),
    ("twitter_dm", "@demobrand", "Social care"),
    ("instagram_comment", "@demo.brand", "Social care"),
    ("facebook_message", "Demo Brand", "Social care"),
    ("email", "help@demo-brand.com", "Email & chat"),
    ("chat", "web-chat", "Email & chat"),
]
PRAISE = ["Love the new jacket!", "Thanks for the quick help", "Best customer service"]


@dataclass(slots=True)
class InboxSummary:
    """What seeding the demo inbox did."""

    mentions: int = 0
    responded: int = 0
    cases_closed: int = 0
    surveys_sent: int = 0
    surveys_answered: int = 0
    skipped: int = 0


def mention_records(
    count: int, crowd: list[Person], anchor: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    """`count` customer messages over the DAYS before `anchor`, busier on weekdays."""
    records: list[dict[str, Any]] = []
    while len(records) < count:
        at = anchor - timedelta(seconds=rng.randrange(3600, DAYS * 86_400))
        if at.weekday() >= 5 and rng.random() < 0.5:
            continue  # half as many at weekends
        person = rng.choice(crowd)
        source, account, _ = rng.choice(CHANNELS)
        topic = rng.choice([*SUBJECTS, "praise"])
        text = (
            rng.choice(PRAISE)
            if topic == "praise"
            else f"{SUBJECTS[topic]} - order #{rng.randrange(10_000, 99_999)}"
        )
        handle = f"{person.first.lower()}{person.number}"
        records.append(
            {
                "mention_id": f"demo-m-{len(records):05d}",
                "source_type": source,
                "account": account,
                "text": text,
                "published_at": at.isoformat(),
                "author": {
                    "id": f"{source}_{person.number}",
                    "username": f"@{handle}",
                    "fullname": f"{person.first} {person.last}",
                },
                "link": {"email": person.email},
                "thread_id": f"{source}-{person.number}",
            }
        )
    return records


def _agents(session: Session, settings: Settings, now: datetime) -> dict[str, list[int]]:
    """The demo agents by group (created when missing)."""
    existing = {user.email: user for user in users.list_users(session)}
    groups = {group.name: group for group in users.list_groups(session)}
    for name, comment in GROUPS.items():
        if name not in groups:
            groups[name] = users.create_group(session, name=name, comment=comment, now=now)
    by_group: dict[str, list[int]] = {name: [] for name in GROUPS}
    for index, full in enumerate(AGENTS):
        first, last = full.split(" ", 1)
        group = list(GROUPS)[index % len(GROUPS)]
        email = f"{first.lower()}.{last.lower()}@demo-brand.example"
        user = existing.get(email)
        if user is None:
            created = users.create_user(
                session,
                settings,
                email=email,
                first_name=first,
                last_name=last,
                role="agent",
                groups=[groups[group].id],
                now=now,
                created_by="demo",
            )
            user_id = created.user.id
        else:
            user_id = user.id
        by_group[group].append(user_id)
    return by_group


def _respond(session: Session, mention: Mention, agent: int, at: datetime) -> None:
    response = replies.sent_reply(
        mention,
        at=at,
        body="Thanks for getting in touch - we're on it and will update you shortly.",
        author_id=agent,
    )
    session.add(response)
    session.flush()
    mentions.mark_responded(session, mention, response, Actor.user(agent), at)


def seed_inbox(
    database: Database,
    settings: Settings,
    *,
    anchor: datetime,
    count: int = 500,
    seed: int = 11,
    profiles: int = 5000,
    profile_seed: int = 7,
    config: IngestConfig | None = None,
) -> InboxSummary:
    """Load the demo messages (from the first `profiles` customers of the demo brand of
    `profile_seed`) through the mention record type, then work them (see the module's
    docstring); a second call adds nothing."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    summary = InboxSummary()
    with database.unit_of_work() as session:
        if any(dataset.name == DATASET for dataset in datasets.list_datasets(session)):
            return summary
        dataset = datasets.create_dataset(session, name=DATASET, record_type="mention", now=anchor)
        agents = _agents(session, settings, anchor)
        tags = {
            name: classifications.create(session, name=name, colour=colour, now=anchor).id
            for name, colour in CLASSIFICATIONS.items()
        }
        form = forms.create_form(
            session,
            name="Post-case NPS",
            title="How likely are you to recommend Demo Brand?",
            nps=True,
            groups=[],
            comment_prompt="What is the main reason for your score?",
            now=anchor,
        )
        form_id = form.id
    # The demo brand's own customers (generate.people draws them first from its seed).
    crowd = people(profiles, random.Random(profile_seed))  # noqa: S311
    records = mention_records(count, crowd, anchor, rng)
    for offset in range(0, len(records), MAX_BATCH):
        load_batch(
            database,
            dataset.id,
            "mention",
            records[offset : offset + MAX_BATCH],
            config=config or IngestConfig.from_settings(settings),
            source="demo",
            may_contain_nul=False,
        )
    group_of = {source: group for source, _, group in CHANNELS}
    # Every action at its own time, earliest first, so cases open, join and close in order.
    actions: list[tuple[datetime, int, Callable[[Session, datetime], None]]] = []
    serial = 0

    def later(at: datetime, action: Callable[[Session, datetime], None]) -> None:
        nonlocal serial
        if at < anchor:
            serial += 1
            heapq.heappush(actions, (at, serial, action))

    with database.unit_of_work(write=False) as session:
        rows = mentions_repository.mentions_by_publication(session)
    for mention_id, published, source, body in rows:
        summary.mentions += 1
        roll = rng.random()
        if roll < 0.06:
            later(
                published + timedelta(minutes=rng.randrange(5, 240)),
                _set(mention_id, "irrelevant", None),
            )
            continue
        agent = rng.choice(agents[group_of.get(source, "Email & chat")])
        assigned = published + timedelta(minutes=rng.randrange(1, 180))
        later(assigned, _assign(mention_id, agent))
        topic = (
            "praise"
            if any(p in body for p in PRAISE)
            else next((t for t, s in SUBJECTS.items() if s in body), None)
        )
        if topic in tags:
            later(assigned + timedelta(seconds=30), _classify(mention_id, tags[topic], agent))
        # Work is left open only on recent messages: a team closes what it has answered, so an
        # inbox full of months-old open messages would misrepresent one.
        recent = published >= anchor - timedelta(days=RECENT_DAYS)
        if roll < 0.12 and recent:
            continue  # still with the agent
        responded = assigned + timedelta(
            minutes=rng.choice([2, 5, 10, 20, 45, 90, 150, 300]) + rng.randrange(0, 10)
        )
        later(responded, _answer(mention_id, agent))
        if roll < 0.9 or not recent:
            state = "no_response_required" if 0.8 <= roll < 0.9 else "closed"
            later(
                responded + timedelta(minutes=rng.randrange(10, 1440)),
                _set(mention_id, state, agent),
            )
    while actions:
        # A few hundred actions per transaction, in time order; one the workflow refuses
        # (a demo message closed before it was answered, say) is skipped, not fatal.
        with database.unit_of_work() as session:
            for _ in range(min(ACTIONS_PER_COMMIT, len(actions))):
                at, _, action = heapq.heappop(actions)
                try:
                    with session.begin_nested():
                        action(session, at)
                except CarebaseError:
                    summary.skipped += 1
    _close_and_survey(database, settings, anchor, form_id, rng, summary)
    return summary


def _assign(mention_id: str, agent: int) -> Callable[[Session, datetime], None]:
    def run(session: Session, at: datetime) -> None:
        mention = mentions.lock_mention(session, mention_id)
        mentions.assign(session, mention, Actor.system("demo routing"), at, user_id=agent)

    return run


def _classify(mention_id: str, tag: int, agent: int) -> Callable[[Session, datetime], None]:
    def run(session: Session, at: datetime) -> None:
        mention = mentions.lock_mention(session, mention_id)
        tagging.classify(session, mention, tag, Actor.user(agent), at)

    return run


def _answer(mention_id: str, agent: int) -> Callable[[Session, datetime], None]:
    def run(session: Session, at: datetime) -> None:
        _respond(session, mentions.lock_mention(session, mention_id), agent, at)

    return run


def _set(mention_id: str, state: str, agent: int | None) -> Callable[[Session, datetime], None]:
    def run(session: Session, at: datetime) -> None:
        actor = Actor.user(agent) if agent is not None else Actor.system("demo triage")
        mentions.set_state(session, mentions.lock_mention(session, mention_id), state, actor, at)

    return run


def _close_and_survey(
    database: Database,
    settings: Settings,
    anchor: datetime,
    form_id: int,
    rng: random.Random,
    summary: InboxSummary,
) -> None:
    # The case sweeper, run at each case's due time; then a survey for most closed cases.
    with database.unit_of_work() as session:
        timeout = case_timeout_seconds(session)
        summary.responded = mentions_repository.responded_count(session)
        for case in cases_repository.cases_with_status(session, "open"):
            due = cases.due_at(case, timeout)
            if due <= anchor:
                cases.close_check(session, case.id, due)
        closed = cases_repository.cases_with_status(session, "closed")
        summary.cases_closed = len(closed)
        for case in closed:
            if rng.random() > 0.6 or case.closed_at is None:
                continue
            sent = cases.as_utc(case.closed_at) + timedelta(minutes=5)
            if sent >= anchor:
                continue
            _, link = surveys.invite(session, form_id, case.id, sent, base_url=settings.base_url)
            token = link.rsplit("/", 1)[-1]
            summary.surveys_sent += 1
            answered = sent + timedelta(hours=rng.randrange(1, 48))
            if rng.random() < 0.45 and answered < anchor:
                score = rng.choices(range(11), weights=[1, 1, 1, 1, 2, 2, 3, 5, 8, 12, 14])[0]
                comment = rng.choice(
                    [None, "Quick and friendly", "Took too long", "Sorted my refund"]
                )
                surveys.answer(session, token, score, comment, answered)
                summary.surveys_answered += 1
