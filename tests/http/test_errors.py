"""Every failure the server can produce answers in the one error shape, without internals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carebase.app import create_app
from carebase.db.session import Database
from tests.conftest import FakeClock, make_token, test_settings


def assert_error_shape(body: object, code: str) -> None:
    assert isinstance(body, dict)
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]


def test_400_malformed_json(client: TestClient, admin_token: str) -> None:
    response = client.post(
        "/v1/tokens",
        content=b'{"name": "x", "scopes": [',
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert_error_shape(response.json(), "malformed_json")


def test_401_without_token(client: TestClient) -> None:
    response = client.get("/v1/tokens")
    assert response.status_code == 401
    assert_error_shape(response.json(), "unauthenticated")


def test_403_wrong_scope(client: TestClient, database: Database) -> None:
    token = make_token(database, "profiles:read")
    response = client.get("/v1/tokens", headers={"Auth-Api-Token": token})
    assert response.status_code == 403
    assert_error_shape(response.json(), "insufficient_scope")


def test_404_unknown_route(client: TestClient) -> None:
    response = client.get("/v1/no-such-thing")
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


def test_405_wrong_method(client: TestClient) -> None:
    response = client.put("/v1/health")
    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")
    assert "GET" in response.headers["Allow"]


@pytest.fixture
def small_body_client(
    database_url: str, database: Database, clock: FakeClock
) -> Iterator[TestClient]:
    settings = test_settings(database_url, max_body_bytes=1024)
    with TestClient(create_app(settings, database=database, clock=clock)) as client:
        yield client


def test_413_by_content_length(small_body_client: TestClient, database: Database) -> None:
    token = make_token(database, "admin")
    response = small_body_client.post(
        "/v1/tokens",
        json={"name": "x" * 5000, "scopes": ["admin"]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413
    assert_error_shape(response.json(), "payload_too_large")


def test_413_for_chunked_body(small_body_client: TestClient, database: Database) -> None:
    token = make_token(database, "admin")

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'", "scopes": ["admin"]}'

    response = small_body_client.post(
        "/v1/tokens",
        content=chunks(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert_error_shape(response.json(), "payload_too_large")


def test_415_body_not_json(client: TestClient, admin_token: str) -> None:
    response = client.post(
        "/v1/tokens",
        content=b"name=x&scopes=admin",
        headers={
            "Authorization": f"Bearer {admin_token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 415
    assert_error_shape(response.json(), "unsupported_media_type")


def test_422_names_the_field(client: TestClient, admin_token: str) -> None:
    response = client.post(
        "/v1/tokens",
        json={"name": "x", "scopes": "admin", "colour": "red"},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "validation_error")
    fields = {detail["field"] for detail in body["error"]["details"]}
    assert fields == {"body.scopes", "body.colour"}
    assert all("input" not in detail for detail in body["error"]["details"])


def test_429_rate_limited(database_url: str, database: Database, clock: FakeClock) -> None:
    settings = test_settings(database_url, rate_limits={"admin": "1/1h"})
    token = make_token(database, "admin")
    with TestClient(create_app(settings, database=database, clock=clock)) as client:
        client.get("/v1/tokens", headers={"Auth-Api-Token": token})
        response = client.get("/v1/tokens", headers={"Auth-Api-Token": token})
    assert response.status_code == 429
    assert_error_shape(response.json(), "rate_limited")
    assert int(response.headers["Retry-After"]) > 0


def test_500_hides_internals(app: FastAPI) -> None:
    def explode() -> None:
        raise RuntimeError("secret internal detail: password=hunter2")

    app.add_api_route("/v1/test-explode", explode, methods=["GET"], operation_id="testExplode")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/test-explode", headers={"X-Request-Id": "req-123"})
    assert response.status_code == 500
    body = response.json()
    assert_error_shape(body, "internal_error")
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    assert "req-123" in body["error"]["message"]
    assert response.headers["X-Request-Id"] == "req-123"


def test_every_response_has_a_request_id(client: TestClient) -> None:
    ok = client.get("/v1/health")
    missing = client.get("/nowhere")
    assert len(ok.headers["X-Request-Id"]) == 32
    assert missing.headers["X-Request-Id"] != ok.headers["X-Request-Id"]
    echoed = client.get("/v1/health", headers={"X-Request-Id": "abc-DEF_1.2"})
    assert echoed.headers["X-Request-Id"] == "abc-DEF_1.2"
    # An id a client could use to inject into logs is replaced, not echoed.
    unsafe = client.get("/v1/health", headers={"X-Request-Id": "a b\tc"})
    assert unsafe.headers["X-Request-Id"] != "a b\tc"


def test_405_allow_lists_every_method_on_the_path(client: TestClient) -> None:
    # GET and POST /v1/tokens are two routes; Starlette's Allow named only the first.
    response = client.put("/v1/tokens")
    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert allowed == {"GET", "POST"}

    item = client.post("/v1/tokens/tok_x")
    assert item.status_code == 405
    assert {m.strip() for m in item.headers["Allow"].split(",")} == {"GET", "DELETE"}


def test_405_allow_names_the_concrete_paths_methods(client: TestClient) -> None:
    # /v1/connectors/zendesk-trigger-template also fits /v1/connectors/{connector_id} (GET,
    # DELETE); as in OpenAPI, the concrete path is the resource, and it has only GET.
    for method in ("OPTIONS", "PUT", "POST"):
        response = client.request(method, "/v1/connectors/zendesk-trigger-template")
        assert response.status_code == 405, method
        assert_error_shape(response.json(), "method_not_allowed")
        allowed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed == {"GET"}, method


def test_trailing_slash_is_not_redirected_to_the_clients_host(
    client: TestClient, admin_token: str
) -> None:
    response = client.get(
        "/v1/tokens/",
        headers={"Host": "evil.example", "Authorization": f"Bearer {admin_token}"},
        follow_redirects=False,
    )
    assert "location" not in response.headers
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")
    assert response.json()["error"]["details"] == {"path": "/v1/tokens"}
    assert "/v1/tokens" in response.json()["error"]["message"]
