"""The compiler on both engines: a brand loaded through the real ingestion path, every
definition run as SQL and compared with the same rule computed here in Python, from the
records as generated (never from carebase's attributes)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from carebase.db.session import Database
from carebase.models import Profile
from carebase.segments.compiler import SegmentMembers, count_select, member_select
from carebase.segments.definition import parse_definition
from carebase.segments.preview import preview
from tests.helpers import Brand, ticket

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
TAGS = ("vip", "complaint", "refund", "shipping", "Vip")
AGENTS = ("Aaron W", "Matt M", "Zoë K")
CHANNELS = ("email", "chat", "web_form")
SCORES: tuple[Any, ...] = ("good", "bad", "bad", 1, 2, 4, 5, 4.5, None, None)
STATUSES = ("open", "closed", "solved", "pending", None)
COUNTRIES = ("AU", "NZ", "US", None)


def iso(moment: datetime) -> str:
    """ISO 8601 with Z."""
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class T:
    """One generated ticket."""

    id: str
    created: datetime
    closed: datetime | None
    status: str | None
    tags: list[str]
    agents: list[str]
    channels: list[str]
    score: Any
    duration: float | None
    reply_time: float | None
    first_reply_time: float | None
    title: str


@dataclass
class Person:
    """One generated customer and every record posted for them."""

    email: str
    crm: dict[str, Any] | None
    tickets: list[T] = field(default_factory=list)
    purchases: list[tuple[str, datetime, float, str]] = field(default_factory=list)
    opens: list[tuple[datetime, str]] = field(default_factory=list)
    profile_id: str = ""

    def crm_value(self, name: str) -> Any:
        return (self.crm or {}).get(name)

    def tier(self) -> Any:
        return ((self.crm or {}).get("custom_fields") or {}).get("tier")

    def spend(self, currency: str) -> float:
        return sum(amount for _, _, amount, cur in self.purchases if cur == currency)

    def tickets_within(self, days: int, now: datetime = NOW) -> list[T]:
        return [t for t in self.tickets if now - timedelta(days=days) <= t.created <= now]

    def last_score(self) -> Any:
        scored = [t for t in self.tickets if t.score is not None]
        return max(scored, key=lambda t: t.created).score if scored else None


def generate(count: int = 40, seed: int = 2) -> list[Person]:
    """People with varied CRM fields, tickets over the last 200 days, purchases and opens."""
    rng = random.Random(seed)
    people = []
    for n in range(count):
        crm = None
        if n % 5 != 4:
            crm = {
                "country": rng.choice(COUNTRIES),
                "employee_flag": rng.choice((True, False, None)),
                "date_of_birth": rng.choice(("1980-02-03", "1991-12-31", "2001-06-15", None)),
                "custom_fields": {"tier": rng.choice(("gold", "silver", 3, 7))},
            }
            crm = {k: v for k, v in crm.items() if v is not None}
        person = Person(f"p{n}@example.com", crm)
        for k in range(rng.choice((0, 0, 1, 2, 3, 4, 5))):
            created = NOW - timedelta(days=rng.randint(0, 200), hours=rng.randint(0, 23))
            closed = created + timedelta(hours=5) if rng.random() < 0.5 else None
            person.tickets.append(
                T(
                    id=f"T-{n}-{k}",
                    created=created,
                    closed=closed,
                    status=rng.choice(STATUSES),
                    tags=rng.sample(TAGS, rng.randint(0, 3)),
                    agents=rng.sample(AGENTS, rng.randint(0, 2)),
                    channels=rng.sample(CHANNELS, rng.randint(1, 2)),
                    score=rng.choice(SCORES),
                    duration=rng.choice((None, 30.0, 120.0, 600.0)),
                    reply_time=rng.choice((None, 5.0, 60.0)),
                    first_reply_time=rng.choice((None, 1.0, 19.0, 240.0)),
                    title=rng.choice(("Faulty seam", "Where is my order?", "Refund please")),
                )
            )
        for k in range(rng.choice((0, 1, 2, 3))):
            at = NOW - timedelta(days=rng.randint(0, 300))
            currency = rng.choice(("AUD", "AUD", "USD"))
            person.purchases.append(
                (f"O-{n}-{k}", at, float(rng.choice((20, 80, 150, 400))), currency)
            )
        for _ in range(rng.choice((0, 1, 2))):
            at = NOW - timedelta(days=rng.randint(0, 60))
            person.opens.append((at, rng.choice(("spring", "winter"))))
        if person.crm or person.tickets or person.purchases or person.opens:
            people.append(person)
    return people


def ticket_record(person: Person, t: T) -> dict[str, Any]:
    timeline: dict[str, Any] = {"created_at": iso(t.created)}
    if t.closed:
        timeline["closed_at"] = iso(t.closed)
    for name in ("duration", "reply_time", "first_reply_time"):
        if getattr(t, name) is not None:
            timeline[name] = getattr(t, name)
    record = ticket(
        t.id,
        link={"email": person.email},
        action_at=iso(t.created + timedelta(minutes=30)),
        timeline=timeline,
        channel={"type": t.channels, "name": [f"{c}@brand.io" for c in t.channels]},
        tags=t.tags,
        agents=t.agents,
        title=t.title,
    )
    record.pop("satisfaction_score")
    record.pop("status")
    if t.score is not None:
        record["satisfaction_score"] = t.score
    if t.status is not None:
        record["status"] = t.status
    return record


def load(client: TestClient, token: str, people: list[Person]) -> None:
    """Post every record through the public ingestion API; note each person's profile id.
    One extra profile is merged into the first person's, leaving a tombstone."""
    brand = Brand(client, token)
    brand.post(
        "customer_record",
        *({"link": {"email": p.email}, **p.crm} for p in people if p.crm is not None),
        {"link": {"email": "alias@example.com"}, "first_name": "Alias"},
    )
    tickets = [ticket_record(p, t) for p in people for t in p.tickets]
    for start in range(0, len(tickets), 500):
        brand.post("customer_support_ticket", *tickets[start : start + 500])
    purchases = [
        {
            "link": {"email": p.email},
            "action_at": iso(at),
            "purchase_id": key,
            "type": "ecommerce",
            "currency": currency,
            "products": [{"price_paid": amount, "quantity": 1}],
        }
        for p in people
        for key, at, amount, currency in p.purchases
    ]
    if purchases:
        brand.post("purchase", *purchases)
    opens = [
        {
            "link": {"email": p.email},
            "action_at": iso(at),
            "email_id": f"open-{p.email}-{k}",
            "campaign_id": campaign,
        }
        for p in people
        for k, (at, campaign) in enumerate(p.opens)
    ]
    if opens:
        brand.post("email_open", *opens)
    brand.post("unify", {"records": [{"email": people[0].email}, {"email": "alias@example.com"}]})
    for person in people:
        person.profile_id = brand.profile("email", person.email)["id"]


