"""A small support team's week in Sydney, around the end of daylight saving (Sunday 1 April
2018, 03:00 AEDT → 02:00 AEST), for the Activity tests: agents in two groups, ~30 mentions
over several days, assignments, responses through the inbox's own `mark_responded` (which
stamps the measures and opens the cases), classifications, cases closed and open, and an NPS
form with invitations and answers. A few mentions in June 2019 serve the reference's export
example.

`seed(database, settings)` writes it and returns the ids; `Facts.read(database)` reads back
the raw facts (timestamps, states, who) that the tests' oracle computes every metric from.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from carebase.db.session import Database
from carebase.inbox import forms, surveys
from carebase.inbox.mentions import mark_responded
from carebase.inbox.replies import sent_reply
from carebase.inbox.workflow import Actor
from carebase.models import (
    Case,
    Classification,
    FormInvitation,
    FormResponse,
    GroupMember,
    Mention,
    MentionClassification,
    Response,
    User,
)
from carebase.settings import Settings
from carebase.users import service as users_service
from tests.inbox.conftest import make_mention

SYDNEY = ZoneInfo("Australia/Sydney")
SETUP_AT = datetime(2018, 3, 1, tzinfo=UTC)


def sydney(day: int, hour: int, minute: int = 0, month: int = 4, year: int = 2018) -> datetime:
    """A Sydney wall-clock time (March or April 2018 by default) as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=SYDNEY).astimezone(UTC)


@dataclass
class Seeded:
    """The ids the scenario created."""

    users: dict[str, int]
    groups: dict[str, int]
    classifications: dict[str, int]
    form: int
    other_form: int
    mentions: list[str] = field(default_factory=list)


# (published Sydney (month, day, hour, minute), author, assignee, group, minutes to assign,
#  minutes to first response (None: unanswered), second responder, final state, labels, dm)
Row = tuple[
    tuple[int, int, int, int], str, str | None, str | None, int | None, int | None,
    str | None, str, tuple[str, ...], bool,
]  # fmt: skip

_STATES_ANSWERED = ("responded", "closed", "closed", "responded", "closed", "no_response_required")
_STATES_OPEN = ("new", "assigned", "in_progress", "awaiting_approval", "duplicate", "irrelevant")


def _rows() -> list[Row]:
    """The scenario's mentions, deterministic (a seeded generator, then a few by hand)."""
    rng = random.Random(20180401)
    agents = ["jane", "barry", "cleo", "dev"]
    group_of = {"jane": "care", "barry": "care", "cleo": "sales", "dev": "sales"}
    labels = ["amusing", "customer service", "feedback"]
    days = [(3, 30), (3, 31), (4, 1), (4, 2), (4, 3), (4, 4), (4, 5)]
    rows: list[Row] = []
    for n in range(30):
        month, day = days[n % len(days)]
        hour = rng.choice([0, 1, 2, 3, 8, 9, 11, 14, 17, 20, 23])
        minute = rng.randrange(0, 60)
        author = f"cust{n % 11}"
        answered = n % 5 != 4
        assignee = agents[n % 4] if n % 7 != 6 else None
        group = group_of[assignee] if assignee else ("care" if n % 2 else None)
        assign_after = rng.randrange(1, 90) if assignee else None
        respond_after: int | None = None
        if answered and assignee and assign_after is not None:
            respond_after = assign_after + rng.choice([3, 17, 45, 100, 160, 300, 700])
        else:
            assignee = assignee if not answered else None
        second = agents[(n + 1) % 4] if respond_after is not None and n % 6 == 0 else None
        state = (
            _STATES_ANSWERED[n % len(_STATES_ANSWERED)]
            if respond_after is not None
            else _STATES_OPEN[n % len(_STATES_OPEN)]
        )
        if state in ("assigned", "in_progress", "awaiting_approval") and assignee is None:
            state = "new"
        tags = tuple(labels[i] for i in range(3) if (n >> i) % 3 == 0)
        rows.append(
            (
                (month, day, hour, minute),
                author,
                assignee,
                group,
                assign_after,
                respond_after,
                second,
                state,
                tags,
                n % 3 == 0,
            )
        )
    return rows


