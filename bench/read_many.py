"""Reading profiles in pages: `read_many` (a few set-based queries per page) against one
`read` per profile.

Loads the demo brand (`--profiles` people with customer records, purchases, email and SMS
events and tickets) into a fresh SQLite file through the ingestion service (setup, not
measured), then reads every live profile in pages of `--page` both ways, in one read-only
transaction per page, and prints profiles/s for each and their ratio.

    .venv/bin/python -m bench.read_many [--profiles 2000] [--tickets 6000] [--page 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.conftest import test_settings

from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database
from carebase.demo import service as demo
from carebase.demo.generate import generate
from carebase.ingest.service import IngestConfig
from carebase.models import Profile
from carebase.profiles import service as profiles

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def _rate(database: Database, pages: list[list[str]], read: Callable[..., object]) -> float:
    started = time.perf_counter()
    count = 0
    for page in pages:
        with database.unit_of_work(write=False) as session:
            read(session, page)
        count += len(page)
    return count / (time.perf_counter() - started)


def main() -> None:
    """Load, then time both ways of reading every profile."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", type=int, default=2000)
    parser.add_argument("--tickets", type=int, default=6000)
    parser.add_argument("--page", type=int, default=100)
    parser.add_argument("--tickets-per-profile", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        settings = test_settings(f"sqlite:///{Path(directory) / 'bench.db'}")
        database = Database.from_settings(settings)
        migrate_to_head(database.engine)
        data = generate(profiles=args.profiles, tickets=args.tickets, seed=7, anchor=NOW)
        demo.load(database, data, config=IngestConfig.from_settings(settings), now=NOW)
        with database.unit_of_work(write=False) as session:
            query = select(Profile.id).where(Profile.merged_into_id.is_(None)).order_by(Profile.id)
            ids = list(session.execute(query).scalars())
        pages = [ids[start : start + args.page] for start in range(0, len(ids), args.page)]
        tickets = args.tickets_per_profile

        def single(session: Session, page: list[str]) -> None:
            for profile_id in page:
                profiles.read(session, profile_id, tickets=tickets, now=NOW).out()

        def many(session: Session, page: list[str]) -> None:
            profiles.read_many(session, page, now=NOW, tickets=tickets)

        _rate(database, pages[:2], many)  # warm caches and compiled statements
        _rate(database, pages[:2], single)
        one_by_one = _rate(database, pages, single)
        paged = _rate(database, pages, many)
        database.dispose()
    print(f"{len(ids):,} profiles, pages of {args.page}, {tickets} recent tickets each")
    print(f"single reads: {one_by_one:,.0f} profiles/s")
    print(f"read_many:    {paged:,.0f} profiles/s ({paged / one_by_one:.1f}x)")


if __name__ == "__main__":
    main()