def no_segments(segment_id: str) -> sa.Select[Any]:
    raise AssertionError(f"no segment expected, got {segment_id}")


def members_of(saved: dict[str, set[str]]) -> SegmentMembers:
    """A tiny SegmentMembers over fixed sets of profile ids."""
    profiles = Profile.__table__

    def members(segment_id: str) -> sa.Select[Any]:
        return sa.select(profiles.c.id).where(profiles.c.id.in_(sorted(saved[segment_id])))

    return members


def run(
    database: Database,
    definition: dict[str, Any],
    *,
    now: datetime = NOW,
    members: SegmentMembers = no_segments,
) -> set[str]:
    """The ids member_select answers (asserting count_select agrees and no id repeats)."""
    node = parse_definition(definition, window_limit_days=120)
    with database.unit_of_work(write=False) as session:
        rows = session.execute(member_select(node, now=now, segment_members=members)).all()
        count = session.execute(count_select(node, now=now, segment_members=members)).scalar_one()
    ids = [row[0] for row in rows]
    assert len(ids) == len(set(ids)), "member_select repeats a profile"
    assert count == len(ids), "count_select disagrees with member_select"
    return set(ids)


def attr(name: str, op: str, value: Any = None) -> dict[str, Any]:
    node = {"type": "attribute", "field": name, "op": op}
    return node if value is None else {**node, "value": value}


def tickets_event(
    where: dict[str, Any] | None = None, *, days: int = 120, op: str = "gte", n: int = 1
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "type": "event",
        "event": "customer_support_ticket",
        "window_days": days,
        "count": {"op": op, "value": n},
    }
    return node if where is None else {**node, "where": where}


def ef(name: str, op: str, value: Any = None) -> dict[str, Any]:
    node = {"type": "event_field", "field": name, "op": op}
    return node if value is None else {**node, "value": value}


