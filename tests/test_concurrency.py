"""Many writers at once: several server processes and clients posting batches that overlap in
links and ticket ids, merges and unify records among them. Every answer is counted (not
only the 2xx), then the database is checked whole: one owner per link, every ticket on the
profile its links resolve to, the newest version of each ticket kept, and attributes equal
to a rebuild from the stored tickets (no lost update)."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from carebase.db.session import Database
from tests.conftest import make_token, test_settings
from tests.helpers import auth
from tests.serverproc import running_server

pytestmark = pytest.mark.slow
CLIENTS = 4
WORKERS = 4
BATCHES_PER_CLIENT = 10
BATCH = 40
EMAILS = 70
MOBILES = 30
TICKET_IDS = 150
BASE = datetime(2026, 1, 1, tzinfo=UTC)


def _email(n: int) -> str:
    return f"person{n}@overlap.test"


def _mobile(n: int) -> str:
    return f"+614040{n:05d}"


class _Plan:
    """Every batch each client sends, drawn up front; action_at values are unique so the
    newest version of each ticket is known without a tie-break."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        clock = iter(range(10_000_000))
        self.batches: list[list[list[dict[str, Any]]]] = []
        for _client in range(CLIENTS):
            batches = []
            for _number in range(BATCHES_PER_CLIENT):
                events = []
                for _ in range(BATCH):
                    link: dict[str, str] = {"email": _email(rng.randrange(EMAILS))}
                    if rng.random() < 0.5:
                        link["mobile"] = _mobile(rng.randrange(MOBILES))
                    # Spread action_at so clients interleave their "newest" versions.
                    action_at = BASE + timedelta(seconds=next(clock) * 7 % 1_000_003)
                    events.append(
                        {
                            "ticket_id": f"T{rng.randrange(TICKET_IDS)}",
                            "action_at": action_at.isoformat(),
                            "link": link,
                            "timeline": {"created_at": (BASE - timedelta(days=1)).isoformat()},
                            "status": rng.choice(["open", "closed"]),
                        }
                    )
                batches.append(events)
            self.batches.append(batches)

    def newest(self) -> dict[str, dict[str, Any]]:
        """The version of each ticket that must be stored: the newest action_at sent."""
        best: dict[str, dict[str, Any]] = {}
        for batches in self.batches:
            for events in batches:
                for event in events:
                    known = best.get(event["ticket_id"])
                    if known is None or event["action_at"] > known["action_at"]:
                        best[event["ticket_id"]] = event
        return best


def _post_all(url: str, token: str, dataset_id: str, plan: _Plan) -> Counter[int]:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(number: int) -> None:
        with httpx.Client(base_url=url, headers=auth(token), timeout=120) as http:
            start.wait()
            for events in plan.batches[number]:
                try:
                    status = http.post(
                        f"/v1/datasets/{dataset_id}/customer_support_ticket", json=events
                    ).status_code
                except httpx.TransportError:
                    status = -1
                with lock:
                    statuses[status] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return statuses


def test_overlapping_batches_from_many_processes(database_url: str) -> None:
    database = Database.from_settings(test_settings(database_url))
    token = make_token(database, "admin")
    plan = _Plan(seed=5)
    env = {
        "CAREBASE_LOG_LEVEL": "WARNING",
        # Caps high enough that no merge is stopped: every shared link must merge.
        "CAREBASE_MAX_EMAILS_PER_PROFILE": "1000",
        "CAREBASE_MAX_MOBILES_PER_PROFILE": "1000",
    }
    with running_server(database_url, workers=WORKERS, env=env) as server:
        dataset_id = httpx.post(
            f"{server.url}/v1/datasets", json={"name": "overlap"}, headers=auth(token)
        ).json()["id"]
        statuses = _post_all(server.url, token, dataset_id, plan)
    assert statuses == Counter({200: CLIENTS * BATCHES_PER_CLIENT}), dict(statuses)

    with database.engine.connect() as connection:
        owners = {
            (link_type, value): profile_id
            for link_type, value, profile_id in connection.execute(
                text("SELECT link_type, value, profile_id FROM profile_links WHERE NOT derived")
            )
        }
        live = set(
            connection.execute(
                text("SELECT id FROM profiles WHERE merged_into_id IS NULL")
            ).scalars()
        )
        tickets = connection.execute(
            text("SELECT ticket_id, profile_id, action_at, link, status FROM tickets")
        ).all()
        counts = dict(
            connection.execute(
                text("SELECT profile_id, ticket_count FROM support_attributes")
            ).all()
        )
        open_counts = dict(
            connection.execute(
                text("SELECT profile_id, open_ticket_count FROM support_attributes")
            ).all()
        )
        logged = connection.execute(
            text("SELECT count(*) FROM ingestion_logs WHERE status = 'accepted'")
        ).scalar_one()
    database.dispose()

    assert logged == CLIENTS * BATCHES_PER_CLIENT
    # Every link sent is owned, by a live profile.
    sent_links = {
        (kind, value)
        for batches in plan.batches
        for events in batches
        for event in events
        for kind, value in event["link"].items()
    }
    assert set(owners) == sent_links
    assert set(owners.values()) <= live
    # Links that ever travelled together share one profile (the union of every event's
    # links): merges were neither lost nor duplicated.
    parent = {link: link for link in sent_links}

    def root(link: tuple[str, str]) -> tuple[str, str]:
        while parent[link] != link:
            parent[link] = parent[parent[link]]
            link = parent[link]
        return link

    for batches in plan.batches:
        for events in batches:
            for event in events:
                first, *rest = event["link"].items()
                for other in rest:
                    parent[root(other)] = root(first)
    for link, owner in owners.items():
        assert owners[root(link)] == owner, f"{link} and its component are on two profiles"
    # One row per ticket id, holding the newest version, on the profile owning its links.
    newest = plan.newest()
    assert sorted(row.ticket_id for row in tickets) == sorted(newest)
    per_profile: Counter[str] = Counter()
    open_per_profile: Counter[str] = Counter()
    for row in tickets:
        expected = newest[row.ticket_id]
        stored_at = row.action_at
        if isinstance(stored_at, str):
            stored_at = datetime.fromisoformat(stored_at)
        assert stored_at.replace(tzinfo=UTC) == datetime.fromisoformat(expected["action_at"])
        link = row.link if isinstance(row.link, dict) else json.loads(row.link)
        for kind, value in link.items():
            assert owners[(kind, value)] == row.profile_id
        per_profile[row.profile_id] += 1
        open_per_profile[row.profile_id] += row.status != "closed"
    # Attributes equal a rebuild from the stored tickets: no lost update.
    for profile_id in live:
        assert counts.get(profile_id, 0) == per_profile[profile_id], profile_id
        assert open_counts.get(profile_id, 0) == open_per_profile[profile_id], profile_id


