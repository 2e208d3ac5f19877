"""`GET /v1/health` and the OpenAPI document."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from carebase import __version__
from carebase.app import create_app
from carebase.db.migrate import head_revision
from carebase.db.session import Database
from tests.conftest import FakeClock, test_settings
from tests.pg import free_port


def test_health_reports_version_engine_and_schema(client: TestClient, database: Database) -> None:
    response = client.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "version": __version__,
        "engine": database.dialect,
        "database": "ok",
        "schema_revision": head_revision(),
    }


def test_health_answers_503_when_the_database_is_unreachable(clock: FakeClock) -> None:
    settings = test_settings(
        f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2"
    )
    app = create_app(settings, database=Database.from_settings(settings), clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/health")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "service_unavailable"
    assert error["details"]["database"] == "unreachable"
    assert "nobody" not in response.text


def test_docs_and_openapi_have_explicit_operation_ids(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    operation_ids = [
        operation["operationId"] for path in spec["paths"].values() for operation in path.values()
    ]
    assert len(operation_ids) == len(set(operation_ids))
    # FastAPI's generated ids look like name_path_method; ours are camelCase verbs.
    assert all("_" not in op for op in operation_ids), operation_ids
    assert {"getHealth", "createToken", "listTokens", "getToken", "revokeToken"} <= set(
        operation_ids
    )
    schemes = spec["components"]["securitySchemes"]
    assert {scheme["type"] for scheme in schemes.values()} == {"http", "apiKey"}


def test_every_openapi_reference_resolves(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    text = json.dumps(spec)
    references = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text))
    assert references <= set(spec["components"]["schemas"])
    ingest = spec["paths"]["/v1/datasets/{dataset_id}/customer_support_ticket"]["post"]
    body = ingest["requestBody"]["content"]["application/json"]["schema"]
    assert body["items"] == {"$ref": "#/components/schemas/TicketEvent"}
    assert body["maxItems"] == 1000
    required = spec["components"]["schemas"]["TicketEvent"]["required"]
    assert set(required) == {"ticket_id", "action_at", "link", "timeline"}
