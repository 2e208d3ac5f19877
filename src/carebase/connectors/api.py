"""The connectors admin API and the helpdesk webhook receiver."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from carebase.auth.scopes import ADMIN
from carebase.auth.service import Principal
from carebase.connectors import service
from carebase.connectors.schemas import (
    ConnectorCreate,
    ConnectorCreated,
    ConnectorList,
    ConnectorOut,
    DeliveryList,
    DeliveryOut,
    WebhookAccepted,
)
from carebase.connectors.zendesk import TRIGGER_TEMPLATE
from carebase.errors import CarebaseError
from carebase.http.deps import DbSession, Now, require_scope
from carebase.http.errors import error_response
from carebase.http.routing import JSONRoute
from carebase.kit.pagination import Cursor
from carebase.models import Connector

router = APIRouter(prefix="/v1/connectors", tags=["connectors"], route_class=JSONRoute)
Admin = Annotated[Principal, Depends(require_scope(ADMIN))]


def _out(session: Any, connector: Connector) -> dict[str, Any]:
    return {
        "id": connector.id,
        "kind": connector.kind,
        "name": connector.name,
        "base_url": connector.base_url,
        "dataset_id": connector.dataset_id,
        "webhook_path": f"/v1/connectors/{connector.id}/webhook",
        "webhook_auth": service.describe_secret_use(connector.kind),
        "deliveries": service.delivery_counts(session, connector.id),
        "backfill_state": connector.backfill_state,
        "created_at": connector.created_at,
    }


@router.post(
    "",
    status_code=201,
    operation_id="createConnector",
    response_model=ConnectorCreated,
    responses={404: {"description": "No dataset has the body's dataset_id."}},
)
def create_connector(
    body: ConnectorCreate, request: Request, _admin: Admin, session: DbSession, now: Now
) -> ConnectorCreated:
    """Connect a helpdesk to a ticket dataset. Gorgias and Freshdesk connectors answer with a
    webhook secret, shown this once."""
    connector, secret = service.create_connector(
        session,
        kind=body.kind,
        name=body.name,
        domain=body.domain,
        dataset_id=body.dataset_id,
        credentials=body.credentials,
        signing_secret=body.signing_secret,
        settings=request.app.state.settings,
        now=now,
    )
    return ConnectorCreated(**_out(session, connector), webhook_secret=secret)


@router.get("", operation_id="listConnectors", response_model=ConnectorList)
def list_connectors(_admin: Admin, session: DbSession) -> ConnectorList:
    """Every connector (credentials are never shown)."""
    return ConnectorList(
        connectors=[ConnectorOut(**_out(session, c)) for c in service.list_connectors(session)]
    )


@router.get(
    "/zendesk-trigger-template",
    operation_id="getZendeskTriggerTemplate",
    response_model=dict[str, str],
)
def zendesk_trigger_template(_admin: Admin) -> dict[str, str]:
    """The JSON body to give a Zendesk trigger's "Notify webhook" action."""
    return TRIGGER_TEMPLATE


@router.get("/{connector_id}", operation_id="getConnector", response_model=ConnectorOut)
def get_connector(connector_id: str, _admin: Admin, session: DbSession) -> ConnectorOut:
    """One connector with its delivery counts and backfill position."""
    return ConnectorOut(**_out(session, service.get_connector(session, connector_id)))


@router.delete("/{connector_id}", status_code=204, operation_id="deleteConnector")
def delete_connector(connector_id: str, _admin: Admin, session: DbSession) -> None:
    """Delete a connector and its deliveries; the tickets it brought stay."""
    service.delete_connector(session, connector_id)


@router.get(
    "/{connector_id}/deliveries", operation_id="listWebhookDeliveries", response_model=DeliveryList
)
def list_deliveries(
    connector_id: str,
    _admin: Admin,
    session: DbSession,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> DeliveryList:
    """A connector's webhook deliveries, most recent first, to see what failed and why."""
    rows, following = service.deliveries(session, connector_id, status, cursor=cursor, limit=limit)
    items = [DeliveryOut.model_validate(row) for row in rows]
    return DeliveryList(items=items, deliveries=items, next_cursor=following)


def _webhook_connector(
    connector_id: str, request: Request, session: DbSession, now: Now
) -> Connector:
    """The connector a webhook names, its call counted: before the body is read, so that a
    call for no connector, or a flood of them, does not make the server receive bodies."""
    connector = service.get_connector(session, connector_id)
    # Counted before authentication: a flood of forged calls is stopped before it fills the log.
    service.count_webhook_call(
        request.app.state.database, connector, request.app.state.settings, now
    )
    return connector


async def _raw_body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/{connector_id}/webhook",
    status_code=202,
    operation_id="receiveHelpdeskWebhook",
    response_model=WebhookAccepted,
    responses={
        400: {"description": "The body is not JSON."},
        401: {"description": "Wrong or missing signature or secret (logged)."},
        404: {"description": "No such connector."},
        422: {"description": "The body names no ticket (logged)."},
    },
    # The handler reads the raw bytes (signatures are over them), so FastAPI cannot see the
    # body it requires: the helpdesk's JSON event, documented here.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "description": "The helpdesk's event, as its webhook sends it.",
                    }
                }
            },
        }
    },
)
def receive_webhook(
    request: Request,
    connector: Annotated[Connector, Depends(_webhook_connector)],
    # Declared after the connector: dependencies are solved in order.
    body: Annotated[bytes, Depends(_raw_body)],
    session: DbSession,
    now: Now,
) -> WebhookAccepted | JSONResponse:
    """Receive a helpdesk webhook. No API token: Zendesk deliveries are verified by their
    signature, Gorgias and Freshdesk ones by the connector's secret. The delivery is stored
    with the job that processes it, then answered 202; a worker fetches and ingests the ticket
    right after (this process's workers are woken by the commit)."""
    started = time.perf_counter()
    settings = request.app.state.settings
    try:
        service.authenticate_webhook(connector, request.headers, body, settings, now)
        receipt = service.receive_webhook(session, connector, body, now=now)
    except CarebaseError as error:
        # Answer instead of raising, so the unit of work commits the log entry.
        service.refuse_webhook(session, connector, error, now=now, started=started)
        return error_response(error.status_code, error.code, error.message, error.details)
    return WebhookAccepted(
        delivery_id=receipt.delivery_id, ticket_id=receipt.ticket_id, duplicate=receipt.duplicate
    )