def group(op: str, *children: dict[str, Any], least: int | None = None) -> dict[str, Any]:
    node = {"type": "group", "op": op, "children": list(children)}
    return node if least is None else {**node, "min": least}


def negate(child: dict[str, Any]) -> dict[str, Any]:
    return {"type": "not", "child": child}


Rule = Callable[[Person], bool]


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def count_where(p: Person, test: Callable[[T], bool], days: int = 120) -> int:
    return sum(1 for t in p.tickets_within(days) if test(t))


ATTRIBUTE_CASES: list[tuple[str, dict[str, Any], Rule]] = [
    ("ticket_count gte 3", attr("ticket_count", "gte", 3), lambda p: len(p.tickets) >= 3),
    ("ticket_count eq 0", attr("ticket_count", "eq", 0), lambda p: not p.tickets),
    ("ticket_count lt 2", attr("ticket_count", "lt", 2), lambda p: len(p.tickets) < 2),
    ("ticket_count ne 1", attr("ticket_count", "ne", 1), lambda p: len(p.tickets) != 1),
    ("ticket_count in", attr("ticket_count", "in", [1, 4]), lambda p: len(p.tickets) in (1, 4)),
    (
        "ticket_count between",
        attr("ticket_count", "between", [2, 3]),
        lambda p: 2 <= len(p.tickets) <= 3,
    ),
    ("ticket_count lte 1", attr("ticket_count", "lte", 1), lambda p: len(p.tickets) <= 1),
    ("ticket_count gt 4", attr("ticket_count", "gt", 4), lambda p: len(p.tickets) > 4),
    (
        "tags contains vip",
        attr("tags", "contains", "vip"),
        lambda p: any("vip" in t.tags for t in p.tickets),
    ),
    (
        "tags in",
        attr("tags", "in", ["refund", "shipping"]),
        lambda p: any({"refund", "shipping"} & set(t.tags) for t in p.tickets),
    ),
    ("tags is_set", attr("tags", "is_set"), lambda p: any(t.tags for t in p.tickets)),
    ("tags is_not_set", attr("tags", "is_not_set"), lambda p: not any(t.tags for t in p.tickets)),
    ("country eq AU", attr("country", "eq", "AU"), lambda p: p.crm_value("country") == "AU"),
    (
        "country ne AU",
        attr("country", "ne", "AU"),
        lambda p: p.crm_value("country") not in (None, "AU"),
    ),
    (
        "country in",
        attr("country", "in", ["NZ", "US"]),
        lambda p: p.crm_value("country") in ("NZ", "US"),
    ),
    (
        "country contains u",
        attr("country", "contains", "u"),
        lambda p: "u" in (p.crm_value("country") or "").lower(),
    ),
    ("country is_set", attr("country", "is_set"), lambda p: p.crm_value("country") is not None),
    ("country is_not_set", attr("country", "is_not_set"), lambda p: p.crm_value("country") is None),
    (
        "employee_flag eq true",
        attr("employee_flag", "eq", True),
        lambda p: p.crm_value("employee_flag") is True,
    ),
    (
        "employee_flag ne true",
        attr("employee_flag", "ne", True),
        lambda p: p.crm_value("employee_flag") is False,
    ),
    (
        "date_of_birth between",
        attr("date_of_birth", "between", ["1985-01-01", "2001-06-15"]),
        lambda p: "1985-01-01" <= (p.crm_value("date_of_birth") or "0") <= "2001-06-15",
    ),
    (
        "custom_fields.tier eq gold",
        attr("custom_fields.tier", "eq", "gold"),
        lambda p: p.tier() == "gold",
    ),
    (
        "custom_fields.tier gte 5",
        attr("custom_fields.tier", "gte", 5),
        lambda p: is_number(p.tier()) and p.tier() >= 5,
    ),
    (
        "custom_fields.tier in mixed",
        attr("custom_fields.tier", "in", ["silver", 3]),
        lambda p: p.tier() in ("silver", 3) and not isinstance(p.tier(), bool),
    ),
    (
        "last_satisfaction_score eq bad",
        attr("last_satisfaction_score", "eq", "bad"),
        lambda p: p.last_score() == "bad",
    ),
    (
        "last_satisfaction_score lte 2",
        attr("last_satisfaction_score", "lte", 2),
        lambda p: is_number(p.last_score()) and p.last_score() <= 2,
    ),
    (
        "last_satisfaction_score ne good",
        attr("last_satisfaction_score", "ne", "good"),
        lambda p: p.last_score() is not None and p.last_score() != "good",
    ),
    (
        "last_satisfaction_score is_not_set",
        attr("last_satisfaction_score", "is_not_set"),
        lambda p: p.last_score() is None,
    ),
    (
        "total_spend gt 200 AUD",
        attr("total_spend", "gt", {"currency": "AUD", "amount": 200}),
        lambda p: p.spend("AUD") > 200,
    ),
    (
        "total_spend lt 100 AUD (no purchases count as 0)",
        attr("total_spend", "lt", {"currency": "aud", "amount": 100}),
        lambda p: p.spend("AUD") < 100,
    ),
    (
        "total_spend between USD",
        attr(
            "total_spend",
            "between",
            [{"currency": "USD", "amount": 50}, {"currency": "USD", "amount": 400}],
        ),
        lambda p: 50 <= p.spend("USD") <= 400,
    ),
    ("total_spend is_set", attr("total_spend", "is_set"), lambda p: bool(p.purchases)),
    (
        "last_ticket_date within 30 days",
        attr("last_ticket_date", "within_last_days", 30),
        lambda p: bool(p.tickets_within(30)),
    ),
    (
        "last_ticket_date gte",
        attr("last_ticket_date", "gte", iso(NOW - timedelta(days=10))),
        lambda p: any(t.created >= NOW - timedelta(days=10) for t in p.tickets),
    ),
    (
        "tickets_last_30_days gte 1 (read-time, from tickets)",
        attr("tickets_last_30_days", "gte", 1),
        lambda p: len(p.tickets_within(30)) >= 1,
    ),
    (
        "tickets_last_90_days eq 0",
        attr("tickets_last_90_days", "eq", 0),
        lambda p: not p.tickets_within(90),
    ),
    (
        "avg_duration gt 200 (closed tickets without a duration count created to closed)",
        attr("avg_duration", "gt", 200),
        lambda p: (lambda ds: bool(ds) and sum(ds) / len(ds) > 200)(
            [
                t.duration if t.duration is not None else 300.0
                for t in p.tickets
                if t.duration is not None or t.closed is not None
            ]
        ),
    ),
    (
        "first_ticket_date is_not_set",
        attr("first_ticket_date", "is_not_set"),
        lambda p: not p.tickets,
    ),
    (
        "last_order_date lte 100 days ago",
        attr("last_order_date", "lte", iso(NOW - timedelta(days=100))),
        lambda p: (
            bool(p.purchases)
            and max(at for _, at, _, _ in p.purchases) <= NOW - timedelta(days=100)
        ),
    ),
    (
        "average_order_value gte 150 AUD",
        attr("average_order_value", "gte", {"currency": "AUD", "amount": 150}),
        lambda p: (lambda n: n > 0 and p.spend("AUD") / n >= 150)(
            sum(1 for _, _, _, cur in p.purchases if cur == "AUD")
        ),
    ),
    ("emails_opened eq 0", attr("emails_opened", "eq", 0), lambda p: not p.opens),
    ("emails_opened gte 2", attr("emails_opened", "gte", 2), lambda p: len(p.opens) >= 2),
]


