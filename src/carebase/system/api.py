"""`GET /v1/health`: unauthenticated, for load balancers and humans."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from carebase import __version__
from carebase.errors import ServiceUnavailable
from carebase.http.deps import DbSession
from carebase.http.routing import JSONRoute
from carebase.system import repository
from carebase.system.schemas import Health

router = APIRouter(prefix="/v1", tags=["system"], route_class=JSONRoute)
logger = logging.getLogger(__name__)


@router.get(
    "/health",
    operation_id="getHealth",
    response_model=Health,
    responses={503: {"description": "The database cannot be reached."}},
)
def health(session: DbSession) -> Health:
    """Whether the server and its database answer, with version and engine."""
    engine = session.get_bind().dialect.name
    try:
        repository.ping(session)
        revision = repository.schema_revision(session)
    except SQLAlchemyError as error:
        logger.warning("health check: database unreachable (%s)", type(error).__name__)
        raise ServiceUnavailable(
            "The database cannot be reached.",
            details={"version": __version__, "engine": engine, "database": "unreachable"},
        ) from error
    return Health(
        status="ok", version=__version__, engine=engine, database="ok", schema_revision=revision
    )
