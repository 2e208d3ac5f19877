"""Builders shared by the run engine's tests: data to send, destinations and orchestrations
made through the activation services, and a worker pass that runs due jobs in this thread."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from carebase.activation import orchestrations, run_service, runs, ticks
from carebase.activation import service as destinations
from carebase.activation.run_schemas import RunOut
from carebase.activation.schemas import DestinationIn, OrchestrationIn
from carebase.connectors.service import ClientOptions
from carebase.db.session import Database
from carebase.demo.generate import generate
from carebase.demo.service import load
from carebase.ingest.service import IngestConfig
from carebase.kit.jobs import Registry, Runner, RunSummary
from carebase.models.activation import ActivationState, RunItem
from carebase.query import service as queries
from carebase.settings import Settings

ANCHOR = datetime(2026, 11, 23, tzinfo=UTC)


class Clock:
    """A clock the test moves (the job runner's and the services' `now`)."""

    def __init__(self, start: datetime = ANCHOR + timedelta(hours=12)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move on."""
        self.now += timedelta(seconds=seconds)


def load_demo(database: Database, settings: Settings, profiles: int = 30) -> None:
    """A small demo brand loaded through ingestion (customers with names, emails, phones)."""
    data = generate(profiles=profiles, tickets=profiles, seed=11, anchor=ANCHOR)
    summary = load(database, data, config=IngestConfig.from_settings(settings), now=ANCHOR)
    assert summary.rejected == 0


def save_query(database: Database, sql: str, name: str = "Send") -> str:
    """A saved query's id."""
    with database.unit_of_work() as session:
        saved = queries.create_query(
            session,
            name=name,
            description="",
            sql=sql,
            dialect=database.dialect,
            created_by="test",
            now=ANCHOR,
        )
    return str(saved["id"])


def set_sql(database: Database, query_id: str, sql: str) -> None:
    """Change a saved query's SQL."""
    with database.unit_of_work() as session:
        current = queries.get_query(session, query_id)
        queries.update_query(
            session,
            query_id,
            name=current["name"],
            description="",
            sql=sql,
            dialect=database.dialect,
            now=ANCHOR,
        )


def destination(
    database: Database,
    settings: Settings,
    kind: str,
    config: dict[str, Any],
    secrets: dict[str, Any],
    name: str = "Destination",
) -> str:
    """A destination's id, made through the service."""
    body = DestinationIn.model_validate(
        {"name": name, "kind": kind, "config": config, "secrets": secrets}
    )
    with database.unit_of_work() as session:
        made = destinations.create_destination(
            session, body, settings=settings, now=ANCHOR, created_by="test"
        )
    return made.id


def orchestration(
    database: Database,
    destination_id: str,
    source: dict[str, Any],
    *,
    name: str = "Orchestration",
    mapping: dict[str, str] | None = None,
    schedule: dict[str, Any] | None = None,
    now: datetime = ANCHOR,
) -> str:
    """An orchestration's id, made through the service."""
    body = OrchestrationIn.model_validate(
        {
            "name": name,
            "destination_id": destination_id,
            "source": source,
            "mapping": mapping or {},
            "sync_mode": "upsert",
            "schedule": schedule or {"type": "manual"},
            "enabled": True,
        }
    )
    with database.unit_of_work() as session:
        made = orchestrations.create_orchestration(session, body, now=now, created_by="test")
    return made.id


def registry(settings: Settings, options: ClientOptions | None = None) -> Registry:
    """The activation job kinds, polling fast."""
    return Registry(
        [
            runs.job_kind(settings, options, poll_interval=0.02),
            ticks.job_kind(settings),
        ]
    )


def work(
    database: Database,
    settings: Settings,
    clock: Callable[[], datetime],
    options: ClientOptions | None = None,
) -> RunSummary:
    """Run every due job in this thread, as a worker would."""
    return Runner(database, registry(settings, options), clock=clock).run_due()


def start(database: Database, orchestration_id: str, now: datetime, **flags: Any) -> RunOut:
    """Start a run."""
    with database.unit_of_work() as session:
        return run_service.start_run(session, orchestration_id, now=now, **flags)


def run_now(
    database: Database, settings: Settings, clock: Clock, orchestration_id: str, **flags: Any
) -> RunOut:
    """Start a run, work it to its end, return it."""
    started = start(database, orchestration_id, clock(), **flags)
    work(database, settings, clock)
    with database.unit_of_work(write=False) as session:
        return run_service.get_run(session, orchestration_id, started.id)


def records(database: Database, orchestration_id: str, run_id: str) -> list[Any]:
    """Every record kept of a run."""
    with database.unit_of_work(write=False) as session:
        found, _ = run_service.list_records(
            session, orchestration_id, run_id, status=None, limit=100_000, after=None
        )
    return found


def state_of(database: Database, orchestration_id: str) -> dict[str, str]:
    """{record key: status} of the orchestration's diff state."""
    with database.unit_of_work(write=False) as session:
        rows = session.execute(
            select(ActivationState.record_key, ActivationState.status).where(
                ActivationState.orchestration_id == orchestration_id
            )
        ).all()
    return {str(key): str(status) for key, status in rows}


def item_rows(database: Database, run_id: str) -> list[Any]:
    """A run's item rows as stored."""
    with database.unit_of_work(write=False) as session:
        return list(
            session.execute(select(RunItem).where(RunItem.run_id == run_id)).scalars().all()
        )


def segment(database: Database, *, at_least: int = 1, computed: bool = True) -> str:
    """A saved segment (profiles with at least `at_least` tickets), computed unless asked."""
    from carebase.segments import refresh
    from carebase.segments import service as segments

    with database.unit_of_work() as session:
        made = segments.create_segment(
            session,
            {
                "name": f"At least {at_least}",
                "definition": {
                    "type": "group",
                    "op": "and",
                    "children": [
                        {
                            "type": "attribute",
                            "field": "ticket_count",
                            "op": "gte",
                            "value": at_least,
                        }
                    ],
                },
            },
            now=ANCHOR,
            created_by="test",
        )
    if computed:
        with database.unit_of_work() as session:
            refresh.refresh(session, made.id, now=ANCHOR, window_limit_days=120)
    return made.id


def utcnow() -> datetime:
    """The real time (for runs worked by real worker processes)."""
    return datetime.now(UTC)
