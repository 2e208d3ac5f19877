"""The locks that serialise writers of the same keys on PostgreSQL (bookkept on SQLite)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from carebase.db import locks
from carebase.db.session import Database
from tests.conftest import test_settings

# Row locks are PostgreSQL's: SQLite serialises writers, so there they are only bookkept.
on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
on_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def pg(database_url: str) -> Database:
    """This test's PostgreSQL database."""
    return Database.from_settings(test_settings(database_url))


@on_postgresql
def test_many_transactions_holding_thousands_of_keys_at_once(pg: Database) -> None:
    """Four 1,000-record batches hold about 4 x 3,000 keys at once: advisory locks ran out of
    PostgreSQL's shared lock table (6,400 slots by default); row locks need none."""
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def batch(number: int) -> None:
        try:
            with pg.unit_of_work() as session:
                locks.lock_keys(session, (f"link:email::{number}-{i}@x.test" for i in range(3000)))
                barrier.wait(timeout=60)  # all four hold their keys now
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=batch, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pg.dispose()
    assert errors == []


@on_postgresql
def test_a_shared_key_makes_the_second_writer_wait_for_the_first(pg: Database) -> None:
    order: list[str] = []
    first_holds = threading.Event()

    def first() -> None:
        with pg.unit_of_work() as session:
            locks.lock_keys(session, ["link:email::shared@x.test", "link:email::a@x.test"])
            first_holds.set()
            time.sleep(0.5)
            order.append("first commits")

    def second() -> None:
        first_holds.wait(10)
        with pg.unit_of_work() as session:
            locks.lock_keys(session, ["link:email::b@x.test", "link:email::shared@x.test"])
            order.append("second holds")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pg.dispose()
    assert order == ["first commits", "second holds"]


@on_postgresql
def test_a_locked_profile_still_takes_new_rows_pointing_at_it(pg: Database) -> None:
    """FOR NO KEY UPDATE does not block the foreign-key check of an insert that names the
    profile, so holding a profile never stalls unrelated inserts; it does block another
    writer that locks the same profile."""
    now = datetime(2026, 11, 29, tzinfo=UTC)
    with pg.unit_of_work() as session:
        session.execute(
            text("INSERT INTO profiles (id, created_at, updated_at) VALUES ('prf_l', :n, :n)"),
            {"n": now},
        )
    holder = pg.open_session(write=True)
    locks.lock_profiles(holder, ["prf_l"])
    with pg.unit_of_work() as session:
        session.execute(text("SET LOCAL lock_timeout = '2s'"))
        session.execute(
            text(
                "INSERT INTO profile_links (profile_id, link_type, system_name, value, derived,"
                " created_at) VALUES ('prf_l', 'email', '', 'fk@x.test', false, :n)"
            ),
            {"n": now},
        )

    def lock_again() -> None:
        with pg.unit_of_work() as session:
            session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            locks.lock_profiles(session, ["prf_l"])

    with pytest.raises(Exception, match="lock timeout"):
        lock_again()
    pg.finish(holder, commit=True)
    pg.dispose()


@on_sqlite
def test_sqlite_only_bookkeeps(database_url: str) -> None:
    database = Database.from_settings(test_settings(database_url))
    with database.unit_of_work() as session:
        locks.lock_keys(session, ["link:email::x@x.test"])
        locks.lock_profiles(session, ["prf_nobody"])
        assert locks.holds(session, "link:email::x@x.test")
        assert locks.holds(session, locks.profile_key("prf_nobody"))
    with database.unit_of_work() as session:
        assert not locks.holds(session, "link:email::x@x.test"), "released with the transaction"
    database.dispose()
