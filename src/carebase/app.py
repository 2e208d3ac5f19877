"""The FastAPI application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware

from carebase import __version__
from carebase.activation.api import router as activation_router
from carebase.activity.api import router as activity_router
from carebase.activity.exports_api import router as activity_exports_router
from carebase.auth.api import router as tokens_router
from carebase.connectors.api import router as connectors_router
from carebase.connectors.service import ClientOptions
from carebase.db.migrate import migrate_to_head
from carebase.db.session import Database
from carebase.http.errors import install_error_handlers
from carebase.http.middleware import (
    AdmissionMiddleware,
    BodyGuardMiddleware,
    ConflictRetryMiddleware,
    NulGuardMiddleware,
    RequestContextMiddleware,
)
from carebase.http.openapi import document_errors
from carebase.inbox.api import router as inbox_mentions_router
from carebase.inbox.classifications_api import router as inbox_classifications_router
from carebase.inbox.forms_api import router as forms_router
from carebase.inbox.intake_api import router as inbox_intake_router
from carebase.inbox.presence_api import router as inbox_presence_router
from carebase.inbox.replies_api import router as inbox_replies_router
from carebase.inbox.sla_api import router as inbox_sla_router
from carebase.ingest.api import batch_components
from carebase.ingest.api import router as datasets_router
from carebase.ingest.service import IngestConfig
from carebase.jobkinds import registry as job_registry
from carebase.kit.jobs import Runner
from carebase.kit.jobs.api import router as jobs_router
from carebase.models import utcnow
from carebase.notes.api import router as notes_router
from carebase.profiles.api import router as profiles_router
from carebase.query.api import router as query_router
from carebase.query.service import sync_query_views
from carebase.segments.api import router as segments_router
from carebase.segments.events_api import router as events_router
from carebase.settings import Settings, get_settings
from carebase.system.api import router as system_router
from carebase.users.api import router as users_router
from carebase.web.app import console_errors, install_console

logger = logging.getLogger(__name__)

DESCRIPTION = """
carebase joins helpdesk tickets and customer records into customer profiles.

Authenticate with `Authorization: Bearer <token>` or `Auth-Api-Token: <token>`.
Every error answers `{"error": {"code", "message", "details"}}`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    clock: Callable[[], datetime] = utcnow,
    run_jobs: bool | None = None,
) -> FastAPI:
    """Build the app; migrations run on startup unless CAREBASE_MIGRATE_ON_START is false.
    Jobs run in an in-process worker when `run_jobs` (default: CAREBASE_IN_PROCESS_WORKER);
    otherwise they wait in the queue for `carebase worker` (or a test's runner)."""
    settings = settings or get_settings()
    database = database or Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            before, after = migrate_to_head(database.engine)
            if before != after:
                logger.info("database migrated from %s to %s", before or "empty", after)
        # The SQL views follow the code that runs (docs/query.md), migrated or not.
        try:
            sync_query_views(database)
        except Exception:
            logger.exception("the SQL views could not be brought up to date")
        registry = job_registry(settings, options=app.state.connector_options)
        app.state.job_registry = registry
        runner = None
        if settings.in_process_worker if run_jobs is None else run_jobs:
            runner = Runner(
                database,
                registry,
                threads=settings.worker_threads,
                lease_seconds=settings.job_lease_seconds,
                poll_seconds=settings.job_poll_seconds,
                clock=clock,
            )
            runner.start()
        app.state.job_runner = runner
        yield
        if runner is not None:
            runner.stop()
        database.dispose()

    app = FastAPI(
        title="carebase",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # /docs and /redoc are the console's pages, from vendored files (carebase.web).
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        # A slash redirect's Location is built from the client's Host header (an open
        # redirect); `GET /v1/tokens/` answers 404 naming the route without the slash instead.
        redirect_slashes=False,
        middleware=[
            Middleware(RequestContextMiddleware),
            Middleware(NulGuardMiddleware),
            Middleware(
                BodyGuardMiddleware,
                max_bytes=settings.max_body_bytes,
                min_rate=settings.min_body_rate,
                grace=settings.body_grace_seconds,
            ),
            # Outside the retries: a request run again keeps its turn.
            Middleware(
                AdmissionMiddleware,
                max_in_flight=settings.in_flight_limit,
                queue_timeout=settings.queue_timeout_ms / 1000,
                one_writer=settings.is_sqlite,
            ),
            Middleware(ConflictRetryMiddleware),
        ],
    )
    app.state.settings = settings
    app.state.database = database
    app.state.clock = clock
    app.state.ingest_config = IngestConfig.from_settings(settings)
    app.state.connector_options = ClientOptions()
    app.state.job_runner = None
    app.state.job_registry = None
    install_error_handlers(app, html=console_errors())
    # Routes are matched in order: the profile reads, the hottest GETs, come first. No
    # other router's paths overlap theirs, so no request matches differently.
    app.include_router(profiles_router)
    app.include_router(notes_router)
    app.include_router(system_router)
    app.include_router(tokens_router)
    app.include_router(users_router)
    app.include_router(datasets_router)
    app.include_router(connectors_router)
    app.include_router(jobs_router)
    # After profiles: `/v1/profiles/{id}/segments` is a path of its own (no profiles route
    # matches it), so the order only keeps the hot profile reads first.
    app.include_router(segments_router)
    app.include_router(query_router)
    app.include_router(events_router)
    app.include_router(activation_router)
    app.include_router(forms_router)
    app.include_router(activity_router)
    app.include_router(activity_exports_router)
    app.include_router(inbox_replies_router)
    app.include_router(inbox_sla_router)
    app.include_router(inbox_mentions_router)
    app.include_router(inbox_classifications_router)
    app.include_router(inbox_intake_router)
    app.include_router(inbox_presence_router)
    install_console(app)
    _document_extra_schemas(app)
    return app


def _document_extra_schemas(app: FastAPI) -> None:
    """Add the schemas that raw-body endpoints reference to the OpenAPI components, and
    every error status each operation can answer, with the error schema."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in batch_components().items():
                schemas.setdefault(name, schema)
            document_errors(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory` and for worker processes."""
    from carebase.logs import configure_logging

    settings = get_settings()
    configure_logging(settings)
    tune_garbage_collector()
    return create_app(settings)


def tune_garbage_collector() -> None:
    """Keep the cyclic GC from pausing a 1,000-event batch for 100+ ms.

    A batch allocates hundreds of thousands of short-lived, acyclic objects, which with
    the default thresholds trigger repeated full collections over everything the process
    holds. Objects alive at start-up are frozen out of collection, and collections run
    less often; reference counting still frees almost everything immediately.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