def seed(database: Database, settings: Settings) -> Seeded:
    """Write the scenario; its ids."""
    with database.unit_of_work() as session:
        groups = {
            name: users_service.create_group(
                session, name=title, comment=f"{title} team", now=SETUP_AT
            ).id
            for name, title in (("care", "Social Customer Care"), ("sales", "Sales"))
        }
    people = {
        "jane": ("Jane", "Pear", ["care"]),
        "barry": ("Barry", "Banana", ["care"]),
        "cleo": ("Cleo", "Cherry", ["sales"]),
        "dev": ("Dev", "Date", ["sales", "care"]),
        "max": ("Max", "Manager", []),
    }
    users: dict[str, int] = {}
    for key, (first, last, member_of) in people.items():
        with database.unit_of_work() as session:
            created = users_service.create_user(
                session,
                settings,
                email=f"{key}@business.io",
                first_name=first,
                last_name=last,
                role="manager" if key == "max" else "agent",
                timezone="Australia/Sydney",
                groups=[groups[g] for g in member_of],
                now=SETUP_AT,
                created_by="test",
            )
            created.user.sign_in_count = 3
            created.user.last_sign_in_at = datetime(2018, 3, 21, 6, 9, 1, tzinfo=UTC)
            users[key] = created.user.id
    with database.unit_of_work() as session:
        labels: dict[str, int] = {}
        for name, colour in (("amusing", "#ff0000"), ("customer service", "#00ff00")):
            labels[name] = _classification(session, name, colour)
        labels["feedback"] = _classification(session, "feedback", "#0000ff")
        form = forms.create_form(
            session,
            name="NPS Survey",
            title="Lexer NPS Survey",
            nps=True,
            groups=[groups["care"]],
            comment_prompt="Why?",
            now=SETUP_AT,
        ).id
        other_form = forms.create_form(
            session,
            name="Competition",
            title="Win a prize",
            nps=False,
            groups=[],
            comment_prompt="",
            now=SETUP_AT,
        ).id
    seeded = Seeded(users, groups, labels, form, other_form)
    _mentions(database, seeded)
    _close_cases(database)
    _surveys(database, seeded)
    return seeded


def _classification(session: Any, name: str, colour: str) -> int:
    row = Classification(
        name=name, description="", colour=colour, created_at=SETUP_AT, updated_at=SETUP_AT
    )
    session.add(row)
    session.flush()
    return row.id


def _mentions(database: Database, seeded: Seeded) -> None:
    """Publish every mention, then send the responses in time order through the inbox."""
    rows = _rows()
    # Two more in June 2019 (the reference's export example), answered by Jane.
    june = [
        ((6, 16, 10, 0), "june1", "jane", "care", 5, 50, None, "closed", ("feedback",), False),
        ((6, 20, 15, 30), "june2", "barry", "care", 10, None, None, "assigned", (), True),
    ]
    answers: list[tuple[datetime, str, int]] = []
    finals: dict[str, str] = {}
    with database.unit_of_work() as session:
        for n, row in enumerate([*rows, *june]):
            (month, day, hour, minute), author, assignee, group, assign_after = row[:5]
            respond_after, second, state, tags, dm = row[5:]
            year = 2019 if month == 6 else 2018
            published = sydney(day, hour, minute, month=month, year=year)
            mention = make_mention(
                session,
                published_at=published,
                author_key=author,
                source_type="twitter_dm" if dm else "twitter",
                assignee_id=seeded.users[assignee] if assignee else None,
                assigned_group_id=seeded.groups[group] if group else None,
                assigned_at=(
                    published + timedelta(minutes=assign_after, seconds=n * 3.5)
                    if assign_after is not None and (assignee or group)
                    else None
                ),
                state="assigned" if assignee else "new",
            )
            seeded.mentions.append(mention.id)
            finals[mention.id] = state
            for tag in tags:
                session.add(
                    MentionClassification(
                        mention_id=mention.id,
                        classification_id=seeded.classifications[tag],
                        applied_by_type="user",
                        applied_by_user_id=None,
                        applied_by_rule_id=None,
                        applied_at=published,
                    )
                )
            if respond_after is not None and assignee is not None:
                first = published + timedelta(minutes=respond_after, seconds=n * 7.125 + 0.25)
                answers.append((first, mention.id, seeded.users[assignee]))
                if second is not None:
                    answers.append(
                        (first + timedelta(minutes=30 + n), mention.id, seeded.users[second])
                    )
        session.flush()
    for at, mention_id, author_id in sorted(answers):
        with database.unit_of_work() as session:
            mention = session.get(Mention, mention_id)
            assert mention is not None
            response = sent_reply(mention, at=at, body="Thanks, sorted.", author_id=author_id)
            session.add(response)
            session.flush()
            mark_responded(session, mention, response, Actor.user(author_id), at)
    with database.unit_of_work() as session:
        for mention_id, state in finals.items():
            mention = session.get(Mention, mention_id)
            assert mention is not None
            mention.state = state


