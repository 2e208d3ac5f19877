"""The demo brand's saved segments hold exactly the members counted by hand here, from the
stored tickets and purchases (plain Python over the rows, not the segment compiler)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from carebase.db.session import Database
from carebase.demo.generate import generate
from carebase.demo.segments import (
    DEMO_SEGMENTS,
    VIP_CURRENCY,
    VIP_SPEND,
    WINDOW_DAYS,
    seed_segments,
)
from carebase.demo.service import load
from carebase.ingest.service import IngestConfig
from carebase.models import Event, Ticket
from carebase.segments import service
from carebase.settings import Settings
from tests.segments.storehelp import members_of

ANCHOR = datetime(2026, 11, 23, tzinfo=UTC)
CLOSED = {"closed", "solved", "resolved"}


def _by_hand(database: Database, now: datetime) -> dict[str, set[str]]:
    since = now - timedelta(days=WINDOW_DAYS)
    recent: dict[str, int] = defaultdict(int)
    unhappy, open_now = set(), set()
    with database.unit_of_work(write=False) as session:
        tickets = session.execute(
            select(
                Ticket.profile_id,
                Ticket.created_at,
                Ticket.closed_at,
                Ticket.status,
                Ticket.satisfaction_score,
            )
        ).all()
        purchases = session.execute(
            select(Event.profile_id, Event.record).where(Event.record_type == "purchase")
        ).all()
    for profile_id, created_at, closed_at, status, score in tickets:
        in_window = since <= created_at <= now
        if in_window:
            recent[profile_id] += 1
            if score == "bad":
                unhappy.add(profile_id)
            if status == "open":
                open_now.add(profile_id)
        if closed_at is None and (status is None or status.lower() not in CLOSED):
            open_now.add(profile_id)
    spend: dict[str, float] = defaultdict(float)
    for profile_id, record in purchases:
        if record.get("currency") == VIP_CURRENCY:
            spend[profile_id] += sum(line["price_paid"] for line in record["products"])
    return {
        "Frequent complainers": {p for p, count in recent.items() if count >= 3},
        "Unhappy VIPs": {p for p in unhappy if round(spend[p], 2) > VIP_SPEND},
        "Open ticket now": open_now,
    }


def test_the_demo_segments_hold_the_members_counted_by_hand(
    database: Database, settings: Settings
) -> None:
    data = generate(profiles=400, tickets=2400, seed=7, anchor=ANCHOR)
    summary = load(database, data, config=IngestConfig.from_settings(settings))
    assert summary.rejected == 0
    sizes = seed_segments(database, settings, now=ANCHOR)
    expected = _by_hand(database, ANCHOR)
    assert set(sizes) == {segment.name for segment in DEMO_SEGMENTS}
    with database.unit_of_work(write=False) as session:
        saved = {segment.name: segment for segment in service.list_segments(session)}
    for name, members in expected.items():
        assert saved[name].status == "ready", saved[name].last_error
        assert members_of(database, saved[name].id) == members, name
        assert sizes[name] == len(members)
        # Each use case picks some of the brand, not none and not everyone.
        assert 0 < len(members) < 400, (name, len(members))
    # Seeding again adds nothing and keeps the versions.
    assert seed_segments(database, settings, now=ANCHOR) == sizes
    with database.unit_of_work(write=False) as session:
        assert len(service.list_segments(session)) == len(DEMO_SEGMENTS)
