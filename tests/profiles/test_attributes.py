"""Folding tickets one batch at a time gives the same attributes as rebuilding from all."""

from __future__ import annotations

import random

from bench.data import tickets
from fastapi.testclient import TestClient
from sqlalchemy import select

from carebase.attributes import service as attributes
from carebase.db.session import Database
from carebase.models import SupportAttributes, utcnow
from carebase.models.base import table
from tests.helpers import create_dataset, post_tickets


def _attributes(database: Database) -> dict[str, dict[str, object]]:
    with database.unit_of_work(write=False) as session:
        rows = session.connection().execute(select(table(SupportAttributes))).mappings()
        return {
            row["profile_id"]: {k: v for k, v in row.items() if k != "computed_at"} for row in rows
        }


def test_incremental_equals_rebuild(
    client: TestClient, admin_token: str, database: Database
) -> None:
    dataset_id = create_dataset(client, admin_token)
    events = list(tickets(600, 40, seed=3))
    rng = random.Random(5)
    # New tickets fold in; re-sent tickets with a newer action_at force rebuilds.
    for start in range(0, 600, 150):
        batch = events[start : start + 150]
        for event in rng.sample(events[:start] or batch, k=20):
            resent = dict(event, status=rng.choice(["open", "solved"]))
            resent["action_at"] = "2027-01-01T00:00:00+00:00"
            batch = [*batch, resent]
        post_tickets(client, admin_token, dataset_id, batch)
    incremental = _attributes(database)
    with database.unit_of_work() as session:
        attributes.update(
            session,
            attributes.SUPPORT,
            rebuild=incremental,
            added={},
            new_profiles=set(),
            now=utcnow(),
        )
    rebuilt = _attributes(database)
    assert incremental.keys() == rebuilt.keys()
    for profile_id, values in incremental.items():
        assert values == rebuilt[profile_id], profile_id
