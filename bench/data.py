"""Deterministic, realistic support tickets for benchmarks and demos."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

CHANNELS = [("email", "help@mybrand.com"), ("chat", "web-chat"), ("web_form", "contact-form")]
TAGS = ["complaint", "refund", "ecommerce", "shipping", "sizing", "vip", "warranty", "exchange"]
AGENTS = ["Aaron W", "Matt M", "Priya S", "Chen L", "Olivia R", "Sam K"]
STATUSES = ["new", "open", "pending", "solved", "closed"]
SCORES = ["good", "bad", None, None]
SUBJECTS = ["Faulty seam", "Where is my order?", "Refund request", "Wrong size", "Login issue"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def tickets(count: int, profiles: int, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`count` ticket events spread over `profiles` customers, the same for the same seed."""
    rng = random.Random(seed)
    for number in range(count):
        customer = rng.randrange(profiles)
        created = START + timedelta(minutes=rng.randrange(0, 300 * 24 * 60))
        first_reply = rng.randrange(1, 240)
        duration = first_reply + rng.randrange(0, 3000)
        status = rng.choice(STATUSES)
        channel, channel_name = rng.choice(CHANNELS)
        link: dict[str, str] = {"email": f"customer{customer}@example.com"}
        if customer % 3 == 0:
            link["mobile"] = f"+6140{customer % 10_000_000:07d}"
        event: dict[str, Any] = {
            "ticket_id": f"T{number}",
            "action_at": (created + timedelta(minutes=duration)).isoformat(),
            "link": link,
            "title": rng.choice(SUBJECTS),
            "ticket_url": f"https://mybrand.zendesk.com/agent/tickets/{number}",
            "description": "Customer writes: " + " ".join(rng.choices(TAGS, k=24)),
            "timeline": {
                "created_at": created.isoformat(),
                "duration": duration,
                "reply_time": rng.randrange(1, 120),
                "first_reply_time": first_reply,
            },
            "channel": {"type": [channel], "name": [channel_name]},
            "status": status,
            "tags": rng.sample(TAGS, k=rng.randrange(0, 4)),
            "agents": rng.sample(AGENTS, k=rng.randrange(1, 3)),
            "satisfaction_score": rng.choice(SCORES),
        }
        if status in {"solved", "closed"}:
            event["timeline"]["closed_at"] = (created + timedelta(minutes=duration)).isoformat()
        yield event
