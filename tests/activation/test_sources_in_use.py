"""A segment or saved query that an orchestration sends cannot be deleted from under it: 409
`source_in_use` naming the orchestrations, decided under a row lock so that a delete racing
an orchestration's save never leaves an orchestration without its source."""

from __future__ import annotations

import threading

import pytest

from carebase.activation import orchestrations
from carebase.activation.schemas import OrchestrationIn
from carebase.db.session import Database
from carebase.errors import NotFound, SourceInUse
from carebase.query import service as queries
from carebase.segments import service as segments
from carebase.settings import Settings
from tests.activation import runhelp

AMPERITY = "SELECT profile_id AS external_id, LOWER(full_name) AS name, email FROM customer_360"


def _destination(database: Database, settings: Settings) -> str:
    return runhelp.destination(
        database,
        settings,
        "webhook",
        {"url": "https://hooks.example.com/carebase"},
        {"signing_secret": "whsec_a-secret-of-enough-length"},
    )


def test_a_sent_segment_and_query_cannot_be_deleted_until_their_orchestrations_go(
    database: Database, settings: Settings
) -> None:
    destination_id = _destination(database, settings)
    segment_id = runhelp.segment(database, computed=False)
    query_id = runhelp.save_query(database, AMPERITY)
    by_segment = runhelp.orchestration(
        database, destination_id, {"type": "segment", "id": segment_id}, name="By segment"
    )
    by_query = runhelp.orchestration(
        database, destination_id, {"type": "query", "id": query_id}, name="By query"
    )
    with database.unit_of_work() as session, pytest.raises(SourceInUse) as refused:
        segments.delete_segment(session, segment_id)
    assert refused.value.status_code == 409
    assert refused.value.details == {"used_by": [by_segment]}
    with database.unit_of_work() as session, pytest.raises(SourceInUse) as refused:
        queries.delete_query(session, query_id)
    assert refused.value.details == {"used_by": [by_query]}

    with database.unit_of_work() as session:
        orchestrations.delete_orchestration(session, by_segment)
        orchestrations.delete_orchestration(session, by_query)
    with database.unit_of_work() as session:
        segments.delete_segment(session, segment_id)
        queries.delete_query(session, query_id)
    with database.unit_of_work() as session, pytest.raises(NotFound):
        queries.delete_query(session, query_id)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_delete_racing_an_orchestrations_save_waits_and_sees_it(
    database: Database, settings: Settings
) -> None:
    destination_id = _destination(database, settings)
    query_id = runhelp.save_query(database, AMPERITY)
    saving = threading.Event()
    outcome: list[BaseException | None] = []

    def delete() -> None:
        saving.wait(5)
        try:
            with database.unit_of_work() as session:
                queries.delete_query(session, query_id)
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    deleter = threading.Thread(target=delete)
    deleter.start()
    # The save holds the query's row (shared) from its check to its commit; the delete,
    # started meanwhile, waits for it and then sees the orchestration.
    body = OrchestrationIn.model_validate(
        {
            "name": "Racing",
            "destination_id": destination_id,
            "source": {"type": "query", "id": query_id},
            "mapping": {},
            "sync_mode": "upsert",
            "schedule": {"type": "manual"},
            "enabled": True,
        }
    )
    with database.unit_of_work() as session:
        made = orchestrations.create_orchestration(
            session, body, now=runhelp.ANCHOR, created_by="test"
        )
        saving.set()
        deleter.join(0.5)
        assert deleter.is_alive(), "the delete must wait for the save's lock"
    deleter.join(10)
    assert len(outcome) == 1
    assert isinstance(outcome[0], SourceInUse)
    assert outcome[0].details == {"used_by": [made.id]}
