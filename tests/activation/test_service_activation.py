"""Destinations and orchestrations through their services, on both engines: kinds'
validation naming `config.<field>` / `secrets.<field>`, secrets stored encrypted and never
returned, names unique, a destination in use kept, orchestrations' sources, attributes,
sync modes and schedules checked, and a run in progress keeping its orchestration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from carebase import crypto
from carebase.activation import orchestrations
from carebase.activation import service as destinations
from carebase.activation.schemas import DestinationIn, DestinationUpdate, OrchestrationIn
from carebase.db.session import Database
from carebase.errors import Conflict, NotFound, ValidationFailed
from carebase.query import service as queries
from carebase.segments import service as segments
from carebase.settings import Settings
from tests.segments.storehelp import ticket_count_at_least

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ZENDESK = {"base_url": "https://acme.zendesk.com", "email": "agent@acme.example"}
TOKEN = "zd-token-0123456789-secret"


def fields_of(error: ValidationFailed) -> list[str]:
    """The fields a 422 names."""
    return [item["field"] for item in error.details]


def zendesk(name: str = "Zendesk", **changes: Any) -> DestinationIn:
    """A valid Zendesk destination body."""
    body: dict[str, Any] = {
        "name": name,
        "kind": "zendesk",
        "config": ZENDESK,
        "secrets": {"api_token": TOKEN},
    }
    return DestinationIn.model_validate(body | changes)


@pytest.fixture
def sources(database: Database) -> dict[str, str]:
    """A saved segment and a saved query to send."""
    with database.unit_of_work() as session:
        segment = segments.create_segment(
            session,
            {
                "name": "Frequent",
                "definition": {
                    "type": "group",
                    "op": "and",
                    "children": [ticket_count_at_least(2)],
                },
            },
            now=NOW,
            created_by="test",
        )
        query = queries.create_query(
            session,
            name="Zendesk users",
            description="",
            sql="SELECT profile_id AS external_id, email FROM customer_360",
            dialect=database.dialect,
            created_by="test",
            now=NOW,
        )
    return {"segment": segment.id, "query": str(query["id"])}


@pytest.fixture
def in_session(database: Database) -> Callable[..., Any]:
    """Call a service function in its own committed unit of work."""

    def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with database.unit_of_work() as session:
            return function(session, *args, **kwargs)

    return call


def test_destination_secrets_are_encrypted_and_never_returned(
    database: Database, settings: Settings, in_session: Callable[..., Any]
) -> None:
    created = in_session(
        destinations.create_destination, zendesk(), settings=settings, now=NOW, created_by="tok"
    )
    assert created.kind == "zendesk"
    assert created.config["users_per_second"] == 100  # the model's defaults are stored
    assert created.check is None
    assert created.shown_once is None  # nothing generated for Zendesk
    assert TOKEN not in created.model_dump_json()
    with database.unit_of_work(write=False) as session:
        stored = session.execute(
            text("SELECT secrets FROM destinations WHERE id = :id"), {"id": created.id}
        ).scalar_one()
    assert TOKEN not in stored
    key = settings.secret_key.get_secret_value()
    assert orjson.loads(crypto.decrypt(key, stored)) == {"api_token": TOKEN}
    listed = in_session(destinations.list_destinations, settings=settings, cursor=None, limit=10)
    assert [d.id for d in listed.items] == [created.id]
    assert TOKEN not in listed.model_dump_json()


def test_destination_validation_names_fields(
    settings: Settings, in_session: Callable[..., Any]
) -> None:
    def refused(body: DestinationIn) -> list[str]:
        with pytest.raises(ValidationFailed) as caught:
            in_session(
                destinations.create_destination, body, settings=settings, now=NOW, created_by=None
            )
        return fields_of(caught.value)

    assert refused(zendesk(kind="mailchimp")) == ["kind"]
    assert refused(zendesk(config={"email": "a@b.example"})) == ["config.base_url"]
    assert refused(zendesk(config={**ZENDESK, "colour": "red"})) == ["config.colour"]
    assert refused(zendesk(config={**ZENDESK, "users_per_second": 500})) == [
        "config.users_per_second"
    ]
    assert refused(zendesk(secrets={})) == ["secrets.api_token"]
    assert refused(zendesk(secrets={"api_token": TOKEN, "password": "x"})) == ["secrets.password"]
    assert refused(zendesk(name="   ")) == ["name"]


def test_names_are_unique_and_put_keeps_secrets(
    database: Database, settings: Settings, in_session: Callable[..., Any]
) -> None:
    first = in_session(
        destinations.create_destination, zendesk("A"), settings=settings, now=NOW, created_by=None
    )
    in_session(
        destinations.create_destination, zendesk("B"), settings=settings, now=NOW, created_by=None
    )
    with pytest.raises(Conflict) as taken:
        in_session(
            destinations.create_destination,
            zendesk(" A "),
            settings=settings,
            now=NOW,
            created_by=None,
        )
    assert taken.value.code == "name_taken"
    key = settings.secret_key.get_secret_value()

    def stored_secrets() -> Any:
        with database.unit_of_work(write=False) as session:
            cipher = session.execute(
                text("SELECT secrets FROM destinations WHERE id = :id"), {"id": first.id}
            ).scalar_one()
        return orjson.loads(crypto.decrypt(key, cipher))

    # The last test's report, to see a changed config clear it.
    with database.unit_of_work() as session:
        session.execute(
            text(
                "UPDATE destinations SET checked_at = :at, check_ok = :ok, check_report = '[]' "
                "WHERE id = :id"
            ),
            {"at": NOW, "ok": True, "id": first.id},
        )
    renamed = in_session(
        destinations.update_destination,
        first.id,
        DestinationUpdate(name="A2", config=ZENDESK),
        settings=settings,
        now=NOW,
    )
    assert renamed.name == "A2"
    assert renamed.check is not None  # same config, same secrets: the report still holds
    assert stored_secrets() == {"api_token": TOKEN}
    changed = in_session(
        destinations.update_destination,
        first.id,
        DestinationUpdate(name="A2", config={**ZENDESK, "users_per_second": 50}),
        settings=settings,
        now=NOW,
    )
    assert changed.config["users_per_second"] == 50
    assert changed.check is None
    in_session(
        destinations.update_destination,
        first.id,
        DestinationUpdate(name="A2", config=ZENDESK, secrets={"api_token": "new-token"}),
        settings=settings,
        now=NOW,
    )
    assert stored_secrets() == {"api_token": "new-token"}
    with pytest.raises(Conflict) as clash:
        in_session(
            destinations.update_destination,
            first.id,
            DestinationUpdate(name="B", config=ZENDESK),
            settings=settings,
            now=NOW,
        )
    assert clash.value.code == "name_taken"
    with pytest.raises(ValidationFailed) as kind_change:
        in_session(
            destinations.update_destination,
            first.id,
            DestinationUpdate(name="A2", kind="webhook", config=ZENDESK),
            settings=settings,
            now=NOW,
        )
    assert fields_of(kind_change.value) == ["kind"]
    with pytest.raises(NotFound):
        in_session(destinations.get_destination, "dst_nope", settings=settings)


def orchestration(destination_id: str, source: dict[str, Any], **changes: Any) -> OrchestrationIn:
    """A valid orchestration body."""
    body: dict[str, Any] = {
        "name": "VIPs",
        "destination_id": destination_id,
        "source": source,
        "mapping": {"external_id": "profile_id"},
    }
    return OrchestrationIn.model_validate(body | changes)


def test_orchestration_validation_names_every_problem(
    settings: Settings, sources: dict[str, str], in_session: Callable[..., Any]
) -> None:
    zd = in_session(
        destinations.create_destination, zendesk(), settings=settings, now=NOW, created_by=None
    )
    sftp = in_session(
        destinations.create_destination,
        DestinationIn(
            name="Files",
            kind="sftp",
            config={"host": "sftp.example", "username": "u"},
        ),
        settings=settings,
        now=NOW,
        created_by=None,
    )

    def refused(body: OrchestrationIn) -> list[str]:
        with pytest.raises(ValidationFailed) as caught:
            in_session(orchestrations.create_orchestration, body, now=NOW, created_by=None)
        return fields_of(caught.value)

    segment = {"type": "segment", "id": sources["segment"], "attributes": ["email"]}
    assert refused(orchestration("dst_nope", segment)) == ["destination_id"]
    assert refused(orchestration(zd.id, {**segment, "id": "seg_nope"})) == ["source.id"]
    assert refused(orchestration(zd.id, {"type": "query", "id": "qry_nope"})) == ["source.id"]
    assert refused(
        orchestration(zd.id, {**segment, "attributes": ["email", "shoe_size", "email"]})
    ) == ["source.attributes[1]", "source.attributes[2]"]
    assert refused(
        orchestration(zd.id, {"type": "query", "id": sources["query"], "attributes": ["email"]})
    ) == ["source.attributes"]
    assert refused(orchestration(zd.id, segment, mapping={"name": "first_name"})) == [
        "mapping.name"
    ]
    assert refused(orchestration(zd.id, segment, mapping={" ": "email"})) == ["mapping. "]
    assert refused(orchestration(sftp.id, segment, sync_mode="update_only")) == ["sync_mode"]
    bad_cron = {"type": "cron", "cron": "0 6 * *", "timezone": "Australia/Sydney"}
    assert refused(orchestration(zd.id, segment, schedule=bad_cron)) == ["schedule.cron"]
    bad_zone = {"type": "cron", "cron": "0 6 * * *", "timezone": "Australia/Perth2"}
    assert refused(orchestration(zd.id, segment, schedule=bad_zone)) == ["schedule.timezone"]
    assert refused(orchestration(zd.id, segment, name=" ", sync_mode="update_only")) == ["name"]


def test_orchestration_schedule_and_lifecycle(
    database: Database,
    settings: Settings,
    sources: dict[str, str],
    in_session: Callable[..., Any],
) -> None:
    zd = in_session(
        destinations.create_destination, zendesk(), settings=settings, now=NOW, created_by=None
    )
    segment = {"type": "segment", "id": sources["segment"], "attributes": ["email", "first_name"]}
    cron = {"type": "cron", "cron": " 0  6 * * * ", "timezone": "Australia/Sydney"}
    created = in_session(
        orchestrations.create_orchestration,
        orchestration(zd.id, segment, schedule=cron),
        now=NOW,
        created_by="tok_1",
    )
    assert created.schedule.model_dump() == {
        "type": "cron",
        "cron": "0 6 * * *",
        "timezone": "Australia/Sydney",
    }
    # 2026-11-23 12:00 UTC is 23:00 in Sydney (AEDT, +11): next 06:00 local is 19:00 UTC.
    assert created.next_run_at == datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    assert (created.revision, created.active_run_id, created.last_run) == (1, None, None)
    assert created.sync_mode == "upsert"

    with pytest.raises(Conflict) as taken:
        in_session(
            orchestrations.create_orchestration,
            orchestration(zd.id, segment),
            now=NOW,
            created_by=None,
        )
    assert taken.value.code == "name_taken"

    manual = in_session(
        orchestrations.update_orchestration,
        created.id,
        orchestration(zd.id, {"type": "query", "id": sources["query"]}, mapping={}),
        now=NOW,
    )
    assert manual.schedule.type == "manual"
    assert manual.next_run_at is None
    assert manual.revision == 2
    disabled = in_session(
        orchestrations.update_orchestration,
        created.id,
        orchestration(zd.id, segment, schedule=cron, enabled=False),
        now=NOW,
    )
    assert disabled.next_run_at is None

    with pytest.raises(Conflict) as in_use:
        in_session(destinations.delete_destination, zd.id)
    assert in_use.value.code == "destination_in_use"
    assert in_use.value.details["used_by"] == [{"id": created.id, "name": "VIPs"}]

    with database.unit_of_work() as session:
        session.execute(
            text("UPDATE orchestrations SET active_run_id = 'run_x' WHERE id = :id"),
            {"id": created.id},
        )
    with pytest.raises(Conflict) as running:
        in_session(orchestrations.delete_orchestration, created.id)
    assert running.value.code == "run_in_progress"
    with database.unit_of_work() as session:
        session.execute(
            text("UPDATE orchestrations SET active_run_id = NULL WHERE id = :id"),
            {"id": created.id},
        )
    in_session(orchestrations.delete_orchestration, created.id)
    with pytest.raises(NotFound):
        in_session(orchestrations.get_orchestration, created.id)
    in_session(destinations.delete_destination, zd.id)
    with pytest.raises(NotFound):
        in_session(destinations.delete_destination, zd.id)


def test_orchestrations_page_by_name(
    settings: Settings, sources: dict[str, str], in_session: Callable[..., Any]
) -> None:
    zd = in_session(
        destinations.create_destination, zendesk(), settings=settings, now=NOW, created_by=None
    )
    for name in ("c", "a", "b"):
        in_session(
            orchestrations.create_orchestration,
            orchestration(zd.id, {"type": "query", "id": sources["query"]}, name=name, mapping={}),
            now=NOW,
            created_by=None,
        )
    first = in_session(orchestrations.list_orchestrations, cursor=None, limit=2)
    assert [o.name for o in first.items] == ["a", "b"]
    second = in_session(orchestrations.list_orchestrations, cursor=first.next_cursor, limit=2)
    assert ([o.name for o in second.items], second.next_cursor) == (["c"], None)


def test_connection_test_report_is_stored(
    database: Database, settings: Settings, in_session: Callable[..., Any]
) -> None:
    # An unreachable account: nothing listens on the port; the report says what failed.
    created = in_session(
        destinations.create_destination,
        zendesk(config={**ZENDESK, "base_url": "https://127.0.0.1:9"}),
        settings=settings,
        now=NOW,
        created_by=None,
    )
    result = destinations.test_destination(database, created.id, settings, NOW)
    assert result.ok is False
    assert result.steps
    assert not result.steps[-1].ok
    again = in_session(destinations.get_destination, created.id, settings=settings)
    assert again.check == result