def _close_cases(database: Database) -> None:
    """Close every other case a day after its last agent response (the rest stay open)."""
    with database.unit_of_work() as session:
        cases = session.scalars(select(Case).order_by(Case.opened_at, Case.id)).all()
        for n, case in enumerate(cases):
            if n % 3 != 2 and case.last_agent_response_at is not None:
                case.status = "closed"
                case.closed_at = case.last_agent_response_at + timedelta(hours=24 + n)


def _surveys(database: Database, seeded: Seeded) -> None:
    """Invite every case to the NPS survey a few hours after its first reply; most answer."""
    scores = [10, 8, 3, 9, 10, 7, 9, 6, 0, 10, 9, 5]
    with database.unit_of_work() as session:
        cases = session.scalars(select(Case).order_by(Case.opened_at, Case.id)).all()
        tokens = []
        for case in cases:
            assert case.first_reply_at is not None
            sent = case.first_reply_at + timedelta(hours=3)
            _, url = surveys.invite(session, seeded.form, case.id, sent, base_url="http://x")
            tokens.append((sent, url.rsplit("/", 1)[1]))
        for n, (sent, token) in enumerate(tokens):
            if n % 4 == 3:
                continue
            surveys.answer(session, token, scores[n % len(scores)], None, sent + timedelta(hours=n))


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class Facts:
    """The raw facts the oracle reads: no stamped measure, no report."""

    mentions: list[dict[str, Any]]
    labels: dict[str, set[int]]
    classification_names: dict[int, str]
    cases: list[dict[str, Any]]
    responses: list[dict[str, Any]]
    invitations: list[dict[str, Any]]
    answers: list[dict[str, Any]]
    names: dict[int, tuple[str, str]]
    members: dict[int, set[int]]

    @classmethod
    def read(cls, database: Database) -> Facts:
        """Everything the scenario wrote, as plain values (UTC datetimes)."""
        with database.unit_of_work(write=False) as session:
            mentions = [
                {
                    "id": m.id,
                    "published_at": _utc(m.published_at),
                    "assigned_at": _utc(m.assigned_at),
                    "first_response_at": _utc(m.first_response_at),
                    "state": m.state,
                    "assignee_id": m.assignee_id,
                    "first_responder_id": m.first_responder_id,
                    "assigned_group_id": m.assigned_group_id,
                    "source_type": m.source_type,
                    "case_id": m.case_id,
                    "customer_sla_s": m.sla["customer_sla_seconds"],
                    "agent_sla_s": m.sla["agent_sla_seconds"],
                }
                for m in session.scalars(select(Mention))
            ]
            labels: dict[str, set[int]] = {}
            for link in session.scalars(select(MentionClassification)):
                labels.setdefault(link.mention_id, set()).add(link.classification_id)
            names = {c.id: c.name for c in session.scalars(select(Classification))}
            cases = [
                {
                    "id": c.id,
                    "status": c.status,
                    "opened_at": _utc(c.opened_at),
                    "first_reply_at": _utc(c.first_reply_at),
                    "last_agent_response_at": _utc(c.last_agent_response_at),
                    "closed_at": _utc(c.closed_at),
                }
                for c in session.scalars(select(Case))
            ]
            responses = [
                {"case_id": r.case_id, "author_id": r.author_id, "mention_id": r.mention_id}
                for r in session.scalars(select(Response))
                if r.status == "sent" and not r.private
            ]
            invitations = [
                {"form_id": i.form_id, "sent_at": _utc(i.sent_at), "agent_id": i.agent_id,
                 "group_ids": list(i.group_ids)}
                for i in session.scalars(select(FormInvitation))
            ]  # fmt: skip
            answers = [
                {"form_id": a.form_id, "answered_at": _utc(a.answered_at), "score": a.score,
                 "agent_id": a.agent_id, "group_ids": list(a.group_ids)}
                for a in session.scalars(select(FormResponse))
            ]  # fmt: skip
            users = {u.id: (u.first_name, u.last_name) for u in session.scalars(select(User))}
            members: dict[int, set[int]] = {}
            for member in session.scalars(select(GroupMember)):
                members.setdefault(member.group_id, set()).add(member.user_id)
        return cls(mentions, labels, names, cases, responses, invitations, answers, users, members)