def test_attribute_conditions_select_what_python_computes(
    client: TestClient, admin_token: str, database: Database
) -> None:
    people = generate()
    load(client, admin_token, people)
    for name, definition, rule in ATTRIBUTE_CASES:
        expected = {p.profile_id for p in people if rule(p)}
        assert 0 < len(expected) < len(people), f"{name} proves little on this data"
        assert run(database, definition) == expected, name


def vip_bad(t: T) -> bool:
    return "vip" in t.tags and t.score == "bad"


EVENT_CASES: list[tuple[str, dict[str, Any], Rule]] = [
    ("any ticket in 120 days", tickets_event(), lambda p: bool(p.tickets_within(120))),
    (
        "frequent complainers: >= 3 tickets in 120 days",
        tickets_event(op="gte", n=3),
        lambda p: len(p.tickets_within(120)) >= 3,
    ),
    (
        "no ticket in 120 days (eq 0)",
        tickets_event(op="eq", n=0),
        lambda p: not p.tickets_within(120),
    ),
    (
        "fewer than 2 tickets in 60 days (lt)",
        tickets_event(days=60, op="lt", n=2),
        lambda p: len(p.tickets_within(60)) < 2,
    ),
    (
        "not exactly one (ne 1)",
        tickets_event(op="ne", n=1),
        lambda p: len(p.tickets_within(120)) != 1,
    ),
    ("gt 1", tickets_event(op="gt", n=1), lambda p: len(p.tickets_within(120)) > 1),
    ("lte 1", tickets_event(op="lte", n=1), lambda p: len(p.tickets_within(120)) <= 1),
    (
        "tags contains vip and satisfaction bad",
        tickets_event(
            group("and", ef("tags", "contains", "vip"), ef("satisfaction_score", "eq", "bad"))
        ),
        lambda p: count_where(p, vip_bad) >= 1,
    ),
    (
        "tags in (case-sensitive: Vip is not vip)",
        tickets_event(ef("tags", "in", ["Vip", "refund"])),
        lambda p: count_where(p, lambda t: bool({"Vip", "refund"} & set(t.tags))) >= 1,
    ),
    (
        "tags is_not_set",
        tickets_event(ef("tags", "is_not_set")),
        lambda p: count_where(p, lambda t: not t.tags) >= 1,
    ),
    (
        "agents contains a non-ASCII name",
        tickets_event(ef("agents", "contains", "Zoë K")),
        lambda p: count_where(p, lambda t: "Zoë K" in t.agents) >= 1,
    ),
    (
        "channel_type in",
        tickets_event(ef("channel_type", "in", ["chat"])),
        lambda p: count_where(p, lambda t: "chat" in t.channels) >= 1,
    ),
    (
        "channel_name contains",
        tickets_event(ef("channel_name", "contains", "web_form@brand.io")),
        lambda p: count_where(p, lambda t: "web_form" in t.channels) >= 1,
    ),
    (
        "satisfaction_score gte 4 (numbers only)",
        tickets_event(ef("satisfaction_score", "gte", 4)),
        lambda p: count_where(p, lambda t: is_number(t.score) and t.score >= 4) >= 1,
    ),
    (
        "satisfaction_score eq 4 (4.5 is not 4)",
        tickets_event(ef("satisfaction_score", "eq", 4)),
        lambda p: count_where(p, lambda t: is_number(t.score) and t.score == 4) >= 1,
    ),
    (
        "satisfaction_score in mixed",
        tickets_event(ef("satisfaction_score", "in", ["bad", 1, 2])),
        lambda p: count_where(p, lambda t: t.score in ("bad", 1, 2)) >= 1,
    ),
    (
        "satisfaction_score is_set, twice",
        tickets_event(ef("satisfaction_score", "is_set"), op="gte", n=2),
        lambda p: count_where(p, lambda t: t.score is not None) >= 2,
    ),
    (
        "satisfaction_score between",
        tickets_event(ef("satisfaction_score", "between", [2, 4.5])),
        lambda p: count_where(p, lambda t: is_number(t.score) and 2 <= t.score <= 4.5) >= 1,
    ),
    (
        "status ne closed",
        tickets_event(ef("status", "ne", "closed")),
        lambda p: count_where(p, lambda t: t.status not in (None, "closed")) >= 1,
    ),
    (
        "status is_not_set",
        tickets_event(ef("status", "is_not_set")),
        lambda p: count_where(p, lambda t: t.status is None) >= 1,
    ),
    (
        "title contains (case-insensitive)",
        tickets_event(ef("title", "contains", "ORDER")),
        lambda p: count_where(p, lambda t: "order" in t.title.lower()) >= 1,
    ),
    (
        "closed_at is_not_set",
        tickets_event(ef("closed_at", "is_not_set")),
        lambda p: count_where(p, lambda t: t.closed is None) >= 1,
    ),
    (
        "created_at between",
        tickets_event(
            ef(
                "created_at",
                "between",
                [iso(NOW - timedelta(days=50)), iso(NOW - timedelta(days=20))],
            )
        ),
        lambda p: (
            count_where(
                p, lambda t: NOW - timedelta(days=50) <= t.created <= NOW - timedelta(days=20)
            )
            >= 1
        ),
    ),
    (
        "created_at within_last_days",
        tickets_event(ef("created_at", "within_last_days", 7)),
        lambda p: bool(p.tickets_within(7)),
    ),
    (
        "closed_at lt",
        tickets_event(ef("closed_at", "lt", iso(NOW - timedelta(days=100)))),
        lambda p: (
            count_where(p, lambda t: t.closed is not None and t.closed < NOW - timedelta(days=100))
            >= 1
        ),
    ),
    (
        "duration gt 100",
        tickets_event(ef("duration", "gt", 100)),
        lambda p: count_where(p, lambda t: t.duration is not None and t.duration > 100) >= 1,
    ),
    (
        "reply_time lte 5",
        tickets_event(ef("reply_time", "lte", 5)),
        lambda p: count_where(p, lambda t: t.reply_time is not None and t.reply_time <= 5) >= 1,
    ),
    (
        "first_reply_time in",
        tickets_event(ef("first_reply_time", "in", [1, 240])),
        lambda p: count_where(p, lambda t: t.first_reply_time in (1.0, 240.0)) >= 1,
    ),
    (
        "where not (tags contains vip), or-group",
        tickets_event(
            group("or", negate(ef("tags", "contains", "vip")), ef("status", "eq", "open")), n=2
        ),
        lambda p: count_where(p, lambda t: "vip" not in t.tags or t.status == "open") >= 2,
    ),
    (
        "ticket_id eq",
        tickets_event(ef("ticket_id", "eq", "T-3-1")),
        lambda p: count_where(p, lambda t: t.id == "T-3-1") >= 1,
    ),
    (
        "purchase in AUD within 120 days",
        {
            "type": "event",
            "event": "purchase",
            "where": ef("currency", "eq", "AUD"),
        },
        lambda p: any(
            cur == "AUD" and NOW - timedelta(days=120) <= at <= NOW for _, at, _, cur in p.purchases
        ),
    ),
    (
        "no email open of the spring campaign in 30 days",
        {
            "type": "event",
            "event": "email_open",
            "window_days": 30,
            "count": {"op": "eq", "value": 0},
            "where": ef("campaign_id", "eq", "spring"),
        },
        lambda p: (
            not any(c == "spring" and NOW - timedelta(days=30) <= at <= NOW for at, c in p.opens)
        ),
    ),
]


