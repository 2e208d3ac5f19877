"""Every link form, and hashed emails meeting plain ones."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text

from carebase.db.migrate import alembic_config, migrate_to_head
from carebase.db.session import Database
from carebase.identity import service as identity
from carebase.identity.links import Link, LinkNormaliser
from carebase.models import utcnow
from tests.conftest import IN_CI, test_settings
from tests.helpers import auth, create_dataset, post_tickets, ticket
from tests.pg import PostgresServer

normaliser = LinkNormaliser(blocked_values=("null",), default_region=None)
SHA = hashlib.sha256(b"aaron@gmail.com").hexdigest()
MD5 = hashlib.md5(b"aaron@gmail.com", usedforsecurity=False).hexdigest()


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ({"email_sha256": SHA.upper()}, [Link("email_sha256", SHA)]),
        ({"email_md5": f" {MD5} "}, [Link("email_md5", MD5)]),
        ({"external_id": "Z-1", "system_name": "zendesk"}, [Link("external_id", "Z-1", "zendesk")]),
        ({"customer_id": "1"}, [Link("customer_id", "1")]),
        (
            {"link_type": "customer_id", "link_value": "42", "id_type": "shopify"},
            [Link("customer_id", "42", "shopify")],
        ),
        ({"link_type": "mobile", "link_value": "61404000000"}, [Link("mobile", "+61404000000")]),
    ],
)
def test_link_forms(link: dict[str, str], expected: list[Link]) -> None:
    result = normaliser.normalise(link)  # type: ignore[arg-type]
    assert result.errors == []
    assert result.links == expected


@pytest.mark.parametrize(
    ("link", "field"),
    [
        ({"email_sha256": "abc"}, "link.email_sha256"),
        ({"email_md5": "z" * 32}, "link.email_md5"),
        ({"external_id": "Z-1"}, "link.system_name"),
        ({"link_type": "engage.id", "link_value": "x"}, "link.link_type"),
        ({"link_type": "email", "link_value": ""}, "link.link_value"),
    ],
)
def test_bad_link_forms_name_the_field(link: dict[str, str], field: str) -> None:
    result = normaliser.normalise(link)  # type: ignore[arg-type]
    assert result.links == []
    assert [error["field"] for error in result.errors] == [field]


def test_an_email_brings_its_hashes_as_derived_links() -> None:
    links = normaliser.normalise({"email": "Aaron@Gmail.com"}).links
    assert links == [
        Link("email", "aaron@gmail.com"),
        Link("email_sha256", SHA),
        Link("email_md5", MD5),
    ]
    assert [link.derived for link in links] == [False, True, True]


def test_hashed_lookups_find_the_plain_email(client: TestClient, admin_token: str) -> None:
    dataset_id = create_dataset(client, admin_token)
    post_tickets(client, admin_token, dataset_id, [ticket("1")])
    plain = client.get("/v1/profiles/by/email/aaron@gmail.com", headers=auth(admin_token)).json()
    by_sha = client.get(f"/v1/profiles/by/email_sha256/{SHA.upper()}", headers=auth(admin_token))
    by_md5 = client.get(f"/v1/profiles/by/email_md5/{MD5}", headers=auth(admin_token))
    assert by_sha.json()["id"] == by_md5.json()["id"] == plain["id"]
    # Derived hashes link, but the profile shows the identifiers it was given.
    assert {link["type"] for link in plain["links"]} == {"email", "mobile"}
    bad = client.get("/v1/profiles/by/email_sha256/not-a-hash", headers=auth(admin_token))
    assert bad.status_code == 422


def test_a_hashed_only_profile_is_joined_by_the_plain_email(database: Database) -> None:
    guards = identity.Guards(max_emails=10, max_mobiles=10)
    with database.unit_of_work() as session:
        first = identity.resolve(
            session, [(0, [Link("email_sha256", SHA)])], guards=guards, now=utcnow(), log_id=None
        )
    plain = normaliser.normalise({"email": "aaron@gmail.com", "mobile": "+61404000000"}).links
    with database.unit_of_work() as session:
        second = identity.resolve(session, [(0, plain)], guards=guards, now=utcnow(), log_id=None)
        shown = identity.profile_links(session, second.profile_of[0])
    assert second.profile_of == first.profile_of
    assert second.created_profiles == set()
    assert {link.link_type for link in shown} == {"email", "email_sha256", "mobile"}


def test_forgetting_a_plain_email_suppresses_its_hashes(database: Database) -> None:
    guards = identity.Guards(max_emails=10, max_mobiles=10)
    links = normaliser.normalise({"email": "aaron@gmail.com"}).links
    with database.unit_of_work() as session:
        profile_id = identity.resolve(
            session, [(0, links)], guards=guards, now=utcnow(), log_id=None
        ).profile_of[0]
        identity.forget_profile(session, profile_id, now=utcnow(), reason="test")
    with database.unit_of_work(write=False) as session:
        hashed_only = [Link("email_md5", MD5)]
        assert identity.suppressed_links(session, hashed_only) == set(hashed_only)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer | None = request.getfixturevalue("postgres")
    if server is None:
        if IN_CI:
            pytest.fail("CI=true but PostgreSQL is unavailable")
        pytest.skip("PostgreSQL unavailable")
    name = f"empty_{os.getpid()}"
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    yield server.url(name)
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_upgrade_derives_hashes_of_stored_emails(empty_database_url: str) -> None:
    database = Database.from_settings(test_settings(empty_database_url))
    command.upgrade(alembic_config(database.engine), "0002")
    now = utcnow()
    with database.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO profiles (id, created_at, updated_at) VALUES ('prf_1', :t, :t)"),
            {"t": now if database.dialect == "postgresql" else now.isoformat(sep=" ")[:26]},
        )
        connection.execute(
            text(
                "INSERT INTO profile_links (profile_id, link_type, system_name, value, created_at)"
                " VALUES ('prf_1', 'email', '', 'aaron@gmail.com', :t)"
            ),
            {"t": now if database.dialect == "postgresql" else now.isoformat(sep=" ")[:26]},
        )
    migrate_to_head(database.engine)
    with database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT link_type, value, derived FROM profile_links ORDER BY link_type")
        ).all()
    database.dispose()
    assert [tuple(row) for row in rows] == [
        ("email", "aaron@gmail.com", False),
        ("email_md5", MD5, True),
        ("email_sha256", SHA, True),
    ]
