"""`carebase demo`: a seeded brand, loaded through the ingestion path."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from carebase.db.session import Database
from carebase.demo.generate import generate
from tests.cli.test_cli import invoke
from tests.conftest import test_settings

ANCHOR = datetime(2026, 11, 23, tzinfo=UTC)


def test_the_same_seed_and_day_give_the_same_brand() -> None:
    first = generate(profiles=40, tickets=100, seed=3, anchor=ANCHOR)
    again = generate(profiles=40, tickets=100, seed=3, anchor=ANCHOR)
    other = generate(profiles=40, tickets=100, seed=4, anchor=ANCHOR)
    assert first.batches == again.batches
    assert first.batches != other.batches
    tickets = first.batches["customer_support_ticket"]
    assert len(tickets) == 100
    assert {t["channel"]["type"][0] for t in tickets} == {"email", "chat", "web_form"}
    assert all(t["agents"] and t["tags"] for t in tickets)
    assert any(t["satisfaction_score"] for t in tickets)
    assert all(t["timeline"]["created_at"] < ANCHOR.isoformat() for t in tickets)


def test_demo_loads_every_record_without_a_rejection_and_merges(database_url: str) -> None:
    code, _, stderr = invoke(
        database_url, "demo", "--profiles", "60", "--tickets", "240", "--anchor", "2026-11-23"
    )
    assert code == 0, stderr
    assert "0 rejected" in stderr
    database = Database.from_settings(test_settings(database_url))
    with database.unit_of_work(write=False) as session:
        logs = session.execute(
            text("SELECT source, SUM(received), SUM(rejected) FROM ingestion_logs GROUP BY source")
        ).all()
        rules = dict(
            session.execute(text("SELECT rule, COUNT(*) FROM profile_merges GROUP BY rule")).all()
        )
        tickets = session.execute(text("SELECT COUNT(*) FROM tickets")).scalar_one()
        datasets = session.execute(text("SELECT COUNT(*) FROM datasets")).scalar_one()
        mentions = session.execute(text("SELECT COUNT(*) FROM mentions")).scalar_one()
        answered = session.execute(
            text("SELECT COUNT(*) FROM mentions WHERE response_s IS NOT NULL")
        ).scalar_one()
    database.dispose()
    [(source, received, rejected)] = logs
    assert (source, rejected) == ("demo", 0)
    assert received > 240
    assert tickets == 240
    assert datasets == 16, "one dataset per record type loaded, and the inbox's messages"
    # The demo inbox: its messages arrived and most were answered.
    assert mentions == 500
    assert answered > 300
    assert "Demo inbox: 500 messages" in stderr
    assert rules.get("unify", 0) > 0
    assert rules.get("shared_link", 0) > 0

    # A second run leaves a populated carebase alone.
    code, _, stderr = invoke(database_url, "demo", "--profiles", "60", "--tickets", "240")
    assert code == 0
    assert "not loaded" in stderr