def test_event_conditions_select_what_python_computes(
    client: TestClient, admin_token: str, database: Database
) -> None:
    people = generate()
    load(client, admin_token, people)
    for name, definition, rule in EVENT_CASES:
        expected = {p.profile_id for p in people if rule(p)}
        assert 0 < len(expected) < len(people), f"{name} proves little on this data"
        assert run(database, definition) == expected, name


def unhappy_vips() -> dict[str, Any]:
    return group(
        "and",
        tickets_event(ef("satisfaction_score", "eq", "bad")),
        attr("total_spend", "gt", {"currency": "AUD", "amount": 150}),
    )


def test_groups_nots_and_at_least_compose(
    client: TestClient, admin_token: str, database: Database
) -> None:
    people = generate()
    load(client, admin_token, people)
    complainer = lambda p: len(p.tickets_within(120)) >= 3  # noqa: E731
    unhappy_vip = lambda p: (  # noqa: E731
        count_where(p, lambda t: t.score == "bad") >= 1 and p.spend("AUD") > 150
    )
    au = lambda p: p.crm_value("country") == "AU"  # noqa: E731
    opened = lambda p: bool(p.opens)  # noqa: E731
    cases: list[tuple[str, dict[str, Any], Rule]] = [
        ("unhappy VIPs", unhappy_vips(), unhappy_vip),
        (
            "the issue's shape",
            group(
                "and",
                attr("ticket_count", "gte", 3),
                tickets_event(ef("satisfaction_score", "eq", "bad"), op="gte", n=2),
            ),
            lambda p: len(p.tickets) >= 3 and count_where(p, lambda t: t.score == "bad") >= 2,
        ),
        ("not AU", negate(attr("country", "eq", "AU")), lambda p: not au(p)),
        ("not not AU", negate(negate(attr("country", "eq", "AU"))), au),
        (
            "AU and not complainer",
            group("and", attr("country", "eq", "AU"), negate(tickets_event(op="gte", n=3))),
            lambda p: au(p) and not complainer(p),
        ),
        (
            "only negatives: not AU and no tickets",
            group("and", negate(attr("country", "eq", "AU")), tickets_event(op="eq", n=0)),
            lambda p: not au(p) and not p.tickets_within(120),
        ),
        (
            "or of negatives",
            group(
                "or", negate(attr("country", "eq", "AU")), negate(attr("ticket_count", "gte", 1))
            ),
            lambda p: not au(p) or not p.tickets,
        ),
        (
            "or mixing signs",
            group("or", attr("country", "eq", "AU"), attr("ticket_count", "eq", 0)),
            lambda p: au(p) or not p.tickets,
        ),
        (
            "at least 2 of 3 (Should Have)",
            group(
                "at_least",
                attr("country", "eq", "AU"),
                tickets_event(op="gte", n=3),
                negate(attr("emails_opened", "gte", 1)),
                least=2,
            ),
            lambda p: sum((au(p), complainer(p), not opened(p))) >= 2,
        ),
        (
            "at least 1 = or",
            group("at_least", attr("country", "eq", "AU"), tickets_event(op="gte", n=3), least=1),
            lambda p: au(p) or complainer(p),
        ),
        (
            "at least all = and",
            group("at_least", attr("country", "eq", "AU"), tickets_event(op="gte", n=3), least=2),
            lambda p: au(p) and complainer(p),
        ),
        (
            "nested: not (at least 2 of …) and (unhappy VIP or AU)",
            group(
                "and",
                negate(
                    group(
                        "at_least",
                        attr("emails_opened", "gte", 1),
                        attr("employee_flag", "eq", True),
                        tickets_event(op="eq", n=0),
                        least=2,
                    )
                ),
                group("or", unhappy_vips(), attr("country", "eq", "AU")),
            ),
            lambda p: (
                sum((opened(p), p.crm_value("employee_flag") is True, not p.tickets_within(120)))
                < 2
                and (unhappy_vip(p) or au(p))
            ),
        ),
    ]
    for name, definition, rule in cases:
        expected = {p.profile_id for p in people if rule(p)}
        assert run(database, definition) == expected, name


