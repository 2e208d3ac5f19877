"""Done means (a): the Amperity reference's queries, adapted (profile_id for amperity_id),
run as orchestrations to the Zendesk fake, and its users appear there with the right fields;
records without a name, with a malformed phone or with an unknown user_fields key are
reported per record, with why, and not sent. Both engines."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from carebase.db.session import Database
from carebase.settings import Settings
from tests.activation import runhelp
from tests.activation.test_sources import AMPERITY
from tests.activation.zendesk_fake import FakeZendesk, UserField, serve_zendesk
from tests.conftest import test_settings


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Loopback destinations allowed."""
    return test_settings(database_url, allow_private_outbound=True)


@pytest.fixture
def zendesk() -> Any:
    """A Zendesk account with the reference's location user fields."""
    fields = [UserField(key) for key in ("address", "address2", "city", "state", "postal")]
    with serve_zendesk(user_fields=fields) as fake:
        yield fake


def customers(database: Database) -> dict[str, dict[str, Any]]:
    """{profile id: its customer_360 row}."""
    view = "customer_360" if database.dialect == "sqlite" else "sql_api.customer_360"
    with database.unit_of_work(write=False) as session:
        rows = session.execute(
            text(f"SELECT * FROM {view} ORDER BY profile_id")  # noqa: S608
        ).all()
    return {str(r.profile_id): dict(r._mapping) for r in rows}


def test_amperity_queries_land_in_zendesk(
    database: Database, settings: Settings, zendesk: FakeZendesk
) -> None:
    runhelp.load_demo(database, settings, profiles=30)
    known = customers(database)
    named = [pid for pid, row in known.items() if row["full_name"]]
    unnamed = [pid for pid, row in known.items() if not row["full_name"]]
    assert len(named) >= 6
    assert unnamed
    bad_phone, odd_field = named[0], named[1]
    destination = runhelp.destination(
        database,
        settings,
        "zendesk",
        {"base_url": zendesk.url, "email": zendesk.email},
        {"api_token": zendesk.api_token},
    )
    # "contact and location", with one malformed phone and, for one customer, a value for
    # a user field the account does not have.
    sql = AMPERITY["contact and location"].replace(
        ",phone AS phone",
        f",CASE WHEN profile_id = '{bad_phone}' THEN '12-34' ELSE phone END AS phone"
        f",CASE WHEN profile_id = '{odd_field}' THEN 'gold' END AS \"user_fields.tier\"",
    )
    query_id = runhelp.save_query(database, sql, name="Contact and location")
    orchestration = runhelp.orchestration(
        database, destination, {"type": "query", "id": query_id}, name="Contacts"
    )
    clock = runhelp.Clock()
    done = runhelp.run_now(database, settings, clock, orchestration)
    kept = {r.record_key: r for r in runhelp.records(database, orchestration, done.id)}
    # The demo's own data has a few malformed phones too: reported the same way.
    own_bad_phones = set(kept) - {*unnamed, bad_phone, odd_field}
    assert {kept[pid].error_code for pid in own_bad_phones} <= {"invalid_phone"}
    sent = [pid for pid in named if pid not in kept]
    assert done.status == "completed_with_errors"
    assert done.counts.queried == len(known)
    assert done.counts.invalid == len(kept)
    assert (done.counts.sent, done.counts.succeeded, done.counts.rejected) == (
        len(sent),
        len(sent),
        0,
    )
    for pid in sent:
        user = zendesk.find(external_id=pid)
        row = known[pid]
        assert user["name"] == row["full_name"].lower()
        assert user.get("email") == row["email"]
        assert user.get("phone") == row["phone"]
        expected = {
            key: row[column]
            for key, column in (
                ("address", "address"),
                ("address2", "address2"),
                ("city", "city"),
                ("state", "state"),
                ("postal", "postal"),
            )
            if row[column] is not None
        }
        assert user["user_fields"] == expected
    # Each record that could not be sent is reported with why, and is not in Zendesk.
    assert {*unnamed, bad_phone, odd_field} <= set(kept)
    assert {kept[pid].error_code for pid in unnamed} == {"missing_name"}
    assert kept[bad_phone].error_code == "invalid_phone"
    assert kept[bad_phone].message is not None
    assert kept[bad_phone].message.startswith("phone:")
    assert kept[odd_field].error_code == "unknown_user_field"
    assert "tier" in (kept[odd_field].message or "")
    for pid in kept:
        assert zendesk.find(external_id=pid) is None
    assert all(count == 1 for count in zendesk.writes.values())

    # "Zendesk - Users" as a second orchestration to the same account: the same users are
    # updated (matched by external_id), none duplicated.
    users_query = runhelp.save_query(database, AMPERITY["Zendesk - Users"], name="Zendesk - Users")
    second = runhelp.orchestration(
        database, destination, {"type": "query", "id": users_query}, name="Users"
    )
    before = len(zendesk.users)
    again = runhelp.run_now(database, settings, clock, second)
    assert again.counts.invalid == len(unnamed) + len(own_bad_phones)
    assert again.counts.succeeded == len(named) - len(own_bad_phones)
    assert len(zendesk.users) == before + 2  # only the two left out before are new
    assert zendesk.find(external_id=bad_phone)["phone"] == known[bad_phone]["phone"]
    city = known[odd_field]["city"]
    assert zendesk.find(external_id=odd_field)["user_fields"] == ({"city": city} if city else {})