def test_purchases_unify_and_forget_at_once(database_url: str) -> None:
    """Purchases whose ids and emails overlap, unify records joining those emails, customer
    records and forget records, all at once from several processes: every answer 2xx, no
    link of a forgotten profile owned afterwards, commerce attributes equal to the stored
    events."""
    database = Database.from_settings(test_settings(database_url))
    token = make_token(database, "admin")
    rng = random.Random(11)
    people = 40

    def purchases() -> list[dict[str, Any]]:
        return [
            {
                "link": {"email": _email(rng.randrange(people))},
                "action_at": (BASE + timedelta(seconds=rng.randrange(10**6))).isoformat(),
                "purchase_id": f"P{rng.randrange(120)}",
                "type": "ecommerce",
                "currency": "AUD",
                "products": [{"price_paid": 10, "quantity": 1}],
            }
            for _ in range(BATCH)
        ]

    def unify() -> list[dict[str, Any]]:
        return [
            {"records": [{"email": _email(rng.randrange(people))} for _ in range(2)]}
            for _ in range(10)
        ]

    def customers() -> list[dict[str, Any]]:
        return [
            {"link": {"email": _email(rng.randrange(people))}, "first_name": f"N{n}"}
            for n in range(BATCH)
        ]

    forgotten = [_email(n) for n in range(0, people, 9)]
    env = {"CAREBASE_LOG_LEVEL": "WARNING"}
    with running_server(database_url, workers=WORKERS, env=env) as server:
        ids = {}
        for record_type in ("purchase", "unify", "customer_record", "forget"):
            ids[record_type] = httpx.post(
                f"{server.url}/v1/datasets",
                json={"name": record_type, "record_type": record_type},
                headers=auth(token),
            ).json()["id"]
        plans: list[list[tuple[str, list[dict[str, Any]]]]] = [
            [("purchase", purchases()) for _ in range(BATCHES_PER_CLIENT)],
            [("purchase", purchases()) for _ in range(BATCHES_PER_CLIENT)],
            [("unify", unify()) for _ in range(BATCHES_PER_CLIENT)],
            [("customer_record", customers()) for _ in range(BATCHES_PER_CLIENT // 2)]
            + [("forget", [{"email": email}]) for email in forgotten],
        ]
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        start = threading.Barrier(len(plans))

        def client(plan: list[tuple[str, list[dict[str, Any]]]]) -> None:
            with httpx.Client(base_url=server.url, headers=auth(token), timeout=120) as http:
                start.wait()
                for record_type, records in plan:
                    try:
                        status = http.post(
                            f"/v1/datasets/{ids[record_type]}/{record_type}", json=records
                        ).status_code
                    except httpx.TransportError:
                        status = -1
                    with lock:
                        statuses[status] += 1

        threads = [threading.Thread(target=client, args=(plan,)) for plan in plans]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    assert statuses == Counter({200: sum(len(plan) for plan in plans)}), dict(statuses)

    with database.engine.connect() as connection:
        owned = set(
            connection.execute(
                text("SELECT value FROM profile_links WHERE link_type = 'email'")
            ).scalars()
        )
        purchase_rows = connection.execute(
            text("SELECT event_key, profile_id FROM events WHERE record_type = 'purchase'")
        ).all()
        orders = dict(
            connection.execute(
                text("SELECT profile_id, order_count FROM commerce_attributes")
            ).all()
        )
        live = set(
            connection.execute(
                text("SELECT id FROM profiles WHERE merged_into_id IS NULL")
            ).scalars()
        )
    database.dispose()
    # A forgotten email never comes back, whatever raced with its forget record.
    assert owned.isdisjoint(forgotten)
    keys = [key for key, _ in purchase_rows]
    assert len(keys) == len(set(keys))
    per_profile = Counter(profile_id for _, profile_id in purchase_rows)
    assert set(per_profile) <= live
    for profile_id in live:
        assert orders.get(profile_id, 0) == per_profile[profile_id], profile_id