def test_segment_references_use_the_injected_members(
    client: TestClient, admin_token: str, database: Database
) -> None:
    people = generate()
    load(client, admin_token, people)
    everyone = {p.profile_id for p in people}
    saved = {"seg_a": {p.profile_id for p in people[::3]}, "seg_b": set()}
    members = members_of(saved)
    segment = {"type": "segment", "segment_id": "seg_a"}
    assert run(database, segment, members=members) == saved["seg_a"]
    assert run(database, negate(segment), members=members) == everyone - saved["seg_a"]
    both = group("and", segment, attr("ticket_count", "gte", 1))
    expected = {p.profile_id for p in people[::3] if p.tickets}
    assert run(database, both, members=members) == expected
    empty = {"type": "segment", "segment_id": "seg_b"}
    assert run(database, group("or", empty, segment), members=members) == saved["seg_a"]


def test_the_window_moves_with_now(
    client: TestClient, admin_token: str, database: Database
) -> None:
    brand = Brand(client, admin_token)
    edge = NOW - timedelta(days=120)
    brand.post(
        "customer_support_ticket",
        ticket("EDGE", link={"email": "edge@example.com"}, timeline={"created_at": iso(edge)}),
        ticket(
            "OUT",
            link={"email": "out@example.com"},
            timeline={"created_at": iso(edge - timedelta(seconds=1))},
        ),
        ticket(
            "FUTURE",
            link={"email": "future@example.com"},
            timeline={"created_at": iso(NOW + timedelta(seconds=1))},
        ),
    )
    ids = {
        name: brand.profile("email", f"{name}@example.com")["id"]
        for name in ("edge", "out", "future")
    }
    recent = tickets_event()
    assert run(database, recent) == {ids["edge"]}, "both ends of the window are included"
    assert run(database, recent, now=NOW + timedelta(seconds=1)) == {ids["future"]}
    assert run(database, recent, now=NOW - timedelta(seconds=1)) == {ids["edge"], ids["out"]}
    none = tickets_event(op="eq", n=0)
    assert run(database, none) == {ids["out"], ids["future"]}


def test_preview_counts_without_saving(
    client: TestClient, admin_token: str, database: Database
) -> None:
    people = generate()
    load(client, admin_token, people)
    with database.unit_of_work(write=False) as session:
        result = preview(
            session,
            {"version": 1, **unhappy_vips()},
            now=NOW,
            window_limit_days=120,
            segment_members=no_segments,
        )
    expected = sum(
        1 for p in people if count_where(p, lambda t: t.score == "bad") and p.spend("AUD") > 150
    )
    assert (result.count, result.total_profiles) == (expected, len(people))
    assert result.definition["version"] == 1
    assert result.definition["children"][0]["window_days"] == 120
    assert result.definition["children"][0]["count"] == {"op": "gte", "value": 1}
